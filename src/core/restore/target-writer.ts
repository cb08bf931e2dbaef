/**
 * Writes restored files into a target folder, safely:
 * - never outside the target: every name was validated as a single path
 *   component, and existing symlinks on the way are never followed;
 * - never over existing files unless asked (checked for every path before
 *   anything is written);
 * - a file appears under its name only once all of it was authenticated and
 *   written (temp name, then rename), so a failure leaves no partial file.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import { ChatsafeError } from '../errors.js';

export interface PlannedEntry {
  readonly relPath: string; // components joined with '/'
  readonly type: 'file' | 'dir' | 'symlink';
}

export class TargetWriter {
  readonly root: string;
  private readonly dirTimes: Array<{ path: string; mode: number; mtimeNs: string }> = [];

  constructor(
    target: string,
    private readonly overwrite: boolean,
  ) {
    this.root = resolve(target);
  }

  private abs(relPath: string): string {
    const p = join(this.root, ...relPath.split('/'));
    if (p !== this.root && !p.startsWith(this.root + sep)) throw new ChatsafeError('integrity', `refusing to restore outside the target: ${relPath}`);
    return p;
  }

  /** Checks every planned path before anything is written; creates the target folder. */
  async prepare(entries: readonly PlannedEntry[]): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    const conflicts: string[] = [];
    for (const e of entries) {
      const st = await fs.lstat(this.abs(e.relPath)).catch(() => null);
      if (!st) continue;
      if (e.type === 'dir' && st.isDirectory()) continue;
      if (st.isDirectory() && e.type !== 'dir') {
        throw new ChatsafeError('conflict', `${this.abs(e.relPath)} is a folder, but the backup has a ${e.type} there.`, 'Restore into an empty folder.');
      }
      if (e.type === 'dir' && !st.isDirectory()) {
        throw new ChatsafeError('conflict', `${this.abs(e.relPath)} exists and is not a folder, but the backup has a folder there.`, 'Restore into an empty folder.');
      }
      conflicts.push(this.abs(e.relPath));
    }
    if (conflicts.length > 0 && !this.overwrite) {
      const list = conflicts.slice(0, 5).join(', ') + (conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : '');
      throw new ChatsafeError('conflict', `${conflicts.length} file(s) already exist in the target: ${list}.`, 'Restore into an empty folder, or add --overwrite to replace them.');
    }
  }

  async mkdir(relPath: string, mode: number, mtimeNs: string): Promise<void> {
    const p = this.abs(relPath);
    await this.assertNoSymlinkOnTheWay(p);
    await fs.mkdir(p, { recursive: true, mode: 0o700 });
    this.dirTimes.push({ path: p, mode, mtimeNs });
  }

  async symlink(relPath: string, target: string, mtimeNs: string): Promise<void> {
    const p = this.abs(relPath);
    await this.assertNoSymlinkOnTheWay(p);
    if (this.overwrite) await fs.rm(p, { force: true });
    await fs.symlink(target, p);
    const t = nsToSeconds(mtimeNs);
    await fs.lutimes(p, t, t).catch(() => undefined);
  }

  async beginFile(relPath: string): Promise<RestoringFile> {
    const p = this.abs(relPath);
    await this.assertNoSymlinkOnTheWay(p);
    const tmp = join(dirname(p), `.chatsafe-restoring-${randomBytes(6).toString('hex')}`);
    const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    return new RestoringFile(p, tmp, fh);
  }

  /** Sets folder modes and times last (writing into a folder changes its mtime), deepest first. */
  async finish(): Promise<void> {
    for (const d of this.dirTimes.reverse()) {
      await fs.chmod(d.path, d.mode);
      const t = nsToSeconds(d.mtimeNs);
      await fs.utimes(d.path, t, t);
    }
  }

  /** Refuses to write through a symlink that exists in the target (it could point anywhere). */
  private async assertNoSymlinkOnTheWay(p: string): Promise<void> {
    let dir = dirname(p);
    while (dir.length > this.root.length) {
      const st = await fs.lstat(dir).catch(() => null);
      if (st?.isSymbolicLink()) {
        throw new ChatsafeError('conflict', `${dir} is a symbolic link; refusing to restore through it.`, 'Restore into an empty folder.');
      }
      dir = dirname(dir);
    }
  }
}

export class RestoringFile {
  written = 0;
  constructor(
    private readonly finalPath: string,
    private readonly tmpPath: string,
    private readonly fh: fs.FileHandle,
  ) {}

  async write(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off, this.written + off);
      off += bytesWritten;
    }
    this.written += data.length;
  }

  async commit(mode: number, mtimeNs: string): Promise<void> {
    await this.fh.chmod(mode);
    const t = nsToSeconds(mtimeNs);
    await this.fh.utimes(t, t);
    await this.fh.close();
    await fs.rename(this.tmpPath, this.finalPath);
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await fs.rm(this.tmpPath, { force: true });
  }
}

/** Nanosecond strings to the seconds utimes wants (microsecond precision survives a double). */
export function nsToSeconds(ns: string): number {
  const big = BigInt(ns);
  return Number(big / 1000n) / 1e6;
}
