/**
 * Storage in an S3-compatible bucket (AWS, Backblaze B2, Wasabi, MinIO, Ceph
 * radosgw). Keys mirror the local folder layout under an optional prefix:
 *   PREFIX/config, PREFIX/keys/<id>, PREFIX/data/<first two digits>/<id>, ...
 * so a repository copied between a folder and a bucket stays valid.
 *
 * How the contract is met on a store that has no rename:
 * - Atomic: an S3 object becomes visible only when its PUT (or the completion
 *   of its multipart upload) succeeds, whole. An interrupted multipart upload
 *   is invisible debris that `cleanup` aborts.
 * - Immutable: a HEAD first (a cheap, early "already there"), then the PUT
 *   carries `If-None-Match: *`, which servers with conditional writes (AWS
 *   since 2024, radosgw, MinIO) enforce atomically with 412; on servers that
 *   ignore the header only the HEAD guards, which is enough for a single
 *   writer holding the repository lock, and harmless for content-addressed
 *   objects whose name is the keyed hash of their bytes.
 * - Integrity in transit: every PUT and part carries Content-MD5, checked by
 *   the server (BadDigest is retried). The SDK's newer CRC trailers are off
 *   because older gateways (radosgw 16, many S3 clones) reject them.
 * - Retries: the SDK's own retries are off; retry.ts decides. A retried write
 *   that meets its own earlier attempt (landed, answer lost) recognises it by
 *   size and ETag (the MD5, or the multipart MD5-of-MD5s) and succeeds.
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ChatsafeError } from '../errors.js';
import { assertObjectName, isObjectName, MAX_OBJECT_BYTES, oversizedObject, totalLength, type ByteRange, type ObjectInfo, type ObjectKind, type StorageBackend } from './backend.js';
import { conflictError, notFoundError, assertRange, readBodyInto, readBodyIntoParts, runLimited, sliceParts, transportError } from './common.js';
import { DEFAULT_RETRY, networkCode, permanentError, withRetry, type FailureFacts, type RetryPolicy } from './retry.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3Settings {
  readonly bucket: string;
  /** '' or slash-separated segments, without leading or trailing slash. */
  readonly prefix: string;
  readonly region: string;
  /** http(s)://host[:port] of a non-AWS server; absent for AWS itself. */
  readonly endpoint?: string;
  /** Path-style URLs (http://host/bucket/key), which most self-hosted servers need. */
  readonly pathStyle: boolean;
  readonly credentials: S3Credentials;
}

export interface S3Tuning {
  /** Objects larger than this go up in parts (default: two parts' worth). */
  readonly multipartThreshold?: number;
  /** Size of each part but the last; S3 requires at least 5 MiB. */
  readonly partSize?: number;
  /** Parts in flight at once. */
  readonly partConcurrency?: number;
  readonly retry?: RetryPolicy;
  /** A request whose socket stays idle this long fails (and is retried). */
  readonly requestTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;
const CREDENTIAL_HINT = 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the `s3` entry of the credentials file)';

