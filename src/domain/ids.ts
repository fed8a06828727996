import { randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

/**
 * A reference (`ref` in inputs and paths) names an id only when it is UUID-shaped, else a handle or
 * key; so no handle or key may be UUID-shaped, or one reference could name two things. Schemas use
 * this pattern (a negative look-ahead) so it also appears in the OpenAPI document.
 */
export const NOT_UUID_SHAPED = /^(?![0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)/i;
export const NOT_UUID_RULE = 'must not be shaped like an id (a UUID): references that look like ids name ids';
