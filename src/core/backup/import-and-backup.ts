/**
 * A backup as people make it: say what the source is before anything is
 * written, build the chat catalog from it when it is a phone export Chatsafe
 * reads, then back up the original files byte for byte together with the
 * catalog. A source that is not recognised, or whose catalog cannot be built
 * (a damaged database, an encrypted WhatsApp backup without its key), is
 * still backed up as plain files: the originals come first, and the reason is
 * reported.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countFilesIn, scanSources } from './scan.js';
import { isChatsafeError } from '../errors.js';
import { detectSource } from '../importers/detect.js';
import { buildCatalogInWorker } from '../importers/catalog-in-worker.js';
import { MediaDigestCache } from '../importers/media-digest-cache.js';
import { MediaDigests } from '../importers/media-digests.js';
import { importProgressListener } from '../importers/progress.js';
import type { DetectionReport, ImportProgress, ImportReport } from '../importers/types.js';
import type { WhatsAppKey } from '../importers/whatsapp-crypt/index.js';
import { ProgressMeter, type ProgressListener } from '../jobs/progress.js';
import { withLock } from '../repo/lock.js';
import { refuseRepositoryInSources } from '../storage/repository-overlap.js';
import type { Repository } from '../repo/repository.js';
import { backupLocked, backupUnchanged, pathsKey, type BackupResult } from './backup.js';
import { referencedPacks } from './verify.js';

export interface ImportBackupOptions {
  readonly sources: readonly string[];
  readonly waKey?: WhatsAppKey;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  /** Called once detection is done, before anything is written. */
  readonly onDetected?: (reports: DetectionReport[]) => void;
}

export interface ImportBackupResult extends BackupResult {
  readonly detected: DetectionReport[];
  readonly imported: ImportReport | null;
  /** Why no catalog was built, when none was. */
  readonly catalogSkipped: string | null;
}

