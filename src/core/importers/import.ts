/**
 * buildCatalog: any recognised source into a catalog file. The catalog is
 * written to a temporary file and renamed only when complete (writer.ts);
 * an encrypted WhatsApp backup is decrypted into a private temporary folder
 * that is removed afterwards, never beside the input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CatalogWriter } from '../catalog/writer.js';
import { ChatsafeError, isChatsafeError, throwIfCancelled } from '../errors.js';
import { importExportText } from './import-export-text.js';
import { locateSource, type LocatedSource } from './locate.js';
import { rootResolver } from './media.js';
import { ReportCollector } from './report.js';
import { openSourceDb } from './sqlite-source.js';
import { importTelegram } from './telegram-json.js';
import type { ImportOptions, ImportReport } from './types.js';
import { importWhatsAppAndroid } from './whatsapp-android.js';
import { ContactNames } from './whatsapp-android-names.js';
import { decryptWhatsAppBackup, type WhatsAppKey } from './whatsapp-crypt/index.js';
import { backupMediaResolver, folderMediaResolver, importIos, locateIosBackup } from './whatsapp-ios.js';

export interface BuildCatalogOptions extends ImportOptions {
  /** Needed for an encrypted WhatsApp backup (.crypt12/14/15). */
  readonly waKey?: WhatsAppKey;
}

export async function buildCatalog(sourcePath: string, catalogPath: string, opts: BuildCatalogOptions = {}): Promise<ImportReport> {
  const started = Date.now();
  const src = await locateSource(sourcePath);
  if (src.kind === 'unknown') {
    throw new ChatsafeError('unsupported', `${src.path} is not a chat export Chatsafe can read${src.notes[0] ? ` (${src.notes[0]})` : ''}.`, 'Run `chatsafe detect PATH` to see what was found; it can still be backed up as plain files.');
  }
  const report = new ReportCollector();
  const writer = new CatalogWriter(catalogPath);
  writer.setMeta('source_kind', src.kind);
  writer.setMeta('source_name', basename(src.path));
  try {
    await runImporter(src, writer, report, opts);
    throwIfCancelled(opts.signal);
    opts.onProgress?.({ phase: 'indexing', done: 0, total: null });
    const result: ImportReport = { kind: src.kind, counts: report.counts, unknown: report.unknownList(), warnings: report.warnings, durationMs: Date.now() - started };
    writer.setMeta('import_report', JSON.stringify({ ...result, durationMs: undefined }));
    writer.finish();
    return { ...result, durationMs: Date.now() - started };
  } catch (e) {
    writer.abort();
    throw describeFailure(e, src);
  }
}

/** Errors from SQLite or the file system, turned into a ChatsafeError naming the file. */
function describeFailure(e: unknown, src: LocatedSource): unknown {
  if (isChatsafeError(e)) return e;
  const file = src.mainFile ?? src.path;
  const msg = (e as Error)?.message ?? String(e);
  const code = (e as { code?: string })?.code ?? '';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' || /malformed|not a database/i.test(msg)) {
    return new ChatsafeError('integrity', `${file} is damaged: ${msg}.`, 'Copy the file from the phone again; the files can still be backed up as they are.');
  }
  return new ChatsafeError('unsupported', `${file} could not be imported: ${msg}.`, 'Run `chatsafe detect` on it; the files can still be backed up as they are.', { cause: e });
}

async function runImporter(src: LocatedSource, writer: CatalogWriter, report: ReportCollector, opts: BuildCatalogOptions): Promise<void> {
  switch (src.kind) {
    case 'whatsapp-android':
      return importAndroidDb(src, src.mainFile!, writer, report, opts);
    case 'whatsapp-android-crypt': {
      if (!opts.waKey) throw new ChatsafeError('usage', `${basename(src.mainFile!)} is encrypted; its chats can be read only with the WhatsApp key.`, 'Pass --wa-key with the 64-digit key or the key file from the phone (encrypted_backup.key or key).');
      const dir = mkdtempSync(join(tmpdir(), 'chatsafe-wa-'));
      try {
        const plain = join(dir, 'msgstore.db');
        await decryptWhatsAppBackup(src.mainFile!, opts.waKey, plain, { signal: opts.signal });
        return await importAndroidDb(src, plain, writer, report, opts);
      } finally {
        // The decrypted database holds the chats in clear: never leave it behind.
        rmSync(dir, { recursive: true, force: true });
      }
    }
    case 'whatsapp-ios':
      return importIos(src.mainFile!, src.contactsFile, src.isDir ? folderMediaResolver(src.path) : null, writer, report, opts);
    case 'whatsapp-ios-backup': {
      const b = locateIosBackup(src.path);
      if (b.encrypted) throw new ChatsafeError('unsupported', `${basename(src.path)} is an encrypted iPhone backup; its WhatsApp data cannot be read.`, 'Make an unencrypted backup in Finder/iTunes to import the chats; this one can still be backed up as files.');
      if (!b.chatStorage) throw new ChatsafeError('not-found', `${basename(src.path)} is an iPhone backup without WhatsApp's ChatStorage.sqlite.`, 'Check that WhatsApp was installed on the phone when the backup was made.');
      return importIos(b.chatStorage, b.contacts, backupMediaResolver(src.path), writer, report, opts);
    }
    case 'whatsapp-export-text':
      return importExportText(src, writer, report, opts);
    case 'telegram-json':
      return importTelegram(src.mainFile!, src.isDir && src.mediaDir ? rootResolver({ dir: src.mediaDir, snapshotPrefix: basename(src.path) }) : null, writer, report, opts);
    case 'unknown':
      throw new ChatsafeError('unsupported', 'unknown source');
  }
}

async function importAndroidDb(src: LocatedSource, dbPath: string, writer: CatalogWriter, report: ReportCollector, opts: ImportOptions): Promise<void> {
  const names = new ContactNames();
  if (src.contactsFile) {
    try {
      names.loadWaDb(src.contactsFile);
    } catch (e) {
      report.warn(`Contact names were not read from ${basename(src.contactsFile)}: ${(e as Error).message}`);
    }
  } else report.warn('No wa.db: chats show phone numbers instead of contact names.');
  const db = openSourceDb(dbPath);
  try {
    const resolver = src.isDir && src.mediaDir ? rootResolver({ dir: src.mediaDir, snapshotPrefix: basename(src.path) }) : null;
    await importWhatsAppAndroid(db, writer, report, names, resolver, opts);
  } finally {
    db.close();
  }
}
