import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'chatsafe-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic pseudo-random bytes (xorshift32), for test data that must not compress. */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Mounts a tmpfs of `size` (such as '512k') on `dir`, for a full disk: needs root and the mount
 * capability. False when mounted, else why not (a test's skip reason).
 */
export function mountTinyDisk(dir: string, size = '512k'): string | false {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'a full disk needs root to mount a small tmpfs';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return false;
  } catch (e) {
    return `cannot mount a small tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim().slice(0, 120)})`;
  }
}