// The pinned SDK warns on every start that future versions need a newer Node;
// that says nothing to our users, so it is silenced unless someone opts in.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export class S3Backend implements StorageBackend {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly base: string;
  private readonly threshold: number;
  private readonly partSize: number;
  private readonly partConcurrency: number;
  private readonly policy: RetryPolicy;
  private readonly signal: AbortSignal | undefined;

  constructor(settings: S3Settings, tuning: S3Tuning = {}) {
    this.bucket = settings.bucket;
    this.base = settings.prefix === '' ? '' : `${settings.prefix}/`;
    this.location = `s3://${settings.bucket}/${settings.prefix}${settings.endpoint ? ` at ${settings.endpoint}` : ''}`;
    this.partSize = Math.max(MIN_PART, tuning.partSize ?? 16 * MiB);
    this.threshold = Math.max(this.partSize, tuning.multipartThreshold ?? 2 * this.partSize);
    this.partConcurrency = Math.max(1, tuning.partConcurrency ?? 4);
    this.policy = tuning.retry ?? DEFAULT_RETRY;
    this.signal = tuning.signal;
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.pathStyle,
      credentials: { ...settings.credentials },
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        requestTimeout: tuning.requestTimeoutMs ?? 60_000,
        connectionTimeout: tuning.connectTimeoutMs ?? 10_000,
        // Without this the handler only logs a warning and keeps waiting on a stuck server.
        throwOnRequestTimeout: true,
      },
    });
  }

  private key(kind: ObjectKind, name: string): string {
    assertObjectName(kind, name);
    if (kind === 'config') return `${this.base}config`;
    if (kind === 'data') return `${this.base}data/${name.slice(0, 2)}/${name}`;
    return `${this.base}${kind}/${name}`;
  }

  private retry<T>(doing: string, op: (attempt: number) => Promise<T>): Promise<T> {
    return withRetry(op, {
      policy: this.policy,
      signal: this.signal,
      facts: s3Facts,
      context: { location: this.location, doing, credentialHint: CREDENTIAL_HINT, bucket: this.bucket },
    });
  }

  private get opts(): { abortSignal?: AbortSignal } {
    return this.signal ? { abortSignal: this.signal } : {};
  }

  async create(): Promise<void> {
    await this.retry('opening the bucket', async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), this.opts);
      } catch (e) {
        // HEAD answers carry no error code; a 404 here can only mean the bucket.
        if (s3Facts(e).status === 404) throw permanentError({ status: 404, code: 'NoSuchBucket' }, this.context('opening the bucket'));
        throw e;
      }
    });
    if (await this.stat('config', 'config')) {
      throw new ChatsafeError('conflict', `A repository already exists at ${this.location}.`, 'Choose another bucket or prefix, or use the existing repository.');
    }
    const page = await this.retry('listing the prefix', () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.base, MaxKeys: 1 }), this.opts));
    if ((page.Contents ?? []).length > 0) {
      throw new ChatsafeError('conflict', `${this.location} is not empty.`, 'Choose an empty bucket or a new prefix for the repository.');
    }
  }

  async stat(kind: ObjectKind, name: string): Promise<ObjectInfo | null> {
    const head = await this.head(this.key(kind, name), `reading ${kind}/${name}`);
    return head ? { name, size: head.size } : null;
  }

  private async head(key: string, doing: string): Promise<{ size: number; etag: string } | null> {
    return this.retry(doing, async () => {
      try {
        const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), this.opts);
        return { size: r.ContentLength ?? 0, etag: unquote(r.ETag) };
      } catch (e) {
        if (s3Facts(e).status === 404) return null;
        throw e;
      }
    });
  }

  async *list(kind: ObjectKind): AsyncIterable<ObjectInfo> {
    const prefix = kind === 'config' ? `${this.base}config` : `${this.base}${kind}/`;
    let token: string | undefined;
    do {
      const page = await this.retry(`listing ${kind}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }), this.opts));
      for (const o of page.Contents ?? []) {
        const name = listedName(kind, (o.Key ?? '').slice(prefix.length));
        if (name !== null) yield { name, size: o.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async read(kind: ObjectKind, name: string, range?: ByteRange, into?: Buffer): Promise<Buffer> {
    const key = this.key(kind, name);
    if (range) assertRange(range);
    const doing = `reading ${kind}/${name}`;
    if (range?.length === 0) {
      if (!(await this.head(key, doing))) throw notFoundError(kind, name);
      return Buffer.alloc(0);
    }
    return this.retry(doing, async () => {
      const res = await this.get(kind, name, range);
      if (!res) return Buffer.alloc(0);
      if (!res.Body) throw transportError('TruncatedBody');
      if (range && into && into.length >= range.length) return readBodyInto(res.Body as AsyncIterable<Uint8Array>, into.subarray(0, range.length), res.ContentLength);
      if (!range && res.ContentLength !== undefined && res.ContentLength > MAX_OBJECT_BYTES[kind]) throw oversizedObject(kind, name, res.ContentLength);
      const bytes = await res.Body.transformToByteArray();
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (res.ContentLength !== undefined && buf.length !== res.ContentLength) throw transportError('TruncatedBody');
      // A whole single-part object's ETag is its MD5: check it, so damage in transit is retried, not reported as tampering.
      const etag = unquote(res.ETag);
      if (!range && /^[0-9a-f]{32}$/.test(etag) && createHash('md5').update(buf).digest('hex') !== etag) throw transportError('ChecksumMismatch');
      return buf;
    });
  }

  async readParts(kind: ObjectKind, name: string, offset: number, parts: readonly Buffer[]): Promise<number> {
    const range = { offset, length: totalLength(parts) };
    assertRange(range);
    if (range.length === 0) return (await this.read(kind, name, range)).length;
    return this.retry(`reading ${kind}/${name}`, async () => {
      const res = await this.get(kind, name, range);
      if (!res) return 0;
      if (!res.Body) throw transportError('TruncatedBody');
      return readBodyIntoParts(res.Body as AsyncIterable<Uint8Array>, parts, res.ContentLength);
    });
  }

  /** One GET of an object or a range of it; null when the range starts at or past its end (a short read). */
  private async get(kind: ObjectKind, name: string, range?: ByteRange): Promise<GetObjectCommandOutput | null> {
    try {
      return await this.client.send(new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.key(kind, name),
        ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
      }), this.opts);
    } catch (e) {
      const f = s3Facts(e);
      if (f.code === 'NoSuchKey' || (f.status === 404 && f.code !== 'NoSuchBucket')) throw notFoundError(kind, name);
      if (f.status === 416) return null;
      throw e;
    }
  }

  async write(kind: ObjectKind, name: string, data: Buffer | readonly Buffer[]): Promise<void> {
    const key = this.key(kind, name);
    const parts = Buffer.isBuffer(data) ? [data] : data;
    const size = totalLength(parts);
    const immutable = kind !== 'locks';
    const doing = `writing ${kind}/${name}`;
    if (immutable && (await this.head(key, doing))) throw conflictError(kind, name);
    const landed = size > this.threshold
      ? await this.putMultipart(key, parts, size, immutable, doing)
      : await this.putSingle(key, parts, size, immutable, doing);
    if (!landed) throw conflictError(kind, name);
  }

  /** Returns false when another writer's object is in the way. */
  private async putSingle(key: string, parts: readonly Buffer[], size: number, immutable: boolean, doing: string): Promise<boolean> {
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts as Buffer[], size);
    const md5 = createHash('md5').update(body).digest();
    return this.retry(doing, async (attempt) => {
      try {
        await this.client.send(new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: size,
          ContentMD5: md5.toString('base64'),
          ...(immutable ? { IfNoneMatch: '*' } : {}),
        }), this.opts);
        return true;
      } catch (e) {
        if (!immutable || !isPreconditionFailed(e)) throw e;
        return attempt > 1 && (await this.isSameObject(key, md5.toString('hex'), size, doing));
      }
    });
  }

  private async putMultipart(key: string, parts: readonly Buffer[], size: number, immutable: boolean, doing: string): Promise<boolean> {
    const count = Math.ceil(size / this.partSize);
    const created = await this.retry(doing, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }), this.opts));
    const uploadId = created.UploadId;
    if (!uploadId) throw permanentError({ code: 'NoUploadId' }, this.context(doing));
    try {
      const etags: string[] = new Array<string>(count);
      const md5s: Buffer[] = new Array<Buffer>(count);
      await runLimited(count, this.partConcurrency, async (i) => {
        const offset = i * this.partSize;
        const body = sliceParts(parts, offset, Math.min(this.partSize, size - offset));
        const md5 = createHash('md5').update(body).digest();
        md5s[i] = md5;
        const res = await this.retry(`${doing} (part ${i + 1} of ${count})`, () =>
          this.client.send(new UploadPartCommand({
            Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body, ContentLength: body.length, ContentMD5: md5.toString('base64'),
          }), this.opts));
        etags[i] = res.ETag ?? `"${md5.toString('hex')}"`;
      });
      const expected = `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${count}`;
      return await this.retry(doing, async (attempt) => {
        try {
          await this.client.send(new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
            ...(immutable ? { IfNoneMatch: '*' } : {}),
          }), this.opts);
          return true;
        } catch (e) {
          const f = s3Facts(e);
          // NoSuchUpload on a retry: the earlier completion went through and its answer was lost.
          if (attempt > 1 && (f.code === 'NoSuchUpload' || isPreconditionFailed(e))) return this.isSameObject(key, expected, size, doing);
          if (immutable && isPreconditionFailed(e)) return false;
          throw e;
        }
      });
    } catch (e) {
      // Best effort: whatever stays behind is invisible, and cleanup() aborts it later.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw e;
    }
  }

  private async isSameObject(key: string, etag: string, size: number, doing: string): Promise<boolean> {
    const head = await this.head(key, doing);
    return head !== null && head.size === size && head.etag === etag;
  }

  async remove(kind: ObjectKind, name: string): Promise<void> {
    const key = this.key(kind, name);
    await this.retry(`removing ${kind}/${name}`, async () => {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), this.opts);
      } catch (e) {
        if (s3Facts(e).code !== 'NoSuchKey') throw e;
      }
    });
  }

  /** Aborts every unfinished multipart upload under the prefix: the only debris S3 writes can leave. */
  async cleanup(): Promise<void> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.retry('listing unfinished uploads', () =>
        this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.base, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }), this.opts));
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        const { Key, UploadId } = u;
        await this.retry('removing an unfinished upload', async () => {
          try {
            await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }), this.opts);
          } catch (e) {
            if (s3Facts(e).code !== 'NoSuchUpload') throw e;
          }
        });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private context(doing: string) {
    return { location: this.location, doing, credentialHint: CREDENTIAL_HINT, bucket: this.bucket };
  }
}

/** The object name for a listed key suffix, or null for anything that is not ours. */
function listedName(kind: ObjectKind, rest: string): string | null {
  if (kind === 'config') return rest === '' ? 'config' : null;
  const slash = rest.lastIndexOf('/');
  const name = rest.slice(slash + 1);
  if (!isObjectName(kind, name)) return null;
  if (kind === 'data') return slash === 2 && rest.slice(0, 2) === name.slice(0, 2) ? name : null;
  return slash === -1 ? name : null;
}

function s3Facts(e: unknown): FailureFacts {
  const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const name = (e as { name?: unknown })?.name;
  const code = networkCode(e) ?? (typeof name === 'string' && name !== 'Error' && name !== 'Unknown' ? name : undefined);
  return { ...(status !== undefined ? { status } : {}), ...(code !== undefined ? { code } : {}) };
}

function isPreconditionFailed(e: unknown): boolean {
  const f = s3Facts(e);
  return f.status === 412 || f.code === 'PreconditionFailed';
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '').toLowerCase();
}
