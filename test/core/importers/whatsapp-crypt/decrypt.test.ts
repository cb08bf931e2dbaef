/**
 * Decryption of backups written by the test encoder from generated SQLite
 * databases: round trips across read-chunk boundaries, and every kind of bad
 * input (bit flips, truncations, wrong keys, wrong formats), each of which
 * must leave nothing at the output path.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { decryptWhatsAppBackup, parseWhatsAppKey, sniffWhatsAppBackup, type WhatsAppKey } from '../../../../src/core/importers/whatsapp-crypt/index.js';
import { decryptBackupFile } from '../../../../src/core/importers/whatsapp-crypt/decrypt.js';
import { WrongKeyError } from '../../../../src/core/errors.js';
import { encodeCrypt12, encodeCrypt14, encodeCrypt15, javaByteArray, makeLegacyKey, type LegacyKey } from './encoder.js';
import { makeSampleDb } from './sample-db.js';

let dir: string;
let db: Buffer;
let payload: Buffer;
const root = randomBytes(32);
let legacy: LegacyKey;
let e2eKey: WhatsAppKey;
let legacyKey: WhatsAppKey;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'chatsafe-wa-decrypt-'));
  db = makeSampleDb(dir);
  payload = deflateSync(db, { level: 1 });
  legacy = makeLegacyKey();
  e2eKey = parseWhatsAppKey(root.toString('hex'));
  legacyKey = parseWhatsAppKey(legacy.file);
});
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes `bytes` as a fresh backup file; returns its path and a fresh output path. */
function place(bytes: Buffer, ext: string): { input: string; out: string } {
  counter += 1;
  const input = join(dir, `in-${counter}.db.${ext}`);
  writeFileSync(input, bytes);
  return { input, out: join(dir, `out-${counter}.db`) };
}

/** Nothing at `out`, and no temporary file left beside it. */
function assertNothingWritten(out: string): void {
  assert.equal(existsSync(out), false, `${out} exists`);
  const leftovers = readdirSync(dir).filter((n) => n.endsWith('.partial'));
  assert.deepEqual(leftovers, []);
}

async function expectFailure(bytes: Buffer, ext: string, key: WhatsAppKey, kind: string, what: string): Promise<Error> {
  const { input, out } = place(bytes, ext);
  let caught: Error | undefined;
  try {
    await decryptWhatsAppBackup(input, key, out);
  } catch (e) {
    caught = e as Error;
  }
  assert.ok(caught, `${what}: decryption succeeded`);
  assert.equal((caught as { kind?: string }).kind, kind, `${what}: ${caught.message}`);
  assert.ok(caught.message.includes(input), `${what}: message does not name the file: ${caught.message}`);
  assert.ok((caught as { hint?: string }).hint, `${what}: no hint`);
  assertNothingWritten(out);
  rmSync(input);
  return caught;
}

