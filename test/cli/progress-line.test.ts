import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CliIO } from '../../src/cli/io.js';
import { formatProgress, progressLine } from '../../src/cli/progress-line.js';
import type { JobProgress } from '../../src/core/jobs/progress.js';

const base: JobProgress = { phase: 'backing-up', bytesDone: 0, bytesTotal: null, filesDone: 0, filesTotal: null, rate: 0, etaSeconds: null };

test('file phases show bytes, percent, files, rate and time left', () => {
  const line = formatProgress({ ...base, bytesDone: 512 * 1024 * 1024, bytesTotal: 1024 * 1024 * 1024, filesDone: 10, filesTotal: 40, rate: 64 * 1024 * 1024, etaSeconds: 8 });
  assert.match(line, /^backing-up 50%: /);
  assert.match(line, /10\/40 files/);
  assert.match(line, /left$/);
});

test('while the catalog is built, the line counts messages or media files, not bytes', () => {
  const reading = formatProgress({ ...base, phase: 'importing', etaSeconds: 2, importStep: { step: 'reading', done: 160_000, total: 300_000 } });
  assert.match(reading, /^building the chat catalog, reading the chats: 160,000 of 300,000 messages, .* left$/);
  assert.doesNotMatch(reading, /\bB\b|B\/s/);
  const media = formatProgress({ ...base, phase: 'importing', importStep: { step: 'hashing-media', done: 12, total: null } });
  assert.equal(media, 'building the chat catalog, linking media: 12 files');
});

test('a note on a terminal clears the progress line first, and the next update draws it again', () => {
  const written: string[] = [];
  const io = { stderr: { isTTY: true, write: (s: string) => written.push(s) } } as unknown as CliIO;
  const line = progressLine(io);
  line.note('before any progress');
  line.listener!({ ...base, bytesDone: 1024 });
  line.note('WhatsApp Android database: 8 chats');
  line.listener!({ ...base, bytesDone: 2048 });
  line.end();
  assert.equal(written[0], 'before any progress\n', 'nothing to clear yet');
  assert.ok(written[2]!.startsWith('\r\x1b[KWhatsApp Android database: 8 chats\n'), JSON.stringify(written[2]));
  assert.ok(written[3]!.startsWith('\r\x1b[Kbacking-up: 2.05 KB'), JSON.stringify(written[3]));
  assert.equal(written.at(-1), '\r\x1b[K');

  const piped: string[] = [];
  const plain = progressLine({ stderr: { isTTY: false, write: (s: string) => piped.push(s) } } as unknown as CliIO);
  plain.note('a line');
  assert.deepEqual(piped, ['a line\n']);
});
