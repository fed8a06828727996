/**
 * Reads a policy file or a folder of *.yaml / *.yml files, parses each with line tracking, and
 * merges them into one document. Every value of the merged document can be traced back to the
 * file and line it came from, so later checks (schema, cross-references, the database) can name
 * both.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { POLICY_VERSION } from './schema.js';

export type PathSegment = string | number;

/** One problem with the policy. `line` is 1-based; 0 means the problem is not about one line. */
export interface PolicyIssue { file: string; line: number; path: string; message: string }
export interface SourceLocation { file: string; line: number }

export interface LoadedPolicy {
  /** Display names of the files read, in merge order (sorted by name). */
  files: string[];
  /** The merged document (without `version`), as plain data, still unchecked. */
  data: Record<string, unknown>;
  /** Where a path of the merged document was written. */
  locate(path: readonly PathSegment[]): SourceLocation;
  issues: PolicyIssue[];
  /** A file could not be read as YAML: the merged document is incomplete, so checking it further would only mislead. */
  incomplete: boolean;
}

interface SourceFile { file: string; doc: Document; lines: LineCounter; data: Record<string, unknown> }

/** `systems.payments.entitlements.admin.tier`, `separation_of_duties[0].name`. */
export const formatPath = (path: readonly PathSegment[]): string =>
  path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');

export const formatIssue = (issue: PolicyIssue): string => {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
};

/** `*.tests.yaml` beside a policy holds its tests (see policy/tests-file.ts), never policy. */
export const isPolicyTestsFile = (name: string): boolean => /\.tests\.ya?ml$/i.test(name);

const listFiles = async (path: string): Promise<string[]> => {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && /\.ya?ml$/i.test(entry.name) && !isPolicyTestsFile(entry.name)).map((entry) => entry.name).sort();
  return names.map((name) => join(path, name));
};

/** The line of `path` in a parsed file: the key's line for a mapping entry, else the deepest node found. */
const lineIn = (source: SourceFile, path: readonly PathSegment[]): number => {
  let node: unknown = source.doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg];
      offset = (node as Node).range?.[0] ?? offset;
    } else break;
  }
  return source.lines.linePos(offset).line;
};

const parseFile = (file: string, text: string, issues: PolicyIssue[]): SourceFile | undefined => {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      issues.push({ file, line: lines.linePos(error.pos[0]).line, path: '', message: `YAML syntax error: ${error.message}` });
    }
    return undefined;
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // yaml reports an alias with no anchor, or too many aliases (a "billion laughs"), only when building the value.
    issues.push({ file, line: 1, path: '', message: `YAML error: ${(error as Error).message}` });
    return undefined;
  }
  const source = { file, doc, lines, data: {} as Record<string, unknown> };
  if (data === null || data === undefined) {
    issues.push({ file, line: 1, path: 'version', message: `is required: the policy format version (${POLICY_VERSION})` });
    return undefined;
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    issues.push({ file, line: 1, path: '', message: 'must be a mapping of policy sections (version, systems, ...)' });
    return undefined;
  }
  source.data = data as Record<string, unknown>;
  checkVersion(source, issues);
  return source;
};

