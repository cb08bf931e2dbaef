import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openCatalog } from '../../../src/core/catalog/catalog.js';
import { ChatsafeError } from '../../../src/core/errors.js';
import { detectSource } from '../../../src/core/importers/detect.js';
import { buildCatalog } from '../../../src/core/importers/import.js';
import { backupFileId, IOS_DOMAIN } from '../../../src/core/importers/whatsapp-ios.js';
import { sqlite, tempDir, treeDigest } from './helpers.js';

const APPLE = 978_307_200;
const T = 700_000_000; // seconds since 2001-01-01
const ms = (appleSeconds: number) => (appleSeconds + APPLE) * 1000;

/** ChatStorage.sqlite with the Core Data tables WhatsApp for iPhone uses. */
function chatStorage(path: string): void {
  sqlite(path, `
    CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZSESSIONTYPE INTEGER, ZCONTACTJID VARCHAR, ZPARTNERNAME VARCHAR, ZLASTMESSAGEDATE TIMESTAMP, ZMESSAGECOUNTER INTEGER);
    CREATE TABLE ZWAGROUPMEMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZISADMIN INTEGER, ZCHATSESSION INTEGER, ZMEMBERJID VARCHAR, ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR);
    CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZMESSAGE INTEGER, ZFILESIZE INTEGER, ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZMEDIALOCALPATH VARCHAR, ZTITLE VARCHAR, ZVCARDSTRING VARCHAR, ZMETADATA BLOB);
    CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZISFROMME INTEGER, ZMESSAGETYPE INTEGER, ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZMEDIAITEM INTEGER, ZMESSAGEDATE TIMESTAMP, ZFROMJID VARCHAR, ZSTANZAID VARCHAR, ZTEXT VARCHAR, ZTOJID VARCHAR);`, [
    ['INSERT INTO ZWACHATSESSION (Z_PK, ZSESSIONTYPE, ZCONTACTJID, ZPARTNERNAME) VALUES (?, ?, ?, ?)', [[1, 0, '447700900001@s.whatsapp.net', 'Anna from the address book'], [2, 1, '447700900001-1600000000@g.us', 'Book club'], [3, 9, 'x@y', 'Strange']]],
    ['INSERT INTO ZWAGROUPMEMBER (Z_PK, ZCHATSESSION, ZMEMBERJID, ZCONTACTNAME, ZFIRSTNAME, ZISADMIN) VALUES (?, ?, ?, ?, ?, ?)', [[1, 2, '447700900002@s.whatsapp.net', null, 'Bea', 1], [2, 2, '447700900003@s.whatsapp.net', 'Carl Contact', null, 0]]],
    ['INSERT INTO ZWAMEDIAITEM (Z_PK, ZMESSAGE, ZFILESIZE, ZLATITUDE, ZLONGITUDE, ZMEDIALOCALPATH, ZTITLE, ZMETADATA) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      [1, 12, 5, 0, 0, 'Media/447700900001@s.whatsapp.net/a/b/photo1.jpg', null, null],
      [2, 13, null, 0, 0, null, null, Buffer.concat([Buffer.from([0x2a, 4]), Buffer.from('S-11'), Buffer.from([0x32, 1, 0x41])])],
      [3, 22, null, 51.5, -0.12, null, 'London', null],
    ]],
    ['INSERT INTO ZWAMESSAGE (Z_PK, ZISFROMME, ZMESSAGETYPE, ZCHATSESSION, ZGROUPMEMBER, ZMEDIAITEM, ZMESSAGEDATE, ZFROMJID, ZSTANZAID, ZTEXT) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      [11, 0, 0, 1, null, null, T, '447700900001@s.whatsapp.net', 'S-11', 'Hi there'],
      [12, 1, 1, 1, null, 1, T + 10.5, null, 'S-12', 'my photo'],
      [13, 0, 0, 1, null, 2, T + 20, '447700900001@s.whatsapp.net', 'S-13', 'replying to hi'],
      [21, 0, 6, 2, null, null, T + 30, null, 'S-21', null],
      [22, 0, 5, 2, 1, 3, T + 40, '447700900001-1600000000@g.us', 'S-22', null],
      [23, 0, 0, 2, 2, null, T + 50, '447700900001-1600000000@g.us', 'S-23', 'hello club'],
      [24, 0, 77, 2, 2, null, T + 60, '447700900001-1600000000@g.us', 'S-24', 'new kind'],
    ]],
  ]);
}

