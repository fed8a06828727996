/**
 * LDAP groups connector: one inetOrgPerson entry per identity, `uid=<uidPrefix><handle>` under
 * `usersDn`, and each grant a `member` value of that entry's DN in a groupOfNames under `groupsDn`.
 * Works with any LDAPv3 directory keeping groups as groupOfNames (tested against OpenLDAP slapd).
 * See docs/connectors-ldap.md.
 *
 * Disabling on leave deletes the user entry. LDAP has no portable "disabled" flag: ppolicy's
 * pwdAccountLockedTime needs an overlay that may not be loaded, and removing userPassword does not
 * stop consumers that authenticate elsewhere (Kerberos, SSO) and only look the user up here. An
 * absent entry is honoured by every consumer: no bind, no lookup, no group resolution. Before the
 * delete the DN is also removed from any other group under `groupsDn`, since a later grant
 * recreates the same DN and would otherwise inherit memberships someone added by hand.
 *
 * Empty groups: groupOfNames requires at least one `member`. When the last real member leaves,
 * the same modify adds `groupsDn` itself as a placeholder member: an entry that exists (so
 * referential-integrity overlays accept it), is no person, and lies outside `usersDn` (so
 * listAccess ignores it). It stays afterwards; it grants nothing.
 *
 * The entry gets no password: how people authenticate is the directory's business (see
 * postgres-roles.ts); Tenure decides whether the entry exists and what it is a member of.
 */
import {
  AlreadyExistsError, Attribute, Change, Client, DN, EqualityFilter, InvalidCredentialsError, NoSuchAttributeError,
  NoSuchObjectError, ObjectClassViolationError, ResultCodeError, TypeOrValueExistsError,
} from 'ldapts';
import { TenureError } from '../domain/errors.js';
import type { AccessEntry, CheckResult, Connector, ConnectorGrant, ConnectorOutcome } from './contract.js';
import { MEMBER_ATTRIBUTES, MEMBER_UID, readGroupAccess, type MemberRules, type ReadMembers } from './ldap-members.js';
import { dnKey, parseDn, type Rdn } from './ldap-dn.js';
import { resolveSecretRef } from './secret-ref.js';

export interface LdapConfig {
  /** `ldap://host:port` or `ldaps://host:port`. */
  url: string;
  /** The DN the connector binds as. */
  bindDn: string;
  /** A secret reference (`env:NAME` or `file:/path`) to the bind password. */
  bindPassword: string;
  /** Where Tenure's user entries live, e.g. `ou=people,dc=example,dc=com`. */
  usersDn: string;
  /** Where the managed groupOfNames entries live, e.g. `ou=groups,dc=example,dc=com`. */
  groupsDn: string;
  /** Entitlement target name to group cn, or a list of cns used as target names too. */
  groups: Record<string, string> | string[];
  /** Every user Tenure manages is `uid=<uidPrefix><handle>`; any other member of a managed group is reported as someone else's. */
  uidPrefix?: string;
  timeoutMs?: number;
}

const USER_CLASSES = ['top', 'person', 'organizationalPerson', 'inetOrgPerson'];

const invalid = (field: string, message: string) => new TenureError('input.invalid', message, { field });

/** Values a DN can hold but the connector will not build one from (ldapts would quote them, LDAPv2 style). */
const unsafeValue = (value: string): boolean => !value || value !== value.trim() || /\p{Cc}/u.test(value);

