import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { ChatsafeError } from '../../../src/core/errors.js';
import { buildCatalog } from '../../../src/core/importers/import.js';
import { fileSkeletons, linkMedia, RecentMap, rootResolver, skeleton } from '../../../src/core/importers/media.js';
import type { MediaRef } from '../../../src/core/catalog/types.js';
import type { PendingMedia } from '../../../src/core/catalog/writer.js';
import type { ImportProgress } from '../../../src/core/importers/types.js';
import { MODERN_SCHEMA, tempDir } from './helpers.js';

/** Messages in the generated database; two in three carry media, more than one page of pending media. */
const MESSAGES = 3000;
/** Distinct media file names: many messages name the same file. */
const DISTINCT_FILES = 700;
const FIRST_ID = 1000;

interface MediaRow {
  message_id: number;
  path: string | null;
  name: string | null;
  mime: string | null;
  size: number | null;
  sha256: string | null;
}

const hasMedia = (k: number) => k % 3 !== 2;
const fileNo = (k: number) => k % DISTINCT_FILES;
/** One in four of the distinct files is absent from the Media folder. */
const present = (j: number) => j % 4 !== 3;
const fileBody = (j: number) => `image ${j} `.repeat((j % 5) + 1);

/**
 * A WhatsApp folder whose msgstore.db names a few thousand media files: most
 * present, some missing, many named by several messages, some with no path
 * and some pointing outside the folder. Returns the folder and what each
 * media row of the catalog must hold.
 */
function mediaHeavyExport(dir: string): { wa: string; expected: MediaRow[] } {
  const wa = join(dir, 'WhatsApp');
  mkdirSync(join(wa, 'Databases'), { recursive: true });
  mkdirSync(join(wa, 'Media', 'WhatsApp Images'), { recursive: true });
  // A real file outside the export: a path that climbs out to it must not be linked.
  writeFileSync(join(dir, 'outside.jpg'), 'not part of the export');
  for (let j = 0; j < DISTINCT_FILES; j++) if (present(j)) writeFileSync(join(wa, 'Media', 'WhatsApp Images', `IMG-${j}.jpg`), fileBody(j));

  const db = new Database(join(wa, 'Databases', 'msgstore.db'));
  db.exec(MODERN_SCHEMA);
  const expected: MediaRow[] = [];
  db.transaction(() => {
    db.prepare("INSERT INTO jid (_id, user, server, type, raw_string) VALUES (1, '491111', 's.whatsapp.net', 0, '491111@s.whatsapp.net')").run();
    db.prepare('INSERT INTO chat (_id, jid_row_id) VALUES (10, 1)').run();
    const msg = db.prepare('INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, message_type, text_data) VALUES (?, 10, 0, ?, 0, ?, ?, NULL)');
    const media = db.prepare('INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size, mime_type, file_length, media_name) VALUES (?, 10, ?, NULL, ?, ?, ?)');
    for (let k = 0; k < MESSAGES; k++) {
      const id = FIRST_ID + k;
      msg.run(id, `K${k}`, 1_700_000_000_000 + k * 1000, hasMedia(k) ? 1 : 0);
      if (!hasMedia(k)) continue;
      if (k % 50 === 0) {
        // No path: only the name the database gives is kept.
        media.run(id, null, null, k, `upload-${k}.bin`);
        expected.push({ message_id: id, path: null, name: `upload-${k}.bin`, mime: null, size: k, sha256: null });
      } else if (k % 50 === 1) {
        media.run(id, '../outside.jpg', null, 22, null);
        expected.push({ message_id: id, path: null, name: 'outside.jpg', mime: 'image/jpeg', size: 22, sha256: null });
      } else {
        const j = fileNo(k);
        const mime = k % 2 === 0 ? 'image/x-from-db' : null;
        // The database's size is a lie when the file is there: the file's own size wins.
        media.run(id, `Media/WhatsApp Images/IMG-${j}.jpg`, mime, 999, null);
        const body = fileBody(j);
        expected.push({
          message_id: id,
          path: present(j) ? `WhatsApp/Media/WhatsApp Images/IMG-${j}.jpg` : null,
          name: `IMG-${j}.jpg`,
          mime: mime ?? 'image/jpeg',
          size: present(j) ? Buffer.byteLength(body) : 999,
          sha256: present(j) ? createHash('sha256').update(body).digest('hex') : null,
        });
      }
    }
  })();
  db.close();
  return { wa, expected };
}

