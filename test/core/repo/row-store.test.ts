import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ftruncateSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_ROWS, MAX_ROW_OFFSET, ROW_BYTES, rowAt, rowLength, rowOffset, rowRawLength, RowReader, RowStore, rowType, useRowStoreDir } from '../../../src/core/repo/row-store.js';

const id = (n: number) => createHash('sha256').update(`row ${n}`).digest();

/** A store of `count` rows whose fields follow from their number. */
function storeOf(count: number): RowStore {
  const store = new RowStore();
  for (let n = 0; n < count; n++) store.append(id(n), 0, n % 2, n * 1000 + (n % 3) * 2 ** 40, 100 + n, 4096 + n);
  return store;
}

function withDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatsafe-rows-'));
  useRowStoreDir(dir);
  t.after(() => {
    useRowStoreDir(null);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test('rows read back with every field, from written blocks and from the block being filled, on a reader of their own too', (t) => {
  withDir(t);
  const count = BLOCK_ROWS * 3 + 17;
  const store = storeOf(count);
  assert.equal(store.rows, count);
  const other = new RowReader(store.share);
  for (let n = 0; n < count; n++) {
    const bytes = store.reader.rowBytes(n);
    const at = rowAt(n);
    assert.deepEqual(bytes.subarray(at, at + 32), id(n));
    assert.deepEqual([rowType(bytes, at), rowOffset(bytes, at), rowLength(bytes, at), rowRawLength(bytes, at)], [n % 2, n * 1000 + (n % 3) * 2 ** 40, 100 + n, 4096 + n]);
    assert.equal(other.holdsId(n, id(n), 0), true);
    assert.equal(other.holdsId(n, id(n + 1), 0), false);
    const near = Buffer.from(id(n));
    near[31] = near[31]! ^ 0x80;
    assert.equal(store.reader.holdsId(n, near, 0), false, 'all 32 bytes are compared');
  }
  store.close();
});

test('a row copied from one store to another is the same row; offsets keep 48 bits and refuse more', (t) => {
  withDir(t);
  const from = storeOf(BLOCK_ROWS + 5);
  const to = new RowStore();
  for (let n = 0; n < from.rows; n++) to.appendRow(from.reader.rowBytes(n), rowAt(n));
  for (const n of [0, BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS + 4]) {
    assert.deepEqual(to.reader.rowBytes(n).subarray(rowAt(n), rowAt(n) + ROW_BYTES), from.reader.rowBytes(n).subarray(rowAt(n), rowAt(n) + ROW_BYTES));
  }
  to.append(id(1), 0, 0, MAX_ROW_OFFSET, 1, 1);
  assert.equal(rowOffset(to.reader.rowBytes(to.rows - 1), rowAt(to.rows - 1)), MAX_ROW_OFFSET);
  const rows = to.rows;
  assert.throws(() => to.append(id(2), 0, 0, MAX_ROW_OFFSET + 1, 1, 1), RangeError);
  assert.throws(() => to.append(id(2), 0, 0, -1, 1, 1), RangeError);
  assert.equal(to.rows, rows, 'a row refused is not added');
  from.close();
  to.close();
});

test('the file is in the chosen folder and removed at once; a block cut short is named', (t) => {
  const dir = withDir(t);
  const store = storeOf(BLOCK_ROWS * 2);
  const fd = new Int32Array(store.share.state)[1]!;
  assert.ok(fd >= 0, 'written blocks have a file');
  assert.deepEqual(readdirSync(dir), [], 'nothing is left in the folder, even while the store lives');
  if (process.platform === 'linux') assert.match(readlinkSync(`/proc/self/fd/${fd}`), new RegExp(`^${dir}/\\.chatsafe-index-rows-[0-9a-f]{16} \\(deleted\\)$`));

  // The second block cut short: rows of the first still read; the second is refused, by a reader that had not read it.
  ftruncateSync(fd, BLOCK_ROWS * ROW_BYTES + 100);
  const reader = new RowReader(store.share);
  assert.equal(reader.holdsId(3, id(3), 0), true);
  assert.throws(() => reader.holdsId(BLOCK_ROWS + 3, id(BLOCK_ROWS + 3), 0), /could not be read back from their temporary file \(block 1 is cut short\)/);
  store.close();
});

test('a store that never filled a block makes no file; a closed store reads no written block', (t) => {
  const dir = withDir(t);
  const small = storeOf(BLOCK_ROWS - 1);
  assert.equal(new Int32Array(small.share.state)[1], -1);
  assert.equal(small.reader.holdsId(5, id(5), 0), true);
  const store = storeOf(BLOCK_ROWS + 1);
  const reader = new RowReader(store.share);
  store.close();
  store.close();
  assert.throws(() => reader.holdsId(0, id(0), 0), /no longer available/);
  assert.deepEqual(readdirSync(dir), []);
});

test('a block that cannot be written counts no row and says where to free space; the store goes on once it can', (t) => {
  const dir = withDir(t);
  const store = storeOf(BLOCK_ROWS);
  const state = new Int32Array(store.share.state);
  const fd = state[1]!;
  // The file taken away under the store: the next full block cannot be written.
  state[1] = 1_000_000;
  for (let n = BLOCK_ROWS; n < 2 * BLOCK_ROWS - 1; n++) store.append(id(n), 0, 0, n, 1, 1);
  assert.throws(() => store.append(id(9999), 0, 0, 0, 1, 1), new RegExp(`temporary file in ${dir} could not be written \\(EBADF\\): free some disk space`));
  assert.equal(store.rows, 2 * BLOCK_ROWS - 1, 'the row whose block failed is not counted');
  state[1] = fd;
  store.append(id(2 * BLOCK_ROWS - 1), 0, 0, 7, 1, 1);
  assert.equal(store.rows, 2 * BLOCK_ROWS);
  assert.equal(new RowReader(store.share).holdsId(2 * BLOCK_ROWS - 1, id(2 * BLOCK_ROWS - 1), 0), true);
  assert.equal(new RowReader(store.share).holdsId(BLOCK_ROWS + 1, id(BLOCK_ROWS + 1), 0), true);
  store.close();
});
