/** Small pieces the network back ends share: their errors read like the local folder's. */
import { ChatsafeError } from '../errors.js';
import type { ByteRange, ObjectKind } from './backend.js';

export function notFoundError(kind: ObjectKind, name: string): ChatsafeError {
  return new ChatsafeError('not-found', `${kind}/${name} is missing from the repository.`, 'The repository is incomplete. Run `chatsafe check` to see what is affected.');
}

export function conflictError(kind: ObjectKind, name: string): ChatsafeError {
  return new ChatsafeError('conflict', `${kind}/${name} already exists in the repository.`);
}

export function assertRange(range: ByteRange): void {
  const ok = Number.isSafeInteger(range.offset) && Number.isSafeInteger(range.length) && range.offset >= 0 && range.length >= 0;
  if (!ok) throw new ChatsafeError('integrity', `storage: invalid byte range ${JSON.stringify(range)}`);
}

/** Copies `length` bytes starting at `offset` out of a list of buffers taken as one. */
export function sliceParts(parts: readonly Buffer[], offset: number, length: number): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (const p of parts) {
    const start = Math.max(offset, pos);
    const end = Math.min(offset + length, pos + p.length);
    if (start < end) out.push(p.subarray(start - pos, end - pos));
    pos += p.length;
    if (pos >= offset + length) break;
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out, length);
}

/** Runs task(0..count-1) with at most `limit` in flight; the first failure stops new ones and is thrown. */
export async function runLimited(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, count) }, worker));
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
}

/**
 * A range's body, copied into the caller's buffer as it arrives. Collected
 * whole first, each read of a restore (up to 4 MiB) was its socket chunks,
 * then their concatenation, then the restore's copy of that: a restore of the
 * 1 GiB export from S3 peaked at about 300 MiB, and 220-230 this way.
 * A body shorter or longer than announced fails the attempt (it is retried).
 */
export async function readBodyInto(body: AsyncIterable<Uint8Array>, into: Buffer, announced: number | undefined): Promise<Buffer> {
  return into.subarray(0, await readBodyIntoParts(body, [into], announced));
}

/** `readBodyInto` over several buffers, filled in turn (a restore's ranges of one pack, `readParts`); resolves to the bytes read. */
export async function readBodyIntoParts(body: AsyncIterable<Uint8Array>, parts: readonly Buffer[], announced: number | undefined): Promise<number> {
  let n = 0;
  let p = 0;
  let at = 0;
  for await (const chunk of body) {
    for (let c = 0; c < chunk.length; ) {
      while (p < parts.length && at === parts[p]!.length) {
        p++;
        at = 0;
      }
      if (p === parts.length) throw transportError('BodyTooLong');
      const take = Math.min(chunk.length - c, parts[p]!.length - at);
      parts[p]!.set(chunk.subarray(c, c + take), at);
      at += take;
      c += take;
    }
    n += chunk.length;
  }
  if (announced !== undefined && n !== announced) throw transportError('TruncatedBody');
  return n;
}

/** `bytes` copied into `parts`, filled in turn (a range read whole, for `readParts`); returns how many were copied. */
export function scatterInto(bytes: Buffer, parts: readonly Buffer[]): number {
  let at = 0;
  for (const p of parts) at += bytes.copy(p, 0, at, at + p.length);
  return at;
}

/** A failed transfer, by a code the retry policy knows (retry.ts). */
export function transportError(code: string): Error {
  return Object.assign(new Error(`storage transfer failed: ${code}`), { code });
}
