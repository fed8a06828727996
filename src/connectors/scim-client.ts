/**
 * The SCIM connector's HTTP side: plain `fetch`, no SCIM client library, so the bearer token stays
 * under our control. It is resolved on every request (a rotated file or variable takes effect at
 * once), goes only into the Authorization header, and is cut out of any error a service echoes.
 */
import { resolveSecretRef } from './secret-ref.js';

export interface ScimUser { id: string; userName: string; active?: boolean }
/** A group member: `type` is `User` or `Group` where the service says so; many leave it out. */
export interface ScimMember { value: string; type?: string; display?: string }
export interface ScimGroup { id: string; displayName: string; members?: ScimMember[] }
interface ListResponse<T> { totalResults?: number; startIndex?: number; Resources?: T[] }
type PatchOperation = { op: 'add' | 'remove' | 'replace'; path: string; value?: unknown };
export type ScimResource = '/Users' | '/Groups';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PAGE = 100;

/** A SCIM filter compares with a JSON string literal, so JSON quoting escapes quotes and backslashes. */
export const quoted = (value: string): string => JSON.stringify(value);

/** What messages say about the target: scheme, host and path, never userinfo or a query. */
export const describeTarget = (baseUrl: string): string => {
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

/** A request that failed with an HTTP status; the message never holds the token. */
class ScimRequestError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

export class ScimClient {
  /** The base URL as messages show it. */
  readonly target: string;

  constructor(baseUrl: string, private readonly tokenRef: string, private readonly timeoutMs = 10_000) {
    this.target = describeTarget(baseUrl);
  }

  /** One SCIM request; any failure throws, since the outbox treats a throw as a failed attempt to retry. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
    const token = resolveSecretRef(this.tokenRef, 'token');
    let response: Response;
    try {
      response = await fetch(`${this.target}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/scim+json', 'Content-Type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
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
    throw new ScimRequestError(`SCIM ${method} ${this.target}${path.split('?')[0]} ${what} (${response.status}): ${detail}`, response.status);
  }

  /** One resource by id (RFC 7644 3.4.1, which every service serves); undefined when the service has none. */
  async get<T>(resource: ScimResource, id: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', `${resource}/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof ScimRequestError && error.status === 404) return undefined;
      throw error;
    }
  }

  async findOne<T>(resource: ScimResource, filter: string): Promise<T | undefined> {
    const list = await this.request<ListResponse<T>>('GET', `${resource}?filter=${encodeURIComponent(filter)}`);
    const found = list?.Resources ?? [];
    if (found.length > 1) throw new Error(`SCIM ${resource} filter ${filter} matched ${found.length} resources, expected one`);
    return found[0];
  }

  /** Every resource matching the filter, page by page (services cap a page, scimmy at 20 by default). */
  async listAll<T>(resource: ScimResource, filter?: string): Promise<T[]> {
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

  async patch(resource: ScimResource, id: string, operations: PatchOperation[]): Promise<void> {
    await this.request('PATCH', `${resource}/${encodeURIComponent(id)}`, { schemas: [PATCH_SCHEMA], Operations: operations });
  }

  findUser(userName: string): Promise<ScimUser | undefined> {
    return this.findOne<ScimUser>('/Users', `userName eq ${quoted(userName)}`);
  }

  findGroup(displayName: string): Promise<ScimGroup | undefined> {
    return this.findOne<ScimGroup>('/Groups', `displayName eq ${quoted(displayName)}`);
  }

  /** Removes one member value from a group: the same PATCH for a user, a nested group or a stale id. */
  removeMember(groupId: string, value: string): Promise<void> {
    return this.patch('/Groups', groupId, [{ op: 'remove', path: `members[value eq ${quoted(value)}]` }]);
  }

  setActive(userId: string, active: boolean): Promise<void> {
    return this.patch('/Users', userId, [{ op: 'replace', path: 'active', value: active }]);
  }
}
