/** One-time tokens and account ids: random, and stored only as hashes. */
import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes as 43 base64url characters. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the database keeps instead of a token: a copy of the database cannot replay one. */
export function tokenHash(token: string): string {
  return createHash('sha256').update('chatsafe-vault-token:').update(token).digest('hex');
}

export function newAccountId(): string {
  return randomBytes(16).toString('hex');
}