function contactsV2(path: string): void {
  sqlite(path, 'CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, ZWHATSAPPID VARCHAR, ZFULLNAME VARCHAR, ZGIVENNAME VARCHAR, ZPHONENUMBER VARCHAR);', [
    ['INSERT INTO ZWAADDRESSBOOKCONTACT (ZWHATSAPPID, ZFULLNAME, ZGIVENNAME) VALUES (?, ?, ?)', [['447700900001@s.whatsapp.net', 'Anna Apple', 'Anna'], ['447700900002', 'Bea Banana', 'Bea']]],
  ]);
}

function checkCatalog(catalogPath: string, mediaPath: string | null): void {
  const cat = openCatalog(catalogPath);
  try {
    const chats = cat.listChats();
    assert.deepEqual(chats.map((c) => [c.name, c.kind, c.messageCount, c.participants]).sort(), [
      ['Anna Apple', 'direct', 3, ['Anna Apple']],
      ['Book club', 'group', 4, ['Bea Banana', 'Carl Contact']],
      ['Strange', 'unknown', 0, []],
    ]);
    const direct = cat.listMessages(chats.find((c) => c.kind === 'direct')!.id);
    assert.deepEqual(direct.map((m) => [m.id, m.sender, m.fromMe, m.timestamp, m.kind, m.text, m.replyTo]), [
      [11, 'Anna Apple', false, ms(T), 'text', 'Hi there', null],
      [12, 'You', true, ms(T) + 10_500, 'image', 'my photo', null],
      [13, 'Anna Apple', false, ms(T + 20), 'text', 'replying to hi', 11],
    ]);
    assert.deepEqual(direct[1]!.media, { path: mediaPath, name: 'photo1.jpg', mime: 'image/jpeg', size: 5, sha256: createHash('sha256').update('photo').digest('hex') });
    const group = cat.listMessages(chats.find((c) => c.kind === 'group')!.id);
    assert.deepEqual(group.map((m) => [m.sender, m.kind, m.text]), [
      [null, 'system', 'System event'],
      ['Bea Banana', 'location', '📍 51.500000, -0.120000 (London)'],
      ['Carl Contact', 'text', 'hello club'],
      ['Carl Contact', 'unknown', 'new kind'],
    ]);
  } finally {
    cat.close();
  }
}

test('WhatsApp iOS folder: ChatStorage.sqlite (Apple epoch, Core Data tables), ContactsV2 names, quoted replies, media under Message/', async (t) => {
  const dir = tempDir(t);
  const shared = join(dir, 'group.net.whatsapp.WhatsApp.shared');
  chatStorage(join(shared, 'ChatStorage.sqlite'));
  contactsV2(join(shared, 'ContactsV2.sqlite'));
  mkdirSync(join(shared, 'Message', 'Media', '447700900001@s.whatsapp.net', 'a', 'b'), { recursive: true });
  writeFileSync(join(shared, 'Message', 'Media', '447700900001@s.whatsapp.net', 'a', 'b', 'photo1.jpg'), 'photo');
  const before = treeDigest(shared);
  const det = await detectSource(shared);
  assert.equal(det.kind, 'whatsapp-ios');
  assert.deepEqual([det.counts.chats, det.counts.messages, det.counts.mediaFiles], [3, 7, 1]);
  const report = await buildCatalog(shared, join(dir, 'cat.db'));
  assert.deepEqual(report.counts, { chats: 3, messages: 7, media: 1, calls: 0, reactions: 0 });
  assert.deepEqual(report.unknown.map((u) => [u.where, u.value, u.count]).sort(), [['ZWACHATSESSION.ZSESSIONTYPE', '9', 1], ['ZWAMESSAGE.ZMESSAGETYPE', '77', 1]]);
  checkCatalog(join(dir, 'cat.db'), 'group.net.whatsapp.WhatsApp.shared/Message/Media/447700900001@s.whatsapp.net/a/b/photo1.jpg');
  assert.deepEqual(treeDigest(shared), before);
});

