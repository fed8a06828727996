/**
 * Client load on Tenure while the database fails over, as a careful client sends it: writes with an
 * Idempotency-Key retried with the same key until they are answered (and, when the answer is that
 * the commit's outcome was lost, read back instead), `POST /v1/check` in a loop, and
 * `/readyz` polled on every server. Every answer is logged with its time, so that downtime, lost and
 * duplicated writes can be counted afterwards.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Answer {
  at: number; status: number | 'dropped' | 'hung'; code?: string | undefined; decision?: string | undefined; ms: number;
  /** For a check: who was asked about, and which server answered. */
  identity?: string;
  server?: string;
}

export interface Write {
  key: string;
  handle: string;
  /** Every attempt with this key, in order. */
  attempts: Answer[];
  /** The id of the identity, from the acknowledging answer (201, or the replayed 201), or read back after outcome_lost. */
  id?: string;
  /** Answered idempotency.outcome_lost (its COMMIT's answer was lost), then found by reading, as the error tells a client to. */
  readBack?: boolean;
  /** A final answer that was neither the write nor a retryable refusal. */
  refused?: string;
}

/** One access request's way through the API during the fault: filed by the person, approved by Sam, then Olivia, each step with its own key. */
export interface Flow {
  person: string;
  /** Every attempt of every step, in order. */
  attempts: Answer[];
  requestId?: string;
  /** The grant the last approval acknowledged. */
  grantId?: string;
  refused?: string;
  /** Steps answered idempotency.outcome_lost and then found done by reading the request. */
  readBack?: string[];
}

export interface LoadLog {
  writes: Write[];
  flows: Flow[];
  checks: Answer[];
  ready: Map<string, Answer[]>;
}

/** The people of the request flows, each with their own token, and the two approvers'. */
export interface FlowTokens { people: { handle: string; token: string }[]; sam: string; olivia: string }

/** 503 (with Retry-After), a broken connection, no answer in time, or a key still held by an attempt the server lost. */
/**
 * `idempotency.outcome_lost`: the database connection broke while the write committed, so the server
 * cannot say whether it did; a later attempt with the key finds it did. The error tells the client to
 * read the result instead of retrying, which is what a careful client (and this load) does.
 */
const OUTCOME_LOST = 'idempotency.outcome_lost';

const readJson = async (url: string, token: string): Promise<Record<string, unknown> | undefined> => {
  const answer = await send(url, { headers: { authorization: `Bearer ${token}` } });
  return answer.status === 200 ? answer.body : undefined;
};

const retryable = (a: Answer): boolean => a.status === 503 || a.status === 'dropped' || a.status === 'hung' || a.code === 'idempotency.in_progress';

const send = async (url: string, init: RequestInit & { bound?: number }): Promise<Answer & { body?: Record<string, unknown> }> => {
  const at = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.bound ?? 15_000) });
    const body = await res.json().catch(() => ({})) as Record<string, unknown>;
    return { at, status: res.status, code: typeof body.code === 'string' ? body.code : undefined,
      decision: typeof body.decision === 'string' ? body.decision : undefined, ms: Date.now() - at, body };
  } catch (error) {
    return { at, status: (error as Error).name === 'TimeoutError' ? 'hung' : 'dropped', ms: Date.now() - at };
  }
};

export interface Load { log: LoadLog; stop(): Promise<void> }

/**
 * Starts `writers` write loops (each on one server in turn), a check loop per server and a readiness
 * poller per server. stop() lets every write in flight finish with its retries (bounded by `settleMs`).
 */
