/**
 * The first pass of a backup: walks the sources without following symlinks
 * and records what is there, so the second pass can show totals, a rate and
 * an ETA. Nothing is read but metadata. The calls are blocking (a thread-pool
 * round trip per entry costs ten times the call on an export of thousands of
 * media files); the walk yields to the event loop every few hundred entries
 * so cancellation and progress still get through.
 */
import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { ChatsafeError, throwIfCancelled } from '../errors.js';
import { walkTotals, type CountFiles, type Totals as FileTotals } from '../importers/walk.js';

/**
 * What a backup keeps of an entry's metadata. A BigIntStats object takes
 * about 1 KiB of memory, and an export has tens of thousands of files;
 * this takes a quarter of that. Times and inode stay exact (strings).
 */
export interface EntryMeta {
  /** Permission bits only. */
  readonly mode: number;
  readonly size: number;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  readonly ino: string;
}

export function entryMeta(st: BigIntStats): EntryMeta {
  return { mode: Number(st.mode & 0o7777n), size: Number(st.size), mtimeNs: st.mtimeNs.toString(), ctimeNs: st.ctimeNs.toString(), ino: st.ino.toString() };
}

export type ScannedEntry =
  | { kind: 'file'; name: string; path: string; stat: EntryMeta }
  | { kind: 'symlink'; name: string; path: string; stat: EntryMeta }
  | { kind: 'dir'; name: string; path: string; stat: EntryMeta; children: ScannedEntry[] }
  | { kind: 'other'; name: string; path: string };

export interface ScanResult {
  readonly roots: ScannedEntry[];
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
  /** Sockets, devices and FIFOs: not backed up, reported. */
  readonly skipped: string[];
}

export async function scanSources(sources: readonly string[], signal?: AbortSignal): Promise<ScanResult> {
  if (sources.length === 0) throw new ChatsafeError('usage', 'Nothing to back up.', 'Name at least one file or folder.');
  const totals: Totals = { files: 0, dirs: 0, bytes: 0, skipped: [], seen: 0 };
  const roots: ScannedEntry[] = [];
  const seen = new Map<string, string>();
  for (const src of sources) {
    const path = resolve(src);
    const name = basename(path) || 'root';
    const other = seen.get(name);
    if (other !== undefined) {
      throw new ChatsafeError('usage', `Two sources have the same name "${name}": ${other} and ${path}.`, 'Back them up separately, or put them in one folder and back that up.');
    }
    seen.set(name, path);
    let stat: BigIntStats;
    try {
      stat = lstatSync(path, { bigint: true });
    } catch (e) {
      throw new ChatsafeError('not-found', `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check the path you gave.');
    }
    roots.push(await scanEntry(name, path, stat, totals, signal));
  }
  return { roots, files: totals.files, dirs: totals.dirs, bytes: totals.bytes, skipped: totals.skipped };
}

interface Totals {
  files: number;
  dirs: number;
  bytes: number;
  skipped: string[];
  seen: number;
}

const YIELD_EVERY = 256;

async function scanEntry(
  name: string,
  path: string,
  stat: BigIntStats,
  totals: Totals,
  signal?: AbortSignal,
): Promise<ScannedEntry> {
  if (++totals.seen % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
  throwIfCancelled(signal);
  if (stat.isFile()) {
    totals.files++;
    totals.bytes += Number(stat.size);
    return { kind: 'file', name, path, stat: entryMeta(stat) };
  }
  if (stat.isSymbolicLink()) return { kind: 'symlink', name, path, stat: entryMeta(stat) };
  if (!stat.isDirectory()) {
    totals.skipped.push(path);
    return { kind: 'other', name, path };
  }
  totals.dirs++;
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (e) {
    throw new ChatsafeError('io', `Cannot list ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check that you may read this folder, then run the backup again.');
  }
  const children: ScannedEntry[] = [];
  for (const child of names.sort()) {
    const childPath = join(path, child);
    let st: BigIntStats;
    try {
      st = lstatSync(childPath, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted while we looked
      throw new ChatsafeError('io', `Cannot read ${childPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check that you may read it, then run the backup again.');
    }
    children.push(await scanEntry(child, childPath, st, totals, signal));
  }
  return { kind: 'dir', name, path, stat: entryMeta(stat), children };
}

/**
 * File counts for source detection, read from a scan instead of walking the
 * export again; a path outside the scan (or gone from it) is walked.
 */
export function countFilesIn(scan: ScanResult): CountFiles {
  return (path) => {
    const target = resolve(path);
    for (const root of scan.roots) {
      const rel = relative(root.path, target);
      if (rel.startsWith('..') || resolve(root.path, rel) !== target) continue;
      let entry: ScannedEntry | undefined = root;
      for (const name of rel === '' ? [] : rel.split(sep)) entry = entry?.kind === 'dir' ? entry.children.find((c) => c.name === name) : undefined;
      return entry ? totalsOf(entry) : { files: 0, bytes: 0, truncated: false };
    }
    return walkTotals(target);
  };
}

function totalsOf(entry: ScannedEntry): FileTotals {
  let files = 0;
  let bytes = 0;
  const stack = [entry];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === 'file') {
      files++;
      bytes += e.stat.size;
    } else if (e.kind === 'dir') stack.push(...e.children);
  }
  return { files, bytes, truncated: false };
}
