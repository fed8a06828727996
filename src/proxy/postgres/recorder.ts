/**
 * Turns the messages passing through a session into statement records: a simple Query, or an
 * Execute of a portal bound (Bind) from a parsed statement (Parse), paired with the replies that end
 * it (CommandComplete, EmptyQueryResponse, PortalSuspended, ErrorResponse, ReadyForQuery). Replies
 * come in the order requests were sent, so a queue pairs them. Observes only: it never changes a byte.
 */
import { rowsOfTag, type RecordedParams, type RecordedStatement } from '../../domain/proxy-recording.js';
import { BodyReader, reportFields, type Message } from './wire.js';

interface Pending {
  protocol: 'simple' | 'extended'; text: string; params: RecordedParams | null;
  at: Date; started: number; tags: string[]; rows: number; error: RecordedStatement['error'];
}

interface Portal { text: string; params: RecordedParams | null }

/** Statements and portals a client may keep open at once; beyond, the oldest are forgotten (recorded as unknown text). */
const MAX_NAMED = 10_000;

const readParams = (reader: BodyReader, keep: boolean): RecordedParams => {
  const formats = Array.from({ length: reader.int16() }, () => reader.int16());
  const count = reader.int16();
  const values: (string | null | { binaryBytes: number })[] = [];
  for (let i = 0; i < count; i += 1) {
    const length = reader.int32();
    const format = formats.length === 1 ? formats[0] : formats[i] ?? 0;
    if (length < 0) { values.push(null); continue; }
    const bytes = reader.bytes(length);
    values.push(format === 1 ? { binaryBytes: length } : bytes.toString('utf8'));
  }
  return keep ? values : { redacted: count };
};

const remember = <T>(map: Map<string, T>, name: string, value: T): void => {
  map.delete(name);
  if (map.size >= MAX_NAMED) map.delete(map.keys().next().value!);
  map.set(name, value);
};

export class StatementRecorder {
  private readonly statements = new Map<string, string>();
  private readonly portals = new Map<string, Portal>();
  private readonly queue: Pending[] = [];
  private seq = 0;

  constructor(
    private readonly keepParameters: boolean,
    private readonly now: () => Date,
    private readonly finished: (statement: RecordedStatement) => void,
  ) {}

  fromClient(message: Message): void {
    const reader = new BodyReader(message.body);
    switch (message.type) {
      case 'Q': this.open('simple', reader.cstring(), null); break;
      case 'P': { const name = reader.cstring(); remember(this.statements, name, reader.cstring()); break; }
      case 'B': {
        const portal = reader.cstring();
        const text = this.statements.get(reader.cstring()) ?? '<unknown prepared statement>';
        remember(this.portals, portal, { text, params: readParams(reader, this.keepParameters) });
        break;
      }
      case 'E': {
        const portal = this.portals.get(reader.cstring());
        this.open('extended', portal?.text ?? '<unknown portal>', portal?.params ?? null);
        break;
      }
      case 'C': {
        const kind = reader.bytes(1).toString('latin1');
        (kind === 'S' ? this.statements : this.portals).delete(reader.cstring());
        break;
      }
      default: break;
    }
  }

  fromServer(message: Message): void {
    const head = this.queue[0];
    switch (message.type) {
      case 'C': {
        if (!head) return;
        const tag = new BodyReader(message.body).cstring();
        head.tags.push(tag);
        head.rows += rowsOfTag(tag);
        if (head.protocol === 'extended') this.finish();
        break;
      }
      case 'I': case 's': if (head?.protocol === 'extended') this.finish(); break;
      case 'E': {
        if (!head) return;
        const fields = reportFields(message.body);
        head.error = { code: fields.get('C') ?? '', message: fields.get('M') ?? '' };
        if (head.protocol === 'extended') this.finish();
        break;
      }
      // After an error the server skips to Sync: executes still queued then never ran.
      case 'Z': while (this.queue.length > 0) this.finish(this.queue[0]!.protocol === 'extended' ? 'not run: an earlier message failed' : undefined); break;
      default: break;
    }
  }

  /** Statements still waiting for their reply when the session ends. */
  abandon(why: string): void {
    while (this.queue.length > 0) this.finish(why);
  }

  private open(protocol: Pending['protocol'], text: string, params: RecordedParams | null): void {
    this.queue.push({ protocol, text, params, at: this.now(), started: performance.now(), tags: [], rows: 0, error: null });
  }

  private finish(unfinished?: string): void {
    const p = this.queue.shift()!;
    this.seq += 1;
    const error = p.error ?? (unfinished && p.tags.length === 0 ? { code: '', message: unfinished } : null);
    this.finished({
      seq: this.seq, at: p.at, durationUs: Math.round((performance.now() - p.started) * 1000), protocol: p.protocol,
      text: p.text, params: p.params, tags: p.tags, rows: p.rows, error,
    });
  }
}
