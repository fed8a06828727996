import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ERRORS, TenureError, type ErrorCode } from '../domain/errors.js';
import { isDatabaseUnavailable } from '../store/transient-errors.js';

/** RFC 9457 problem details, with Tenure's stable code, the field at fault and every issue found. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  field?: string;
  errors?: { field: string; rule: string }[];
  /** shared_account.checked_out: who holds it and until when. */
  holder?: { handle: string; grant: string; from: string; until: string | null };
}

export const PROBLEM_TYPE_BASE = 'https://github.com/tenure-dev/tenure/blob/main/docs/errors.md#';

export const problemOf = (error: TenureError): Problem => {
  const entry = ERRORS[error.code];
  const problem: Problem = {
    type: `${PROBLEM_TYPE_BASE}${error.code.replace(/[._]/g, '-')}`, title: entry.title, status: entry.status,
    detail: error.message, code: error.code,
  };
  if (error.field !== undefined) problem.field = error.field;
  if (Array.isArray(error.details)) problem.errors = error.details as Problem['errors'];
  const holder = error.code === 'shared_account.checked_out' ? (error.details as { holder?: Problem['holder'] } | undefined)?.holder : undefined;
  if (holder) problem.holder = holder;
  return problem;
};

const fromSchemaValidation = (error: FastifyError): TenureError | undefined => {
  if (!hasZodFastifySchemaValidationErrors(error)) return undefined;
  const issues = error.validation.map((v) => {
    const path = v.instancePath.split('/').filter(Boolean).join('.');
    const keys = (v.params as { keys?: unknown }).keys;
    const unknownKey = Array.isArray(keys) && keys.length > 0 ? [path, String(keys[0])].filter(Boolean).join('.') : undefined;
    const field = unknownKey ?? (path || `(${error.validationContext ?? 'input'})`);
    return { field, rule: unknownKey ? 'is not a known field' : (v.message ?? 'is not valid') };
  });
  const first = issues[0]!;
  return new TenureError('input.invalid', `${first.field}: ${first.rule}`, { field: first.field, details: issues });
};

/** Fastify's own refusals (bad JSON, too large, wrong media type) in the same vocabulary. */
const fromFramework = (error: FastifyError): TenureError | undefined => {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY': case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TenureError('input.malformed', 'the body is not well-formed JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE': case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TenureError('input.too_large', 'the body is larger than the service accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TenureError('input.unsupported_media_type', 'send bodies as application/json');
    default:
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && error.code?.startsWith('FST_ERR_CTP'))) {
    return new TenureError('input.malformed', 'the body could not be read');
  }
  return undefined;
};

/** The database's trouble is the service's, for now: the caller may retry, and nothing about the request is wrong. */
const fromDatabase = (error: unknown): TenureError | undefined => (isDatabaseUnavailable(error)
  ? new TenureError('service.unavailable', 'the database could not be reached; retry after the time in Retry-After')
  : undefined);

export const toTenureError = (error: unknown): TenureError => {
  if (error instanceof TenureError) return error;
  const fastifyError = error as FastifyError;
  return fromSchemaValidation(fastifyError) ?? fromFramework(fastifyError) ?? fromDatabase(error) ?? new TenureError('internal', 'internal error');
};

/** Seconds a client waits before retrying a 503: long enough for a failover or a restart to progress. */
export const RETRY_AFTER_SECONDS = 5;

export const sendProblem = (reply: FastifyReply, error: TenureError) => {
  const status = ERRORS[error.code].status;
  if (status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(status).type('application/problem+json').send(problemOf(error));
};

/**
 * Errors Fastify's router raises before any route runs (a path that does not decode as UTF-8, a
 * path parameter over maxParamLength) skip the error handler: they get the same vocabulary here.
 */
export const frameworkErrors = (error: FastifyError, _request: unknown, reply: FastifyReply) => {
  const rule = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is longer than any id or key' : 'the path is not valid UTF-8';
  return sendProblem(reply, error.statusCode !== undefined && error.statusCode < 500
    ? new TenureError('input.invalid', `(path): ${rule}`, { field: '(path)', details: [{ field: '(path)', rule }] })
    : new TenureError('internal', 'internal error'));
};

/**
 * Every error leaves as application/problem+json. Only unexpected errors are logged, by message and
 * stack: request headers and bodies (which may hold tokens) are never part of a log line.
 */
export const installProblemHandler = (app: FastifyInstance): void => {
  app.setErrorHandler((error, request, reply) => {
    let tenureError: TenureError;
    try {
      tenureError = toTenureError(error);
    } catch {
      tenureError = new TenureError('internal', 'internal error');
    }
    if (tenureError.code === 'internal') request.log.error({ err: error }, 'unexpected error');
    // The message only (a driver's error names host and port, never the password): the stack says nothing more.
    if (tenureError.code === 'service.unavailable') request.log.warn({ cause: (error as Error).message }, 'database unavailable');
    return sendProblem(reply, tenureError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new TenureError('route.not_found', `no route ${request.method} ${request.url.split('?')[0]}`)));
};
