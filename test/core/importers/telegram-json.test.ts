import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openCatalog } from '../../../src/core/catalog/catalog.js';
import { ChatsafeError } from '../../../src/core/errors.js';
import { detectSource } from '../../../src/core/importers/detect.js';
import { buildCatalog } from '../../../src/core/importers/import.js';
import { tempDir } from './helpers.js';

const S = 1_650_000_000; // unix seconds
const chat = {
  name: 'Hiking',
  type: 'private_group',
  id: 4242,
  messages: [
    { id: 1, type: 'service', date: '2022-04-15T05:20:00', date_unixtime: String(S), actor: 'Dana', actor_id: 'user1', action: 'create_group', title: 'Hiking', members: ['Dana', 'Eli'], text: '' },
    { id: 2, type: 'message', date: '2022-04-15T05:21:00', date_unixtime: String(S + 60), from: 'Dana', from_id: 'user1', text: 'Saturday at ', text_entities: [] },
    { id: 3, type: 'message', date: '2022-04-15T05:22:00', date_unixtime: String(S + 120), from: 'Eli', from_id: 'user2', reply_to_message_id: 2, text: ['Sounds ', { type: 'bold', text: 'great' }, ', see ', { type: 'link', text: 'https://example.org' }] },
    { id: 4, type: 'message', date: '2022-04-15T05:23:00', date_unixtime: String(S + 180), edited: '2022-04-15T05:24:00', from: 'Me Myself', from_id: 'user9', forwarded_from: 'Trail News', photo: 'photos/photo_1@15-04-2022_05-23-00.jpg', width: 10, height: 10, text: 'map' },
    { id: 5, type: 'message', date: '2022-04-15T05:25:00', date_unixtime: String(S + 300), from: 'Eli', from_id: 'user2', file: 'voice_messages/audio_1.ogg', media_type: 'voice_message', mime_type: 'audio/ogg', text: '', reactions: [{ type: 'emoji', count: 2, emoji: '❤', recent: [{ from: 'Dana', from_id: 'user1', date: '2022-04-15T05:26:00' }] }] },
    { id: 6, type: 'message', date: '2022-04-15T05:27:00', date_unixtime: String(S + 420), from: 'Dana', from_id: 'user1', file: '(File not included. Change data exporting settings to download.)', media_type: 'video_file', text: '' },
    { id: 7, type: 'message', date: '2022-04-15T05:28:00', date_unixtime: String(S + 480), from: 'Dana', from_id: 'user1', file: 'files/x.bin', media_type: 'hologram', text: '' },
    { id: 8, type: 'unheard_of', date: '2022-04-15T05:29:00', date_unixtime: String(S + 540), text: 'odd' },
    'not an object',
  ],
};

