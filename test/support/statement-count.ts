import pg from 'pg';

type Submit = (this: { text?: string }, ...args: unknown[]) => unknown;

/**
 * The statements the PostgreSQL driver sends while `fn` runs, BEGIN and COMMIT included: each is
 * one round trip to the server. Counted where pg hands a query to its connection (`Query.submit`),
 * so pooled connections opened earlier count too, and what drizzle builds and raw SQL count alike.
 * Nothing else may use a server store while it runs: every connection of the process is counted.
 */
export const countStatements = async <T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> => {
  const statements: string[] = [];
  const proto = pg.Query.prototype as unknown as { submit: Submit };
  const submit = proto.submit;
  proto.submit = function counted(...args) {
    statements.push(this.text ?? '');
    return submit.apply(this, args);
  };
  try {
    return { result: await fn(), statements };
  } finally {
    proto.submit = submit;
  }
};
