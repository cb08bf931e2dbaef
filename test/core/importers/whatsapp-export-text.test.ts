import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openCatalog } from '../../../src/core/catalog/catalog.js';
import { ChatsafeError } from '../../../src/core/errors.js';
import { detectSource } from '../../../src/core/importers/detect.js';
import { buildCatalog } from '../../../src/core/importers/import.js';
import { readZipMedia } from '../../../src/core/importers/import-export-text.js';
import { parseExportText } from '../../../src/core/importers/whatsapp-export-text.js';
import { ZipReader } from '../../../src/core/importers/zip-reader.js';
import { makeZip, tempDir } from './helpers.js';

const U = (y: number, mo: number, d: number, h: number, mi: number, s = 0) => Date.UTC(y, mo - 1, d, h, mi, s);
const rows = (text: string) => parseExportText(text).messages.map((m) => [m.timestamp, m.author, m.kind, m.text, m.attachment]);

const ANDROID_EN = [
  '12/03/2021, 14:05 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.',
  '12/03/2021, 14:05 - Anna created group "Trip"',
  '12/03/2021, 14:06 - Anna: Hello everyone',
  'this is line two',
  '13/03/2021, 09:01 - Bob: IMG-20210313-WA0001.jpg (file attached)',
  'Nice view',
  '13/03/2021, 09:02 - Bob: <Media omitted>',
  '13/03/2021, 09:03 - Anna changed the subject from "Trip" to "Trip: 2021"',
  '13/03/2021, 09:04 - Bob: This message was deleted',
  '13/03/2021, 09:05 - Anna: Fixed it <This message was edited>',
  '13/03/2021, 09:06 - Carl left',
].join('\n');

test('Android layout, day-first, 24-hour: multi-line, system lines, attachments, omitted media, deleted and edited', () => {
  assert.deepEqual(rows(ANDROID_EN), [
    [U(2021, 3, 12, 14, 5), null, 'system', 'Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.', null],
    [U(2021, 3, 12, 14, 5), null, 'system', 'Anna created group "Trip"', null],
    [U(2021, 3, 12, 14, 6), 'Anna', 'text', 'Hello everyone\nthis is line two', null],
    [U(2021, 3, 13, 9, 1), 'Bob', 'image', 'Nice view', 'IMG-20210313-WA0001.jpg'],
    [U(2021, 3, 13, 9, 2), 'Bob', 'document', '', null],
    [U(2021, 3, 13, 9, 3), null, 'system', 'Anna changed the subject from "Trip" to "Trip: 2021"', null],
    [U(2021, 3, 13, 9, 4), 'Bob', 'deleted', '', null],
    [U(2021, 3, 13, 9, 5), 'Anna', 'text', 'Fixed it', null],
    [U(2021, 3, 13, 9, 6), null, 'system', 'Carl left', null],
  ]);
  assert.equal(parseExportText(ANDROID_EN).messages[7]!.edited, true);
});

const IOS_DE = [
  '\u200e[12.03.21, 14:05:09] Trip: \u200eMessages and calls are end-to-end encrypted.',
  '[12.03.21, 14:05:10] \u200eAnna added Bob',
  '[12.03.21, 14:06:00] Anna: \u200e<attached: 00000012-PHOTO-2021-03-12-14-06-00.jpg>',
  '[12.03.21, 14:07:00] Bob: Sure: why not',
  '[13.03.21, 08:00:00] Bob: \u200eimage omitted',
  '[13.03.21, 08:01:00] Bob: \u200eThis message was deleted.',
].join('\r\n');

test('iOS layout, dotted dates with seconds, U+200E marks: generated lines are system events', () => {
  const parsed = parseExportText(IOS_DE);
  assert.equal(parsed.layout, 'ios');
  assert.deepEqual(rows(IOS_DE), [
    [U(2021, 3, 12, 14, 5, 9), null, 'system', 'Messages and calls are end-to-end encrypted.', null],
    [U(2021, 3, 12, 14, 5, 10), null, 'system', 'Anna added Bob', null],
    [U(2021, 3, 12, 14, 6), 'Anna', 'image', '', '00000012-PHOTO-2021-03-12-14-06-00.jpg'],
    [U(2021, 3, 12, 14, 7), 'Bob', 'text', 'Sure: why not', null],
    [U(2021, 3, 13, 8, 0), 'Bob', 'image', '', null],
    [U(2021, 3, 13, 8, 1), 'Bob', 'deleted', '', null],
  ]);
});

