/** Restoring and checking `.chatsafe` bundles. */
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { IntegrityError, isChatsafeError, throwIfCancelled } from '../errors.js';
import type { Credential, VaultUnlocker } from '../repo/repository.js';
import { targetError, TargetWriter } from '../restore/target-writer.js';
import type { RestoreResult } from '../restore/restore.js';
import { problemOf, type CheckReport } from '../check/check.js';
import { BundlePayload, readBundleInfo } from './read.js';

export interface BundleRestoreOptions {
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  readonly vaultUnlocker?: VaultUnlocker;
}

export async function restoreBundle(path: string, credential: Credential, target: string, opts: BundleRestoreOptions = {}): Promise<RestoreResult> {
  const info = await readBundleInfo(path);
  const payload = await BundlePayload.open(info, credential, opts.vaultUnlocker, opts.signal);
  let writer: TargetWriter | null = null;
  try {
    const manifest = await payload.readManifest();
    writer = new TargetWriter(target, opts.overwrite ?? false);
    await writer.prepare(manifest.entries.map((e) => ({ relPath: e.path, type: e.type })));
    const files = manifest.entries.filter((e) => e.type === 'file');
    writer.ensureRoom(files.reduce((n, e) => n + e.size, 0));
    for (const e of manifest.entries) if (e.type === 'dir') await writer.mkdir(e.path, e.mode, e.mtimeNs);
    const meter = new ProgressMeter(opts.onProgress, 'restoring', info.header.bytes, files.length);
    const result = { files: 0, kept: 0, dirs: manifest.entries.length - files.length, symlinks: 0, bytes: 0 };
    for (const e of files) {
      throwIfCancelled(opts.signal);
      const out = writer.beginFile(e.path, e.size);
      try {
        for await (const plain of payload.content(e.size)) {
          await out.write(plain);
          meter.add(plain.length);
        }
        await out.commit(e.mode, e.mtimeNs);
      } catch (err) {
        await out.abort();
        throw err;
      }
      result.files++;
      result.bytes += e.size;
    }
    if (manifest.catalogSize !== null) for await (const _ of payload.content(manifest.catalogSize)) void _;
    await payload.readEnd(manifest.entries.length);
    for (const e of manifest.entries) {
      if (e.type === 'symlink') {
        await writer.symlink(e.path, e.target, e.mtimeNs);
        result.symlinks++;
      }
    }
    result.dirs = manifest.entries.filter((e) => e.type === 'dir').length;
    await writer.finish();
    meter.done();
    return result;
  } catch (e) {
    // The file being written was removed; those complete go into place, as after a restore's failure.
    await writer?.salvage();
    throw writer ? targetError(e, writer.root) : e;
  } finally {
    await payload.close();
  }
}

/** Without a credential: the header and the payload's framing; with one: every byte authenticated. */
export async function checkBundle(path: string, credential: Credential | null, opts: { signal?: AbortSignal; vaultUnlocker?: VaultUnlocker } = {}): Promise<CheckReport> {
  const info = await readBundleInfo(path);
  const counts = { snapshots: 1, indexFiles: 0, packs: 0, blobs: 0, trees: 0, bytesRead: 0 };
  if (!credential) {
    return { ok: true, withKey: false, readData: false, errors: [], warnings: [{ object: path, message: 'contents were not decrypted; give the key to verify every byte' }], counts };
  }
  const payload = await BundlePayload.open(info, credential, opts.vaultUnlocker, opts.signal);
  try {
    const manifest = await payload.readManifest();
    for (const e of manifest.entries) {
      if (e.type !== 'file') continue;
      for await (const plain of payload.content(e.size)) counts.bytesRead += plain.length;
      counts.blobs++;
    }
    if (manifest.catalogSize !== null) for await (const plain of payload.content(manifest.catalogSize)) counts.bytesRead += plain.length;
    await payload.readEnd(manifest.entries.length);
    return { ok: true, withKey: true, readData: true, errors: [], warnings: [], counts };
  } catch (e) {
    if (isChatsafeError(e) && e.kind === 'integrity') {
      return { ok: false, withKey: true, readData: true, errors: [problemOf((e as IntegrityError).object ?? path, e)], warnings: [], counts };
    }
    throw e;
  } finally {
    await payload.close();
  }
}
