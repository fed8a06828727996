/**
 * Webhook data for findings and manual provisioning tasks: what the owner needs to act (what, where,
 * who, by when), looked up by id. Never evidence that could hold more than the owner should see:
 * the summary says what the finding is; the evidence stays behind the API's permissions.
 */
import { eq, inArray } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { FINDING_FRAMEWORKS } from '../domain/findings.js';
import type { Executor } from '../store/database.js';
import { entitlements, grants, identities, systems } from '../store/schema.js';
import { findings, provisioningJobs } from '../store/schema-provisioning.js';

const owners = alias(identities, 'owner');
const iso = (value: Date | null) => (value ? value.toISOString() : null);

export const loadFindings = async (exec: Executor, ids: string[]): Promise<Map<string, Record<string, unknown>>> => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select({ f: findings, system: systems.key, identity: identities.handle, owner: owners.handle }).from(findings)
    .leftJoin(systems, eq(systems.id, findings.systemId))
    .leftJoin(identities, eq(identities.id, findings.identityId))
    .leftJoin(owners, eq(owners.id, findings.ownerId))
    .where(inArray(findings.id, ids));
  return new Map(rows.map(({ f, system, identity, owner }) => [f.id, {
    findingId: f.id, kind: f.kind, severity: f.severity, summary: f.summary, system, identity, owner, grantId: f.grantId,
    dueAt: iso(f.dueAt), openedAt: iso(f.openedAt), frameworks: FINDING_FRAMEWORKS[f.kind],
  }]));
};

export const loadTasks = async (exec: Executor, ids: string[]): Promise<Map<string, Record<string, unknown>>> => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select({ j: provisioningJobs, system: systems.key, identity: identities.handle, owner: owners.handle,
    entitlement: entitlements.key }).from(provisioningJobs)
    .innerJoin(systems, eq(systems.id, provisioningJobs.systemId))
    .innerJoin(identities, eq(identities.id, provisioningJobs.identityId))
    .innerJoin(owners, eq(owners.id, systems.technicalOwnerId))
    .innerJoin(grants, eq(grants.id, provisioningJobs.grantId))
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .where(inArray(provisioningJobs.id, ids));
  return new Map(rows.map(({ j, system, identity, owner, entitlement }) => [j.id, {
    jobId: j.id, action: j.action, grantId: j.grantId, identity, entitlement, system, owner, dueAt: iso(j.dueAt),
  }]));
};
