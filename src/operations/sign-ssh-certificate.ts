import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { sshCaConfigOf, type SshCaSpec } from '../connectors/ssh-ca.js';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { certificateWindow, DEFAULT_CERTIFICATE_CLOCK_SKEW_MS } from '../domain/ssh-validity.js';
import { MAX_CERTIFICATE_LIFETIME_MS, signUserCertificate } from '../ssh/certificate-authority.js';
import { checkPublicKey } from '../ssh/keys.js';
import { rawRows, type Store } from '../store/database.js';
import { grants } from '../store/schema.js';
import { upstreamCaSince } from '../store/queries/ssh-upstream-cas.js';
import { sshCertificates } from '../store/schema-ssh.js';
import { loadActor, requireMayAct, type ActingIdentity } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { duration, parseInput } from './input.js';
import { loadSshGrant, type SshGrant } from './lib/credentials/ssh-grant.js';

/** One sequence for every CA, the SSH proxy's upstream CA too (see schema-ssh.ts); read as text, since a bigint may exceed a JSON number. */
export const nextCertificateSerial = async (db: Store['db']): Promise<bigint> => {
  const [next] = await rawRows<{ serial: string }>(db, sql`SELECT nextval('ssh_certificate_serials')::text AS serial`);
  return BigInt(next!.serial);
};

export const Input = z.object({
  grant: z.uuid('must be a grant id'),
  publicKey: z.string().max(16_384, 'must be one OpenSSH public key (the .pub file)').describe('the one-line OpenSSH public key to certify'),
  ttl: duration.optional().describe('how long the certificate should be valid (default and maximum: the system\'s max_ttl; never past the grant\'s end)'),
}).strict();

export interface IssuedCertificate {
  /** The `…-cert-v01@openssh.com` line, to save as `<key>-cert.pub`. */
  certificate: string;
  /** Decimal text: serials are 64-bit and JSON numbers are not. */
  serial: string;
  validAfter: Date;
  validBefore: Date;
  principals: string[];
  keyId: string;
  /** Recorded on the certificate's row: the credential that asked stood on the holder's own MFA sign-in. */
  mfa: boolean;
  /** When that MFA was performed, when known. */
  mfaAt: Date | null;
}

/**
 * Only the holder gets a certificate for a grant, whatever their roles: a certificate is a login,
 * and nobody logs in on someone else's grant. Anyone who may see every grant is told so; anyone
 * else is told the grant does not exist, as they would be for a grant id that does not.
 */
const checkHolder = (grant: SshGrant | undefined, acting: ActingIdentity, grantId: string): SshGrant => {
  const missing = () => new TenureError('grant.not_found', `no grant '${grantId}'`, { field: 'grant' });
  if (!grant) throw missing();
  requireMayAct(acting, { allowed: grant.identityId === acting.identity.id, readAll: 'grant.read_all', notFound: missing,
    refusal: 'an SSH certificate is issued only to the holder of the grant, for their own key', field: 'grant' });
  return grant;
};

const checkUsable = (grant: SshGrant): NonNullable<SshGrant['ssh']> => {
  if (!grant.ssh) {
    throw new TenureError('ssh.not_an_ssh_system', `${grant.entitlementKey} is on ${grant.systemKey}, whose connector is not ssh-ca`, { field: 'grant' });
  }
  if (grant.status === 'scheduled') throw new TenureError('grant.not_started', `the grant starts at ${grant.startsAt.toISOString()}`, { field: 'grant' });
  if (grant.status !== 'active') throw new TenureError('grant.already_ended', `the grant is ${grant.status}; no certificate is issued for it`, { field: 'grant' });
  return grant.ssh;
};

/**
 * A certificate signed by a proxy's upstream CA would be trusted by the hosts directly, bypassing
 * the proxy: it is never handed out, whatever the policy names as `ca_key` (src/proxy/ssh/upstream-ca-check.ts).
 */
