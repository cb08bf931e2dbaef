/**
 * The diagnostics report support staff attach to a ticket. It says what kind
 * of backup this is and what state it is in, with counts and sizes only: no
 * messages, no chat or contact names, no phone numbers, no file names, no
 * paths, no key or vault account ids.
 */
import { arch, platform, release } from 'node:os';
import { checkWithoutKey } from '../core/check/check.js';
import { isChatsafeError } from '../core/errors.js';
import { APP_VERSION } from '../core/version.js';
import { isBundleFile, openStorage, type Destination } from './access.js';
import { headerInfo, type AppContext } from './calls.js';
import type { SessionRef } from './jobs/bodies.js';
import type { SnapshotRecord } from '../core/repo/snapshot.js';

/** The kind of place only: the path or bucket itself may carry a name. */
export function locationKind(address: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address)?.[1]?.toLowerCase();
  return scheme === undefined ? 'local folder' : scheme === 's3' ? 'S3 object storage' : scheme.startsWith('webdav') ? 'WebDAV' : 'other';
}

export async function diagnosticsReport(dest: Destination, session: (SessionRef & { snapshots: SnapshotRecord[] }) | null, ctx: AppContext): Promise<string> {
  const lines: string[] = [
    'Chatsafe diagnostics report',
    `generated: ${new Date().toISOString()}`,
    `app: ${APP_VERSION} (${ctx.opts.front}), node ${process.versions.node}, ${platform()} ${release()} ${arch()}`,
  ];
  const address = dest.address;
  const bundle = await isBundleFile(address);
  lines.push(`backup: ${bundle ? '.chatsafe bundle' : `repository in a ${locationKind(address)}`}`);
  try {
    const h = await headerInfo(dest);
    lines.push(`format version: ${h.formatVersion}`, `created: ${h.created} by app ${h.appVersion}`, `key slots: ${h.slotKinds.join(', ') || 'none'}`);
    for (const [k, v] of Object.entries(h.sizes)) lines.push(`${k}: ${v}`);
  } catch (e) {
    lines.push(`header: unreadable (${isChatsafeError(e) ? e.kind : 'unexpected error'})`);
  }
  if (!bundle) {
    try {
      const report = await checkWithoutKey(openStorage(dest));
      lines.push(`structure check without key: ${report.ok ? 'ok' : `${report.errors.length} problem(s)`}, ${report.warnings.length} warning(s)`);
      for (const p of report.errors.slice(0, 20)) lines.push(`  problem in ${p.object}`);
    } catch (e) {
      lines.push(`structure check without key: could not run (${isChatsafeError(e) ? e.kind : 'unexpected error'})`);
    }
  }
  if (session) {
    lines.push(`unlocked with key: yes`, `snapshots: ${session.snapshots.length}`);
    for (const r of session.snapshots) {
      const s = r.snapshot;
      lines.push(`  ${r.id.slice(0, 8)} ${s.time} source=${s.sourceKind} files=${s.summary.files} bytes=${s.summary.bytes} catalog=${s.catalog ? `${s.catalog.size} bytes` : 'none'} app=${s.appVersion}`);
    }
    for (const { view, sessionId } of ctx.catalogs.values()) {
      if (ctx.sessions.get(sessionId) !== session) continue;
      const c = view.catalog.counts();
      lines.push(`catalog counts: chats=${c.chats} messages=${c.messages} media=${c.media} calls=${c.calls} reactions=${c.reactions}`);
    }
  } else lines.push('unlocked with key: no');
  return `${lines.join('\n')}\n`;
}
