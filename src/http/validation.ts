import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler as zodValidatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { markValidated, textRuleBroken } from '../operations/input.js';

/** Deeper than any body Tenure accepts; a deeper one is refused by its schema anyway. */
const MAX_DEPTH = 32;

/**
 * The first string (value or key) in `data` that no field may hold: NUL, a control character other
 * than tab and line breaks, or a lone surrogate. Found by path, so the refusal names the field.
 */
const unstorable = (data: unknown, path: string[] = []): { field: string; rule: string } | undefined => {
  if (typeof data === 'string') {
    const rule = textRuleBroken(data, true);
    return rule ? { field: path.join('.') || '(input)', rule } : undefined;
  }
  if (typeof data !== 'object' || data === null || path.length > MAX_DEPTH) return undefined;
  for (const [key, value] of Object.entries(data)) {
    const keyRule = textRuleBroken(key, true);
    if (keyRule) return { field: [...path, '(a key)'].join('.'), rule: keyRule };
    const found = unstorable(value, [...path, key]);
    if (found) return found;
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
      return { error: new TenureError('input.invalid', `${found.field}: ${found.rule}`, { field: found.field, details: [found] }) };
    }
    const result = validate(data) as { value?: unknown; error?: Error };
    if (result.value !== undefined) markValidated(result.value, route.schema);
    return result;
  };
};