test('US month-first with 12-hour clock and U+202F before AM/PM', () => {
  const text = ['3/14/21, 2:05\u202fPM - Anna: pi day', '3/15/21, 12:01\u202fAM - Bob: midnight', '3/15/21, 12:30\u202fPM - Bob: noon'].join('\n');
  assert.equal(parseExportText(text).dateOrder, 'month-first');
  assert.deepEqual(rows(text), [
    [U(2021, 3, 14, 14, 5), 'Anna', 'text', 'pi day', null],
    [U(2021, 3, 15, 0, 1), 'Bob', 'text', 'midnight', null],
    [U(2021, 3, 15, 12, 30), 'Bob', 'text', 'noon', null],
  ]);
});

test('Spanish a. m. / p. m. with no-break spaces, translated "file attached"', () => {
  const text = ['14/3/21, 2:05\u00a0p.\u00a0m. - Ana: hola', '15/3/21, 12:30\u00a0a.\u00a0m. - Ana: noche', '15/3/21, 1:00\u00a0p.\u00a0m. - Luis: IMG-20210315-WA0002.jpg (archivo adjunto)'].join('\n');
  assert.deepEqual(rows(text), [
    [U(2021, 3, 14, 14, 5), 'Ana', 'text', 'hola', null],
    [U(2021, 3, 15, 0, 30), 'Ana', 'text', 'noche', null],
    [U(2021, 3, 15, 13, 0), 'Luis', 'image', '', 'IMG-20210315-WA0002.jpg'],
  ]);
});

test('German 4-digit years with dotted times, and year-first dates', () => {
  assert.deepEqual(rows('12.03.2021, 14.05 - Anna: Hallo\n13.03.2021, 08.30 - Ben: Moin'), [
    [U(2021, 3, 12, 14, 5), 'Anna', 'text', 'Hallo', null],
    [U(2021, 3, 13, 8, 30), 'Ben', 'text', 'Moin', null],
  ]);
  const yf = parseExportText('2021-03-12 14:05 - Anna: ja\n2021-03-13 09:00 - Bo: nej');
  assert.equal(yf.dateOrder, 'year-first');
  assert.deepEqual(yf.messages.map((m) => m.timestamp), [U(2021, 3, 12, 14, 5), U(2021, 3, 13, 9, 0)]);
});

test('ambiguous dates are decided across the whole file by which order runs forward in time', () => {
  const dayFirst = ['05/01/21, 10:00 - A: x', '06/01/21, 10:00 - A: x', '07/01/21, 10:00 - A: x', '01/02/21, 10:00 - A: x'].join('\n');
  assert.equal(parseExportText(dayFirst).dateOrder, 'day-first');
  assert.equal(parseExportText(dayFirst).messages[3]!.timestamp, U(2021, 2, 1, 10, 0));
  const monthFirst = ['01/05/21, 10:00 - A: x', '01/06/21, 10:00 - A: x', '01/07/21, 10:00 - A: x', '02/01/21, 10:00 - A: x'].join('\n');
  assert.equal(parseExportText(monthFirst).dateOrder, 'month-first');
  assert.equal(parseExportText(monthFirst).messages[3]!.timestamp, U(2021, 2, 1, 10, 0));
  // 31 April does not exist: reported, not silently moved to 1 May.
  assert.deepEqual(parseExportText('31/04/21, 10:00 - A: x\n13/05/21, 10:00 - A: y').badDates, [1]);
});

test('export zip: chat and attachments imported, attachments linked inside the zip; detection and catalog agree', async (t) => {
  const dir = tempDir(t);
  const zipPath = join(dir, 'WhatsApp Chat - Trip.zip');
  const photo = Buffer.from('jpeg bytes here');
  writeFileSync(zipPath, makeZip([{ name: '_chat.txt', data: IOS_DE, deflate: true }, { name: '00000012-PHOTO-2021-03-12-14-06-00.jpg', data: photo }]));
  const det = await detectSource(zipPath);
  assert.equal(det.kind, 'whatsapp-export-text');
  assert.deepEqual([det.counts.chats, det.counts.messages, det.counts.mediaFiles], [1, 6, 1]);
  const report = await buildCatalog(zipPath, join(dir, 'cat.db'));
  assert.deepEqual(report.counts, { chats: 1, messages: 6, media: 2, calls: 0, reactions: 0 });
  const cat = openCatalog(join(dir, 'cat.db'));
  t.after(() => cat.close());
  const [chat] = cat.listChats();
  assert.deepEqual([chat!.name, chat!.kind, chat!.participants], ['Trip', 'direct', ['Anna', 'Bob']]);
  const msgs = cat.listMessages(chat!.id);
  assert.deepEqual(msgs[2]!.media, { path: 'WhatsApp Chat - Trip.zip/00000012-PHOTO-2021-03-12-14-06-00.jpg', name: '00000012-PHOTO-2021-03-12-14-06-00.jpg', mime: 'image/jpeg', size: photo.length, sha256: createHash('sha256').update(photo).digest('hex') });
  assert.deepEqual(readZipMedia(zipPath, '00000012-PHOTO-2021-03-12-14-06-00.jpg'), photo);
  assert.deepEqual(readZipMedia(readFileSync(zipPath), '00000012-PHOTO-2021-03-12-14-06-00.jpg'), photo);
  assert.equal(readZipMedia(readFileSync(zipPath), 'nope.jpg'), null);
  assert.equal(msgs[4]!.media!.path, null, '"image omitted" has no file');
});

