/** Counting the files under a path without following symlinks (they are not ours to follow). */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Stop counting beyond this many entries; the totals are then lower bounds. */
const MAX_ENTRIES = 2_000_000;

export function walkTotals(path: string): { files: number; bytes: number; truncated: boolean } {
  let files = 0;
  let bytes = 0;
  let seen = 0;
  const stack = [path];
  while (stack.length > 0) {
    const p = stack.pop()!;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (++seen > MAX_ENTRIES) return { files, bytes, truncated: true };
    if (st.isFile()) {
      files += 1;
      bytes += st.size;
    } else if (st.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(p);
      } catch {
        continue;
      }
      for (const n of names) stack.push(join(p, n));
    }
  }
  return { files, bytes, truncated: false };
}
