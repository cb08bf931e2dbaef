/**
 * Turns a repository address into a storage back end:
 *   s3://BUCKET[/PREFIX][?endpoint=URL&region=R&pathStyle=1|0]
 *   webdav+https://HOST[:PORT]/PATH      (webdav+http:// only to this machine,
 *                                          unless CHATSAFE_ALLOW_INSECURE_HTTP=1)
 *   anything else without a scheme: a local folder
 *
 * Credentials never come from the address (it ends up in argv, shell history
 * and logs): an address holding a user name or password is refused. They come
 * from the environment, or else from a JSON credentials file that only its
 * owner may read (mode 0600):
 *   { "s3": { "accessKeyId": "...", "secretAccessKey": "...", "sessionToken": "..." },
 *     "webdav": { "user": "...", "password": "..." } }
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ChatsafeError, UsageError } from '../errors.js';
import type { StorageBackend } from './backend.js';
import { LocalFolderBackend } from './local-folder.js';
import type { RetryPolicy } from './retry.js';
import { S3Backend, type S3Credentials, type S3Settings } from './s3.js';
import { WebDavBackend } from './webdav.js';

export interface OpenBackendOptions {
  readonly env: Record<string, string | undefined>;
  /** Path of the JSON credentials file, used when the environment holds no credentials. */
  readonly configFile?: string;
  /** Cancels requests and retry waits of network back ends. */
  readonly signal?: AbortSignal;
  /** Overrides the retry policy (tests use short delays). */
  readonly retry?: RetryPolicy;
  /** Base per-request timeout of network back ends, in milliseconds. */
  readonly requestTimeoutMs?: number;
  /** S3 multipart part size in bytes (at least 5 MiB). */
  readonly partSize?: number;
}

const credentialsFile = z.strictObject({
  s3: z.strictObject({ accessKeyId: z.string().min(1).max(256), secretAccessKey: z.string().min(1).max(1024), sessionToken: z.string().min(1).max(8192).optional() }).optional(),
  webdav: z.strictObject({ user: z.string().min(1).max(256), password: z.string().max(1024) }).optional(),
});
type CredentialsFile = z.infer<typeof credentialsFile>;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]{1,255}$/;

