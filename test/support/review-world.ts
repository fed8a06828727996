import { eq } from 'drizzle-orm';
import { searchAuditEvents } from '../../src/audit/search.js';
import { newId } from '../../src/domain/ids.js';
import { engagements, entitlements, grants } from '../../src/store/schema.js';
import { reviewItems } from '../../src/store/schema-reviews.js';
import { accessEvents } from '../../src/store/schema-service.js';
import { freshStore, type Backend } from './backends.js';
import { grantThrough } from './flows.js';
import { buildWorld, type World } from './world.js';

/** A fresh organisation for one test, closed whatever happens: campaigns and their due dates never leak between tests. */
export const withWorld = async (backend: Backend, fn: (w: World) => Promise<void>): Promise<void> => {
  const store = await freshStore(backend);
  try {
    await fn(await buildWorld(store));
  } finally {
    await store.close();
  }
};

/** Carl's access through the normal path: asked by Carl, approved by Sam (sponsor) then Olivia (owner). */
export const carlGets = (w: World, entitlement: string, duration = '20d') =>
  grantThrough(w, 'carl', { entitlement, justification: `needs ${entitlement}`, duration }, ['sam', 'olivia']);

/** Eve's (an employee's): approved by Sam (her manager) then Olivia. */
export const eveGets = (w: World, entitlement: string, duration = '20d') =>
  grantThrough(w, 'eve', { entitlement, justification: `needs ${entitlement}`, duration }, ['sam', 'olivia']);

export const grantRow = async (w: World, id: string) => (await w.store.db.select().from(grants).where(eq(grants.id, id)))[0]!;
export const engagementRow = async (w: World) => (await w.store.db.select().from(engagements).where(eq(engagements.id, w.engagementId)))[0]!;
export const itemRows = (w: World, campaignId: string) => w.store.db.select().from(reviewItems).where(eq(reviewItems.campaignId, campaignId));

/** A grant the decision point allowed at this moment. */
export const recordUse = async (w: World, grantId: string): Promise<void> => {
  const grant = await grantRow(w, grantId);
  const [entitlement] = await w.store.db.select().from(entitlements).where(eq(entitlements.id, grant.entitlementId));
  await w.store.db.insert(accessEvents).values({ id: newId(), at: w.clock.now(), identityId: grant.identityId, entitlementKey: entitlement!.key,
    systemKey: entitlement!.key.split('/')[0]!, action: 'select', allowed: true, reason: 'grant', grantId });
};

/** A grant given directly (birthright), for holders no request route can serve. */
export const birthright = async (w: World, handle: string, entitlement: string): Promise<string> => {
  const [e] = await w.store.db.select().from(entitlements).where(eq(entitlements.key, entitlement));
  const id = newId();
  await w.store.db.insert(grants).values({ id, identityId: await w.id(handle), entitlementId: e!.id, origin: 'birthright', startsAt: w.clock.now(),
    endsAt: null, status: 'active', provisioningState: 'provisioned', createdAt: w.clock.now() });
  return id;
};

export const auditOf = (w: World, action: string) => searchAuditEvents(w.store.db, { action, limit: 1000 });
