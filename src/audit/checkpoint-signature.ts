import { sign, verify } from 'node:crypto';
import type { auditCheckpoints } from '../store/schema.js';
import type { SigningKey, TrustedKeys } from './signing-key.js';

export type Checkpoint = typeof auditCheckpoints.$inferSelect;

/**
 * The exact text a checkpoint signature covers. Versioned and prefixed so a signature can never be
 * replayed as anything else; the key id is inside so a checkpoint cannot be relabelled to another key.
 */
export const checkpointMessage = (cp: Omit<Checkpoint, 'signature'>): string =>
  `tenure-audit-checkpoint:v1:${cp.seq}:${cp.hash}:${cp.signedAt.toISOString()}:${cp.keyId}`;

/** Signs the chain position (seq, hash) at `signedAt`; Ed25519 takes no digest algorithm (null). */
export const signCheckpoint = (key: SigningKey, at: { seq: number; hash: string }, signedAt: Date): Checkpoint => {
  if (!key.privateKey) throw new Error(`audit key ${key.keyId} has no private half: it can verify but not sign`);
  const unsigned = { seq: at.seq, hash: at.hash, signedAt, keyId: key.keyId };
  const signature = sign(null, Buffer.from(checkpointMessage(unsigned), 'utf8'), key.privateKey).toString('base64');
  return { ...unsigned, signature };
};

/** Why the checkpoint's signature cannot be trusted, or undefined when a trusted key made it. */
export const checkpointSignatureProblem = (cp: Checkpoint, trusted: TrustedKeys): string | undefined => {
  const publicKey = trusted.get(cp.keyId);
  if (!publicKey) {
    return `the checkpoint at seq ${cp.seq} is signed by key ${cp.keyId}, which is not a trusted key (see TENURE_AUDIT_TRUSTED_KEYS_FILE)`;
  }
  let valid = false;
  try {
    valid = verify(null, Buffer.from(checkpointMessage(cp), 'utf8'), publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? undefined : `the checkpoint at seq ${cp.seq} has a signature that key ${cp.keyId} did not make: it was forged or altered`;
};
