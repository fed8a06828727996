/** Who manages a credential, and loading one locked, for the credential use cases. */
import { eq } from 'drizzle-orm';
import { TenureError } from '../../../domain/errors.js';
import { FINGERPRINT } from '../../../domain/credentials.js';
import { isUuid } from '../../../domain/ids.js';
import { managesTokensOf } from '../../../domain/tokens.js';
import { identities } from '../../../store/schema.js';
import { credentials } from '../../../store/schema-credentials.js';
import { may, refuseUnless, type ActingIdentity } from '../../authorize.js';
import type { Work } from '../../../work/context.js';

/** A person manages their own credentials and those of the service accounts they own; IAM manages all. */
export const checkManages = (acting: ActingIdentity, subject: { id: string; kind: string; ownerId: string | null; handle: string }): void => {
  refuseUnless(managesTokensOf(subject, acting.identity.id) || may(acting, 'credential.manage_any'),
    `you may not manage the credentials of ${subject.handle}`, 'identity');
};

/** The value must be a fingerprint: a secret pasted by mistake is refused, and never repeated in the message. */
export const checkFingerprint = (fingerprint: string): void => {
  if (!FINGERPRINT.test(fingerprint)) {
    throw new TenureError('credential.fingerprint_invalid', 'fingerprint: must be SHA256:<base64> or sha256:<64 hex digits>, never the secret itself',
      { field: 'fingerprint' });
  }
};

export const lockCredential = async (work: Work, id: string) => {
  const missing = () => new TenureError('credential.not_found', `no credential '${id}'`, { field: 'credential' });
  if (!isUuid(id)) throw missing();
  const [row] = await work.tx.select({ credential: credentials, identity: identities }).from(credentials)
    .innerJoin(identities, eq(identities.id, credentials.identityId)).where(eq(credentials.id, id)).for('update', { of: credentials });
  if (!row) throw missing();
  return row;
};
