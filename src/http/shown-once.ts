import type { RouteOptions } from 'fastify';
import { z } from 'zod';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Fields of the success answer that hold a secret shown once (a token, a signing secret). They
     * are never kept anywhere, the idempotency store included: a replay answers them as null, with
     * `secretShownOnce: true`. A route whose answer has a secret-like field must declare it.
     */
    shownOnce?: readonly string[];
  }
}

export class UndeclaredSecretError extends Error {}

/** Field names that hold a secret in an answer; a route answering one must declare it in `shownOnce`. */
const SECRET_FIELD = /secret|password|private_?key|credential_?value/i;

/**
 * Every secret Tenure mints has a recognisable prefix and 256 random bits in base64url: API tokens
 * (tnr_), sessions (tns_), demo sign-in links (tnd_), target passwords (tnp_), webhook signing secrets (whsec_,
 * standard base64 with its padding since Standard Webhooks, base64url before). Anything of
 * that shape is replaced before an answer is stored, whatever field it sits in: the declaration
 * is the rule, this the net under it.
 */
const SECRET_SHAPE = /\b(?:tnr|tns|tnd|tnp|whsec)_[A-Za-z0-9+/_-]{43}=?/g;
export const REDACTED = '[secret shown once]';

const objectKeys = (schema: unknown): string[] => {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape as Record<string, unknown>);
  if (schema && typeof schema === 'object' && 'properties' in schema) return Object.keys((schema as { properties: object }).properties);
  return [];
};

/** At start-up: refuses a route whose success answer has a secret-like field it does not declare shown once. */
export const checkSecretDeclared = (route: RouteOptions): void => {
  const responses = (route.schema?.response ?? {}) as Record<string, unknown>;
  const declared = new Set((route.config as { shownOnce?: readonly string[] } | undefined)?.shownOnce ?? []);
  for (const [status, schema] of Object.entries(responses)) {
    if (!/^2/.test(status)) continue;
    const undeclared = objectKeys(schema).filter((key) => SECRET_FIELD.test(key) && key !== 'secretShownOnce' && !declared.has(key));
    if (undeclared.length > 0) {
      throw new UndeclaredSecretError(`route ${String(route.method)} ${route.url} answers ${undeclared.join(', ')} without declaring it shownOnce`);
    }
  }
};

/** The answer as it may be kept: declared secrets nulled (and said to be shown once), any secret-shaped text replaced. */
export const storableAnswer = (payload: string, statusCode: number, shownOnce: readonly string[] | undefined): unknown => {
  const body = JSON.parse(payload.replace(SECRET_SHAPE, REDACTED)) as unknown;
  if (statusCode >= 300 || !shownOnce?.length || !body || typeof body !== 'object' || Array.isArray(body)) return body;
  const kept: Record<string, unknown> = { ...body };
  for (const field of shownOnce) if (field in kept) kept[field] = null;
  return { ...kept, secretShownOnce: true };
};
