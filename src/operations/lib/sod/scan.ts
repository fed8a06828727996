/**
 * Separation of duties after the fact: a rule added today, a grant issued before the rule, an
 * emergency or a database edit can leave a person holding both sides. The scan opens one finding per
 * person and rule, for security (no owner: it is not the sponsor's call), and closes it once either
 * side is gone. It runs in every worker pass and after every policy apply.
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import { conflictsHeld, type SodRule } from '../../../domain/separation-of-duties.js';
import { grantsHeldTogether, type HeldGrant } from '../../../store/queries/catalogue.js';
import { findings } from '../../../store/schema-provisioning.js';
import type { Work } from '../../../work/context.js';
import { openFinding, resolveFindingsWhere } from '../provisioning/findings.js';

export interface SodScanResult { opened: number; closed: number }

const findingFor = (person: HeldGrant[], rule: SodRule) => ({
  kind: 'sod_conflict' as const,
  key: `sod_conflict:${person[0]!.identityId}:${rule.name}`,
  identityId: person[0]!.identityId,
  summary: `${person[0]!.handle} holds ${rule.entitlements.join(' and ')}, which ${rule.name} keeps apart` +
    `${rule.reason ? `: ${rule.reason}` : ''}; revoke one side, or accept it as an exception until a date`,
  evidence: { rule: rule.name, entitlements: rule.entitlements,
    grants: person.filter((g) => rule.entitlements.includes(g.key)).map((g) => ({ id: g.grantId, entitlement: g.key })) },
});

export const scanSodConflicts = async (work: Work, rules: readonly SodRule[]): Promise<SodScanResult> => {
  // One scan at a time: two at once would both open the same new finding and one would fail on its key.
  await work.tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('tenure.sod-scan'))`);
  const byPerson = new Map<string, HeldGrant[]>();
  for (const g of await grantsHeldTogether(work.tx, [...new Set(rules.flatMap((rule) => rule.entitlements))])) {
    const held = byPerson.get(g.identityId);
    if (held) held.push(g); else byPerson.set(g.identityId, [g]);
  }
  let opened = 0;
  for (const person of byPerson.values()) {
    for (const rule of conflictsHeld(rules, person.map((g) => g.key))) {
      if ((await openFinding(work, findingFor(person, rule))).opened) opened += 1;
    }
  }
  const closed = await resolveFindingsWhere(work, and(eq(findings.kind, 'sod_conflict'), lt(findings.lastSeenAt, work.now))!,
    'the person no longer holds every side of the rule, or the rule is gone');
  return { opened, closed };
};
