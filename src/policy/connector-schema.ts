/**
 * The `connector`, `reconcile` and `provisioning` parts of the policy file. Credentials are secret
 * references (`env:NAME`, `file:/path`) and nothing else: a policy file lives in version control,
 * so a secret written inline is refused here, before it is ever stored or logged.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { isSecretRef } from '../connectors/secret-ref.js';
import { SEVERITIES } from '../domain/findings.js';
import { DEFAULT_MANUAL_DUE, DEFAULT_PROVISIONING } from '../domain/provisioning.js';
import { DEFAULT_MAX_CERTIFICATE_TTL_MS } from '../domain/ssh-validity.js';
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

const absolutePath = z.string().refine((v) => isAbsolute(v) && !/[\s\0]/.test(v), 'must be an absolute path without spaces');
/** A key file named by path: `file:` makes it plain that the policy names where the key is, never the key itself. */
const keyFile = (what: string) => z.string().refine((v) => v.startsWith('file:') && isAbsolute(v.slice(5)) && !/[\s\0]/.test(v),
  `must be file:/absolute/path to ${what}, never the key itself`);
const MAX_SSH_TTL_MS = 24 * 3_600_000;

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, such as 10.0.0.5:22');
const hostKey = z.string().trim().regex(/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|rsa-sha2-(256|512)|ssh-rsa) [A-Za-z0-9+/]+=*$/,
  'must be the host\'s public key as in known_hosts, such as ssh-ed25519 AAAA… (no comment)');

/**
 * Sessions through Tenure's SSH proxy (docs/sessions.md): the key only the proxy holds, which the
 * hosts authorise for the proxied accounts (people's certificates are not trusted there), and each
 * host by the name people use, its address and its host key, checked at every connection.
 */
const sshProxy = z.strictObject({
  upstream_key: keyFile('the private key the proxy signs in to the hosts with'),
  /** The proxies' addresses as the hosts see them: the key is authorised from there only, and sign-ins from elsewhere are findings. */
  addresses: z.array(z.union([z.ipv4(), z.ipv6()], { error: 'must be an IP address' })).min(1, 'must name at least one address').optional(),
  hosts: z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'must be a host name: lowercase letters, digits, . or -'),
    z.strictObject({ address: hostPort, host_key: hostKey })).refine((h) => Object.keys(h).length > 0, 'must name at least one host'),
});

/** An SSH certificate authority: certificates on demand, revocation through the KRL sshd reads. */
const sshCaSchema = z.strictObject({
  type: z.literal('ssh-ca'),
  ca_key: keyFile('the CA private key'),
  previous_ca_keys: z.array(keyFile('a previous CA public key (.pub)')).default([]),
  krl_path: absolutePath,
  max_ttl: durationMs.refine((v) => v <= MAX_SSH_TTL_MS, 'must be at most 24h: certificates live hours, not days').optional(),
  proxy: sshProxy.optional(),
}).transform(({ max_ttl, ...rest }) => ({ ...rest, max_ttl_ms: max_ttl ?? DEFAULT_MAX_CERTIFICATE_TTL_MS }));

/**
 * What happens at an account's last removal to what it owns and granted: `report` (a finding for the
 * technical owner, the role kept without login), `drop` (DROP OWNED), or `{ reassign_to: ROLE }`
 * (REASSIGN OWNED). The role itself is dropped once nothing is left.
 */
const leftovers = z.union([
  z.enum(['report', 'drop']),
  z.strictObject({ reassign_to: z.string().regex(/^[a-z_][a-z0-9_$]{0,62}$/, 'must be a role name (lowercase letters, digits, _ or $)') }),
], { error: 'must be report, drop, or { reassign_to: ROLE }' });

/**
 * Sessions through Tenure's PostgreSQL proxy (docs/sessions.md): where the proxy connects (default:
 * the host, port and database of the connector's url, never its user or password) and whether bind
 * parameters are kept in the recording (default: redacted, since they often carry personal data),
 * and where the proxies connect from, so reconciliation can report sessions that went around them.
 */
const pgProxy = z.strictObject({
  upstream: secretRef.optional(),
  /** The proxies' addresses as the target sees them: reconciliation reports sessions of managed roles from anywhere else. */
  addresses: z.array(z.union([z.ipv4(), z.ipv6()], { error: 'must be an IP address' })).optional(),
  parameters: z.enum(['redact', 'keep'], { error: 'must be redact or keep' }).default('redact'),
});

export const connectorSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('postgres-roles'), url: secretRef, role_prefix: prefix, leftovers: leftovers.default('report'),
    proxy: pgProxy.optional() }),
  z.strictObject({ type: z.literal('scim'), base_url: url(/^https?:$/, 'https://idp.example.com/scim/v2'), token: secretRef,
    user_name_prefix: z.string().optional() }),
  z.strictObject({ type: z.literal('ldap'), url: url(/^ldaps?:$/, 'ldaps://ldap.example.com'), bind_dn: dn, bind_password: secretRef,
    users_dn: dn, groups_dn: dn, uid_prefix: z.string().optional(),
    /** The directory's own administrative groups, beyond the well-known names: granted only by a privileged_target entitlement. */
    admin_groups: z.array(z.string().trim().min(1, 'must name a group')).optional() }),
  z.strictObject({ type: z.literal('manual'), provision_due: durationMs.optional(), removal_due: durationMs.optional() })
    .transform(({ provision_due, removal_due }) => ({
      type: 'manual' as const,
      provision_due_ms: provision_due ?? DEFAULT_MANUAL_DUE.provisionMs,
      removal_due_ms: removal_due ?? DEFAULT_MANUAL_DUE.removalMs,
    })),
  sshCaSchema,
], { error: (issue) => (issue.code === 'invalid_union' ? 'type must be one of postgres-roles, scim, ldap, manual, ssh-ca' : undefined) });

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
  /** How long a drift finding's owner has to act, by severity; the rest keep the defaults. */
  finding_due: z.strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, durationMs.optional()])) as
    Record<(typeof SEVERITIES)[number], z.ZodOptional<typeof durationMs>>).optional(),
});
