import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TenureError } from '../src/domain/errors.js';
import { ROLES, type IdentityRow } from '../src/domain/model.js';
import { PERMISSIONS, type Permission } from '../src/domain/permissions.js';
import { may, refuseUnless, requireMayAct, requirePermission, requireVisible, type ActingIdentity } from '../src/operations/authorize.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const MODULE = 'operations/authorize.ts';
/** Where `allows` is defined and the error code registered: the two files besides the module that may name them. */
const DEFINITIONS = ['domain/permissions.ts', 'domain/errors.ts'];

const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
  const path = join(dir, entry.name);
  if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sources(path);
  return entry.name.endsWith('.ts') ? [path] : [];
});

/** Ways of deciding authorisation by hand, each with what to use instead. */
const BY_HAND: [pattern: RegExp, instead: string][] = [
  [/\ballows\s*\(|import\s*{[^}]*\ballows\b[^}]*}\s*from/, 'may() or requirePermission() from the access module'],
  [/['"`]actor\.forbidden['"`]/, 'requirePermission(), refuseUnless() or requireMayAct()'],
  [/\bmay\s*\([^;]*\bthrow\b|\bthrow\b[^;]*\bmay\s*\(/, 'requirePermission() or requireVisible(), not a throw beside may()'],
];

const acting = (roles: string[], handle = 'pat'): ActingIdentity => ({ identity: { id: 'id-of-pat', handle } as IdentityRow, roles });
const notFound = () => new TenureError('request.not_found', "no request 'x'", { field: 'request' });
const outcome = (check: () => void): string => {
  try {
    check();
    return 'ok';
  } catch (error) {
    if (error instanceof TenureError) return error.code;
    throw error;
  }
};

describe('the authorisation module', () => {
  it('authorisation is decided only by the access module', () => {
    const offences: string[] = [];
    for (const path of sources(SRC)) {
      const file = relative(SRC, path).split('\\').join('/');
      if (file === MODULE || DEFINITIONS.includes(file)) continue;
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        for (const [pattern, instead] of BY_HAND) if (pattern.test(line)) offences.push(`src/${file}:${i + 1}: use ${instead}: ${line.trim()}`);
      });
    }
    assert.deepEqual(offences, [], 'authorisation written outside src/operations/authorize.ts');
  });

  it('a missing permission is refused in one shape, "<handle> may not <permission>", with the field when one is named', () => {
    assert.throws(() => requirePermission(acting(['auditor'], 'audrey'), 'policy.apply', 'path'),
      (e: unknown) => e instanceof TenureError && e.code === 'actor.forbidden' && e.message === 'audrey may not policy.apply' && e.field === 'path');
    assert.doesNotThrow(() => requirePermission(acting(['security']), 'policy.apply'));
  });

  it('nobody without a role may anything: deny by default', () => {
    for (const permission of Object.keys(PERMISSIONS) as Permission[]) assert.equal(may(acting([]), permission), false, permission);
    assert.equal(may(acting(['no_such_role']), 'audit.read'), false);
  });

  const READ_ALL: Permission[] = ['request.read_all', 'grant.read_all', 'identity.read_all', 'review.read_all', 'breakglass.read_all'];
  for (const readAll of READ_ALL) {
    for (const role of [...ROLES, 'none']) {
      const holds = (PERMISSIONS[readAll] as readonly string[]).includes(role);
      const roles = role === 'none' ? [] : [role];
      it(`${readAll}, role ${role}: the involved see it; ${holds ? 'so does this reader of all' : 'an outsider is told it does not exist'}`, () => {
        assert.equal(outcome(() => requireVisible(acting(roles), true, readAll, notFound)), 'ok');
        assert.equal(outcome(() => requireVisible(acting(roles), false, readAll, notFound)), holds ? 'ok' : 'request.not_found');
        const act = (allowed: boolean) => outcome(() => requireMayAct(acting(roles), { allowed, readAll, notFound, refusal: 'only the requester' }));
        assert.equal(act(true), 'ok');
        assert.equal(act(false), holds ? 'actor.forbidden' : 'request.not_found', 'acting: only a reader of all learns it exists');
      });
    }
  }

  it('a refusal by the actor\'s part in the object says who may, with its field', () => {
    assert.doesNotThrow(() => refuseUnless(true, 'only the assigned reviewer decides this item', 'item'));
    assert.throws(() => refuseUnless(false, 'only the assigned reviewer decides this item', 'item'),
      (e: unknown) => e instanceof TenureError && e.code === 'actor.forbidden' && e.field === 'item' && /only the assigned reviewer/.test(e.message));
  });
});
