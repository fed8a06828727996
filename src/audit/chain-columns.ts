import { sql } from 'drizzle-orm';

/**
 * The columns search and evidence packs filter on are copies of canonical fields that the hash does
 * not cover, so verify compares each with the hashed event. The fast path compares text, no JSON
 * parsing: the database sends the columns raw, tab-separated, one line per event, and each is
 * turned into the exact substring the canonical JSON must hold. A match there is exact (equal JSON
 * encodings decode to equal values); anything else (a value the two encode differently, a tab or
 * newline smuggled into a column) leaves the group to the exact path, which parses and names the
 * column.
 */

/** The columns as search reads them, for the exact path. */
export interface ColumnValues {
  action: string; actor_id: string | null; channel: string; subject_type: string; subject_id: string;
  identity_id: string | null; system_id: string | null; occurred: string;
}

/** occurred_at to the microsecond in UTC, without depending on the session's time zone. */
export const OCCURRED = sql`to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/**
 * One line per event for a group's string_agg. concat (not concat_ws) so a null keeps its place
 * as an empty field: the nullable columns are UUIDs, which are never empty.
 */
export const COLUMN_LINE = sql`concat(action, E'\t', channel, E'\t', actor_id, E'\t', subject_type, E'\t', subject_id,
  E'\t', identity_id, E'\t', system_id, E'\t', ${OCCURRED})`;

const COMMA = 44;
const CLOSE_BRACE = 125;
const TAB = '\t';

const json = (value: string): string => JSON.stringify(value);
const uuidOrNull = (value: string): string => (value === '' ? 'null' : `"${value}"`);

/** The eight values of one line of COLUMN_LINE, or undefined when one held a tab. */
const columnValues = (columns: string, from: number, to: number): string[] | undefined => {
  const values: string[] = [];
  let at = from;
  for (let i = 0; i < 7; i += 1) {
    const tab = columns.indexOf(TAB, at);
    if (tab < 0 || tab > to) return undefined;
    values.push(columns.slice(at, tab));
    at = tab + 1;
  }
  const rest = columns.slice(at, to);
  if (rest.includes(TAB)) return undefined;
  values.push(rest);
  return values;
};

/** Whether `piece` lies in `text` at `at`; slicing compares many times faster than startsWith with a position. */
const holdsAt = (text: string, at: number, piece: string): boolean => text.slice(at, at + piece.length) === piece;

/**
 * Whether the canonical text between start and end holds these column values. Each field is looked
 * for where only the top-level one can be: RFC 8785 sorts the keys, so the text starts with action
 * and the actor's channel and id; "at" is trusted only when it occurs once before identityId; the last
 * "identityId": is the top-level one, and so is the first "seq": after it (only strings, numbers
 * and null follow, and a quote inside a string is escaped).
 */
const eventHolds = (text: string, start: number, end: number, seq: number, values: string[]): boolean => {
  const [action, channel, actor, subjectType, subjectId, identity, system, occurred] = values as [string, string, string, string, string, string, string, string];
  const head = `{"action":${json(action)},"actor":{"channel":${json(channel)},"id":${uuidOrNull(actor)}`;
  if (!holdsAt(text, start, head)) return false;
  const next = text.charCodeAt(start + head.length);
  if (next !== COMMA && next !== CLOSE_BRACE) return false;
  // Forwards from the head, then backwards from the top-level identityId: the same position both
  // ways means one "at" (none can follow identityId: only reason, seq, subject, systemId, ticket and
  // v do, matched exactly below). Backward search is the slow one, so it covers the shorter stretch.
  const atAt = text.indexOf('"at":', start + head.length);
  const identityAt = text.lastIndexOf('"identityId":', end);
  if (atAt < 0 || identityAt < atAt || text.lastIndexOf('"at":', identityAt) !== atAt || !occurred.endsWith('000')
    || !holdsAt(text, atAt, `"at":"${occurred.slice(0, 23)}Z","before":`)) return false;
  const identityText = `"identityId":${uuidOrNull(identity)},"reason":`;
  if (!holdsAt(text, identityAt, identityText)) return false;
  const seqAt = text.indexOf('"seq":', identityAt + identityText.length);
  return seqAt >= 0 && seqAt < end
    && holdsAt(text, seqAt, `"seq":${seq},"subject":{"id":${json(subjectId)},"type":${json(subjectType)}},"systemId":${uuidOrNull(system)},"ticket":`);
};

/**
 * Whether every event of a group (each a 64-character hash and its canonical JSON, newline
 * separated, seqs from `first`) agrees with its line of column values.
 */
export const groupColumnsMatch = (events: string, columns: string, n: number, first: number): boolean => {
  let at = 0;
  let line = 0;
  for (let i = 0; i < n; i += 1) {
    const last = i === n - 1;
    const end = last ? events.length : events.indexOf('\n', at);
    const lineEnd = columns.indexOf('\n', line);
    if (end < 0 || (last ? lineEnd !== -1 : lineEnd < 0)) return false;
    const values = columnValues(columns, line, last ? columns.length : lineEnd);
    if (!values || !eventHolds(events, at + 64, end, first + i, values)) return false;
    at = end + 1;
    line = lineEnd + 1;
  }
  return true;
};

export interface ParsedEvent {
  seq?: unknown; at?: string; action?: string; actor?: { id?: string | null; channel?: string };
  subject?: { type?: string; id?: string }; identityId?: string | null; systemId?: string | null;
}

/** The first column that differs from the hashed event, said so that the reader knows what was rewritten. */
export const columnMismatch = (seqText: string, event: ParsedEvent, row: ColumnValues): string | undefined => {
  const pairs: [string, unknown, unknown][] = [
    ['action', row.action, event.action], ['actor_id', row.actor_id, event.actor?.id ?? null], ['channel', row.channel, event.actor?.channel],
    ['subject_type', row.subject_type, event.subject?.type], ['subject_id', row.subject_id, event.subject?.id],
    ['identity_id', row.identity_id, event.identityId ?? null], ['system_id', row.system_id, event.systemId ?? null],
    ['occurred_at', `${row.occurred}Z`, typeof event.at === 'string' ? `${event.at.slice(0, 23)}000Z` : event.at],
  ];
  const bad = pairs.find(([, column, hashed]) => column !== hashed);
  return bad && `event ${seqText}: column ${bad[0]} says ${JSON.stringify(bad[1])} but the hashed event says ${JSON.stringify(bad[2])}:`
    + ' the column that search and evidence packs read was rewritten';
};
