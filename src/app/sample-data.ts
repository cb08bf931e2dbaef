/**
 * "Try it with sample data": a small made-up WhatsApp "Export chat" folder
 * (a text file and one picture), for people without an export at hand. Every
 * name and line in it is invented.
 */
import { promises as fs } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LINES: ReadonlyArray<readonly [string, string]> = [
  ['Ada', 'Morning! Did the seeds arrive?'],
  ['Ben', 'They did, planting the tomatoes this weekend'],
  ['Ada', 'Send a picture when they sprout'],
  ['Ben', 'IMG-20240301-WA0001.jpg (file attached)'],
  ['Ada', 'Lovely. The basil went in next to the window'],
  ['Ben', 'Remember to water the lemon tree on Sunday'],
  ['Ada', 'Will do. Dinner on Friday at eight?'],
  ['Ben', 'Friday works. I will bring the bread'],
];

// A 1x1 PNG, so the media preview has something real to show.
const PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** Creates the folder and returns its path; the caller may delete it when done. */
export async function createSampleExport(count = 120): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'chatsafe-sample-'));
  const dir = join(root, 'WhatsApp Chat with Garden Club');
  await fs.mkdir(dir);
  const start = Date.UTC(2024, 2, 1, 8, 0);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const [who, text] = LINES[i % LINES.length]!;
    const t = new Date(start + i * 37 * 60_000);
    const dd = String(t.getUTCDate()).padStart(2, '0');
    const mm = String(t.getUTCMonth() + 1).padStart(2, '0');
    const hh = String(t.getUTCHours()).padStart(2, '0');
    const mi = String(t.getUTCMinutes()).padStart(2, '0');
    out.push(`${dd}/${mm}/${t.getUTCFullYear()}, ${hh}:${mi} - ${who}: ${text}`);
  }
  await fs.writeFile(join(dir, 'WhatsApp Chat with Garden Club.txt'), `${out.join('\n')}\n`);
  await fs.writeFile(join(dir, 'IMG-20240301-WA0001.jpg'), PIXEL_PNG);
  return dir;
}
