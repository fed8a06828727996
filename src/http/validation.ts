import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler as zodValidatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { markValidated, textRuleBroken } from '../operations/input.js';

/** Deeper than any body Tenure accepts; a deeper one is refused by its schema anyway. */
const MAX_DEPTH = 32;

/**
 * The first string (value or key) in `data` that no field may hold: NUL, a control character other
 * than tab and line breaks, or a lone surrogate. Found by path, so the refusal names the field; the
 * path is written only on the way back from a refusal, as nearly every request has none.
 */
const unstorable = (data: unknown, depth = 0): { path: string[]; rule: string } | undefined => {
  if (typeof data === 'string') {
    const rule = textRuleBroken(data, true);
    return rule ? { path: [], rule } : undefined;
  }
  if (typeof data !== 'object' || data === null || depth > MAX_DEPTH) return undefined;
  for (const key in data) {
    if (!Object.hasOwn(data, key)) continue;
    const keyRule = textRuleBroken(key, true);
    if (keyRule) return { path: ['(a key)'], rule: keyRule };
    const found = unstorable((data as Record<string, unknown>)[key], depth + 1);
    if (found) { found.path.unshift(key); return found; }
  }
  return undefined;
};

/**
 * Every route's body, query string and path parameters are parsed by their zod schema, as
 * fastify-type-provider-zod does, with two additions. First a net under the schemas: text that
 * PostgreSQL cannot store, or that is not Unicode, is refused wherever it is, even in a field a
 * schema leaves open (policy file contents, an OpenID provider's extra parameters). Then the parsed
 * value is marked as validated by its schema, so a use case given it does not parse it twice.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = (route) => {
  const validate = zodValidatorCompiler(route);
  return (data: unknown) => {
    const found = unstorable(data);
    if (found) {
      const field = found.path.join('.') || '(input)';
      return { error: new TenureError('input.invalid', `${field}: ${found.rule}`, { field, details: [{ field, rule: found.rule }] }) };
    }
    const result = validate(data) as { value?: unknown; error?: Error };
    if (result.value !== undefined) markValidated(result.value, route.schema);
    return result;
  };
};