describe('round trips', () => {
  test('crypt15, crypt14 and crypt12 files decrypt to the exact database', async () => {
    const cases: Array<[Buffer, string, WhatsAppKey]> = [
      [encodeCrypt15(payload, root), 'crypt15', e2eKey],
      [encodeCrypt15(payload, root), 'crypt15', parseWhatsAppKey(javaByteArray(root))],
      [encodeCrypt14(payload, legacy), 'crypt14', legacyKey],
      [encodeCrypt12(payload, legacy), 'crypt12', legacyKey],
      [encodeCrypt15(payload, root, { legacyFlag: true }), 'crypt15', e2eKey],
      [encodeCrypt14(payload, legacy, { legacyFlag: true }), 'crypt14', legacyKey],
    ];
    for (const [bytes, format, key] of cases) {
      const { input, out } = place(bytes, format);
      assert.deepEqual(await sniffWhatsAppBackup(input), { format });
      const r = await decryptWhatsAppBackup(input, key, out);
      assert.deepEqual(r, { format, bytesIn: bytes.length, bytesOut: db.length });
      assert.ok(readFileSync(out).equals(db), format);
    }
  });

  test('read chunks of any size, down to a few bytes, give the same result', async () => {
    const { input } = place(encodeCrypt15(payload, root), 'crypt15');
    const { input: input12 } = place(encodeCrypt12(payload, legacy), 'crypt12');
    for (const size of [5, 7, 15, 16, 17, 31, 32, 33, 36, 4095, 4097, 65_536]) {
      for (const [file, key] of [[input, e2eKey], [input12, legacyKey]] as const) {
        const out = join(dir, `chunked-${size}.db`);
        await decryptBackupFile(file, key, out, {}, size);
        assert.ok(readFileSync(out).equals(db), `chunk size ${size}`);
        rmSync(out);
      }
    }
  });

  test('a multi-megabyte database spans several chunks, with progress up to the file size', async () => {
    const big = makeSampleDb(dir, { messages: 2000, noiseBytes: 3 * 1024 * 1024 });
    const bytes = encodeCrypt15(deflateSync(big, { level: 1 }), root);
    const { input, out } = place(bytes, 'crypt15');
    const seen: number[] = [];
    const r = await decryptWhatsAppBackup(input, e2eKey, out, { onProgress: (p) => { assert.equal(p.bytesTotal, bytes.length); seen.push(p.bytesDone); } });
    assert.equal(r.bytesOut, big.length);
    assert.ok(readFileSync(out).equals(big));
    assert.ok(seen.length >= 3, `only ${seen.length} progress events`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen);
    assert.equal(seen.at(-1), bytes.length);
  });

  test('a multi-file backup (a ZIP, no MD5 trailer) is written out as the ZIP', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(5000)]);
    for (const [bytes, ext, key] of [[encodeCrypt15(zip, root, { noMd5: true }), 'crypt15', e2eKey], [encodeCrypt14(zip, legacy, { noMd5: true }), 'crypt14', legacyKey]] as const) {
      const { input, out } = place(bytes, ext);
      await decryptWhatsAppBackup(input, key, out);
      assert.ok(readFileSync(out).equals(zip));
    }
  });

  test('an existing output is replaced only on success', async () => {
    const { input, out } = place(encodeCrypt15(payload, root), 'crypt15');
    writeFileSync(out, 'previous');
    await assert.rejects(decryptWhatsAppBackup(input, parseWhatsAppKey(randomBytes(32).toString('hex')), out));
    assert.equal(readFileSync(out, 'utf8'), 'previous');
    await decryptWhatsAppBackup(input, e2eKey, out);
    assert.ok(readFileSync(out).equals(db));
  });
});

describe('damaged files', () => {
  const cases: Array<{ ext: string; encode: () => Buffer; key: () => WhatsAppKey }> = [
    { ext: 'crypt15', encode: () => encodeCrypt15(payload, root), key: () => e2eKey },
    { ext: 'crypt14', encode: () => encodeCrypt14(payload, legacy), key: () => legacyKey },
    { ext: 'crypt12', encode: () => encodeCrypt12(payload, legacy), key: () => legacyKey },
  ];

  for (const c of cases) {
    test(`${c.ext}: a bit flipped anywhere is reported as damage`, async () => {
      const good = c.encode();
      // Every byte of the header and trailer regions, and a spread through the ciphertext.
      const positions = new Set<number>();
      for (let i = 0; i < 200; i += 1) positions.add(i);
      for (let i = good.length - 60; i < good.length; i += 1) positions.add(i);
      for (let i = 200; i < good.length - 60; i += 97) positions.add(i);
      for (const pos of positions) {
        const bad = Buffer.from(good);
        bad[pos] = (bad[pos] ?? 0) ^ (1 << (pos % 8));
        // The last two bytes of a crypt12 are phone-number digits: a flip there may still be a digit and is not covered by the MD5.
        if (c.ext === 'crypt12' && pos >= good.length - 2 && /^[0-9]$/.test(String.fromCharCode(bad[pos] ?? 0))) continue;
        await expectFailure(bad, c.ext, c.key(), 'integrity', `flip at ${pos}/${good.length}`);
      }
    });

    test(`${c.ext}: truncation at any point is reported as damage`, async () => {
      const good = c.encode();
      const cuts = [0, 1, 2, 3, 10, 66, 67, 68, 120, 140, 200, Math.floor(good.length / 2), good.length - 37, good.length - 33, good.length - 32, good.length - 17, good.length - 4, good.length - 1];
      for (const len of cuts) {
        const e = await expectFailure(good.subarray(0, len), c.ext, c.key(), 'integrity', `cut to ${len}/${good.length}`);
        if (len === 0) assert.match(e.message, /empty/);
      }
    });
  }

  test('crypt15 without its MD5 trailer still decrypts: the GCM tag alone authenticates everything', async () => {
    const good = encodeCrypt15(payload, root);
    const { input, out } = place(good.subarray(0, good.length - 16), 'crypt15');
    await decryptWhatsAppBackup(input, e2eKey, out);
    assert.ok(readFileSync(out).equals(db));
  });
});