const validateConfig = (config: LdapConfig): Map<string, string> => {
  let where: URL | undefined;
  try { where = new URL(config.url); } catch { /* reported below */ }
  if (!where || !/^ldaps?:$/.test(where.protocol) || !where.hostname || where.username || where.password
    || where.search || !['', '/'].includes(where.pathname)) {
    throw invalid('url', 'url must be ldap://host:port or ldaps://host:port');
  }
  for (const field of ['bindDn', 'usersDn', 'groupsDn'] as const) {
    try { parseDn(config[field]); } catch { throw invalid(field, `${field} must be a DN such as ou=people,dc=example,dc=com`); }
  }
  const prefix = config.uidPrefix ?? '';
  if (prefix !== prefix.trimStart() || /\p{Cc}/u.test(prefix)) {
    throw invalid('uidPrefix', 'uidPrefix must not start with a space or hold control characters');
  }
  if (config.timeoutMs !== undefined && !(Number.isInteger(config.timeoutMs) && config.timeoutMs > 0)) {
    throw invalid('timeoutMs', 'timeoutMs must be a positive whole number of milliseconds');
  }
  const groups = new Map(Array.isArray(config.groups)
    ? config.groups.map((cn) => [cn, cn] as const)
    : Object.entries(config.groups));
  if (groups.size === 0 || [...groups].some(([target, cn]) => !target || unsafeValue(cn))) {
    throw invalid('groups', 'groups must name the group cns this connector may manage');
  }
  return groups;
};

/** Error text for messages: the LDAP result name and code, and the server's own words when it gave any. */
const ldapReason = (error: unknown): string => {
  if (!(error instanceof ResultCodeError)) return error instanceof Error ? error.message : String(error);
  const said = error.message.replace(/\s*Code: 0x[0-9a-f]+$/, '').trim();
  return `${error.name} (${error.code})${said ? `: ${said}` : ''}`;
};

export class LdapConnector implements Connector {
  readonly kind = 'ldap';
  private readonly config: LdapConfig;
  private readonly groups: Map<string, string>;
  private readonly usersKey: string;

  constructor(config: LdapConfig) {
    this.groups = validateConfig(config);
    this.config = config;
    this.usersKey = dnKey(parseDn(config.usersDn));
  }

  /** The handle an account belongs to by the naming rule, or null when the prefix does not match. */
  handleOf(uid: string): string | null {
    const prefix = this.config.uidPrefix ?? '';
    return uid.startsWith(prefix) && uid.length > prefix.length ? uid.slice(prefix.length) : null;
  }

  /** The entry's DN, its uid escaped by ldapts; usersDn is configuration, not input. */
  userDn(handle: string): string {
    if (unsafeValue(handle)) {
      throw invalid('identityHandle', 'the identity handle must be non-empty, without control characters or surrounding spaces');
    }
    return `${new DN({ uid: `${this.config.uidPrefix ?? ''}${handle}` }).toString()},${this.config.usersDn}`;
  }

  private groupDn(cn: string): string {
    return `${new DN({ cn }).toString()},${this.config.groupsDn}`;
  }

  /** Refuses unmanaged groups before any request, so a policy typo cannot hand out an arbitrary group. */
  private groupOf(grant: ConnectorGrant): string {
    const cn = this.groups.get(grant.targetName);
    if (cn === undefined) {
      throw invalid('targetName', `${grant.entitlementKey}: group ${grant.targetName} is not one this connector manages`);
    }
    return this.groupDn(cn);
  }

  /** The uid of a member DN that is a managed account (under usersDn, with the prefix), else null. */
  private accountOf(memberDn: string): string | null {
    let rdns: Rdn[];
    try { rdns = parseDn(memberDn); } catch { return null; }
    const [first, ...parent] = rdns;
    const [type, uid] = first?.length === 1 ? first[0]! : [];
    if (type !== 'uid' || uid === undefined || dnKey(parent) !== this.usersKey) return null;
    return uid.startsWith(this.config.uidPrefix ?? '') ? uid : null;
  }

