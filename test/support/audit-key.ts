import { generateKeyPairSync } from 'node:crypto';

/**
 * A fresh Ed25519 audit signing key for serve and worker processes on the PostgreSQL server, which
 * refuse to start without one (audit.checkpoints_required).
 */
export const auditKeyEnv = (): { TENURE_AUDIT_SIGNING_KEY: string } => ({
  TENURE_AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
});
