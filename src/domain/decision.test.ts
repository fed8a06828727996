import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type DecisionEntitlement, type DecisionFacts, type DecisionGrant, type DecisionIdentity, type GrantSource } from './decision.js';
import { compileConditions, parseCidr, parseClockTime, type ConditionSpec } from './decision-conditions.js';

const HOUR = 3_600_000;
/** A Tuesday, 10:00 in Paris (UTC+1 in winter). */
const NOW = Date.parse('2030-01-01T09:00:00Z');

let refs = 0;
const entitlement = (key: string, tier: DecisionEntitlement['tier'] = 'standard', conditions?: ConditionSpec): DecisionEntitlement =>
  ({ id: `id-${key}`, ref: refs++, key, tier, conditions: compileConditions(conditions) });
const READ = entitlement('payments/read', 'read');
const ADMIN = entitlement('payments/admin', 'privileged', { mfa: true, trusted_device: true });
const OFFICE = entitlement('payments/office', 'standard', { hours: { from: '08:00', to: '18:00', timezone: 'Europe/Paris', days: ['mon', 'tue', 'wed', 'thu', 'fri'] } });
const NIGHT = entitlement('ops/night', 'standard', { hours: { from: '22:00', to: '06:00' } });
const CHANGE = entitlement('payments/change', 'standard', { ticket: true });
/** MFA at most 12 hours old. */
const FRESH_MFA = entitlement('payments/fresh', 'privileged', { mfa_max_age: 12 * HOUR });
const INSIDE = entitlement('payments/inside', 'standard', { source_cidrs: ['10.0.0.0/8', '2001:db8::/32'] });

const openEngagement = { id: 'e1', status: 'active', startsAt: NOW - 30 * 24 * HOUR, endsAt: NOW + 30 * 24 * HOUR };
/** A grant, with the entitlement it is for (the index keeps that beside it). */
type HeldGrant = DecisionGrant & { on: number };
type Holder = DecisionIdentity & { held: HeldGrant[] };
const grant = (on: DecisionEntitlement, overrides: Partial<DecisionGrant> = {}): HeldGrant => ({
  on: on.ref, id: `g-${on.key}`, status: 'active', startsAt: NOW - HOUR, endsAt: NOW + HOUR, engagement: openEngagement, ...overrides,
});
/** A grant open at any time of the test, outside any engagement. */
const ALWAYS = { startsAt: 0, endsAt: Infinity, engagement: null };
const carl = (held: HeldGrant[], status: DecisionIdentity['status'] = 'active'): Holder =>
  ({ id: 'carl', kind: 'contractor', status, held });
/** A service account (owned by a person, so no sponsor): holds the same kind of grants. */
const bot = (held: HeldGrant[], status: DecisionIdentity['status'] = 'active'): Holder =>
  ({ id: 'bot', kind: 'service_account', status, held });
const BOT_KEY = { id: 'cred-bot', identityId: 'bot' };
const CARL_KEY = { id: 'cred-carl', identityId: 'carl' };
const OTHER_BOT_KEY = { id: 'cred-other', identityId: 'other-bot' };
const botFacts = (overrides: Partial<DecisionFacts>): Partial<DecisionFacts> =>
  ({ identity: bot([grant(READ, ALWAYS)]), sponsorStatus: undefined, ...overrides });
const source: GrantSource = { grantsOf: (identity, e) => (identity as Holder).held.filter((g) => g.on === e.ref) };

const facts = (overrides: Partial<DecisionFacts>): DecisionFacts => ({
  identity: carl([grant(READ)]), entitlements: [READ], grants: source, sponsorStatus: 'active', stale: false, context: undefined, credential: undefined, now: NOW, ...overrides,
});

interface Case { name: string; facts: Partial<DecisionFacts>; decision: 'allow' | 'deny'; reason: string; warnings?: string[]; grant?: string }

