import createClient from 'openapi-fetch';
import type { paths } from './schema';

/** The API, typed from its OpenAPI document; the browser's session cookie authenticates every call. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

/** An application/problem+json answer (RFC 9457) with Tenure's stable code and, often, the field at fault. */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  field?: string;
  errors?: { field: string; rule: string }[];
}

export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

const toProblem = (error: unknown, response: Response): Problem => {
  if (error && typeof error === 'object' && 'detail' in error && 'code' in error) return error as Problem;
  // Not one of ours (a proxy's error page, the network): still say something useful.
  return { status: response.status, code: 'unknown', title: response.statusText || 'Error', detail: `the server answered ${response.status}` };
};

/**
 * Unwraps an openapi-fetch answer: the data, or an ApiProblem thrown with the problem details, so
 * pages handle every failure in one place. A failed network call becomes a problem too.
 */
export const unwrap = async <T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> => {
  let result: Awaited<typeof call>;
  try {
    result = await call;
  } catch {
    throw new ApiProblem({ status: 0, code: 'network', title: 'Network error', detail: 'Tenure could not be reached; check your connection and try again' });
  }
  if (result.error !== undefined || !result.response.ok) throw new ApiProblem(toProblem(result.error, result.response));
  return result.data as T;
};

export const problemOf = (error: unknown): Problem =>
  error instanceof ApiProblem ? error.problem
    : { status: 0, code: 'internal', title: 'Error', detail: error instanceof Error ? error.message : String(error) };

/** The problem's message for one form field: `field` is the name the API uses (entitlement, endsAt, comment). */
export const fieldError = (problem: Problem | undefined, ...fields: string[]): string | undefined => {
  if (!problem) return undefined;
  const issue = problem.errors?.find((e) => fields.some((f) => e.field === f || e.field.endsWith(`.${f}`)));
  if (issue) return `${issue.rule}`;
  return problem.field !== undefined && fields.includes(problem.field) ? problem.detail : undefined;
};

/** JSON body of a 200 answer of `path` and `method`, for naming the shapes pages show. */
export type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: { content: { 'application/json': infer T } } };
} ? T : never;

export type Me = Ok<'/v1/me', 'get'>;
export type RequestView = Ok<'/v1/requests', 'get'>['items'][number];
export type GrantView = Ok<'/v1/grants', 'get'>['items'][number];
export type CatalogueItem = Ok<'/v1/catalogue', 'get'>['items'][number];
export type AuditEvent = Ok<'/v1/audit/events', 'get'>['items'][number];
export type Finding = Ok<'/v1/findings', 'get'>['items'][number];
export type ReviewItem = Ok<'/v1/reviews/items', 'get'>['items'][number];
export type BreakGlassReview = Ok<'/v1/breakglass/reviews', 'get'>['items'][number];
export type Engagement = Ok<'/v1/engagements', 'get'>['items'][number];
export type Identity = Ok<'/v1/identities/{identity}', 'get'>;
export type SystemView = Ok<'/v1/systems', 'get'>['items'][number];
export type RevocationLag = Ok<'/v1/stats/revocation-lag', 'get'>;
export type ProxySession = Ok<'/v1/proxy-sessions', 'get'>['items'][number];
export type ProxySessionDetail = Ok<'/v1/proxy-sessions/{session}', 'get'>;
