/**
 * SCIM 2.0 connector (RFC 7643/7644): one SCIM User per identity (`<userNamePrefix><handle>`), and
 * each grant a membership of that user in a SCIM Group. Removing the identity's last grant on the
 * system deactivates the user (`active: false`) rather than deleting it, so the service keeps its
 * history and a later grant simply re-activates it. See docs/connectors-scim.md.
 *
 * The HTTP requests, and the bearer token with them, are scim-client.ts's; what a managed group
 * gives, nested groups and all, is scim-members.ts's.
 */
import { TenureError } from '../domain/errors.js';
import type { AccessEntry, AccountState, CheckResult, Connector, ConnectorGrant, ConnectorOutcome } from './contract.js';
import { quoted, ScimClient, USER_SCHEMA, type ScimGroup, type ScimUser } from './scim-client.js';
import { GROUP_ACCOUNT, ID_ACCOUNT, readManagedAccess } from './scim-members.js';

export interface ScimConfig {
  /** The SCIM base URL, e.g. `https://idp.example.com/scim/v2`. */
  baseUrl: string;
  /** A secret reference (`env:NAME` or `file:/path`) to the bearer token. */
  token: string;
  /**
   * The groups the connector may manage: entitlement target name to SCIM displayName, or a list of
   * displayNames used as target names too. Any other target name is refused.
   */
  groups: Record<string, string> | string[];
  /** Every user Tenure manages is `<userNamePrefix><handle>`; any other member of a managed group is reported as someone else's. */
  userNamePrefix?: string;
  timeoutMs?: number;
}

const invalid = (field: string, message: string) => new TenureError('input.invalid', message, { field });

const validateConfig = (config: ScimConfig): Map<string, string> => {
  let where: URL;
  try { where = new URL(config.baseUrl); } catch { throw invalid('baseUrl', 'baseUrl must be an absolute http(s) URL'); }
  if (!/^https?:$/.test(where.protocol)) throw invalid('baseUrl', 'baseUrl must be an absolute http(s) URL');
  const groups = new Map(Array.isArray(config.groups)
    ? config.groups.map((name) => [name, name] as const)
    : Object.entries(config.groups));
  if (groups.size === 0 || [...groups].some(([target, name]) => !target || !name)) {
    throw invalid('groups', 'groups must name the SCIM groups this connector may manage');
  }
  return groups;
};

const isMember = (group: ScimGroup, value: string): boolean => (group.members ?? []).some((member) => member.value === value);

export class ScimConnector implements Connector {
  readonly kind = 'scim';
  private readonly config: ScimConfig;
  private readonly groups: Map<string, string>;
  private readonly client: ScimClient;

  constructor(config: ScimConfig) {
    this.groups = validateConfig(config);
    this.config = config;
    this.client = new ScimClient(config.baseUrl, config.token, config.timeoutMs);
  }

  private get target(): string {
    return this.client.target;
  }

  /** The handle an account belongs to by the naming rule, or null when the prefix does not match. */
  handleOf(userName: string): string | null {
    const prefix = this.config.userNamePrefix ?? '';
    return userName.startsWith(prefix) && userName.length > prefix.length ? userName.slice(prefix.length) : null;
  }

  /** The SCIM userName of an identity. */
  userName(handle: string): string {
    if (!handle) throw invalid('identityHandle', 'the identity handle must not be empty');
    return `${this.config.userNamePrefix ?? ''}${handle}`;
  }

  /** Refuses unmanaged groups before any request, so a policy typo cannot hand out an arbitrary group. */
  private groupName(grant: ConnectorGrant): string {
    const name = this.groups.get(grant.targetName);
    if (name === undefined) {
      throw invalid('targetName', `${grant.entitlementKey}: group ${grant.targetName} is not one this connector manages`);
    }
    return name;
  }

  private async group(displayName: string): Promise<ScimGroup> {
    const group = await this.client.findGroup(displayName);
    if (!group) throw new Error(`the SCIM service at ${this.target} has no group ${displayName}`);
    return group;
  }

  /** Every user named by the rule; userName is case-insensitive in SCIM, so `sw` may match more than the prefix and is checked exactly here. */
  private async managedUsers(): Promise<ScimUser[]> {
    const prefix = this.config.userNamePrefix ?? '';
    const users = await this.client.listAll<ScimUser>('/Users', prefix ? `userName sw ${quoted(prefix)}` : undefined);
    return users.filter((user) => this.handleOf(user.userName) !== null);
  }

