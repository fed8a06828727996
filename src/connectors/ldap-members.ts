/**
 * Everything a managed LDAP group gives, whoever was added to it: `member` and `uniqueMember` DNs
 * (Tenure's own accounts and anyone else's), `memberUid` names (posixGroup style), and the members of
 * groups nested in it, followed a few levels down. Tenure itself only ever writes `member` values of
 * its own accounts; everything else here is someone else's doing, for reconciliation to report.
 */
import type { AccessEntry } from './contract.js';
import { groupAccess, type GroupMember } from './nested-access.js';

export const MEMBER_ATTRIBUTES = ['member', 'uniqueMember', 'memberUid'];

/** How reconciliation names a memberUid value, so its removal knows which attribute it lives in. */
export const MEMBER_UID = 'memberUid:';

/** Nesting deeper than this is not followed. */
const MAX_DEPTH = 5;

export interface MemberRules {
  /** The uid of a DN that is a managed account (under usersDn, with the prefix), else null. */
  accountOf(dn: string): string | null;
  handleOf(uid: string): string | null;
  /** The placeholder that keeps an emptied groupOfNames valid: no access. */
  isPlaceholder(dn: string): boolean;
}

/** Reads one entry's member attributes; undefined when there is no such entry. */
export type ReadMembers = (dn: string) => Promise<Record<string, unknown> | undefined>;

const values = (entry: Record<string, unknown> | undefined, attribute: string): string[] => {
  const found = Object.entries(entry ?? {}).find(([key]) => key.toLowerCase() === attribute.toLowerCase())?.[1];
  return [found ?? []].flat().map(String);
};

/** uniqueMember may end in `#'0101'B`, an optional UID bit string that is not part of the DN. */
const memberDns = (entry: Record<string, unknown> | undefined): string[] =>
  [...values(entry, 'member'), ...values(entry, 'uniqueMember').map((dn) => dn.replace(/#'[01]*'B$/, ''))];

/** A group entry's member DNs as members: Tenure's accounts by uid, anything else by DN and followed as a possible group. */
const membersOf = (entry: Record<string, unknown> | undefined, rules: MemberRules): GroupMember[] =>
  memberDns(entry).filter((dn) => !rules.isPlaceholder(dn)).map((dn) => {
    const uid = rules.accountOf(dn);
    return uid === null
      ? { account: dn, identityHandle: null, attributes: { dn }, nested: dn }
      : { account: uid, identityHandle: rules.handleOf(uid), attributes: { dn } };
  });

export const readGroupAccess = async (read: ReadMembers, groupDn: string, entitlement: string, rules: MemberRules): Promise<AccessEntry[]> => {
  const group = await read(groupDn);
  // memberUid names no entry, so there is nothing to follow; only the group's own values count.
  const uids = values(group, 'memberUid').map((uid) => ({ account: `${MEMBER_UID}${uid}`, identityHandle: null, attributes: { memberUid: uid } }));
  return groupAccess(groupDn, [...membersOf(group, rules), ...uids], entitlement, {
    read: async (dn) => membersOf(await read(dn), rules), maxDepth: MAX_DEPTH, key: (dn) => dn.toLowerCase(),
  });
};