/** Each file states the format version it was written for, so a file is never read under the wrong rules. */
const checkVersion = (source: SourceFile, issues: PolicyIssue[]): void => {
  const version = source.data.version;
  if (version === undefined) {
    issues.push({ file: source.file, line: 1, path: 'version', message: `is required: the policy format version (${POLICY_VERSION})` });
  } else if (version !== POLICY_VERSION) {
    issues.push({ file: source.file, line: lineIn(source, ['version']), path: 'version',
      message: `unsupported version ${JSON.stringify(version)}: this Tenure reads version ${POLICY_VERSION}` });
  }
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Merges sections across files: mapping sections merge by entry (an entry defined in two files is
 * an error naming both), list sections concatenate, anything else may be defined once.
 */
const merge = (sources: SourceFile[], issues: PolicyIssue[]) => {
  const data: Record<string, unknown> = {};
  const owners = new Map<string, SourceFile>();
  const listOrigins = new Map<string, { source: SourceFile; index: number }[]>();
  const duplicate = (source: SourceFile, path: PathSegment[], first: SourceFile) => {
    issues.push({ file: source.file, line: lineIn(source, path), path: formatPath(path),
      message: `is defined twice: also in ${first.file}:${lineIn(first, path)}` });
  };
  for (const source of sources) {
    for (const [section, value] of Object.entries(source.data)) {
      // `version` is per file; an empty section (`groups:` with nothing under it) is as if unwritten.
      if (section === 'version' || value === null) continue;
      const existing = data[section];
      const owner = owners.get(section);
      if (existing === undefined || owner === undefined) {
        data[section] = Array.isArray(value) ? [...value] : isPlainObject(value) ? { ...value } : value;
        owners.set(section, source);
        if (Array.isArray(value)) listOrigins.set(section, value.map((_, index) => ({ source, index })));
        if (isPlainObject(value)) for (const child of Object.keys(value)) owners.set(`${section}\u0000${child}`, source);
      } else if (Array.isArray(existing) && Array.isArray(value)) {
        value.forEach((item, index) => { existing.push(item); listOrigins.get(section)!.push({ source, index }); });
      } else if (isPlainObject(existing) && isPlainObject(value)) {
        for (const [child, childValue] of Object.entries(value)) {
          const first = owners.get(`${section}\u0000${child}`);
          if (first) { duplicate(source, [section, child], first); continue; }
          existing[child] = childValue;
          owners.set(`${section}\u0000${child}`, source);
        }
      } else duplicate(source, [section], owner);
    }
  }
  return { data, owners, listOrigins };
};

/** A policy file given as text (over the API) rather than read from disk. */
export interface PolicyText { name: string; content: string }
/** Where a policy comes from: a file or folder on disk, or files sent as text. */
export type PolicySource = string | readonly PolicyText[];

const readSources = async (path: string, issues: PolicyIssue[]): Promise<PolicyText[] | undefined> => {
  let files: string[];
  try {
    files = await listFiles(path);
  } catch {
    issues.push({ file: path, line: 0, path: '', message: 'no such file or folder' });
    return undefined;
  }
  if (files.length === 0) issues.push({ file: path, line: 0, path: '', message: 'the folder has no .yaml or .yml files' });
  const texts: PolicyText[] = [];
  for (const file of files) texts.push({ name: file, content: await readFile(file, 'utf8') });
  return texts;
};

/** Reads, parses and merges a policy (a file, a folder, or texts). Never throws on bad content. */
export const loadPolicy = async (input: PolicySource): Promise<LoadedPolicy> => {
  const issues: PolicyIssue[] = [];
  const path = typeof input === 'string' ? input : '(request)';
  const texts = typeof input === 'string' ? await readSources(input, issues) : input.filter((t) => !isPolicyTestsFile(t.name));
  if (!texts) return { files: [], data: {}, locate: () => ({ file: path, line: 0 }), incomplete: true, issues };
  if (texts.length === 0 && typeof input !== 'string') issues.push({ file: path, line: 0, path: '', message: 'no policy files were given' });
  const files = texts.map((t) => t.name);
  const sources: SourceFile[] = [];
  for (const text of texts) {
    const source = parseFile(text.name, text.content, issues);
    if (source) sources.push(source);
  }
  const { data, owners, listOrigins } = merge(sources, issues);
  const locate = (segments: readonly PathSegment[]): SourceLocation => {
    const [section, child, ...rest] = segments;
    const origin = typeof child === 'number' ? listOrigins.get(String(section))?.[child] : undefined;
    if (origin) return { file: origin.source.file, line: lineIn(origin.source, [section!, origin.index, ...rest]) };
    const source = owners.get(`${String(section)}\u0000${String(child)}`) ?? owners.get(String(section)) ?? sources[0];
    return source ? { file: source.file, line: lineIn(source, segments) } : { file: path, line: 0 };
  };
  return { files, data, locate, issues, incomplete: sources.length < files.length || files.length === 0 };
};