  /**
   * Binds, runs `work`, unbinds. Every failure throws (the outbox retries a throw); the password
   * is resolved here only and cut out of any message, in case a server ever echoes it.
   */
  private async session<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const password = resolveSecretRef(this.config.bindPassword, 'bindPassword');
    const timeout = this.config.timeoutMs ?? 10_000;
    const client = new Client({ url: this.config.url, timeout, connectTimeout: timeout });
    const scrub = (message: string) => message.split(password).join('***');
    try {
      try {
        await client.bind(this.config.bindDn, password);
      } catch (error) {
        if (error instanceof InvalidCredentialsError) {
          throw new Error(`the LDAP directory at ${this.config.url} refused the bind as ${this.config.bindDn}: ${ldapReason(error)}`);
        }
        if (error instanceof ResultCodeError) throw new Error(`LDAP bind as ${this.config.bindDn} failed: ${ldapReason(error)}`);
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new Error(`cannot reach the LDAP directory at ${this.config.url}: ${code}`);
      }
      return await work(client);
    } catch (error) {
      if (error instanceof Error && !error.message.includes(password)) throw error;
      throw new Error(scrub(ldapReason(error)));
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** Runs one LDAP operation, naming it and its DN when it fails; `expected` errors give `fallback`. */
  private async op<T>(
    what: string, dn: string, run: () => Promise<T>, expected: (new (...args: never[]) => Error)[] = [], fallback?: T,
  ): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (expected.some((type) => error instanceof type)) return fallback as T;
      throw new Error(`LDAP ${what} ${dn} at ${this.config.url} failed: ${ldapReason(error)}`, { cause: error });
    }
  }

  /** Whether the group lists `userDn`, compared by the server's DN matching; throws when the group is missing. */
  private async isMember(client: Client, groupDn: string, userDn: string): Promise<boolean> {
    const filter = new EqualityFilter({ attribute: 'member', value: userDn });
    try {
      const { searchEntries } = await client.search(groupDn, { scope: 'base', filter, attributes: ['1.1'] });
      return searchEntries.length > 0;
    } catch (error) {
      if (error instanceof NoSuchObjectError) throw new Error(`the LDAP directory at ${this.config.url} has no group ${groupDn}`);
      throw new Error(`LDAP search ${groupDn} at ${this.config.url} failed: ${ldapReason(error)}`, { cause: error });
    }
  }

  private exists(client: Client, dn: string): Promise<boolean> {
    const read = async () => (await client.search(dn, { scope: 'base', attributes: ['1.1'] })).searchEntries.length > 0;
    return this.op('search', dn, read, [NoSuchObjectError], false);
  }

  /** Removes one member value; if the group would be left empty, the placeholder goes in in the same modify. */
  private async removeMember(client: Client, groupDn: string, userDn: string): Promise<boolean> {
    const remove = new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [userDn] }) });
    try {
      await client.modify(groupDn, remove);
      return true;
    } catch (error) {
      if (error instanceof NoSuchAttributeError) return false; // someone else removed it meanwhile
      if (!(error instanceof ObjectClassViolationError)) {
        throw new Error(`LDAP modify ${groupDn} at ${this.config.url} failed: ${ldapReason(error)}`, { cause: error });
      }
    }
    const placeholder = new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [this.config.groupsDn] }) });
    return this.op('modify', groupDn, async () => { await client.modify(groupDn, [placeholder, remove]); return true; });
  }

  async provision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    const userDn = this.userDn(grant.identityHandle);
    const groupDn = this.groupOf(grant);
    return this.session(async (client) => {
      // The group first: a missing group must fail before an entry is created for nothing.
      const member = await this.isMember(client, groupDn, userDn);
      let changed = false;
      if (!(await this.exists(client, userDn))) {
        const uid = `${this.config.uidPrefix ?? ''}${grant.identityHandle}`;
        const entry = { objectClass: USER_CLASSES, uid, cn: grant.identityHandle, sn: grant.identityHandle, description: 'Managed by Tenure' };
        const create = async () => { await client.add(userDn, entry); return true; };
        changed = await this.op('add', userDn, create, [AlreadyExistsError], false);
      }
      if (!member) {
        const add = new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [userDn] }) });
        const join = async () => { await client.modify(groupDn, add); return true; };
        changed = (await this.op('modify', groupDn, join, [TypeOrValueExistsError], false)) || changed;
      }
      return { changed };
    });
  }

  async deprovision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    const userDn = this.userDn(grant.identityHandle);
    const groupDn = this.groupOf(grant);
    return this.session(async (client) => {
      // Membership is removed even without the entry: a dangling value would grant access to a recreated entry.
      let changed = (await this.isMember(client, groupDn, userDn)) && (await this.removeMember(client, groupDn, userDn));
      if (grant.lastOnSystem && (await this.exists(client, userDn))) {
        const filter = new EqualityFilter({ attribute: 'member', value: userDn });
        const { searchEntries } = await this.op('search', this.config.groupsDn,
          () => client.search(this.config.groupsDn, { scope: 'sub', filter, attributes: ['1.1'] }));
        for (const group of searchEntries) await this.removeMember(client, group.dn, userDn);
        const remove = async () => { await client.del(userDn); return true; };
        changed = (await this.op('delete', userDn, remove, [NoSuchObjectError], false)) || changed;
      }
      return { changed };
    });
  }

  /** One membership read back after a removal: the server's own `(member=<DN>)` match on the group. */
  async holds(grant: ConnectorGrant): Promise<boolean> {
    const userDn = this.userDn(grant.identityHandle);
    const groupDn = this.groupOf(grant);
    return this.session((client) => this.isMember(client, groupDn, userDn));
  }

  async listAccess(): Promise<AccessEntry[]> {
    return this.session(async (client) => {
      // A missing entry holds no access (check() reports a missing group); a DN that is no entry lists nothing.
      const read: ReadMembers = async (dn) => {
        const search = async () => (await client.search(dn, { scope: 'base', attributes: MEMBER_ATTRIBUTES })).searchEntries[0];
        return this.op('search', dn, search, [NoSuchObjectError], undefined);
      };
      const placeholder = dnKey(parseDn(this.config.groupsDn));
      const rules: MemberRules = {
        accountOf: (dn) => this.accountOf(dn), handleOf: (uid) => this.handleOf(uid),
        isPlaceholder: (dn) => { try { return dnKey(parseDn(dn)) === placeholder; } catch { return false; } },
      };
      const entries: AccessEntry[] = [];
      for (const [targetName, cn] of this.groups) entries.push(...await readGroupAccess(read, this.groupDn(cn), targetName, rules));
      return entries.sort((a, b) => a.account.localeCompare(b.account) || a.entitlement.localeCompare(b.entitlement));
    });
  }

  /**
   * Removes a value someone added by hand to a managed group: a member or uniqueMember DN, or a
   * memberUid (named `memberUid:<uid>` by listAccess). Groups the connector does not manage are refused.
   */
  async revokeMembership(account: string, entitlement: string): Promise<ConnectorOutcome> {
    const cn = this.groups.get(entitlement);
    if (cn === undefined) throw invalid('entitlement', `group ${entitlement} is not one this connector manages`);
    const groupDn = this.groupDn(cn);
    return this.session(async (client) => {
      if (account.startsWith(MEMBER_UID)) {
        const change = new Change({ operation: 'delete', modification: new Attribute({ type: 'memberUid', values: [account.slice(MEMBER_UID.length)] }) });
        return { changed: await this.op('modify', groupDn, async () => { await client.modify(groupDn, change); return true; }, [NoSuchAttributeError], false) };
      }
      const unique = new Change({ operation: 'delete', modification: new Attribute({ type: 'uniqueMember', values: [account] }) });
      const changedUnique = await this.op('modify', groupDn, async () => { await client.modify(groupDn, unique); return true; }, [NoSuchAttributeError], false);
      const changedMember = (await this.isMember(client, groupDn, account)) && (await this.removeMember(client, groupDn, account));
      return { changed: changedUnique || changedMember };
    });
  }

  async check(): Promise<CheckResult> {
    try {
      return await this.session(async (client) => {
        const where = `the LDAP directory at ${this.config.url}`;
        if (!(await this.exists(client, this.config.groupsDn))) return { ok: false, detail: `${where} has no entry ${this.config.groupsDn}` };
        const missing: string[] = [];
        for (const cn of this.groups.values()) if (!(await this.exists(client, this.groupDn(cn)))) missing.push(cn);
        if (missing.length > 0) return { ok: false, detail: `${where} has no group ${missing.join(', ')} under ${this.config.groupsDn}` };
        return { ok: true, detail: `${where} accepts the bind as ${this.config.bindDn} and has the ${this.groups.size} managed groups` };
      });
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }
}