  async provision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    const userName = this.userName(grant.identityHandle);
    // The group first: a missing group must fail before a user is created for nothing.
    const group = await this.group(this.groupName(grant));
    let changed = false;
    let user = await this.client.findUser(userName);
    if (!user) {
      user = await this.client.request<ScimUser>('POST', '/Users', { schemas: [USER_SCHEMA], userName, active: true });
      if (!user?.id) throw new Error(`SCIM POST ${this.target}/Users returned no user id`);
      changed = true;
    } else if (user.active === false) {
      await this.client.setActive(user.id, true);
      changed = true;
    }
    if (!isMember(group, user.id)) {
      await this.client.patch('/Groups', group.id, [{ op: 'add', path: 'members', value: [{ value: user.id }] }]);
      changed = true;
    }
    return { changed };
  }

  async deprovision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    const userName = this.userName(grant.identityHandle);
    const displayName = this.groupName(grant);
    const user = await this.client.findUser(userName);
    if (!user) return { changed: false };
    const group = await this.group(displayName);
    let changed = false;
    if (isMember(group, user.id)) {
      await this.client.removeMember(group.id, user.id);
      changed = true;
    }
    // A service that omits `active` is taken as active, so the last removal always tries to deactivate.
    if (grant.lastOnSystem && user.active !== false) {
      await this.client.setActive(user.id, false);
      changed = true;
    }
    return { changed };
  }

  /** One membership read back after a removal: the user and the group, not every user of the service. */
  async holds(grant: ConnectorGrant): Promise<boolean> {
    const user = await this.client.findUser(this.userName(grant.identityHandle));
    if (!user) return false;
    return isMember(await this.group(this.groupName(grant)), user.id);
  }

  /** Every member of every managed group, whoever it is (see scim-members.ts); a group the service lacks gives nothing. */
  async listAccess(): Promise<AccessEntry[]> {
    const managed = new Map<string, ScimGroup>();
    for (const [targetName, displayName] of this.groups) {
      const group = await this.client.findGroup(displayName);
      if (group) managed.set(targetName, group);
    }
    const entries = await readManagedAccess(this.client, managed, await this.managedUsers(), (userName) => this.handleOf(userName));
    return entries.sort((a, b) => a.account.localeCompare(b.account) || a.entitlement.localeCompare(b.entitlement));
  }

  /**
   * Every user named by the rule, member or not: an active user is one that can sign in, whatever
   * its memberships. SCIM has no sign-in end, so validUntil is left out rather than read as "no end".
   */
  async listAccounts(): Promise<AccountState[]> {
    return (await this.managedUsers()).map((user) => ({
      account: user.userName, identityHandle: this.handleOf(user.userName)!, canLogin: user.active !== false,
    }));
  }

  /**
   * Removes a member someone added by hand to a managed group, named as listAccess names it: a
   * userName, `group:<displayName>` or `id:<value>`. Groups the connector does not manage are refused.
   */
  async revokeMembership(account: string, entitlement: string): Promise<ConnectorOutcome> {
    const displayName = this.groups.get(entitlement);
    if (displayName === undefined) throw invalid('entitlement', `group ${entitlement} is not one this connector manages`);
    const group = await this.group(displayName);
    const value = await this.memberValue(account);
    if (value === undefined || !isMember(group, value)) return { changed: false };
    await this.client.removeMember(group.id, value);
    return { changed: true };
  }

  /** The member value an account named by listAccess stands for; undefined when it no longer exists. */
  private async memberValue(account: string): Promise<string | undefined> {
    if (account.startsWith(ID_ACCOUNT)) return account.slice(ID_ACCOUNT.length);
    if (account.startsWith(GROUP_ACCOUNT)) return (await this.client.findGroup(account.slice(GROUP_ACCOUNT.length)))?.id;
    return (await this.client.findUser(account))?.id;
  }

  /**
   * Deactivates a user named by the rule (everyone else's sign-in is not Tenure's business). SCIM
   * users have no sign-in end, so only `until` null, no sign-in at all, can be carried out.
   */
  async restrictLogin(account: string, until: Date | null): Promise<ConnectorOutcome> {
    if (this.handleOf(account) === null) throw invalid('account', `${account} does not follow the naming rule of this connector`);
    if (until !== null) throw invalid('until', 'a SCIM user has no sign-in end: it is active or not');
    const user = await this.client.findUser(account);
    if (!user || user.active === false) return { changed: false };
    await this.client.setActive(user.id, false);
    return { changed: true };
  }

  async check(): Promise<CheckResult> {
    try {
      const config = await this.client.request<{ patch?: { supported?: boolean } }>('GET', '/ServiceProviderConfig');
      if (config?.patch?.supported !== true) {
        return { ok: false, detail: `the SCIM service at ${this.target} does not support PATCH, which the connector needs` };
      }
      const missing: string[] = [];
      for (const displayName of this.groups.values()) {
        if (!(await this.client.findGroup(displayName))) missing.push(displayName);
      }
      if (missing.length > 0) return { ok: false, detail: `the SCIM service at ${this.target} has no group ${missing.join(', ')}` };
      return { ok: true, detail: `SCIM service at ${this.target} answers, supports PATCH and has the ${this.groups.size} managed groups` };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }
}
