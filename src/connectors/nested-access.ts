/**
 * The walk every group-based connector (LDAP, SCIM) makes to see what a managed group gives: its
 * direct members as they are, then the members of every group among them, followed down a few levels
 * with a guard against groups that contain each other. Each connector says what a member is; this
 * module only decides what is reported and how.
 */
import type { AccessEntry } from './contract.js';

/** One member of a group as the connector names it. */
export interface GroupMember {
  account: string;
  /** The Tenure handle by the connector's naming rule; null for anyone else's account or a group. */
  identityHandle: string | null;
  attributes?: Record<string, unknown>;
  /** When the member is itself a group: how `read` reaches it, so its members are followed too. */
  nested?: string;
}

export interface NestedWalk {
  /** The members of a nested group; none when it does not exist. */
  read(group: string): Promise<GroupMember[]>;
  /** Nesting deeper than this is not followed. */
  maxDepth: number;
  /** When two names of a group are the same group (LDAP DNs compare case-insensitively). */
  key?: (group: string) => string;
}

const entryOf = (member: GroupMember, entitlement: string, via?: string): AccessEntry => ({
  account: member.account, identityHandle: member.identityHandle, entitlement,
  ...(via === undefined ? {} : { via }),
  ...(member.attributes === undefined ? {} : { attributes: member.attributes }),
});

/**
 * Every account the group `root` gives `entitlement`: each direct member without `via`, and each
 * member reached through a direct member that is a group with `via` set to that direct member's
 * account (the membership to remove). Direct members come first, so someone who is both a direct
 * member and reached through nesting is reported as direct; anyone reached several ways, once.
 */
export const groupAccess = async (root: string, direct: GroupMember[], entitlement: string, walk: NestedWalk): Promise<AccessEntry[]> => {
  const found = new Map<string, AccessEntry>();
  for (const member of direct) found.set(member.account, entryOf(member, entitlement));
  const key = walk.key ?? ((group: string) => group);
  const visited = new Set<string>([key(root)]);
  const follow = async (group: string, via: string, depth: number): Promise<void> => {
    if (depth > walk.maxDepth || visited.has(key(group))) return;
    visited.add(key(group));
    for (const member of await walk.read(group)) {
      if (!found.has(member.account)) found.set(member.account, entryOf(member, entitlement, via));
      if (member.nested !== undefined) await follow(member.nested, via, depth + 1);
    }
  };
  for (const member of direct) if (member.nested !== undefined) await follow(member.nested, member.account, 1);
  return [...found.values()];
};
