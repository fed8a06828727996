/**
 * A real SCIM 2.0 service for the SCIM connector's tests: scimmy's User and Group resource types
 * served over HTTP by scimmy-routers (express), with in-memory storage and bearer-token
 * authentication. Filtering, pagination and PATCH semantics are scimmy's own, not a stub's.
 *
 * SCIMMY keeps its declared resource types in a process-wide singleton, so the handlers are
 * declared once and reach the storage of the server that received the request through the
 * router's `context`.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

type Attributes = Record<string, unknown> & { id: string };
/** scimmy types handler results as its schema classes; the stored plain objects carry the same attributes. */
type AsUser = SCIMMY.Schemas.User;
type AsGroup = SCIMMY.Schemas.Group;

interface Store {
  users: Map<string, Attributes>;
  groups: Map<string, Attributes>;
}

export interface ScimServer {
  /** The SCIM base URL, e.g. `http://127.0.0.1:PORT/scim/v2`. */
  baseUrl: string;
  token: string;
  /** Requests that reached the server, authenticated or not. */
  requests: () => number;
  /** Id of a group by its displayName. */
  groupId: (displayName: string) => string;
  /** One authenticated request through the service's own API, as an administrator makes it by hand; throws unless it succeeds. */
  admin: <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => Promise<T>;
  /** Creates a user or a group by hand and returns its id. */
  addUser: (userName: string) => Promise<string>;
  addGroup: (displayName: string) => Promise<string>;
  /** Adds a member value (a user's or a group's id) to a group by hand. */
  addMember: (displayName: string, value: string) => Promise<void>;
  stop: () => Promise<void>;
}

/** A plain copy of a scimmy schema instance, so the stored object is detached from scimmy's getters. */
const plain = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

const notFound = (id: string) => new SCIMMY.Types.Error(404, '', `Resource ${id} not found`);

/** What every egress does: one resource by id, or all of them narrowed by the request's filter. */
const egress = (items: Map<string, Attributes>, id: string | undefined, filter: SCIMMY.Types.Filter | undefined) => {
  if (id) {
    const found = items.get(id);
    if (!found) throw notFound(id);
    return found;
  }
  const all = [...items.values()];
  return filter ? filter.match(all) as Attributes[] : all;
};

/** Creates (no id) or replaces (id) a stored resource, keeping userName / displayName unique as real servers do. */
const store = (items: Map<string, Attributes>, id: string | undefined, data: Record<string, unknown>, unique: string) => {
  if (id && !items.has(id)) throw notFound(id);
  const clash = [...items.values()].find((item) => item[unique] === data[unique] && item.id !== id);
  if (clash) throw new SCIMMY.Types.Error(409, 'uniqueness', `${unique} ${String(data[unique])} is already taken`);
  const saved: Attributes = { ...data, id: id ?? randomUUID() };
  items.set(saved.id, saved);
  return saved;
};

/**
 * Group members must be existing users or groups (nested groups, as RFC 7643 allows); `display` and
 * `type` are filled in, as most services do. A value the group already held stays even when it names
 * nothing any more: deleting a user here leaves its memberships behind, a stale member value such as
 * services and hand edits leave, which reconciliation must still show.
 */
const checkedMembers = (ctx: Store, groupId: string | undefined, members: unknown): Record<string, unknown>[] => {
  const held = (groupId ? ctx.groups.get(groupId)?.members ?? [] : []) as { value: string }[];
  return ((members ?? []) as { value: string }[]).map((member) => {
    const user = ctx.users.get(member.value);
    if (user) return { value: user.id, display: user.userName, type: 'User' };
    const group = ctx.groups.get(member.value);
    if (group) return { value: group.id, display: group.displayName, type: 'Group' };
    const stale = held.find((kept) => kept.value === member.value);
    if (stale) return stale;
    throw new SCIMMY.Types.Error(400, 'invalidValue', `member ${member.value} is not a user or a group`);
  });
};

const declareOnce = (() => {
  let declared = false;
  return () => {
    if (declared) return;
    declared = true;
    SCIMMY.Resources.declare(SCIMMY.Resources.User)
      .ingress((resource, data, ctx: Store) => store(ctx.users, resource.id, { active: true, ...plain(data) }, 'userName') as unknown as AsUser)
      .egress((resource, ctx: Store) => egress(ctx.users, resource.id, resource.filter) as unknown as AsUser)
      .degress((resource, ctx: Store) => { if (!resource.id || !ctx.users.delete(resource.id)) throw notFound(String(resource.id)); });
    SCIMMY.Resources.declare(SCIMMY.Resources.Group)
      .ingress((resource, data, ctx: Store) => {
        const attributes = plain(data);
        return store(ctx.groups, resource.id, { ...attributes, members: checkedMembers(ctx, resource.id, attributes.members) }, 'displayName') as unknown as AsGroup;
      })
      .egress((resource, ctx: Store) => egress(ctx.groups, resource.id, resource.filter) as unknown as AsGroup)
      .degress((resource, ctx: Store) => { if (!resource.id || !ctx.groups.delete(resource.id)) throw notFound(String(resource.id)); });
  };
})();

/** Starts a SCIM service on 127.0.0.1 (a free port) holding the given groups, empty, and no users. */
export const startScimServer = async (groupNames: string[]): Promise<ScimServer> => {
  declareOnce();
  const token = `scim-test-${randomUUID()}`;
  const data: Store = { users: new Map(), groups: new Map() };
  for (const displayName of groupNames) store(data.groups, undefined, { displayName, members: [] }, 'displayName');
  let requests = 0;

  const app = express();
  app.use((_request, _response, next) => { requests += 1; next(); });
  app.use('/scim/v2', new SCIMMYRouters({
    type: 'bearer',
    handler: (request) => {
      if (request.header('Authorization') !== `Bearer ${token}`) throw new Error('a valid bearer token is required');
      return 'tenure-connector';
    },
    context: () => data,
  }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { server.once('listening', resolve); server.once('error', reject); });
  const { port } = server.address() as AddressInfo;

  const baseUrl = `http://127.0.0.1:${port}/scim/v2`;
  const groupId = (displayName: string) => {
    const group = [...data.groups.values()].find((item) => item.displayName === displayName);
    if (!group) throw new Error(`no group ${displayName}`);
    return group.id;
  };
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${baseUrl}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' } });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const create = async (resource: string, schema: string, attributes: Record<string, unknown>) =>
    (await admin<{ id: string }>('POST', resource, { schemas: [`urn:ietf:params:scim:schemas:core:2.0:${schema}`], ...attributes })).id;

  return {
    baseUrl,
    token,
    requests: () => requests,
    groupId,
    admin,
    addUser: (userName) => create('/Users', 'User', { userName, active: true }),
    addGroup: (displayName) => create('/Groups', 'Group', { displayName }),
    addMember: async (displayName, value) => {
      await admin('PATCH', `/Groups/${groupId(displayName)}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: [{ value }] }] });
    },
    stop: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
};
