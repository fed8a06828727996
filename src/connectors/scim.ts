/**
 * SCIM 2.0 connector (RFC 7643/7644): one SCIM User per identity (`<userNamePrefix><handle>`), and
 * each grant a membership of that user in a SCIM Group. Removing the identity's last grant on the
 * system deactivates the user (`active: false`) rather than deleting it, so the service keeps its
 * history and a later grant simply re-activates it. See docs/connectors-scim.md.
 *
 * Plain `fetch`, no SCIM client library: the connector needs five requests, and owning them keeps
 * the bearer token under our control (it goes in a header and never into a message).
 */
import { TenureError } from '../domain/errors.js';
import type { AccessEntry, CheckResult, Connector, ConnectorGrant, ConnectorOutcome } from './contract.js';
import { resolveSecretRef } from './secret-ref.js';

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
  /** Every user Tenure manages is `<userNamePrefix><handle>`; listAccess looks at these only. */
  userNamePrefix?: string;
  timeoutMs?: number;
}

interface ScimUser { id: string; userName: string; active?: boolean }
interface ScimGroup { id: string; displayName: string; members?: { value: string }[] }
interface ListResponse<T> { totalResults?: number; startIndex?: number; Resources?: T[] }
type PatchOperation = { op: 'add' | 'remove' | 'replace'; path: string; value?: unknown };

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PAGE = 100;

const invalid = (field: string, message: string) => new TenureError('input.invalid', message, { field });

/** A SCIM filter compares with a JSON string literal, so JSON quoting escapes quotes and backslashes. */
const quoted = (value: string): string => JSON.stringify(value);

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

/** What messages say about the target: scheme, host and path, never userinfo or a query. */
const describeTarget = (baseUrl: string): string => {
  const url = new URL(baseUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
};

const scimDetail = (body: unknown): string => {
  const error = body as { schemas?: unknown; detail?: unknown; scimType?: unknown } | undefined;
  if (!Array.isArray(error?.schemas) || !error.schemas.includes(ERROR_SCHEMA)) return 'no SCIM error detail';
  return [error.scimType, error.detail].filter((part) => typeof part === 'string' && part).join(': ') || 'no SCIM error detail';
};

/** The response body as JSON; undefined when empty, and on errors also when it is not JSON (an HTML 404 page). */
const readJson = async (response: Response): Promise<unknown> => {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (!response.ok) return undefined;
    throw new Error(`the SCIM service answered ${response.status} with a body that is not JSON`, { cause: error });
  }
};

const isMember = (group: ScimGroup, userId: string): boolean => (group.members ?? []).some((member) => member.value === userId);

export class ScimConnector implements Connector {
  readonly kind = 'scim';
  private readonly config: ScimConfig;
  private readonly groups: Map<string, string>;
  private readonly target: string;