const CASES: Case[] = [
  { name: 'a contractor with an active grant under an open engagement is allowed', facts: {}, decision: 'allow', reason: 'grant_active', grant: 'g-payments/read' },
  { name: 'an unknown identity is denied, not an error', facts: { identity: undefined }, decision: 'deny', reason: 'unknown_identity' },
  { name: 'an unknown entitlement is denied, not an error', facts: { entitlements: [] }, decision: 'deny', reason: 'unknown_entitlement' },
  { name: 'an identity without a grant for the entitlement is denied', facts: { identity: carl([]) }, decision: 'deny', reason: 'no_grant' },
  { name: 'a suspended identity is denied even with an active grant', facts: { identity: carl([grant(READ)], 'suspended') }, decision: 'deny', reason: 'identity_inactive' },
  { name: 'a terminated identity is denied', facts: { identity: carl([grant(READ)], 'terminated') }, decision: 'deny', reason: 'identity_inactive' },
  { name: 'a scheduled grant is denied before its start', facts: { identity: carl([grant(READ, { status: 'scheduled', startsAt: NOW + HOUR, endsAt: NOW + 2 * HOUR })]) }, decision: 'deny', reason: 'grant_not_started' },
  { name: 'a scheduled grant whose start has come is allowed before the worker activates it', facts: { identity: carl([grant(READ, { status: 'scheduled', startsAt: NOW - 1 })]) }, decision: 'allow', reason: 'grant_active' },
  { name: 'a grant past its end is denied before the worker expires it', facts: { identity: carl([grant(READ, { endsAt: NOW })]) }, decision: 'deny', reason: 'grant_ended' },
  { name: 'a revoked grant is denied as ended', facts: { identity: carl([grant(READ, { status: 'revoked' })]) }, decision: 'deny', reason: 'grant_ended' },
  { name: 'a contractor whose engagement ended is denied', facts: { identity: carl([grant(READ, { engagement: { ...openEngagement, status: 'ended' } })]) }, decision: 'deny', reason: 'engagement_inactive' },
  { name: 'a contractor past the end date of the engagement is denied before the worker ends it', facts: { identity: carl([grant(READ, { engagement: { ...openEngagement, endsAt: NOW } })]) }, decision: 'deny', reason: 'engagement_inactive' },
  { name: 'an ended grant does not hide an active one for the same entitlement', facts: { identity: carl([grant(READ, { id: 'old', status: 'expired' }), grant(READ, { id: 'new' })]) }, decision: 'allow', reason: 'grant_active', grant: 'new' },
  { name: 'a grant with no end (birthright) is allowed', facts: { identity: carl([grant(READ, { endsAt: Infinity, engagement: null })]), sponsorStatus: undefined }, decision: 'allow', reason: 'grant_active' },
  { name: 'a contractor whose sponsor left keeps running grants, with a warning', facts: { sponsorStatus: 'terminated' }, decision: 'allow', reason: 'grant_active', warnings: ['sponsor_inactive'] },
  { name: 'a contractor with no sponsor on record is allowed with a warning', facts: { sponsorStatus: 'missing' }, decision: 'allow', reason: 'grant_active', warnings: ['sponsor_inactive'] },
  { name: 'privileged access without MFA is denied', facts: { identity: carl([grant(ADMIN)]), entitlements: [ADMIN], context: { trustedDevice: true } }, decision: 'deny', reason: 'condition_mfa_required' },
  { name: 'privileged access from an untrusted device is denied', facts: { identity: carl([grant(ADMIN)]), entitlements: [ADMIN], context: { mfa: true } }, decision: 'deny', reason: 'condition_trusted_device_required' },
  { name: 'privileged access with MFA from a trusted device is allowed', facts: { identity: carl([grant(ADMIN)]), entitlements: [ADMIN], context: { mfa: true, trustedDevice: true } }, decision: 'allow', reason: 'grant_active' },
  { name: 'privileged access is denied while the index is stale', facts: { identity: carl([grant(ADMIN)]), entitlements: [ADMIN], context: { mfa: true, trustedDevice: true }, stale: true }, decision: 'deny', reason: 'index_stale', warnings: ['index_stale'] },
  { name: 'standard access is still answered while the index is stale, with a warning', facts: { stale: true }, decision: 'allow', reason: 'grant_active', warnings: ['index_stale'] },
  { name: 'office hours allow a Tuesday at 10:00 in Paris', facts: { identity: carl([grant(OFFICE)]), entitlements: [OFFICE] }, decision: 'allow', reason: 'grant_active' },
  { name: 'office hours deny 18:00 in Paris (the end is exclusive)', facts: { identity: carl([grant(OFFICE, ALWAYS)]), entitlements: [OFFICE], now: Date.parse('2030-01-01T17:00:00Z') }, decision: 'deny', reason: 'condition_outside_hours' },
  { name: 'office hours follow summer time: 17:30 UTC in July is 19:30 in Paris', facts: { identity: carl([grant(OFFICE, ALWAYS)]), entitlements: [OFFICE], now: Date.parse('2030-07-02T17:30:00Z') }, decision: 'deny', reason: 'condition_outside_hours' },
  { name: 'office hours in July allow 07:30 UTC (09:30 in Paris)', facts: { identity: carl([grant(OFFICE, ALWAYS)]), entitlements: [OFFICE], now: Date.parse('2030-07-02T07:30:00Z') }, decision: 'allow', reason: 'grant_active' },
  { name: 'office hours deny a Saturday', facts: { identity: carl([grant(OFFICE, ALWAYS)]), entitlements: [OFFICE], now: Date.parse('2030-01-05T09:00:00Z') }, decision: 'deny', reason: 'condition_outside_hours' },
  { name: 'a window across midnight allows 23:00 UTC', facts: { identity: carl([grant(NIGHT, ALWAYS)]), entitlements: [NIGHT], now: Date.parse('2030-01-01T23:00:00Z') }, decision: 'allow', reason: 'grant_active' },
  { name: 'a window across midnight denies noon', facts: { identity: carl([grant(NIGHT, ALWAYS)]), entitlements: [NIGHT], now: Date.parse('2030-01-01T12:00:00Z') }, decision: 'deny', reason: 'condition_outside_hours' },
  { name: 'MFA performed within the maximum age is allowed', facts: { identity: carl([grant(FRESH_MFA)]), entitlements: [FRESH_MFA], context: { mfa: true, mfaAt: NOW - 11 * HOUR } }, decision: 'allow', reason: 'grant_active' },
  { name: 'MFA exactly as old as the maximum is still allowed', facts: { identity: carl([grant(FRESH_MFA)]), entitlements: [FRESH_MFA], context: { mfa: true, mfaAt: NOW - 12 * HOUR } }, decision: 'allow', reason: 'grant_active' },
  { name: 'MFA older than the maximum age is denied as too old', facts: { identity: carl([grant(FRESH_MFA)]), entitlements: [FRESH_MFA], context: { mfa: true, mfaAt: NOW - 12 * HOUR - 1 } }, decision: 'deny', reason: 'condition_mfa_too_old' },
  { name: 'MFA of unknown age is denied where an age is required', facts: { identity: carl([grant(FRESH_MFA)]), entitlements: [FRESH_MFA], context: { mfa: true } }, decision: 'deny', reason: 'condition_mfa_too_old' },
  { name: 'a maximum MFA age requires MFA itself: an MFA time without MFA is denied as no MFA', facts: { identity: carl([grant(FRESH_MFA)]), entitlements: [FRESH_MFA], context: { mfaAt: NOW } }, decision: 'deny', reason: 'condition_mfa_required' },
  { name: 'attacker: an MFA time in the future is not believed', facts: { identity: carl([grant(FRESH_MFA)]), entitlements: [FRESH_MFA], context: { mfa: true, mfaAt: NOW + 2 * HOUR } }, decision: 'deny', reason: 'condition_mfa_too_old' },
  { name: 'an MFA time a few seconds ahead (clock skew) is allowed', facts: { identity: carl([grant(FRESH_MFA)]), entitlements: [FRESH_MFA], context: { mfa: true, mfaAt: NOW + 30_000 } }, decision: 'allow', reason: 'grant_active' },
  { name: 'attacker: an MFA time that is not a number is not believed', facts: { identity: carl([grant(FRESH_MFA)]), entitlements: [FRESH_MFA], context: { mfa: true, mfaAt: Number.NaN } }, decision: 'deny', reason: 'condition_mfa_too_old' },
  { name: 'a change without a ticket is denied', facts: { identity: carl([grant(CHANGE)]), entitlements: [CHANGE], context: { ticket: '  ' } }, decision: 'deny', reason: 'condition_ticket_required' },
  { name: 'a change with a ticket is allowed', facts: { identity: carl([grant(CHANGE)]), entitlements: [CHANGE], context: { ticket: 'CHG-1' } }, decision: 'allow', reason: 'grant_active' },
  { name: 'an address inside an allowed network is allowed', facts: { identity: carl([grant(INSIDE)]), entitlements: [INSIDE], context: { sourceAddress: '10.1.2.3' } }, decision: 'allow', reason: 'grant_active' },
  { name: 'an IPv6 address inside an allowed network is allowed', facts: { identity: carl([grant(INSIDE)]), entitlements: [INSIDE], context: { sourceAddress: '2001:db8::1' } }, decision: 'allow', reason: 'grant_active' },
  { name: 'an IPv4-mapped IPv6 address is matched as IPv4', facts: { identity: carl([grant(INSIDE)]), entitlements: [INSIDE], context: { sourceAddress: '::ffff:10.0.0.1' } }, decision: 'allow', reason: 'grant_active' },
  { name: 'an address outside the allowed networks is denied', facts: { identity: carl([grant(INSIDE)]), entitlements: [INSIDE], context: { sourceAddress: '192.168.1.1' } }, decision: 'deny', reason: 'condition_source_not_allowed' },
  { name: 'no source address is denied where networks are restricted', facts: { identity: carl([grant(INSIDE)]), entitlements: [INSIDE] }, decision: 'deny', reason: 'condition_source_not_allowed' },
  { name: 'a missing grant is reported before an unmet condition', facts: { identity: carl([]), entitlements: [ADMIN] }, decision: 'deny', reason: 'no_grant' },
  { name: 'by system and action, any entitlement that allows wins', facts: { identity: carl([grant(READ)]), entitlements: [ADMIN, READ] }, decision: 'allow', reason: 'grant_active', grant: 'g-payments/read' },
  { name: 'by system and action, the deny closest to allowing explains', facts: { identity: carl([grant(ADMIN)]), entitlements: [READ, ADMIN] }, decision: 'deny', reason: 'condition_mfa_required' },
  { name: 'a service account asked about without a person behind it is allowed by its grant', facts: botFacts({ context: { interactive: false } }), decision: 'allow', reason: 'grant_active' },
  { name: 'an interactive login as a service account is denied whatever grants it holds', facts: botFacts({ context: { interactive: true } }), decision: 'deny', reason: 'human_use_of_service_account' },
  { name: 'a service account that answered an MFA prompt is denied: a machine cannot', facts: botFacts({ context: { mfa: true } }), decision: 'deny', reason: 'human_use_of_service_account' },
  { name: 'human use of a service account is reported even for an unknown entitlement', facts: botFacts({ entitlements: [], context: { interactive: true } }), decision: 'deny', reason: 'human_use_of_service_account' },
  { name: 'human use of a suspended service account is reported as human use', facts: botFacts({ identity: bot([], 'suspended'), context: { interactive: true } }), decision: 'deny', reason: 'human_use_of_service_account' },
  { name: 'human use of a service account is reported before a borrowed credential', facts: botFacts({ context: { interactive: true }, credential: CARL_KEY }), decision: 'deny', reason: 'human_use_of_service_account' },
  { name: 'a service account presenting its own credential non-interactively is allowed', facts: botFacts({ credential: BOT_KEY }), decision: 'allow', reason: 'grant_active' },
  { name: 'a service account presenting another service account\'s credential is denied', facts: botFacts({ credential: OTHER_BOT_KEY }), decision: 'deny', reason: 'credential_not_owned' },
  { name: 'a person presenting a service account\'s credential is denied whatever grants they hold', facts: { credential: BOT_KEY }, decision: 'deny', reason: 'credential_not_owned' },
  { name: 'a person presenting another person\'s credential is denied', facts: { identity: { ...carl([grant(READ)]), id: 'vera' }, credential: CARL_KEY }, decision: 'deny', reason: 'credential_not_owned' },
  { name: 'a person presenting their own credential interactively is allowed', facts: { credential: CARL_KEY, context: { interactive: true, mfa: true } }, decision: 'allow', reason: 'grant_active' },
  { name: 'a borrowed credential is denied even for an unknown entitlement, with the staleness warning', facts: { entitlements: [], credential: BOT_KEY, stale: true }, decision: 'deny', reason: 'credential_not_owned', warnings: ['index_stale'] },
];