test('Telegram single-chat export: service messages, entity arrays, replies, forwards, edits, reactions, media', async (t) => {
  const dir = tempDir(t);
  const folder = join(dir, 'ChatExport_2022-04-20');
  mkdirSync(join(folder, 'photos'), { recursive: true });
  writeFileSync(join(folder, 'photos', 'photo_1@15-04-2022_05-23-00.jpg'), 'jpg');
  writeFileSync(join(folder, 'result.json'), JSON.stringify(chat, null, 1));
  const det = await detectSource(folder);
  assert.equal(det.kind, 'telegram-json');
  assert.deepEqual([det.counts.chats, det.counts.messages, det.counts.mediaFiles], [1, 9, 4]);
  const report = await buildCatalog(folder, join(dir, 'cat.db'));
  assert.deepEqual(report.counts, { chats: 1, messages: 8, media: 4, calls: 0, reactions: 2 });
  assert.deepEqual(report.unknown.map((u) => [u.where, u.value, u.count]).sort(), [
    ['telegram message', 'not an object', 1],
    ['telegram message.media_type', 'hologram', 1],
    ['telegram message.type', 'unheard_of', 1],
  ]);
  const cat = openCatalog(join(dir, 'cat.db'));
  t.after(() => cat.close());
  const [c] = cat.listChats();
  assert.deepEqual([c!.name, c!.kind, c!.participants.sort()], ['Hiking', 'group', ['Dana', 'Eli', 'Me Myself']]);
  const msgs = cat.listMessages(c!.id);
  assert.deepEqual(msgs.map((m) => [m.timestamp, m.sender, m.kind, m.text, m.replyTo, m.forwardedFrom, m.edited]), [
    [S * 1000, null, 'system', 'Dana create group Hiking: Dana, Eli', null, null, false],
    [(S + 60) * 1000, 'Dana', 'text', 'Saturday at ', null, null, false],
    [(S + 120) * 1000, 'Eli', 'text', 'Sounds great, see https://example.org', msgs[1]!.id, null, false],
    [(S + 180) * 1000, 'Me Myself', 'image', 'map', null, 'Trail News', true],
    [(S + 300) * 1000, 'Eli', 'voice', null, null, null, false],
    [(S + 420) * 1000, 'Dana', 'video', null, null, null, false],
    [(S + 480) * 1000, 'Dana', 'unknown', null, null, null, false],
    [(S + 540) * 1000, null, 'unknown', 'odd', null, null, false],
  ]);
  assert.equal(msgs[3]!.media!.path, 'ChatExport_2022-04-20/photos/photo_1@15-04-2022_05-23-00.jpg');
  assert.equal(msgs[4]!.media!.path, null);
  assert.equal(msgs[4]!.media!.mime, 'audio/ogg');
  assert.equal(msgs[5]!.media!.name, null, 'a file Telegram did not export has no name');
  assert.deepEqual(msgs[4]!.reactions, [{ sender: 'Dana', emoji: '❤', timestamp: Date.UTC(2022, 3, 15, 5, 26) }, { sender: null, emoji: '❤', timestamp: null }]);
});

test('Telegram whole-account export: chats and left chats, the owner marked as "from me"', async (t) => {
  const dir = tempDir(t);
  const account = {
    about: 'Here is the data you requested.',
    personal_information: { user_id: 9, first_name: 'Me', last_name: 'Myself' },
    chats: { about: '', list: [chat, { name: null, type: 'saved_messages', id: 9, messages: [{ id: 1, type: 'message', date: '2022-01-01T00:00:00', date_unixtime: '1640995200', from: 'Me Myself', from_id: 'user9', text: 'note to self' }] }] },
    left_chats: { about: '', list: [{ name: 'Old channel', type: 'public_channel', id: 77, messages: [] }] },
  };
  const file = join(dir, 'result.json');
  writeFileSync(file, JSON.stringify(account));
  const det = await detectSource(file);
  assert.equal(det.kind, 'telegram-json');
  assert.equal(det.details.export, 'account');
  await buildCatalog(file, join(dir, 'cat.db'));
  const cat = openCatalog(join(dir, 'cat.db'));
  t.after(() => cat.close());
  const chats = cat.listChats();
  assert.deepEqual(chats.map((c) => [c.name, c.kind, c.messageCount]).sort(), [['Hiking', 'group', 8], ['Old channel', 'channel', 0], ['Saved Messages', 'saved', 1]]);
  const hiking = cat.listMessages(chats.find((c) => c.name === 'Hiking')!.id);
  assert.deepEqual(hiking.filter((m) => m.fromMe).map((m) => m.text), ['map']);
  assert.equal(hiking[3]!.media!.path, null, 'only result.json was given: its media are not in the snapshot');
});

test('broken Telegram JSON: a clear error naming the file, no catalog', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'result.json');
  writeFileSync(file, '{"name": "x", "type": "personal_chat", "messages": [ {"id": 1,');
  assert.equal((await detectSource(file)).kind, 'telegram-json');
  await assert.rejects(buildCatalog(file, join(dir, 'cat.db')), (e: ChatsafeError) => e.kind === 'integrity' && e.message.startsWith('result.json is not valid JSON'));
  writeFileSync(file, '{"about": "x", "type": 3, "name": "y"}');
  await assert.rejects(buildCatalog(file, join(dir, 'cat.db')), (e: ChatsafeError) => e.kind === 'unsupported');
});
