import { createHash, randomBytes } from 'node:crypto';

/**
 * Bearer secrets (API tokens, session cookies) and target passwords Tenure hands out (tnp_, kept
 * nowhere by Tenure): 256 random bits behind a readable prefix. Only a
 * SHA-256 of the secret is stored: with that much entropy a slow password hash adds nothing, and a
 * fast one keeps every request's lookup an index probe.
 */
export const newSecret = (prefix: 'tnr' | 'tns' | 'tnp'): string => `${prefix}_${randomBytes(32).toString('base64url')}`;

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** Shape check before any lookup, so junk never reaches the database and error messages never echo it. */
export const looksLikeSecret = (value: string, prefix: 'tnr' | 'tns'): boolean =>
  new RegExp(`^${prefix}_[A-Za-z0-9_-]{43}$`).test(value);