export const startLoad = (
  servers: string[], tokens: { writer: string; checker: string; flows?: FlowTokens },
  options: { writers?: number; settleMs?: number; checkFor?: string[] } = {},
): Load => {
  const log: LoadLog = { writes: [], flows: [], checks: [], ready: new Map(servers.map((s) => [s, []])) };
  let running = true;
  let settleBy = Infinity;
  // Keys are unique to this load: a key sent again with another body would be refused as reused.
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const writeOnce = async (server: string, write: Write) => {
    const body = JSON.stringify({ handle: write.handle, displayName: 'Written during a failover', kind: 'employee', manager: 'sam' });
    for (;;) {
      const answer = await send(`${server}/v1/identities`, { method: 'POST', body,
        headers: { authorization: `Bearer ${tokens.writer}`, 'content-type': 'application/json', 'idempotency-key': write.key } });
      write.attempts.push({ at: answer.at, status: answer.status, code: answer.code, ms: answer.ms });
      if (answer.status === 201) { write.id = String(answer.body?.id); return; }
      if (answer.code === OUTCOME_LOST) {
        const found = await readJson(`${server}/v1/identities/${write.handle}`, tokens.writer);
        if (found) { write.id = String(found.id); write.readBack = true; return; }
      }
      if (!retryable(answer)) { write.refused = `${answer.status} ${answer.code ?? ''} ${JSON.stringify(answer.body ?? {}).slice(0, 300)}`; return; }
      if (Date.now() > settleBy) return;
      await sleep(200);
    }
  };
  /** POSTs with `key` until answered with `ok` or a final refusal (noted on `into`); the body of the acknowledging answer. */
  const untilAnswered = async (server: string, token: string, path: string, body: unknown, key: string, into: Flow,
    readBack: (server: string) => Promise<Record<string, unknown> | undefined>) => {
    for (;;) {
      const answer = await send(`${server}${path}`, { method: 'POST', body: JSON.stringify(body),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key } });
      into.attempts.push({ at: answer.at, status: answer.status, code: answer.code, ms: answer.ms });
      if (answer.status === 200 || answer.status === 201) return answer.body ?? {};
      const found = answer.code === OUTCOME_LOST ? await readBack(server) : undefined;
      if (found) { (into.readBack ??= []).push(path); return found; }
      if (!retryable(answer)) { into.refused = `${path} ${answer.status} ${answer.code ?? ''} ${JSON.stringify(answer.body ?? {}).slice(0, 300)}`; return undefined; }
      if (Date.now() > settleBy) return undefined;
      await sleep(200);
    }
  };
  // Each person files one request, then Sam and Olivia approve it, each step through the next server.
  const flows = (tokens.flows?.people ?? []).map(async (person, p) => {
    await sleep(p * 400);
    if (!running) return;
    const flow: Flow = { person: person.handle, attempts: [] };
    log.flows.push(flow);
    const at = (step: number) => servers[(p + step) % servers.length]!;
    // Read back after outcome_lost: the person's own request, then its stages as each approver left them.
    const mine = async (server: string) => ((await readJson(`${server}/v1/requests?view=mine`, person.token))?.items as Record<string, unknown>[] | undefined)
      ?.find((r) => r.justification === 'filed during a failover');
    const decided = (position: number) => async (server: string) => {
      const request = await readJson(`${server}/v1/requests/${flow.requestId}`, person.token);
      const stage = (request?.stages as { position: number; status: string }[] | undefined)?.find((st) => st.position === position);
      return stage?.status === 'approved' ? request : undefined;
    };
    const filed = await untilAnswered(at(0), person.token, '/v1/requests',
      { entitlement: 'payments/read', justification: 'filed during a failover', duration: '1h' }, `ha-${run}-${person.handle}-file`, flow, mine);
    if (!filed) return;
    flow.requestId = String(filed.id);
    const path = `/v1/requests/${flow.requestId}/approve`;
    if (!await untilAnswered(at(1), tokens.flows!.sam, path, {}, `ha-${run}-${person.handle}-sam`, flow, decided(0))) return;
    const last = await untilAnswered(at(2), tokens.flows!.olivia, path, {}, `ha-${run}-${person.handle}-olivia`, flow, decided(1));
    if (last) flow.grantId = String(last.grantId);
  });
  const writers = Array.from({ length: options.writers ?? 2 }, async (_, w) => {
    for (let i = 0; running; i += 1) {
      const write: Write = { key: `ha-${run}-${w}-${i}`, handle: `ha${w}x${i}x${Date.now().toString(36)}`, attempts: [] };
      log.writes.push(write);
      await writeOnce(servers[(w + i) % servers.length]!, write);
      await sleep(50);
    }
  });
  // Each server is asked in turn about each person's payments/read.
  const asked = options.checkFor ?? ['carl'];
  const checkers = servers.map(async (server) => {
    for (let i = 0; running; i += 1) {
      const identity = asked[i % asked.length]!;
      const answer = await send(`${server}/v1/check`, { method: 'POST', body: JSON.stringify({ identity, entitlement: 'payments/read' }),
        headers: { authorization: `Bearer ${tokens.checker}`, 'content-type': 'application/json' } });
      log.checks.push({ ...answer, identity, server });
      await sleep(50);
    }
  });
  const pollers = servers.map(async (server) => {
    while (running) {
      log.ready.get(server)!.push(await send(`${server}/readyz`, { bound: 5_000 }));
      await sleep(100);
    }
  });
  return {
    log,
    stop: async () => {
      running = false;
      settleBy = Date.now() + (options.settleMs ?? 90_000);
      await Promise.all([...writers, ...flows, ...checkers, ...pollers]);
    },
  };
};

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/**
 * Client-visible downtime of each write sent during the fault: from its first attempt to the answer
 * that acknowledged it (over retries with its key); p50 and max in ms, and how many needed a retry.
 */
export const writeDowntime = (writes: Write[], from: number): { p50: number; max: number; retried: number } => {
  const gaps = writes.filter((w) => w.id && w.attempts.length > 1).map((w) => w.attempts.at(-1)!.at + w.attempts.at(-1)!.ms - w.attempts[0]!.at);
  // The writes sent from the fault on, answered on the first attempt but slowly: the server retried them itself.
  const slow = writes.filter((w) => w.id && w.attempts.length === 1 && w.attempts[0]!.at >= from).map((w) => w.attempts[0]!.ms);
  const all = [...gaps, ...slow];
  return { p50: percentile(all, 50), max: percentile(all, 100), retried: gaps.length };
};

/** The longest stretch in which a server's /readyz did not answer 200, and when it answered 200 again. */
export const unreadyStretch = (answers: Answer[]): { from: number; to: number } | undefined => {
  let best: { from: number; to: number } | undefined;
  let from: number | undefined;
  for (const a of answers) {
    if (a.status !== 200) { from ??= a.at; continue; }
    if (from !== undefined && (!best || a.at - from > best.to - best.from)) best = { from, to: a.at };
    from = undefined;
  }
  return best;
};

/**
 * Revokes `grant` through `server` half a second into the fault, retried with its key until
 * answered: when it was acknowledged (undefined if never within 150 tries); a refusal throws.
 */
export const revokeDuring = async (server: string, token: string, grant: string, name: string): Promise<number | undefined> => {
  await sleep(500);
  for (let attempt = 0; attempt < 150; attempt += 1) {
    const answer = await send(`${server}/v1/grants/${grant}/revoke`, { method: 'POST', body: JSON.stringify({ reason: `revoked during ${name}` }),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `revoke-${name}-${grant}` } });
    if (typeof answer.status === 'number' && answer.status >= 200 && answer.status < 300) return answer.at + answer.ms;
    if (!retryable(answer)) throw new Error(`revocation refused: ${answer.status} ${JSON.stringify(answer.body ?? {})}`);
    await sleep(200);
  }
  return undefined;
};
