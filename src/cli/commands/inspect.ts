import { promises as fs } from 'node:fs';
import { parseArgs } from '../args.js';
import { readBundleInfo } from '../../core/bundle/read.js';
import { UsageError } from '../../core/errors.js';
import { readHeader } from '../../core/repo/repository.js';
import type { ObjectKind } from '../../core/storage/backend.js';
import type { Command } from '../command.js';
import { escapeControls, formatBytes } from '../format.js';
import { printJson, type CliIO } from '../io.js';
import { openBackend } from '../repo-access.js';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show what a repository or bundle says about itself, without any key',
  usage: `Usage: chatsafe inspect PATH [--json]

Shows the cleartext header of a repository or a .chatsafe bundle: format
version, creation time, app version, the kinds of key slots, and object counts
and sizes. Needs no key and reveals no names, messages or file names.`,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('Inspect what? Give one repository path or .chatsafe file.');
    const path = positionals[0]!;
    const st = await fs.stat(path).catch(() => null);
    // Anything but a folder is taken as a bundle, whose reader refuses what is not a file (a FIFO would otherwise be tried as a repository).
    const report = st && !st.isDirectory() ? await inspectBundle(path) : await inspectRepository(path, io);
    if (values.json) printJson(io, report);
    else io.stdout.write(renderReport(report));
    return 0;
  },
};

type InspectReport = Awaited<ReturnType<typeof inspectBundle>> | Awaited<ReturnType<typeof inspectRepository>>;

async function inspectBundle(path: string) {
  const info = await readBundleInfo(path);
  const h = info.header;
  return {
    type: 'bundle' as const,
    path,
    formatVersion: h.version,
    created: h.created,
    appVersion: h.appVersion,
    snapshotTime: h.snapshotTime,
    keySlots: h.slots.map((s) => ({ id: s.id, kind: s.kind, created: s.created })),
    files: h.files,
    bytes: h.bytes,
    fileSize: info.fileSize,
    segments: info.segments,
  };
}

async function inspectRepository(path: string, io: CliIO) {
  const backend = await openBackend(path, io);
  const { config, slots, unreadableSlots } = await readHeader(backend);
  const objects: Record<string, { count: number; bytes: number }> = {};
  for (const kind of ['snapshots', 'index', 'data', 'locks'] as ObjectKind[]) {
    const o = { count: 0, bytes: 0 };
    for await (const info of backend.list(kind)) {
      o.count++;
      o.bytes += info.size;
    }
    objects[kind === 'data' ? 'packs' : kind] = o;
  }
  return {
    type: 'repository' as const,
    path: backend.location,
    formatVersion: config.version,
    repositoryId: config.id,
    created: config.created,
    appVersion: config.appVersion,
    keySlots: slots.map((s) => ({ id: s.id, kind: s.kind, created: s.created, ...(s.kind === 'password' ? { vault: s.vault.url } : {}) })),
    unreadableKeySlots: unreadableSlots.map((u) => ({ id: u.id, problem: u.problem })),
    objects,
    totalBytes: Object.values(objects).reduce((n, o) => n + o.bytes, 0),
  };
}

/** A header is cleartext anyone may have written: every string shown has its control characters escaped. */
function renderReport(r: InspectReport): string {
  const t = escapeControls;
  const slots = t(r.keySlots.map((s) => `${s.kind} (${s.id.slice(0, 8)}, ${s.created})`).join(', '));
  if (r.type === 'bundle') {
    return `Chatsafe bundle ${t(r.path)}
  format version  ${r.formatVersion}
  created         ${t(r.created)} by Chatsafe ${t(r.appVersion)}
  snapshot time   ${t(r.snapshotTime)}
  key slots       ${slots}
  contents        ${r.files} files, ${formatBytes(r.bytes)}
  file size       ${formatBytes(r.fileSize)} in ${r.segments} encrypted segments
`;
  }
  const o = r.objects;
  return `Chatsafe repository ${t(r.path)}
  format version  ${r.formatVersion}
  created         ${t(r.created)} by Chatsafe ${t(r.appVersion)}
  key slots       ${slots}${r.unreadableKeySlots.length > 0 ? `\n  unreadable      ${r.unreadableKeySlots.map((u) => `${u.id.slice(0, 8)} (${u.problem})`).join(', ')}` : ''}
  snapshots       ${o.snapshots!.count}
  packs           ${o.packs!.count} (${formatBytes(o.packs!.bytes)})
  index files     ${o.index!.count}
  locks           ${o.locks!.count}
  total size      ${formatBytes(r.totalBytes)}
`;
}
