/**
 * A SCRAM-SHA-256 verifier (RFC 5802, RFC 7677) in PostgreSQL's stored form, so `ALTER ROLE …
 * PASSWORD` carries the verifier and never the password: the password crosses neither the wire nor
 * the server's statement log. PostgreSQL stores a value of this form as is.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default (scram_iterations, 16+); 15 has no setting and uses it too. */
const ITERATIONS = 4096;

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

/**
 * Only for passwords Tenure mints (ASCII, base64url): SASLprep leaves those unchanged, so it is not
 * applied; anything else is refused rather than hashed to a verifier that would never match.
 */
export const scramVerifier = (password: string, salt: Buffer = randomBytes(16)): string => {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('scramVerifier takes printable ASCII passwords only');
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
};