export function openBackend(address: string, opts: OpenBackendOptions): StorageBackend {
  if (typeof address !== 'string' || address.trim() === '' || address.length > 4096 || address.includes('\0')) {
    throw new UsageError('The repository address is empty or malformed.', 'Give a folder path, s3://BUCKET/PREFIX or webdav+https://HOST/PATH.');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(address)?.[1]?.toLowerCase();
  if (scheme === undefined) return new LocalFolderBackend(resolve(address));
  if (scheme === 's3') return openS3(address, opts);
  if (scheme === 'webdav+https' || scheme === 'webdav+http') return openWebDav(address, opts);
  throw new UsageError(`Unknown kind of repository address: ${scheme}://`, 'Use a folder path, s3://BUCKET/PREFIX, or webdav+https://HOST/PATH.');
}

function parseUrl(address: string): URL {
  // URL parsing would silently fold "a/../b" into "b": a path that says ".." is refused instead.
  const rawPath = address.split(/[?#]/)[0]!.replace(/^[^:]*:\/\/[^/]*/, '');
  if (rawPath.split('/').some((s) => /^(\.|%2e){1,2}$/i.test(s))) {
    throw new UsageError('The repository address must not contain "." or ".." path segments.', 'Write the path out in full.');
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new UsageError('The repository address is not a valid URL.', 'Check the address; special characters in it must be percent-encoded.');
  }
  if (url.username || url.password) {
    throw new UsageError('The repository address must not contain a user name, key or password.',
      'Remove them from the address; credentials come from the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, CHATSAFE_WEBDAV_USER/CHATSAFE_WEBDAV_PASSWORD) or a credentials file.');
  }
  if (url.hash) throw new UsageError('The repository address must not contain a #fragment.');
  return url;
}

function openS3(address: string, opts: OpenBackendOptions): StorageBackend {
  const url = parseUrl(address);
  const bucket = url.hostname;
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new UsageError(`Not a valid S3 bucket name: ${JSON.stringify(bucket.slice(0, 80))}`, 'Bucket names have 3 to 63 lowercase letters, digits, dots and hyphens.');
  }
  if (url.port) throw new UsageError('An s3:// address names a bucket, not a server: put the server in ?endpoint=URL.');
  const segments = url.pathname.split('/').filter((s) => s !== '');
  if (!segments.every((s) => PREFIX_SEGMENT.test(s) && s !== '.' && s !== '..')) {
    throw new UsageError('The S3 prefix may only hold letters, digits, ".", "_" and "-" between slashes.', 'For example s3://my-bucket/backups/phone.');
  }
  const known = new Set(['endpoint', 'region', 'pathStyle']);
  for (const key of url.searchParams.keys()) {
    if (!known.has(key)) throw new UsageError(`Unknown option in the S3 address: ${JSON.stringify(key.slice(0, 40))}`, 'Known options: endpoint, region, pathStyle.');
  }
  const endpointRaw = url.searchParams.get('endpoint');
  let endpoint: string | undefined;
  if (endpointRaw !== null) {
    const e = parseUrl(endpointRaw);
    if ((e.protocol !== 'http:' && e.protocol !== 'https:') || e.search || (e.pathname !== '/' && e.pathname !== '')) {
      throw new UsageError('The S3 endpoint must be http(s)://HOST[:PORT], without a path.');
    }
    endpoint = e.origin;
  }
  const region = url.searchParams.get('region') ?? opts.env.AWS_REGION ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new UsageError(`Not a valid region: ${JSON.stringify(region.slice(0, 64))}`);
  const pathStyleRaw = url.searchParams.get('pathStyle');
  if (pathStyleRaw !== null && pathStyleRaw !== '0' && pathStyleRaw !== '1') throw new UsageError('pathStyle must be 1 or 0.');
  // Self-hosted servers rarely have the wildcard DNS that virtual-hosted style needs.
  const pathStyle = pathStyleRaw === null ? endpoint !== undefined : pathStyleRaw === '1';
  const settings: S3Settings = {
    bucket,
    prefix: segments.join('/'),
    region,
    ...(endpoint ? { endpoint } : {}),
    pathStyle,
    credentials: s3Credentials(opts),
  };
  return new S3Backend(settings, {
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
    ...(opts.partSize ? { partSize: opts.partSize } : {}),
  });
}

function s3Credentials(opts: OpenBackendOptions): S3Credentials {
  const id = opts.env.AWS_ACCESS_KEY_ID;
  const secret = opts.env.AWS_SECRET_ACCESS_KEY;
  if (id && secret) return { accessKeyId: id, secretAccessKey: secret, ...(opts.env.AWS_SESSION_TOKEN ? { sessionToken: opts.env.AWS_SESSION_TOKEN } : {}) };
  const fromFile = readCredentialsFile(opts.configFile)?.s3;
  if (fromFile) return fromFile;
  throw new UsageError('No S3 credentials were given.', 'Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put an "s3" entry in the credentials file.');
}

function openWebDav(address: string, opts: OpenBackendOptions): StorageBackend {
  const url = parseUrl(address.replace(/^webdav\+/i, ''));
  if (url.search) throw new UsageError('A WebDAV address takes no ?options.');
  let user = opts.env.CHATSAFE_WEBDAV_USER;
  let password = opts.env.CHATSAFE_WEBDAV_PASSWORD;
  if (!user || password === undefined) {
    const fromFile = readCredentialsFile(opts.configFile)?.webdav;
    if (!fromFile) throw new UsageError('No WebDAV credentials were given.', 'Set CHATSAFE_WEBDAV_USER and CHATSAFE_WEBDAV_PASSWORD, or put a "webdav" entry in the credentials file.');
    user = fromFile.user;
    password = fromFile.password;
  }
  return new WebDavBackend(
    { url: url.href, username: user, password, allowInsecureHttp: opts.env.CHATSAFE_ALLOW_INSECURE_HTTP === '1' },
    {
      ...(opts.retry ? { retry: opts.retry } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
    },
  );
}

/** Reads and checks the credentials file; null when none was named. */
export function readCredentialsFile(path: string | undefined): CredentialsFile | null {
  if (path === undefined) return null;
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`The credentials file ${path} is not a file.`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new UsageError(`The credentials file ${path} may be read by other users (mode ${(st.mode & 0o777).toString(8)}).`, `Run \`chmod 600 ${path}\` and try again.`);
    }
    if (st.size > 64 * 1024) throw new UsageError(`The credentials file ${path} is too large to be one.`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ChatsafeError) throw e;
    throw new UsageError(`Cannot read the credentials file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, 'Check the path given for the credentials file.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message may quote the file's content, which holds secrets: say only where.
    throw new UsageError(`The credentials file ${path} is not valid JSON.`, 'It must look like {"s3": {"accessKeyId": "...", "secretAccessKey": "..."}, "webdav": {"user": "...", "password": "..."}}.');
  }
  const parsed = credentialsFile.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(top)').join(', ');
    throw new UsageError(`The credentials file ${path} has unexpected or missing entries: ${where}.`, 'Expected {"s3": {"accessKeyId", "secretAccessKey"}, "webdav": {"user", "password"}}.');
  }
  return parsed.data;
}
