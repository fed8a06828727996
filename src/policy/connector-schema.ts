/**
 * The `connector`, `reconcile` and `provisioning` parts of the policy file. Credentials are secret
 * references (`env:NAME`, `file:/path`) and nothing else: a policy file lives in version control,
 * so a secret written inline is refused here, before it is ever stored or logged.
 */
import { z } from 'zod';
import { isSecretRef } from '../connectors/secret-ref.js';
import { DEFAULT_MANUAL_DUE, DEFAULT_PROVISIONING } from '../domain/provisioning.js';
import { durationMs } from './duration-schema.js';

const secretRef = z.string().refine(isSecretRef,
  'must be a secret reference (env:NAME or file:/absolute/path), never the secret itself');
const url = (protocols: RegExp, example: string) => z.string().refine((value) => {
  try { return protocols.test(new URL(value).protocol); } catch { return false; }
}, `must be a URL such as ${example}`);
/** Names added in front of a handle to make an account; they keep Tenure's accounts apart from others. */
const prefix = z.string().regex(/^[a-z][a-z0-9_.-]{0,15}$/, 'must be 1 to 16 lowercase letters, digits, _ . or -, starting with a letter');
const dn = z.string().trim().min(3, 'must be a distinguished name such as ou=people,dc=example,dc=com').refine((v) => v.includes('='),
  'must be a distinguished name such as ou=people,dc=example,dc=com');

export const connectorSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('postgres-roles'), url: secretRef, role_prefix: prefix }),
  z.strictObject({ type: z.literal('scim'), base_url: url(/^https?:$/, 'https://idp.example.com/scim/v2'), token: secretRef,
    user_name_prefix: z.string().optional() }),
  z.strictObject({ type: z.literal('ldap'), url: url(/^ldaps?:$/, 'ldaps://ldap.example.com'), bind_dn: dn, bind_password: secretRef,
    users_dn: dn, groups_dn: dn, uid_prefix: z.string().optional() }),
  z.strictObject({ type: z.literal('manual'), provision_due: durationMs.optional(), removal_due: durationMs.optional() })
    .transform(({ provision_due, removal_due }) => ({
      type: 'manual' as const,
      provision_due_ms: provision_due ?? DEFAULT_MANUAL_DUE.provisionMs,
      removal_due_ms: removal_due ?? DEFAULT_MANUAL_DUE.removalMs,
    })),
], { error: (issue) => (issue.code === 'invalid_union' ? 'type must be one of postgres-roles, scim, ldap, manual' : undefined) });

export const reconcileSchema = z.strictObject({
  mode: z.enum(['report', 'revoke']).default('report'),
  every: durationMs.optional(),
});

const share = z.union([
  z.number().gt(0).lte(1),
  z.string().regex(/^\d+(\.\d+)?%$/, 'must be a share such as 10% or 0.1').transform((v) => Number(v.slice(0, -1)) / 100)
    .refine((v) => v > 0 && v <= 1, 'must be more than 0% and at most 100%'),
], { error: 'must be a share such as 10% or 0.1' });

const regex = z.string().refine((value) => {
  try { new RegExp(value, 'i'); return true; } catch { return false; }
}, 'must be a regular expression');

export const provisioningSchema = z.strictObject({
  brake: z.strictObject({
    share: share.default(DEFAULT_PROVISIONING.brake.share),
    minimum: z.number().int().min(0).default(DEFAULT_PROVISIONING.brake.minimum),
  }).default(DEFAULT_PROVISIONING.brake),
  max_attempts: z.number().int().min(1).max(100).default(DEFAULT_PROVISIONING.maxAttempts),
  shared_account_patterns: z.array(regex).default(DEFAULT_PROVISIONING.sharedAccountPatterns),
});