describe('wrong keys and wrong inputs', () => {
  test('a random 64-digit key is a wrong key, not damage', async () => {
    const e = await expectFailure(encodeCrypt15(payload, root), 'crypt15', parseWhatsAppKey(randomBytes(32).toString('hex')), 'wrong-key', 'random key');
    assert.match(e.message, /intact/);
  });

  test('one mistyped digit is located and the right one suggested', async () => {
    const typed = root.toString('hex').split('');
    const at = 37; // group 10, digit 2
    const right = typed[at] ?? '0';
    typed[at] = right === 'a' ? 'b' : 'a';
    const e = await expectFailure(encodeCrypt15(payload, root), 'crypt15', parseWhatsAppKey(typed.join('')), 'wrong-key', 'typo');
    assert.ok(e instanceof WrongKeyError);
    assert.deepEqual(e.suggestion, { group: 10, digit: 2, typed: typed[at], suggested: right });
  });

  test('the same digits in a key file get no typo search, just "wrong key"', async () => {
    const e = await expectFailure(encodeCrypt15(payload, root), 'crypt15', parseWhatsAppKey(javaByteArray(randomBytes(32))), 'wrong-key', 'file key');
    assert.equal((e as WrongKeyError).suggestion, undefined);
  });

  test('a key file of another installation (other salt) is a wrong key', async () => {
    await expectFailure(encodeCrypt14(payload, legacy), 'crypt14', parseWhatsAppKey(makeLegacyKey().file), 'wrong-key', 'other key file 14');
    await expectFailure(encodeCrypt12(payload, legacy), 'crypt12', parseWhatsAppKey(makeLegacyKey().file), 'wrong-key', 'other key file 12');
  });

  test('a key file with the right salt but another AES key is a wrong key', async () => {
    const forged = Buffer.from(legacy.array);
    randomBytes(32).copy(forged, 99);
    await expectFailure(encodeCrypt14(payload, legacy), 'crypt14', parseWhatsAppKey(javaByteArray(forged)), 'wrong-key', 'forged aes key');
  });

  test('the other generation\'s key is refused before anything is read', async () => {
    await expectFailure(encodeCrypt15(payload, root), 'crypt15', legacyKey, 'wrong-key', 'crypt14 key on crypt15');
    await expectFailure(encodeCrypt14(payload, legacy), 'crypt14', e2eKey, 'wrong-key', 'typed key on crypt14');
    await expectFailure(encodeCrypt12(payload, legacy), 'crypt12', e2eKey, 'wrong-key', 'typed key on crypt12');
  });

  test('random bytes, a plain SQLite file and text are "not a WhatsApp backup"', async () => {
    for (const [bytes, ext] of [[randomBytes(10_000), 'bin'], [db, 'sqlite'], [Buffer.from('hello world\n'.repeat(100)), 'txt']] as const) {
      await expectFailure(bytes, ext, e2eKey, 'unsupported', ext);
      const { input } = place(bytes, ext);
      assert.equal(await sniffWhatsAppBackup(input), null);
    }
    // Named like a backup, the same bytes are a damaged backup.
    await expectFailure(randomBytes(10_000), 'crypt15', e2eKey, 'integrity', 'random .crypt15');
  });

  test('the backup cannot be its own output; a missing input is not-found', async () => {
    const { input } = place(encodeCrypt15(payload, root), 'crypt15');
    await assert.rejects(decryptWhatsAppBackup(input, e2eKey, input), (e: Error & { kind?: string }) => e.kind === 'usage');
    assert.ok(readFileSync(input).length > 0);
    await assert.rejects(decryptWhatsAppBackup(join(dir, 'missing.crypt15'), e2eKey, join(dir, 'o.db')), (e: Error & { kind?: string }) => e.kind === 'not-found');
  });

  test('cancelling, before or during, leaves nothing behind', async () => {
    const { input, out } = place(encodeCrypt15(payload, root), 'crypt15');
    await assert.rejects(decryptWhatsAppBackup(input, e2eKey, out, { signal: AbortSignal.abort() }), (e: Error & { kind?: string }) => e.kind === 'cancelled');
    assertNothingWritten(out);
    // Past the first-block check (4 KiB), while the output is being written.
    const bigger = encodeCrypt15(deflateSync(makeSampleDb(dir, { noiseBytes: 64 * 1024 })), root);
    const { input: input2, out: out2 } = place(bigger, 'crypt15');
    const ac = new AbortController();
    let events = 0;
    const onProgress = () => {
      events += 1;
      if (events === 200) ac.abort();
    };
    await assert.rejects(decryptBackupFile(input2, e2eKey, out2, { signal: ac.signal, onProgress }, 64), (e: Error & { kind?: string }) => e.kind === 'cancelled');
    assert.ok(events >= 200);
    assertNothingWritten(out2);
  });
});
