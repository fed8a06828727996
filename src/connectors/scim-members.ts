/**
 * Everything a managed SCIM group gives, whoever was added to it: Tenure's users (named by the
 * prefix), anyone else's users, groups nested in it and their members (followed a few levels down),
 * and member values that name no user or group at all. Tenure itself only ever adds its own users;
 * everything else here is someone else's doing, for reconciliation to report.
 */
import type { AccessEntry } from './contract.js';
import { groupAccess, type GroupMember } from './nested-access.js';
import type { ScimClient, ScimGroup, ScimMember, ScimResource, ScimUser } from './scim-client.js';

/** How listAccess names a nested group, and a member value that resolves to nothing; revokeMembership reads them back. */
export const GROUP_ACCOUNT = 'group:';
export const ID_ACCOUNT = 'id:';

/** Nesting deeper than this is not followed (as in LDAP). */
const MAX_DEPTH = 5;

type Resolved = { user: ScimUser } | { group: ScimGroup } | { nothing: true };

/**
 * Reads member values back to users and groups, each id asked of the service at most once per
 * listing. Tenure's users come from one listing by prefix; anyone else's id is read directly
 * (`GET /Users/<id>`, then `/Groups/<id>`), which every service serves, rather than listing every
 * user of the service to find a few.
 */
class MemberResolver {
  private readonly known = new Map<string, Promise<Resolved>>();

  constructor(private readonly client: ScimClient, users: ScimUser[], groups: ScimGroup[]) {
    for (const user of users) this.known.set(user.id, Promise.resolve({ user }));
    for (const group of groups) this.known.set(group.id, Promise.resolve({ group }));
  }

  resolve(member: ScimMember): Promise<Resolved> {
    let found = this.known.get(member.value);
    if (!found) {
      found = this.lookUp(member);
      this.known.set(member.value, found);
    }
    return found;
  }

  private async lookUp(member: ScimMember): Promise<Resolved> {
    // The service's own type, where it gives one, saves asking for a user that is a group.
    const order: ScimResource[] = member.type?.toLowerCase() === 'group' ? ['/Groups', '/Users'] : ['/Users', '/Groups'];
    for (const resource of order) {
      const found = await this.client.get<ScimUser & ScimGroup>(resource, member.value);
      if (found) return resource === '/Users' ? { user: found } : { group: found };
    }
    return { nothing: true };
  }
}

const memberOf = (member: ScimMember, found: Resolved, handleOf: (userName: string) => string | null): GroupMember => {
  if ('user' in found) {
    return { account: found.user.userName, identityHandle: handleOf(found.user.userName), attributes: { active: found.user.active !== false } };
  }
  if ('group' in found) {
    return { account: `${GROUP_ACCOUNT}${found.group.displayName}`, identityHandle: null, attributes: { id: found.group.id }, nested: found.group.id };
  }
  return { account: `${ID_ACCOUNT}${member.value}`, identityHandle: null };
};

/**
 * Every account each managed group (target name → group) gives. A managed group inside another is
 * the administrator's hierarchy, as a managed role inside another is for PostgreSQL: it is neither
 * reported nor followed, and its members are listed under it.
 */
export const readManagedAccess = async (
  client: ScimClient, managed: Map<string, ScimGroup>, users: ScimUser[], handleOf: (userName: string) => string | null,
): Promise<AccessEntry[]> => {
  const resolver = new MemberResolver(client, users, [...managed.values()]);
  const managedIds = new Set([...managed.values()].map((group) => group.id));
  const membersOf = async (group: ScimGroup | undefined): Promise<GroupMember[]> => {
    const members: GroupMember[] = [];
    for (const member of group?.members ?? []) {
      if (!managedIds.has(member.value)) members.push(memberOf(member, await resolver.resolve(member), handleOf));
    }
    return members;
  };
  const read = async (id: string): Promise<GroupMember[]> => {
    const found = await resolver.resolve({ value: id, type: 'Group' });
    return membersOf('group' in found ? found.group : undefined);
  };
  const entries: AccessEntry[] = [];
  for (const [targetName, group] of managed) {
    entries.push(...await groupAccess(group.id, await membersOf(group), targetName, { read, maxDepth: MAX_DEPTH }));
  }
  return entries;
};
