/**
 * Snapshots: the manifest of one backup. A snapshot is written last, after
 * every pack and index it needs, so a snapshot that exists is complete.
 */
import { z } from 'zod';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const SOURCE_KINDS = [
  'files',
  'whatsapp-android',
  'whatsapp-android-crypt',
  'whatsapp-ios',
  'whatsapp-ios-backup',
  'whatsapp-export-text',
  'telegram-json',
] as const;

export const SnapshotSchema = z
  .object({
    v: z.literal(1),
    time: z.string().datetime(),
    hostname: z.string().max(255),
    appVersion: z.string().max(64),
    /** The absolute source paths as given, for display and for finding the parent snapshot. */
    paths: z.array(z.string().max(4096)).min(1),
    tree: hex64,
    parent: hex64.nullable(),
    sourceKind: z.enum(SOURCE_KINDS).or(z.string().max(64)),
    /** The chat catalog (a SQLite file) when the source was recognised. */
    catalog: z.object({ size: z.number().int().nonnegative(), content: z.array(hex64) }).strict().nullable().default(null),
    /** Fingerprint of the source files the catalog was built from (paths, sizes, times, inodes), to reuse it when nothing changed. */
    catalogSource: hex64.optional(),
    summary: z
      .object({
        files: z.number().int().nonnegative(),
        dirs: z.number().int().nonnegative(),
        bytes: z.number().int().nonnegative(),
        newBytes: z.number().int().nonnegative(),
        storedBytes: z.number().int().nonnegative(),
        durationMs: z.number().nonnegative(),
      })
      .strict(),
  })
  .strict();
export type Snapshot = z.infer<typeof SnapshotSchema>;

export interface SnapshotRecord {
  readonly id: string;
  readonly snapshot: Snapshot;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
