/**
 * Failpoints: named places where a test makes the process die on purpose, to prove that a crash
 * there loses nothing and repeats nothing. `TENURE_FAILPOINTS=name:N[,name:N]` kills the process
 * with SIGKILL (no cleanup, no flush, like a power cut or the OOM killer) the N-th time it passes
 * `name`. Unset, a failpoint is one Map lookup.
 */
const armed = new Map<string, number>();
for (const entry of (process.env.TENURE_FAILPOINTS ?? '').split(',').filter(Boolean)) {
  const [name, count] = entry.split(':');
  if (name) armed.set(name.trim(), Math.max(1, Number(count ?? 1) || 1));
}

export const FAILPOINTS = ['provisioning.after_connector_call', 'provisioning.after_job_committed', 'mail.after_smtp_accepted'] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

export const failpoint = (name: Failpoint): void => {
  const left = armed.get(name);
  if (left === undefined) return;
  if (left > 1) { armed.set(name, left - 1); return; }
  process.kill(process.pid, 'SIGKILL');
};
