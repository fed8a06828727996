/**
 * Policy tests: `<policy>.tests.yaml` beside a policy file (or every `*.tests.yaml` in a policy
 * folder) says what the policy must do, as cases a security team can read: who a request goes to,
 * what is refused and why, what a hire gets by birthright, who may not approve a stage.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { STAGE_KINDS } from '../domain/model.js';
import { isPolicyTestsFile, type PolicySource, type PolicyText } from './load.js';

const handle = z.string().min(1).max(64);

const requestCase = z.strictObject({
  /** Who files it; the beneficiary by default. */
  as: handle.optional(),
  beneficiary: handle,
  entitlement: z.string().min(1),
  duration: z.string().min(1).default('1h'),
  ticket: z.string().min(1).optional(),
  justification: z.string().min(1).default('policy test'),
});

export const policyTestCase = z.strictObject({
  name: z.string().min(1).max(300),
  request: requestCase.optional(),
  /** With `request`: every earlier stage is approved by an eligible approver, then `as` tries this stage. */
  approve: z.strictObject({ as: handle, stage: z.enum(STAGE_KINDS) }).optional(),
  /** A hire's HR attributes, as the feed gives them: what the access profiles give by birthright. */
  birthright: z.strictObject({
    department: z.string().optional(), title: z.string().optional(), location: z.string().optional(), employment_class: z.string().optional(),
  }).optional(),
  /** A decision point check (`POST /v1/check`): `holds` gives the identity the grant first; `at` fixes the time (for hours). */
  check: z.strictObject({
    identity: handle, entitlement: z.string().min(1), holds: z.boolean().default(false), at: z.iso.datetime({ offset: true }).optional(),
    context: z.strictObject({
      mfa: z.boolean().optional(), mfaAt: z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)).optional(),
      trustedDevice: z.boolean().optional(), ticket: z.string().optional(),
      sourceAddress: z.union([z.ipv4(), z.ipv6()]).optional(), interactive: z.boolean().optional(),
    }).optional(),
  }).optional(),
  expect: z.strictObject({
    decision: z.enum(['allow', 'deny']).optional(),
    reason: z.string().min(1).optional(),
    route: z.array(z.enum(STAGE_KINDS)).optional(),
    refused: z.string().min(1).optional(),
    allowed: z.literal(true).optional(),
    entitlements: z.array(z.string()).optional(),
  }).refine((e) => Object.values(e).some((v) => v !== undefined), 'must expect something: a route, refused, allowed, entitlements or a decision'),
}).refine((c) => [c.request, c.birthright, c.check].filter(Boolean).length === 1, 'give exactly one of request, birthright or check')
  .refine((c) => !c.approve || c.request, { message: 'approve needs the request it acts on', path: ['approve'] });

/** At most 500 cases a file: they run in one transaction, holding what the use cases lock until the last one. */
export const policyTestsFile = z.strictObject({ version: z.literal(1), tests: z.array(policyTestCase).min(1).max(500) });

export type PolicyTestCase = z.output<typeof policyTestCase>;
export interface LoadedTests { file: string; cases: PolicyTestCase[] }

/** The tests files of a policy source: the sibling of a file, the `*.tests.yaml` of a folder, or those sent as text. */
const testTexts = async (source: PolicySource): Promise<PolicyText[]> => {
  if (typeof source !== 'string') return source.filter((t) => isPolicyTestsFile(t.name));
  const info = await stat(source).catch(() => undefined);
  if (!info) return [];
  const names = info.isDirectory()
    ? (await readdir(source)).filter(isPolicyTestsFile).sort().map((n) => join(source, n))
    : [join(dirname(source), basename(source).replace(/\.ya?ml$/i, '.tests.yaml'))];
  const texts: PolicyText[] = [];
  for (const name of names) {
    const content = await readFile(name, 'utf8').catch(() => undefined);
    if (content !== undefined) texts.push({ name, content });
  }
  return texts;
};

/** Every tests file of the policy, parsed; a malformed one is refused with its file and field. */
export const loadPolicyTests = async (source: PolicySource): Promise<LoadedTests[]> => {
  const loaded: LoadedTests[] = [];
  for (const text of await testTexts(source)) {
    let data: unknown;
    try {
      data = parse(text.content, { maxAliasCount: 100 });
    } catch (error) {
      throw new TenureError('policy.invalid', `${text.name}: not YAML: ${(error as Error).message}`, { field: 'tests' });
    }
    const result = policyTestsFile.safeParse(data);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new TenureError('policy.invalid', `${text.name}: ${issue.path.join('.') || '(file)'}: ${issue.message}`, { field: 'tests' });
    }
    loaded.push({ file: text.name, cases: result.data.tests });
  }
  return loaded;
};
