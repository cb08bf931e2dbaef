/** Counting the files under a path without following symlinks (they are not ours to follow). */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Stop counting beyond this many entries; the totals are then lower bounds. */
const MAX_ENTRIES = 2_000_000;

export interface Totals {
  readonly files: number;
  readonly bytes: number;
  /** The walk stopped early; the figures are lower bounds. */
  readonly truncated: boolean;
}

/**
 * How detection counts the files under a path: by walking it, or from a
 * listing the caller already has (a backup scans its sources anyway, and a
 * large export costs one walk fewer).
 */
export type CountFiles = (path: string) => Totals;

export function walkTotals(path: string): Totals {
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