  constructor(config: ScimConfig) {
    this.groups = validateConfig(config);
    this.config = config;
    this.target = describeTarget(config.baseUrl);
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

  /** One SCIM request; any failure throws, since the outbox treats a throw as a failed attempt to retry. */
  private async request<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
    const token = resolveSecretRef(this.config.token, 'token');
    let response: Response;
    try {
      response = await fetch(`${this.target}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/scim+json', 'Content-Type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new Error(`cannot reach the SCIM service at ${this.target}: ${cause}`);
    }
    const parsed = await readJson(response);
    if (response.ok) return parsed as T | undefined;
    const what = response.status === 401 || response.status === 403 ? 'refused the connector\'s token' : 'failed';
    // Some services echo request headers in errors; the token must still never reach a message.
    const detail = scimDetail(parsed).split(token).join('***');
    throw new Error(`SCIM ${method} ${this.target}${path.split('?')[0]} ${what} (${response.status}): ${detail}`);
  }

  private async findOne<T>(resource: '/Users' | '/Groups', filter: string): Promise<T | undefined> {
    const list = await this.request<ListResponse<T>>('GET', `${resource}?filter=${encodeURIComponent(filter)}`);
    const found = list?.Resources ?? [];
    if (found.length > 1) throw new Error(`SCIM ${resource} filter ${filter} matched ${found.length} resources, expected one`);
    return found[0];
  }

  /** Every resource matching the filter, page by page (services cap a page, scimmy at 20 by default). */
  private async listAll<T>(resource: '/Users' | '/Groups', filter?: string): Promise<T[]> {
    const all: T[] = [];
    const where = filter ? `&filter=${encodeURIComponent(filter)}` : '';
    for (;;) {
      const startIndex = all.length + 1;
      const page = await this.request<ListResponse<T>>('GET', `${resource}?startIndex=${startIndex}&count=${PAGE}${where}`);
      const items = page?.Resources ?? [];
      // A service ignoring startIndex would hand back the first page again and hide everyone after it.
      if (startIndex > 1 && items.length > 0 && page?.startIndex !== startIndex) {
        throw new Error(`the SCIM service at ${this.target} ignored startIndex=${startIndex} on ${resource}`);
      }
      all.push(...items);
      if (items.length === 0 || all.length >= (page?.totalResults ?? 0)) return all;
    }
  }

  private findUser(userName: string): Promise<ScimUser | undefined> {
    return this.findOne<ScimUser>('/Users', `userName eq ${quoted(userName)}`);
  }

  private async group(displayName: string): Promise<ScimGroup> {
    const group = await this.findOne<ScimGroup>('/Groups', `displayName eq ${quoted(displayName)}`);
    if (!group) throw new Error(`the SCIM service at ${this.target} has no group ${displayName}`);
    return group;
  }

  private async patch(resource: string, operations: PatchOperation[]): Promise<void> {
    await this.request('PATCH', resource, { schemas: [PATCH_SCHEMA], Operations: operations });
  }

  async provision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    const userName = this.userName(grant.identityHandle);
    // The group first: a missing group must fail before a user is created for nothing.
    const group = await this.group(this.groupName(grant));
    let changed = false;
    let user = await this.findUser(userName);
    if (!user) {
      user = await this.request<ScimUser>('POST', '/Users', { schemas: [USER_SCHEMA], userName, active: true });
      if (!user?.id) throw new Error(`SCIM POST ${this.target}/Users returned no user id`);
      changed = true;
    } else if (user.active === false) {
      await this.patch(`/Users/${encodeURIComponent(user.id)}`, [{ op: 'replace', path: 'active', value: true }]);
      changed = true;
    }
    if (!isMember(group, user.id)) {
      await this.patch(`/Groups/${encodeURIComponent(group.id)}`, [{ op: 'add', path: 'members', value: [{ value: user.id }] }]);
      changed = true;
    }
    return { changed };
  }

  async deprovision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    const userName = this.userName(grant.identityHandle);
    const displayName = this.groupName(grant);
    const user = await this.findUser(userName);
    if (!user) return { changed: false };
    const group = await this.group(displayName);
    let changed = false;
    if (isMember(group, user.id)) {
      await this.patch(`/Groups/${encodeURIComponent(group.id)}`, [{ op: 'remove', path: `members[value eq ${quoted(user.id)}]` }]);
      changed = true;
    }
    // A service that omits `active` is taken as active, so the last removal always tries to deactivate.
    if (grant.lastOnSystem && user.active !== false) {
      await this.patch(`/Users/${encodeURIComponent(user.id)}`, [{ op: 'replace', path: 'active', value: false }]);
      changed = true;
    }
    return { changed };
  }

  /** One membership read back after a removal: the user and the group, not every user of the service. */
  async holds(grant: ConnectorGrant): Promise<boolean> {
    const user = await this.findUser(this.userName(grant.identityHandle));
    if (!user) return false;
    return isMember(await this.group(this.groupName(grant)), user.id);
  }

  async listAccess(): Promise<AccessEntry[]> {
    const prefix = this.config.userNamePrefix ?? '';
    // userName is case-insensitive in SCIM, so `sw` may match more than the prefix; filter exactly here.
    const users = (await this.listAll<ScimUser>('/Users', prefix ? `userName sw ${quoted(prefix)}` : undefined))
      .filter((user) => user.userName.startsWith(prefix));
    const byId = new Map(users.map((user) => [user.id, user]));
    const entries: AccessEntry[] = [];
    for (const [targetName, displayName] of this.groups) {
      const group = await this.findOne<ScimGroup>('/Groups', `displayName eq ${quoted(displayName)}`);
      for (const member of group?.members ?? []) {
        const user = byId.get(member.value);
        if (user) entries.push({ account: user.userName, identityHandle: this.handleOf(user.userName), entitlement: targetName, attributes: { active: user.active !== false } });
      }
    }
    return entries.sort((a, b) => a.account.localeCompare(b.account) || a.entitlement.localeCompare(b.entitlement));
  }

  async check(): Promise<CheckResult> {
    try {
      const config = await this.request<{ patch?: { supported?: boolean } }>('GET', '/ServiceProviderConfig');
      if (config?.patch?.supported !== true) {
        return { ok: false, detail: `the SCIM service at ${this.target} does not support PATCH, which the connector needs` };
      }
      const missing: string[] = [];
      for (const displayName of this.groups.values()) {
        if (!(await this.findOne('/Groups', `displayName eq ${quoted(displayName)}`))) missing.push(displayName);
      }
      if (missing.length > 0) return { ok: false, detail: `the SCIM service at ${this.target} has no group ${missing.join(', ')}` };
      return { ok: true, detail: `SCIM service at ${this.target} answers, supports PATCH and has the ${this.groups.size} managed groups` };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }
}