describe('the decision rule', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const answer = decide(facts(c.facts));
      assert.equal(answer.decision, c.decision);
      assert.equal(answer.reason, c.reason);
      assert.deepEqual(answer.warnings, c.warnings ?? []);
      if (c.grant) assert.equal(answer.grant?.id, c.grant);
      if (c.decision === 'deny') assert.equal(answer.grant, null);
    });
  }

  it('an allowed answer carries the grant and its end', () => {
    assert.deepEqual(decide(facts({})).grant, { id: 'g-payments/read', endsAt: new Date(NOW + HOUR) });
  });
});

describe('condition syntax', () => {
  it('clock times are HH:MM on a 24-hour clock, 24:00 only as an end', () => {
    assert.equal(parseClockTime('08:30'), 510);
    assert.equal(parseClockTime('24:00'), undefined);
    assert.equal(parseClockTime('24:00', true), 1440);
    for (const bad of ['8:30', '25:00', '12:60', 'noon']) assert.equal(parseClockTime(bad), undefined, bad);
  });
  it('networks are written as an address and a prefix length', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseCidr('2001:db8::/32'), { address: '2001:db8::', prefix: 32, family: 'ipv6' });
    assert.deepEqual(parseCidr('192.0.2.7'), { address: '192.0.2.7', prefix: 32, family: 'ipv4' });
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'a/8', '10.0.0.0/8/1', '::/129']) assert.equal(parseCidr(bad), undefined, bad);
  });
  it('an empty condition set compiles to no condition at all', () => {
    assert.equal(compileConditions({}), null);
    assert.equal(compileConditions(undefined), null);
  });
});