test('a few thousand media messages: every media row as expected (present, missing, shared, unnamed, outside), progress counts each file hashed', async (t) => {
  const dir = tempDir(t);
  const { wa, expected } = mediaHeavyExport(dir);
  const steps: ImportProgress[] = [];
  const report = await buildCatalog(wa, join(dir, 'cat.db'), { onProgress: (p) => steps.push(p) });

  assert.equal(report.counts.messages, MESSAGES);
  assert.equal(report.counts.media, expected.length);
  const missing = expected.filter((e) => e.sha256 === null).length;
  assert.ok(report.warnings.includes(`${missing} media files named by the database are not in the source (only their names are kept).`), report.warnings.join('\n'));

  const cat = new Database(join(dir, 'cat.db'), { readonly: true });
  t.after(() => cat.close());
  const rows = cat.prepare('SELECT message_id, path, name, mime, size, sha256 FROM media ORDER BY message_id').all() as MediaRow[];
  assert.equal(rows.length, expected.length);
  assert.deepEqual(rows, expected);
  // The pending references lived in a temporary table: nothing of them is left in the file.
  assert.deepEqual(cat.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'pending%'").all(), []);

  // Hashing counts the references whose file is in the source; the others got their rows during the message pass.
  const present = expected.filter((e) => e.sha256 !== null).length;
  assert.ok(present > 1200 && present < expected.length, `${present} of ${expected.length} present`);
  const hashing = steps.filter((s) => s.phase === 'hashing-media');
  assert.ok(hashing.length > 10);
  assert.ok(hashing.every((s) => s.total === present));
  assert.equal(hashing[0]!.done, 1);
  assert.equal(hashing.at(-1)!.done, present);
  assert.ok(hashing.every((s, i) => i === 0 || s.done > hashing[i - 1]!.done), 'done only grows');
  assert.ok(steps.findIndex((s) => s.phase === 'hashing-media') > steps.findLastIndex((s) => s.phase === 'reading'), 'media are hashed after the message pass');
});

test('cancelled while hashing media: CancelledError, no catalog and no temporary file', async (t) => {
  const dir = tempDir(t);
  const { wa } = mediaHeavyExport(dir);
  const controller = new AbortController();
  let lastDone = 0;
  const cancelAt = 1200; // on the second page of pending media
  await assert.rejects(
    buildCatalog(wa, join(dir, 'cat.db'), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase !== 'hashing-media') return;
        lastDone = p.done;
        if (p.done >= cancelAt) controller.abort();
      },
    }),
    (e: ChatsafeError) => e.kind === 'cancelled',
  );
  assert.ok(lastDone >= cancelAt && lastDone < cancelAt + 50, `stopped soon after the cancel (at ${lastDone})`);
  assert.deepEqual(readdirSync(dir).sort(), ['WhatsApp', 'outside.jpg']);
  assert.ok(statSync(join(wa, 'Databases', 'msgstore.db')).isFile());
});

test('media hashed several at a time: sizes around the read size hash whole, rows come in the order the references were added, an unreadable file gets no hash', async (t) => {
  const dir = tempDir(t);
  // Around the 256 KiB read: empty, one byte, a byte short, exact, a byte over, several reads.
  const sizes = [0, 1, 262_143, 262_144, 262_145, 524_288, 1_000_003, 17, 3];
  const bodies = sizes.map((n, i) => Buffer.alloc(n, i + 1));
  bodies.forEach((b, i) => writeFileSync(join(dir, `f${i}.bin`), b));
  mkdirSync(join(dir, 'unreadable.bin')); // resolved below as a file, but reading a folder fails
  const refs: PendingMedia[] = [...sizes.keys(), 'bad' as const].map((i, k) => ({ messageId: 100 + k, relPath: i === 'bad' ? 'unreadable.bin' : `f${i}.bin`, name: null, mime: null, size: null }));
  // Put the unreadable one in the middle, so rows after it must still wait for it.
  refs.splice(4, 0, refs.pop()!);
  const added: { messageId: number; media: MediaRef }[] = [];
  const writer = {
    pendingMediaCount: refs.length,
    *pendingMedia() {
      yield* refs;
    },
    addMedia(messageId: number, media: MediaRef) {
      added.push({ messageId, media });
    },
  };
  const resolve = (rel: string) => ({ abs: join(dir, rel), snapshotPath: `E/${rel}`, size: 0 });
  const res = await linkMedia(resolve, writer);

  assert.deepEqual(added.map((a) => a.messageId), refs.map((r) => r.messageId));
  for (const { messageId, media } of added) {
    const ref = refs.find((r) => r.messageId === messageId)!;
    if (ref.relPath === 'unreadable.bin') {
      assert.equal(media.sha256, null);
      assert.equal(media.path, null);
      continue;
    }
    const i = Number(ref.relPath!.slice(1, -4));
    assert.equal(media.sha256, createHash('sha256').update(bodies[i]!).digest('hex'), `${sizes[i]} bytes`);
    assert.equal(media.path, `E/${ref.relPath}`);
  }
  assert.deepEqual(res, { linked: sizes.length, missing: 0 });
});