const refuseUpstreamCa = async (db: Store['db'], caFingerprint: string, spec: SshCaSpec): Promise<void> => {
  const since = await upstreamCaSince(db, caFingerprint);
  if (!since) return;
  throw new TenureError('ssh.upstream_ca_is_user_ca', `the CA ${spec.ca_key} is the upstream CA an SSH proxy has signed in to hosts with since `
    + `${since.toISOString()} (${caFingerprint}): a person's certificate from it would open the hosts directly, bypassing the proxy. `
    + 'No certificate is issued; give the system a user CA of its own', { field: 'grant' });
};

/**
 * `tenure ssh sign`: the holder of an active grant on an ssh-ca system gets a certificate for their
 * public key, valid for hours and never past the grant's end, with the grant id as key id (so the
 * KRL revokes it with the grant) and the entitlement's target as its one principal.
 *
 * The checks and the signing run outside a transaction (ssh-keygen takes tens of milliseconds);
 * the record is written in one that finds the grant still active, holding it against a concurrent
 * revocation: either the revocation comes first and nothing is handed out, or the record does and
 * the revocation's KRL entry covers the certificate.
 */
export const signSshCertificate = async (ctx: Context, input: z.input<typeof Input>): Promise<IssuedCertificate> => {
  const data = parseInput(Input, input);
  const db = ctx.store.db;
  const acting = await loadActor(db, ctx.actor.id);
  const grant = checkHolder(await loadSshGrant(db, data.grant), acting, data.grant);
  const { spec, principal } = checkUsable(grant);
  const window = certificateWindow({
    now: ctx.clock.now(), grantStartsAt: grant.startsAt, grantEndsAt: grant.endsAt,
    // The window also reaches back for slow clocks, and no certificate spans more than a day in all.
    maxTtlMs: Math.min(spec.max_ttl_ms, MAX_CERTIFICATE_LIFETIME_MS - DEFAULT_CERTIFICATE_CLOCK_SKEW_MS),
    ...(data.ttl === undefined ? {} : { requestedTtlMs: data.ttl }),
  });
  // Checked before a serial is taken, so a bad key costs nothing; ssh-keygen parses it again when signing.
  const publicKey = await checkPublicKey(data.publicKey);
  const serial = await nextCertificateSerial(db);
  const signed = await signUserCertificate({
    caKeyPath: sshCaConfigOf(spec, [principal]).caKeyPath, publicKey: publicKey.line, keyId: grant.id, principals: [principal],
    ...window, serial,
  });
  await refuseUpstreamCa(db, signed.caFingerprint, spec);

  return inTransaction(ctx, async (work) => {
    const [held] = await work.tx.select({ status: grants.status }).from(grants).where(eq(grants.id, grant.id)).for('share');
    if (held?.status !== 'active') throw new TenureError('grant.already_ended', `the grant was ${held?.status ?? 'removed'} while the certificate was signed; it is not issued`, { field: 'grant' });
    const id = newId();
    // Only the holder asks (checkHolder), so the actor's MFA is the holder's own sign-in's.
    const mfa = work.actor.mfa === true;
    const mfaAt = mfa ? work.actor.mfaAt ?? null : null;
    await work.tx.insert(sshCertificates).values({
      id, serial, grantId: grant.id, identityId: grant.identityId, systemId: grant.systemId, keyId: grant.id, principals: [principal],
      publicKeyFingerprint: publicKey.fingerprint, caFingerprint: signed.caFingerprint,
      validAfter: signed.validAfter, validBefore: signed.validBefore, issuedAt: work.now, issuedBy: acting.identity.id, mfa, mfaAt,
    });
    // The fingerprint identifies the key in sshd's logs; the key itself is not evidence anyone needs.
    work.record({
      action: 'ssh.certificate_issued', subject: { type: 'grant', id: grant.id }, identityId: grant.identityId, systemId: grant.systemId,
      data: { certificateId: id, serial: serial.toString(), keyId: grant.id, principals: [principal], validAfter: signed.validAfter,
        validBefore: signed.validBefore, publicKeyFingerprint: publicKey.fingerprint, caFingerprint: signed.caFingerprint,
        requestedTtlMs: data.ttl ?? null, mfa, ...(mfaAt ? { mfaAt } : {}) },
    });
    return { certificate: signed.certificate, serial: serial.toString(), validAfter: signed.validAfter, validBefore: signed.validBefore,
      principals: [principal], keyId: grant.id, mfa, mfaAt };
  });
};
