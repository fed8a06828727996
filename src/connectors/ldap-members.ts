/**
 * Everything a managed LDAP group gives, whoever was added to it: `member` and `uniqueMember` DNs
 * (Tenure's own accounts and anyone else's), `memberUid` names (posixGroup style), and the members of
 * groups nested in it, followed a few levels down. Tenure itself only ever writes `member` values of
 * its own accounts; everything else here is someone else's doing, for reconciliation to report.
 */
import type { AccessEntry } from './contract.js';

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

export const readGroupAccess = async (read: ReadMembers, groupDn: string, entitlement: string, rules: MemberRules): Promise<AccessEntry[]> => {
  const found = new Map<string, AccessEntry>();
  const add = (entry: AccessEntry) => { if (!found.has(entry.account)) found.set(entry.account, entry); };
  const visited = new Set<string>([groupDn.toLowerCase()]);
  const nested = async (dn: string, via: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || visited.has(dn.toLowerCase())) return;
    visited.add(dn.toLowerCase());
    for (const member of memberDns(await read(dn))) {
      if (rules.isPlaceholder(member)) continue;
      const uid = rules.accountOf(member);
      add({ account: uid ?? member, identityHandle: uid === null ? null : rules.handleOf(uid), entitlement, via, attributes: { dn: member } });
      if (uid === null) await nested(member, via, depth + 1);
    }
  };
  const group = await read(groupDn);
  for (const member of memberDns(group)) {
    if (rules.isPlaceholder(member)) continue;
    const uid = rules.accountOf(member);
    if (uid !== null) { found.set(uid, { account: uid, identityHandle: rules.handleOf(uid), entitlement, attributes: { dn: member } }); continue; }
    found.set(member, { account: member, identityHandle: null, entitlement, attributes: { dn: member } });
  }
  for (const uid of values(group, 'memberUid')) {
    found.set(`${MEMBER_UID}${uid}`, { account: `${MEMBER_UID}${uid}`, identityHandle: null, entitlement, attributes: { memberUid: uid } });
  }
  // Direct members first, so a member who is also reached through nesting is reported as direct.
  for (const member of memberDns(group)) if (!rules.isPlaceholder(member) && rules.accountOf(member) === null) await nested(member, member, 1);
  return [...found.values()];
};