test('RecentMap keeps the most recently used entries up to its limit', () => {
  const m = new RecentMap<string, number>(3);
  m.set('a', 1);
  m.set('b', 2);
  m.set('c', 3);
  assert.equal(m.get('a'), 1); // a is now the most recent; b the least
  m.set('d', 4);
  assert.equal(m.size, 3);
  assert.equal(m.get('b'), undefined);
  assert.deepEqual([m.get('a'), m.get('c'), m.get('d')], [1, 3, 4]);
  m.set('c', 30); // replacing does not grow it
  assert.equal(m.size, 3);
  assert.equal(m.get('c'), 30);
});

test('the media resolver: listed files resolve, others are missing without a lookup, and names a file system may fold alike share a skeleton', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'Media', 'Images'), { recursive: true });
  writeFileSync(join(dir, 'Media', 'Images', 'IMG-1.jpg'), 'one');
  writeFileSync(join(dir, 'Media', 'Images', 'Café.jpg'.normalize('NFD')), 'two');
  const listed = fileSkeletons(dir)!;
  assert.equal(listed.size, 2);
  for (const path of ['media/images/cafe.jpg', 'media/images/img-1.jpg']) assert.equal(listed.has(path), true, path);
  for (const path of ['media/images', 'media/images/img-2.jpg', 'Media/Images/IMG-1.jpg', '']) assert.equal(listed.has(path), false, path);
  assert.equal(skeleton('Media/Images/IMG-1.JPG'), skeleton('media/images/img-1.jpg'));
  assert.equal(skeleton('Café.jpg'.normalize('NFC')), skeleton('Café.jpg'.normalize('NFD')));

  const resolve = rootResolver({ dir, snapshotPrefix: 'Export' });
  assert.deepEqual(resolve('Media/Images/IMG-1.jpg'), { abs: join(dir, 'Media', 'Images', 'IMG-1.jpg'), snapshotPath: 'Export/Media/Images/IMG-1.jpg', size: 3 });
  assert.equal(resolve('Media\\Images\\./IMG-1.jpg')?.size, 3);
  assert.equal(resolve('Media/Images/Café.jpg'.normalize('NFD'))?.size, 3);
  for (const absent of ['Media/Images/IMG-2.jpg', 'Media/Images', '../Media/Images/IMG-1.jpg', '/etc/passwd', '']) assert.equal(resolve(absent), null, absent);
  // A file added after the listing is not seen: the listing is the source as the import found it.
  writeFileSync(join(dir, 'Media', 'Images', 'IMG-3.jpg'), 'three');
  assert.equal(resolve('Media/Images/IMG-3.jpg'), null);
});

test('the media resolver under a symbolic link: no listing, each path resolved on its own, never out of the root', async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  mkdirSync(join(dir, 'Real'), { recursive: true });
  writeFileSync(join(dir, 'Real', 'a.jpg'), 'a');
  writeFileSync(join(outside, 'secret.jpg'), 'secret');
  symlinkSync(join(dir, 'Real'), join(dir, 'Linked'));
  symlinkSync(outside, join(dir, 'Out'));
  assert.equal(fileSkeletons(dir), null);
  const resolve = rootResolver({ dir, snapshotPrefix: '' });
  assert.equal(resolve('Linked/a.jpg')?.size, 1);
  assert.equal(resolve('Out/secret.jpg'), null);
  assert.equal(resolve('Real/b.jpg'), null);
});
