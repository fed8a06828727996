import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { CREDENTIAL_KINDS, DEFAULT_CREDENTIAL_SETTINGS } from '../domain/credentials.js';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { findIdentity } from '../store/queries/identities.js';
import { systems } from '../store/schema.js';
import { credentials } from '../store/schema-credentials.js';
import { loadActor } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { instant, parseInput, ref, text } from './input.js';
import { checkFingerprint, checkManages } from './lib/credentials/access.js';

export const Input = z.object({
  identity: ref.describe('the identity the credential belongs to, usually a service account'),
  kind: z.enum(CREDENTIAL_KINDS),
  name: text(200),
  fingerprint: z.string().max(200).describe('SHA256:<base64> or sha256:<hex> of the secret; never the secret'),
  system: ref.optional().describe('the system the credential opens'),
  expiresAt: instant.optional().describe('when the credential stops working; none is itself a finding'),
  createdAt: instant.optional().describe('when it was made, if before registration (for credentials found in the wild)'),
}).strict();

/** The expiry may not be further from the last rotation than the policy's maximum age for the kind. */
export const checkExpiry = async (work: Work, kind: (typeof CREDENTIAL_KINDS)[number], from: Date, expiresAt: Date | undefined) => {
  if (!expiresAt) return;
  const rules = (await loadAppliedPolicy(work.tx)).credentials?.rules ?? DEFAULT_CREDENTIAL_SETTINGS.rules;
  if (expiresAt.getTime() - from.getTime() > rules[kind].maxAgeMs) {
    throw new TenureError('credential.expiry_too_late', `expiresAt: a ${kind} lives at most ${rules[kind].maxAgeMs / 86_400_000} days`, { field: 'expiresAt' });
  }
};

const systemIdOf = async (work: Work, key: string | undefined): Promise<string | null> => {
  if (!key) return null;
  const [row] = await work.tx.select({ id: systems.id }).from(systems).where(eq(systems.key, key));
  if (!row) throw new TenureError('system.not_found', `no system '${key}'`, { field: 'system' });
  return row.id;
};

/** Registers a credential by its fingerprint: who it belongs to, what kind, when it expires. */
export const registerCredential = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  checkFingerprint(data.fingerprint);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const subject = await findIdentity(work.tx, data.identity);
    checkManages(acting, subject);
    const createdAt = data.createdAt ?? work.now;
    await checkExpiry(work, data.kind, createdAt, data.expiresAt);
    const [taken] = await work.tx.select({ id: credentials.id }).from(credentials)
      .where(and(eq(credentials.fingerprint, data.fingerprint), eq(credentials.status, 'active')));
    if (taken) throw new TenureError('credential.fingerprint_taken', 'an active credential already has this fingerprint', { field: 'fingerprint' });
    const id = newId();
    const systemId = await systemIdOf(work, data.system);
    await work.tx.insert(credentials).values({
      id, identityId: subject.id, systemId, kind: data.kind, name: data.name, fingerprint: data.fingerprint, createdAt,
      lastRotatedAt: createdAt, expiresAt: data.expiresAt ?? null, status: 'active', registeredBy: acting.identity.id,
    });
    work.record({ action: 'credential.registered', subject: { type: 'credential', id }, identityId: subject.id, systemId,
      after: { kind: data.kind, name: data.name, fingerprint: data.fingerprint, expiresAt: data.expiresAt ?? null } });
    return { id, identity: subject.handle, kind: data.kind, name: data.name, expiresAt: data.expiresAt ?? null };
  });
};
