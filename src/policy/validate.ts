/**
 * Static validation of policy files: syntax, format, cross-references. No database is read here,
 * so it can run in CI before anything is applied. Every error is collected, not just the first.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { z } from 'zod';
import { formatPath, loadPolicy, type PathSegment, type PolicyIssue, type PolicySource, type SourceLocation } from './load.js';
import { checkReferences, type PartialPolicy } from './references.js';
import { POLICY_VERSION, policyDocumentSchema, SECTIONS, sodRuleSchema, systemSchema, type PolicyDocument, type SectionName } from './schema.js';

/** A policy that passed static validation: the merged document plus where each part was written. */
export interface ParsedPolicy {
  version: typeof POLICY_VERSION;
  /** Display names of the files read, in merge order. */
  files: string[];
  /** SHA-256 (hex) of the canonical JSON (RFC 8785) of the merged document: comments and layout do not count. */
  digest: string;
  /** The merged document in the file's own vocabulary (snake_case), durations in milliseconds. */
  document: PolicyDocument;
  locate(path: readonly PathSegment[]): SourceLocation;
}

export interface PolicyValidation { files: string[]; errors: PolicyIssue[]; policy?: ParsedPolicy }

type RawIssue = z.core.$ZodRawIssue;

const describeType = (expected: string): string =>
  ({ object: 'a mapping', record: 'a mapping', array: 'a list', tuple: 'a list', string: 'text' } as Record<string, string>)[expected]
  ?? `a ${expected}`;

/** The keys a strict object (or a record keyed by an enum) accepts, to suggest the right spelling. */
const allowedKeys = (issue: RawIssue): string[] => {
  const def = (issue.inst as { _zod?: { def?: { shape?: object; keyType?: { options?: unknown[] } } } } | undefined)?._zod?.def;
  return def?.shape ? Object.keys(def.shape) : (def?.keyType?.options ?? []).map(String);
};

/** Plain messages for zod's built-in checks; schema-level messages (schema.ts) take precedence over these. */
const messageFor = (issue: RawIssue): string | undefined => {
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(issue);
    return allowed.length > 0 ? `unknown key (expected one of ${allowed.join(', ')})` : 'unknown key';
  }
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) return 'is required';
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_type') return `must be ${describeType(issue.expected)}`;
  if (issue.code === 'too_small' && issue.origin === 'string') return 'must not be empty';
  return undefined;
};

const reportIssue = (issue: z.core.$ZodIssue, report: (path: PathSegment[], message: string) => void): void => {
  const path = issue.path as PathSegment[];
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) report([...path, key], issue.message);
  } else if (issue.code === 'invalid_key') {
    const inner = issue.issues[0];
    const message = inner?.code === 'invalid_value' ? `must be one of ${inner.values.map(String).join(', ')}` : inner?.message;
    report(path, `invalid name: ${message ?? issue.message}`);
  } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    report(path, issue.errors[0]![0]?.message ?? issue.message);
  } else report(path, issue.message);
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses each section (and each system) alone, so cross-reference checks can run on what is valid. */
const parsePartial = (data: Record<string, unknown>): PartialPolicy => {
  const partial: PartialPolicy = { brokenSystems: new Set() };
  for (const name of Object.keys(SECTIONS) as SectionName[]) {
    const result = SECTIONS[name].safeParse(data[name]);
    if (result.success) (partial as Record<string, unknown>)[name] = result.data;
  }
  if (!partial.separation_of_duties && Array.isArray(data.separation_of_duties)) {
    partial.separation_of_duties = data.separation_of_duties.map((rule) => {
      const result = sodRuleSchema.safeParse(rule);
      return result.success ? result.data : undefined;
    });
  }
  if (!partial.systems && isObject(data.systems)) {
    partial.systems = {};
    for (const [key, value] of Object.entries(data.systems)) {
      const result = systemSchema.safeParse(value);
      if (result.success) partial.systems[key] = result.data;
      else partial.brokenSystems.add(key);
    }
  }
  return partial;
};

export const digestOf = (document: unknown): string =>
  createHash('sha256').update(canonicalize({ version: POLICY_VERSION, document }) ?? '', 'utf8').digest('hex');

const byPlace = (a: PolicyIssue, b: PolicyIssue): number =>
  a.file.localeCompare(b.file) || a.line - b.line || a.path.localeCompare(b.path);

/** Validates the policy file or folder at `path`; `policy` is set only when there are no errors. */
export const validatePolicyFiles = async (path: PolicySource): Promise<PolicyValidation> => {
  const loaded = await loadPolicy(path);
  const errors = [...loaded.issues];
  const seen = new Set(errors.map((e) => `${e.file}:${e.line}:${e.path}:${e.message}`));
  const report = (segments: PathSegment[], message: string) => {
    const issue = { ...loaded.locate(segments), path: formatPath(segments), message };
    const id = `${issue.file}:${issue.line}:${issue.path}:${issue.message}`;
    if (!seen.has(id)) { seen.add(id); errors.push(issue); }
  };
  if (loaded.incomplete) return { files: loaded.files, errors: errors.sort(byPlace) };
  const parsed = policyDocumentSchema.safeParse(loaded.data, { error: messageFor });
  if (!parsed.success) for (const issue of parsed.error.issues) reportIssue(issue, report);
  checkReferences(parsed.success ? { ...parsed.data, brokenSystems: new Set() } : parsePartial(loaded.data), report);
  errors.sort(byPlace);
  if (errors.length > 0 || !parsed.success) return { files: loaded.files, errors };
  const policy: ParsedPolicy = {
    version: POLICY_VERSION, files: loaded.files, digest: digestOf(loaded.data), document: parsed.data, locate: loaded.locate,
  };
  return { files: loaded.files, errors, policy };
};
