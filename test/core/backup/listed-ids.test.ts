/**
 * ListedIds stores a large file's chunk lists as their ids come back, in any order, and ends with
 * the same lists a whole-file listing makes: LIST_IDS ids in each but the last. A file that turns
 * out to hold LIST_IDS chunks or fewer keeps them inline and stores nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ListedIds, type ListedContent } from '../../../src/core/backup/listed-ids.js';
import { LIST_IDS } from '../../../src/core/repo/tree.js';

const ID = 32;

/** A ListedIds whose stored lists are kept, named `list-0`, `list-1`, … in the order they were stored. */
function recording() {
  const stored: Buffer[] = [];
  const listed = new ListedIds((ids) => {
    stored.push(Buffer.from(ids));
    return String(stored.length - 1).padStart(64, '0');
  });
  return { listed, stored };
}

/**
 * Reserves `count` ids and answers each about `lag` reservations later, as batches in flight are
 * answered: every third time the second oldest before the oldest. `onReserved(i)` runs after the
 * `i`th reservation and its answer. The last `lag` are answered in reverse once `done()` is called.
 */
async function feed(listed: ListedIds, answers: Buffer, count: number, lag: number, onReserved: (i: number) => void = () => undefined): Promise<ListedContent> {
  const waiting: number[] = [];
  for (let i = 0; i < count; i++) {
    waiting.push(listed.reserve());
    if (waiting.length > lag) {
      const [slot] = waiting.splice(i % 3 === 0 ? 1 : 0, 1);
      listed.fill(slot!, answers, slot! * ID);
    }
    onReserved(i);
  }
  const result = listed.done();
  for (const slot of waiting.reverse()) listed.fill(slot, answers, slot * ID);
  return result;
}

function listsOf(content: ListedContent): string[] {
  assert.ok('chunkLists' in content, 'expected chunk lists');
  return [...content.chunkLists];
}

test('lists are stored while ids come back out of order, each once whole, and end as LIST_IDS ids each but the last', async () => {
  const count = 2 * LIST_IDS + 777;
  const answers = randomBytes(count * ID);
  const { listed, stored } = recording();
  const storedAt = new Map<number, number>();
  const lists = listsOf(await feed(listed, answers, count, 600, (i) => storedAt.set(i, stored.length)));
  // Reservation i answers about id i - 600.
  assert.equal(storedAt.get(LIST_IDS + 590), 0, 'not before the last id of the first list is answered');
  assert.equal(storedAt.get(LIST_IDS + 610), 1, 'the first list is stored while the file is still being read');
  assert.equal(storedAt.get(2 * LIST_IDS + 610), 2);
  assert.deepEqual(lists, ['0', '1', '2'].map((n) => n.padStart(64, '0')));
  assert.deepEqual(stored.map((b) => b.length), [LIST_IDS * ID, LIST_IDS * ID, 777 * ID]);
  assert.deepEqual(Buffer.concat(stored), answers, 'the lists are the ids in file order');
});

test('a file of exactly LIST_IDS chunks, or fewer, keeps its ids inline and stores no list', async () => {
  for (const count of [0, 1, LIST_IDS - 1, LIST_IDS]) {
    const answers = randomBytes(count * ID);
    const { listed, stored } = recording();
    const result = await feed(listed, answers, count, 40);
    assert.ok('content' in result, `${count} ids are inline`);
    assert.equal(result.content.length, count);
    assert.deepEqual(Buffer.from(result.content.bytes()), answers);
    assert.equal(stored.length, 0, `${count} ids store no list`);
  }
});

test('one id past a list makes two lists, the second of one id', async () => {
  const count = LIST_IDS + 1;
  const answers = randomBytes(count * ID);
  const { listed, stored } = recording();
  const lists = listsOf(await feed(listed, answers, count, 300));
  assert.equal(lists.length, 2);
  assert.deepEqual(stored.map((b) => b.length), [LIST_IDS * ID, ID]);
  assert.deepEqual(Buffer.concat(stored), answers);
});

test('done() waits for the last id, and a failure rejects it; ids after done() are refused', async () => {
  const { listed } = recording();
  const a = listed.reserve();
  const b = listed.reserve();
  const done = listed.done();
  let settled = false;
  done.then(
    () => (settled = true),
    () => undefined,
  );
  listed.fill(b, randomBytes(ID), 0);
  await Promise.resolve();
  assert.equal(settled, false, 'one id is still missing');
  assert.throws(() => listed.reserve(), /after done/);
  listed.fail(new Error('worker died'));
  await assert.rejects(done, /worker died/);
  assert.equal(a, 0);
});

test('a list that cannot be stored rejects the file', async () => {
  const listed = new ListedIds(() => {
    throw new Error('the saver failed');
  });
  const answers = randomBytes((LIST_IDS + 2) * ID);
  for (let i = 0; i < LIST_IDS + 2; i++) listed.reserve();
  for (let i = 0; i < LIST_IDS - 1; i++) listed.fill(i, answers, i * ID);
  // The list's last id makes it whole: storing it throws to the caller (a worker's answer, which fails the batch's targets).
  assert.throws(() => listed.fill(LIST_IDS - 1, answers, (LIST_IDS - 1) * ID), /the saver failed/);
  listed.fail(new Error('the saver failed'));
  await assert.rejects(listed.done(), /the saver failed/);
});