test('export folder: the .txt with its attachments beside it', async (t) => {
  const dir = tempDir(t);
  const folder = join(dir, 'Trip export');
  mkdirSync(folder);
  writeFileSync(join(folder, 'WhatsApp Chat with Trip.txt'), ANDROID_EN);
  writeFileSync(join(folder, 'IMG-20210313-WA0001.jpg'), 'view');
  await buildCatalog(folder, join(dir, 'cat.db'));
  const cat = openCatalog(join(dir, 'cat.db'));
  t.after(() => cat.close());
  const [chat] = cat.listChats();
  assert.equal(chat!.name, 'Trip');
  assert.equal(chat!.kind, 'direct');
  const img = cat.listMessages(chat!.id).find((m) => m.kind === 'image')!;
  assert.equal(img.media!.path, 'Trip export/IMG-20210313-WA0001.jpg');
});

test('hostile zips: path traversal, a zip bomb, a truncated file: refused with the file named, nothing written', async (t) => {
  const dir = tempDir(t);
  const traversal = join(dir, 'WhatsApp Chat - A.zip');
  writeFileSync(traversal, makeZip([{ name: '_chat.txt', data: ANDROID_EN }, { name: '../../evil.sh', data: 'x' }]));
  assert.equal((await detectSource(traversal)).kind, 'unknown');
  const bomb = join(dir, 'WhatsApp Chat - B.zip');
  writeFileSync(bomb, makeZip([{ name: '_chat.txt', data: Buffer.concat([Buffer.from('12/03/2021, 14:05 - A: x\n'), Buffer.alloc(64 * 1024 * 1024, 0x20)]), deflate: true }]));
  await assert.rejects(buildCatalog(bomb, join(dir, 'b.db')), (e: ChatsafeError) => e.kind === 'integrity' && /zip bomb/.test(e.message) && e.message.includes('WhatsApp Chat - B.zip'));
  const truncated = join(dir, 'WhatsApp Chat - C.zip');
  writeFileSync(truncated, makeZip([{ name: '_chat.txt', data: ANDROID_EN, deflate: true }]).subarray(0, 40));
  assert.equal((await detectSource(truncated)).kind, 'unknown');
  const lying = join(dir, 'WhatsApp Chat - D.zip');
  writeFileSync(lying, makeZip([{ name: '_chat.txt', data: ANDROID_EN, deflate: true, declaredSize: 100 }]));
  await assert.rejects(buildCatalog(lying, join(dir, 'd.db')), (e: ChatsafeError) => e.kind === 'integrity' && e.message.includes('WhatsApp Chat - D.zip'));
  assert.deepEqual(readdirSync(dir).filter((n) => !n.endsWith('.zip')), []);
});

test('export zip: an attachment named on many lines is inflated and hashed once', async (t) => {
  const dir = tempDir(t);
  const zipPath = join(dir, 'WhatsApp Chat - Same.zip');
  const photo = Buffer.from('the one photo');
  const lines = Array.from({ length: 300 }, (_, i) => `[12.03.21, 14:${String(i % 60).padStart(2, '0')}:00] Anna: \u200e<attached: 00000001-PHOTO-2021-03-12-14-06-00.jpg>`);
  writeFileSync(zipPath, makeZip([{ name: '_chat.txt', data: lines.join('\n'), deflate: true }, { name: '00000001-PHOTO-2021-03-12-14-06-00.jpg', data: photo, deflate: true }]));
  // Each inflation of an entry is a call of `extract`: counted for the attachment's name.
  const extract = ZipReader.prototype.extract;
  let inflated = 0;
  ZipReader.prototype.extract = function (this: ZipReader, entry: Parameters<typeof extract>[0], ...rest: unknown[]) {
    if (entry.name.endsWith('.jpg')) inflated += 1;
    return (extract as (...a: unknown[]) => Buffer).call(this, entry, ...rest);
  } as typeof extract;
  t.after(() => (ZipReader.prototype.extract = extract));
  const report = await buildCatalog(zipPath, join(dir, 'cat.db'));
  assert.equal(report.counts.media, 300);
  assert.equal(inflated, 1);
  const cat = openCatalog(join(dir, 'cat.db'));
  t.after(() => cat.close());
  const digest = createHash('sha256').update(photo).digest('hex');
  assert.ok(cat.listMessages(cat.listChats()[0]!.id, { limit: 1000 }).every((m) => m.media?.sha256 === digest));
});
