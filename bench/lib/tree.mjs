// File-tree helpers for the benchmark: listing, sha256 of every file, digests, disk usage.
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** Regular files under root, as sorted relative paths with '/' separators. Anything else but folders fails. */
export function listFiles(root) {
  const out = [];
  (function walk(dir, rel) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(abs, relPath);
      else if (entry.isFile()) out.push(relPath);
      else throw new Error(`unexpected non-regular file in the tree: ${relPath}`);
    }
  })(root, '');
  return out.sort(compareBytes);
}

function compareBytes(a, b) {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const READ_BUFFER = Buffer.allocUnsafe(1 << 20);

/** sha256 (hex) and size of one file, read in 1 MiB blocks. */
export function hashFile(path) {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, READ_BUFFER, 0, READ_BUFFER.length, null);
      if (n === 0) break;
      hash.update(READ_BUFFER.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), size };
}

/** Every file under root with its size and sha256: [{ path, size, sha256 }], sorted by path. */
export function hashTree(root) {
  return listFiles(root).map((path) => ({ path, ...hashFile(join(root, path)) }));
}

/** One sha256 over a hashTree listing (paths, sizes and contents): equal digests, equal trees. */
export function treeDigest(entries) {
  const hash = createHash('sha256');
  for (const e of entries) hash.update(`${e.sha256}  ${e.size}  ${e.path}\n`);
  return hash.digest('hex');
}

/**
 * Differences between an expected and an actual hashTree listing, as readable lines
 * (empty when the trees are identical byte for byte).
 */
export function diffTrees(expected, actual) {
  const lines = [];
  const got = new Map(actual.map((e) => [e.path, e]));
  for (const e of expected) {
    const a = got.get(e.path);
    if (!a) lines.push(`missing: ${e.path}`);
    else if (a.size !== e.size) lines.push(`size differs: ${e.path} (${a.size} instead of ${e.size})`);
    else if (a.sha256 !== e.sha256) lines.push(`content differs: ${e.path}`);
    got.delete(e.path);
  }
  for (const path of got.keys()) lines.push(`unexpected: ${path}`);
  return lines;
}

/** Bytes a folder occupies on disk (allocated blocks) and the sum of its file sizes. */
export function diskUsage(root) {
  let disk = 0;
  let apparent = 0;
  (function walk(dir) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      const st = lstatSync(abs);
      disk += st.blocks * 512;
      if (entry.isDirectory()) walk(abs);
      else apparent += st.size;
    }
  })(root);
  return { disk, apparent };
}