test('unencrypted iTunes/Finder backup: files found through Manifest.db by their hashed ids', async (t) => {
  const dir = tempDir(t);
  const backup = join(dir, '00008030-001A2B3C4D5E6F');
  const stage = join(dir, 'stage');
  chatStorage(join(stage, 'ChatStorage.sqlite'));
  contactsV2(join(stage, 'ContactsV2.sqlite'));
  const mediaRel = 'Message/Media/447700900001@s.whatsapp.net/a/b/photo1.jpg';
  const files: [string, string, string, Buffer | string][] = [
    ['7c7fba66680ef796b916b067077cc246adacf01d', IOS_DOMAIN, 'ChatStorage.sqlite', join(stage, 'ChatStorage.sqlite')],
    ['b8548dc30aa1030df0ce18ef08b882cf7ab5212f', IOS_DOMAIN, 'ContactsV2.sqlite', join(stage, 'ContactsV2.sqlite')],
    [backupFileId(IOS_DOMAIN, mediaRel), IOS_DOMAIN, mediaRel, Buffer.from('photo')],
  ];
  // Apple's ids are SHA-1 of "domain-relativePath": the two the issue names must come out of that rule.
  assert.equal(backupFileId(IOS_DOMAIN, 'ChatStorage.sqlite'), files[0]![0]);
  assert.equal(backupFileId(IOS_DOMAIN, 'ContactsV2.sqlite'), files[1]![0]);
  sqlite(join(backup, 'Manifest.db'), 'CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB); CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);', [
    ['INSERT INTO Files (fileID, domain, relativePath, flags) VALUES (?, ?, ?, 1)', files.map(([id, d, rel]) => [id, d, rel])],
  ]);
  writeFileSync(join(backup, 'Manifest.plist'), '<?xml version="1.0"?><plist><dict><key>IsEncrypted</key><false/></dict></plist>');
  for (const [id, , , content] of files) {
    mkdirSync(join(backup, id.slice(0, 2)), { recursive: true });
    if (typeof content === 'string') cpSync(content, join(backup, id.slice(0, 2), id));
    else writeFileSync(join(backup, id.slice(0, 2), id), content);
  }
  const det = await detectSource(backup);
  assert.equal(det.kind, 'whatsapp-ios-backup');
  assert.deepEqual([det.counts.chats, det.counts.messages, det.counts.mediaFiles], [3, 7, 1]);
  assert.equal(det.keyFiles.chatStorage, `00008030-001A2B3C4D5E6F/7c/7c7fba66680ef796b916b067077cc246adacf01d`);
  await buildCatalog(backup, join(dir, 'cat.db'));
  const id = files[2]![0];
  checkCatalog(join(dir, 'cat.db'), `00008030-001A2B3C4D5E6F/${id.slice(0, 2)}/${id}`);

  // The media file a link to a file outside the backup: left out as missing, never read.
  const mediaFile = join(backup, id.slice(0, 2), id);
  writeFileSync(join(dir, 'outside.jpg'), 'a file that is not the backup\'s');
  rmSync(mediaFile);
  symlinkSync(join(dir, 'outside.jpg'), mediaFile);
  await buildCatalog(backup, join(dir, 'linked.db'));
  const linked = openCatalog(join(dir, 'linked.db'));
  try {
    const photo = linked.listMessages(linked.listChats().find((c) => c.kind === 'direct')!.id)[1]!;
    assert.equal(photo.media?.path, null, 'a link out of the backup is not the media file');
    assert.equal(photo.media?.sha256, null);
  } finally {
    linked.close();
  }

  // The same folder marked encrypted: detected, explained, and refused for import with a clear message.
  writeFileSync(join(backup, 'Manifest.plist'), '<?xml version="1.0"?><plist><dict><key>IsEncrypted</key><true/></dict></plist>');
  const enc = await detectSource(backup);
  assert.equal(enc.details.encrypted, true);
  assert.match(enc.problems.join(' '), /encrypted/);
  await assert.rejects(buildCatalog(backup, join(dir, 'enc.db')), (e: ChatsafeError) => e.kind === 'unsupported' && /encrypted iPhone backup/.test(e.message));
});
