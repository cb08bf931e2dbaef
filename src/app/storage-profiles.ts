/**
 * Saved storage destinations ("profiles"): a local folder, an S3-compatible
 * bucket or a WebDAV folder, with the S3 secret key or WebDAV password kept
 * beside it in the settings file (sealed by the OS keychain in the desktop
 * app). The renderer names a profile by the address `profile:ID`; the back
 * turns that into the core's storage address and the credentials the core
 * reads (the same variables the CLI takes from the environment), at the
 * moment something opens the storage. Secrets never go back to the renderer.
 */
import { z } from 'zod';
import { ChatsafeError } from '../core/errors.js';
import { IdSchema, PROFILE_ADDRESS, StorageSecretSchema, StorageTargetSchema, type StorageProfile, type StorageTarget } from './contract.js';

export const StoredProfileSchema = z.strictObject({
  id: IdSchema,
  name: z.string().min(1).max(100),
  target: StorageTargetSchema,
  secret: StorageSecretSchema.nullable(),
});
export type StoredProfile = z.infer<typeof StoredProfileSchema>;

/** What opening a destination needs: the core's address, and credentials in the core's variable names. */
export interface Destination {
  readonly address: string;
  readonly credentials: Readonly<Record<string, string>>;
}

/** The core's address for a target: a folder path, s3://BUCKET/PREFIX?…, or webdav+URL. */
export function coreAddress(t: StorageTarget): string {
  switch (t.kind) {
    case 'folder':
      return t.path;
    case 's3': {
      const q = new URLSearchParams({ region: t.region, pathStyle: t.pathStyle ? '1' : '0' });
      if (t.endpoint !== '') q.set('endpoint', new URL(t.endpoint).origin);
      return `s3://${t.bucket}${t.prefix === '' ? '' : `/${t.prefix.replace(/^\/+|\/+$/g, '')}`}?${q.toString()}`;
    }
    case 'webdav':
      return `webdav+${t.url}`;
  }
}

/** Where it points, for people: no secret, no query string. */
export function locationOf(t: StorageTarget): string {
  switch (t.kind) {
    case 'folder':
      return t.path;
    case 's3':
      return `s3://${t.bucket}${t.prefix === '' ? '' : `/${t.prefix}`}${t.endpoint === '' ? '' : ` at ${new URL(t.endpoint).host}`}`;
    case 'webdav':
      return t.url;
  }
}

export function needsSecret(t: StorageTarget): boolean {
  return t.kind !== 'folder';
}

/**
 * Whether an edited target may keep the saved secret: only when requests would still go to the same
 * server (WebDAV address; S3 endpoint, region, bucket and path style, which together give the host) for
 * the same account (user, access key id). Otherwise an edit could carry the saved secret to a server
 * of the editor's choosing, so it has to be typed again. The prefix is a folder in the same bucket.
 */
export function keepsSecret(saved: StorageTarget, edited: StorageTarget): boolean {
  if (saved.kind === 'webdav' && edited.kind === 'webdav') return saved.url === edited.url && saved.user === edited.user;
  if (saved.kind === 's3' && edited.kind === 's3') {
    return saved.endpoint === edited.endpoint && saved.region === edited.region && saved.bucket === edited.bucket && saved.pathStyle === edited.pathStyle && saved.accessKeyId === edited.accessKeyId;
  }
  return false;
}

export function destinationOf(p: StoredProfile): Destination {
  const t = p.target;
  if (needsSecret(t) && p.secret === null) {
    throw new ChatsafeError('usage', `The saved destination "${p.name}" has no ${t.kind === 's3' ? 'secret key' : 'password'}.`, 'Open Settings, edit the destination and enter it.');
  }
  const credentials: Record<string, string> =
    t.kind === 's3' ? { AWS_ACCESS_KEY_ID: t.accessKeyId, AWS_SECRET_ACCESS_KEY: p.secret! } : t.kind === 'webdav' ? { CHATSAFE_WEBDAV_USER: t.user, CHATSAFE_WEBDAV_PASSWORD: p.secret! } : {};
  return { address: coreAddress(t), credentials };
}

export function profileView(p: StoredProfile): StorageProfile {
  return { id: p.id, name: p.name, target: p.target, hasSecret: p.secret !== null, address: `profile:${p.id}`, location: locationOf(p.target) };
}

/** The profile id in a `profile:ID` address, or null for any other address. */
export function profileIdOf(address: string): string | null {
  return PROFILE_ADDRESS.exec(address)?.[1] ?? null;
}
