/**
 * Which WhatsApp backup format a file is, from its first bytes (and, for
 * crypt12 whose header has only three fixed bytes, its last four). Reads at
 * most a few kilobytes; never needs a key.
 */
import { open } from 'node:fs/promises';
import { CRYPT12_SUFFIX_LENGTH, HEADER_PROBE_BYTES, MD5_LENGTH, TAG_LENGTH, isHeaderProblem, looksLikeCrypt12Suffix, parseBackupHeader } from './header.js';
import type { WhatsAppBackupFormat } from './key.js';

export async function sniffWhatsAppBackup(path: string): Promise<{ format: WhatsAppBackupFormat } | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return null;
    const head = Buffer.alloc(Math.min(st.size, HEADER_PROBE_BYTES));
    await fh.read(head, 0, head.length, 0);
    const h = parseBackupHeader(head);
    if (isHeaderProblem(h)) return null;
    if (h.format === 'crypt12') {
      if (st.size <= h.dataOffset + TAG_LENGTH + MD5_LENGTH + CRYPT12_SUFFIX_LENGTH) return null;
      const tail = Buffer.alloc(CRYPT12_SUFFIX_LENGTH);
      await fh.read(tail, 0, tail.length, st.size - tail.length);
      if (!looksLikeCrypt12Suffix(tail)) return null;
    }
    return { format: h.format };
  } finally {
    await fh.close();
  }
}