export async function importAndBackup(repo: Repository, opts: ImportBackupOptions): Promise<ImportBackupResult> {
  // One walk of the sources serves detection's counts and the backup itself.
  new ProgressMeter(opts.onProgress, 'scanning').done();
  refuseRepositoryInSources(repo.backend, opts.sources);
  const scan = await scanSources(opts.sources, opts.signal);
  const countFiles = countFilesIn(scan);
  const detected: DetectionReport[] = [];
  for (const src of opts.sources) detected.push(await detectSource(src, { signal: opts.signal, countFiles, details: false }));
  opts.onDetected?.(detected);
  const recognised = detected.filter((d) => d.kind !== 'unknown');
  let catalogSkipped: string | null = null;
  if (recognised.length === 0) catalogSkipped = 'not a chat export Chatsafe reads; backed up as plain files';
  else if (opts.sources.length > 1) catalogSkipped = 'the chat catalog is built when one export is backed up at a time; backed up as plain files';

  return withLock(repo, true, async () => {
    if (catalogSkipped !== null) {
      return { ...(await backupLocked(repo, { sources: opts.sources, signal: opts.signal, onProgress: opts.onProgress, scan })), detected, imported: null, catalogSkipped };
    }
    // Nothing in the export changed since the last snapshot of it: its tree and catalog are still
    // right, if the index still lists all they need. Otherwise the catalog is built again and the
    // files are walked, storing again what the index lacks.
    const fingerprint = scan.fingerprint;
    const paths = pathsKey(scan.roots.map((r) => r.path));
    const previous = (await repo.listSnapshots())
      .reverse()
      .find((s) => s.snapshot.catalogSource === fingerprint && s.snapshot.catalog !== null && pathsKey(s.snapshot.paths) === paths);
    const checked = previous ? await referencedPacks(repo, await repo.loadIndex(), previous.id, previous.snapshot, opts.signal).catch(unlessCancelled) : null;
    if (previous && checked) {
      const result = await backupUnchanged(repo, { scan, same: previous, checked, signal: opts.signal, onProgress: opts.onProgress });
      return { ...result, detected, imported: null, catalogSkipped: null };
    }
    const dir = await fs.mkdtemp(join(tmpdir(), 'chatsafe-import-'));
    try {
      await fs.chmod(dir, 0o700);
      const catalogPath = join(dir, 'catalog.sqlite');
      let imported: ImportReport | null = null;
      // The importer's counts (messages read, media hashed) become the job's 'importing' progress.
      const onImport = importProgressListener(opts.onProgress, recognised[0]!.counts.messages);
      const failed = (e: unknown) => {
        if (isChatsafeError(e) && e.kind === 'cancelled') throw e;
        catalogSkipped = `the chat catalog could not be built (${isChatsafeError(e) ? e.message : String(e)}); the files are backed up as they are`;
        return null;
      };
      // The media hashed by the last build of this source, so that only files changed since are read again.
      const digestCache = repo.localCacheDir === null ? null : new MediaDigestCache(repo.localCacheDir, repo.config.id, repo.keys.meta, opts.sources[0]!);
      const known = digestCache?.load() ?? null;
      let result: BackupResult;
      if (opts.waKey) {
        // An encrypted backup's key stays on this thread: import first, then back up.
        onImport?.({ phase: 'reading', done: 0, total: null });
        // Loaded here: a backup that reuses or skips the catalog never needs the importers.
        const { buildCatalog } = await import('../importers/import.js');
        const mediaDigests = digestCache ? new MediaDigests(known) : undefined;
        const built = await buildCatalog(opts.sources[0]!, catalogPath, { signal: opts.signal, ...(onImport ? { onProgress: onImport } : {}), waKey: opts.waKey, ...(mediaDigests ? { mediaDigests } : {}) }).then((r) => {
          if (mediaDigests && digestCache) digestCache.save(mediaDigests.sortedRecords());
          return (imported = r);
        }, failed);
        result = await backupLocked(repo, { sources: opts.sources, signal: opts.signal, onProgress: opts.onProgress, scan, ...(built ? { catalogPath, sourceKind: recognised[0]!.kind, catalogSource: fingerprint } : {}) });
      } else {
        // The catalog is built on another thread while the files are stored; its
        // progress is shown once the files are done and the backup waits for it.
        let filesDone = false;
        let importDone = false;
        let lastImport: ImportProgress = { phase: 'reading', done: 0, total: null };
        const stopImport = new AbortController();
        const signal = opts.signal ? AbortSignal.any([opts.signal, stopImport.signal]) : stopImport.signal;
        const onProgress = (p: ImportProgress) => {
          lastImport = p;
          if (filesDone) onImport?.(p);
        };
        const importing = buildCatalogInWorker(opts.sources[0]!, catalogPath, { signal, onProgress, ...(digestCache ? { digests: { known } } : {}) })
          .then((r) => {
            imported = r.report;
            if (r.digests && digestCache) digestCache.save(r.digests);
            return catalogPath;
          }, failed)
          .finally(() => (importDone = true));
        importing.catch(() => undefined); // a cancel also stops the backup, which reports it
        try {
          result = await backupLocked(repo, {
            sources: opts.sources,
            signal: opts.signal,
            onProgress: opts.onProgress,
            scan,
            pendingCatalog: () => {
              filesDone = true;
              if (!importDone) onImport?.(lastImport); // the wait shows what the import is doing at once
              return importing;
            },
            alongside: importing,
            sourceKind: recognised[0]!.kind,
            catalogSource: fingerprint,
          });
        } catch (e) {
          // The backup failed or was cancelled: stop the import, and let it end before its folder goes.
          stopImport.abort();
          await importing.catch(() => undefined);
          throw e;
        }
      }
      return { ...result, detected, imported, catalogSkipped };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
}

/** Null for a snapshot whose trees or blobs the repository no longer has all of; a cancel still ends the backup. */
function unlessCancelled(e: unknown): null {
  if (isChatsafeError(e) && e.kind === 'cancelled') throw e;
  return null;
}
