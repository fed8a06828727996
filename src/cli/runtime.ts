import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Actor } from '../audit/event-types.js';
import { loadConfig, type Config } from '../config.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { TenureError } from '../domain/errors.js';
import type { Context } from '../work/context.js';
import type { ConnectionSettings } from '../store/connection-settings.js';
import type { Store } from '../store/database.js';
import { deferredApi, type TenureApi } from './api.js';
import { print, type OutputOptions } from './output.js';

/** Command groups that work on the database directly: they set up, run or configure the service itself. */
const LOCAL_ONLY = new Set(['init', 'demo', 'serve', 'db']);

const signingModules = () => Promise.all([import('../audit/anchor.js'), import('../audit/signing-key.js'), import('../operations/write-checkpoint.js')]);

const osUser = (): string => { try { return userInfo().username; } catch { return 'unknown'; } };

/** What every command shares: configuration, the store (opened on first use), the clock and output. */
export class Runtime {
  readonly config: Config;
  readonly clock: Clock = systemClock;
  private opening: Promise<Store> | undefined;
  private signing: ReturnType<typeof signingModules> | undefined;
  /** Set by long-running commands that stop their own loop on SIGINT/SIGTERM before the store closes. */
  handlesSignals = false;
  /** The command being run (`request create`), for messages; set before its action starts. */
  private command = '';

  constructor(private readonly program: Command) {
    this.config = loadConfig();
  }

  get output(): OutputOptions {
    return { json: Boolean(this.program.opts().json) };
  }

  print(data: unknown, columns?: string[]): void {
    print(data, this.output, columns);
  }

  /** The server named by --server or TENURE_SERVER, without a trailing slash; undefined on the database. */
  get server(): string | undefined {
    const named = (this.program.opts().server as string | undefined) ?? (process.env.TENURE_SERVER || undefined);
    if (named === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(named);
    } catch {
      throw new TenureError('input.invalid', `--server: '${named}' is not a URL such as https://tenure.example.com`, { field: 'server' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TenureError('input.invalid', '--server: must be an http or https URL', { field: 'server' });
    }
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }

  /**
   * Checked before every action. In server mode the actor is the owner of TENURE_TOKEN, so naming
   * another with --as is a mistake worth stopping rather than ignoring.
   */
  begin(command: Command): void {
    const names: string[] = [];
    for (let c: Command | null = command; c && c !== this.program; c = c.parent) names.unshift(c.name());
    this.command = names.join(' ');
    if (this.server === undefined) return;
    if (this.program.opts().as !== undefined) {
      throw new TenureError('input.invalid', '--as cannot be combined with --server or TENURE_SERVER: over the API the actor is the owner of TENURE_TOKEN', { field: 'as' });
    }
    // Refused before the action runs: some of these prepare local files (keys) before opening the database.
    if (LOCAL_ONLY.has(names[0] ?? '')) this.requireLocal();
  }

  /** What every command calls: the use cases here as --as, or the API of the server as TENURE_TOKEN's owner. */
  api(): TenureApi {
    const server = this.server;
    // The use cases, the database driver and their dependencies are imported on the first call only:
    // most of a start's time was loading them, and --help or a refusal by commander needs none of it.
    if (server === undefined) {
      return deferredApi(async () => {
        const [{ localApi }, { loadWebhookKeyRing }] = await Promise.all([import('./api-local.js'), import('../webhooks/key-ring.js')]);
        return localApi(() => this.as(), { env: process.env, dataDir: this.config.dataDir,
          // On the embedded default the key is created in the data directory on first use; a server needs one configured.
          webhookKey: () => loadWebhookKeyRing({ env: process.env, dataDir: this.config.dataDir, create: !this.config.databaseUrl }) });
      });
    }
    // Only from the environment: a flag would show in ps and in the shell history.
    const token = process.env.TENURE_TOKEN;
    if (!token) throw new TenureError('auth.required', `set TENURE_TOKEN to an API token for ${server} (tenure token create prints one)`);
    return deferredApi(async () => (await import('./api-remote.js')).remoteApi(server, token));
  }

  /** Commands that work on the database directly (init, demo, serve, the worker loop) refuse in server mode. */
  requireLocal(): void {
    if (this.server === undefined) return;
    throw new TenureError('server.local_only',
      `tenure ${this.command || 'this command'} works on the database directly: run it without --server and TENURE_SERVER`);
  }

  /**
   * One store per process, however many callers ask at once: the promise is kept, not the store,
   * so two concurrent first calls cannot open the database twice (the second would find the data
   * directory locked by the first).
   */
  async open(): Promise<Store> {
    this.requireLocal();
    this.opening ??= (async () => {
      // What close() signs the head with, loaded while the database opens rather than after the command.
      this.signing = signingModules();
      this.signing.catch(() => undefined);
      const { openStore } = await import('../store/database.js');
      // Only serve's reads go to the replica: the worker reads nothing that may lag, and a one-off
      // command (audit verify, init, an export right after a change) should neither wait for nor
      // depend on it, nor show less than the operator just did.
      const readDatabaseUrl = this.command.split(' ')[0] === 'serve' ? this.config.readDatabaseUrl : undefined;
      return openStore({ ...this.config, readDatabaseUrl, connection: this.connectionSettings });
    })();
    return this.opening;
  }

  /** The connection settings, named for pg_stat_activity: tenure-serve, tenure-worker or tenure-cli. */
  get connectionSettings(): ConnectionSettings {
    const name = this.command.split(' ')[0];
    return { ...this.config.connection, applicationName: name === 'serve' || name === 'worker' ? `tenure-${name}` : 'tenure-cli' };
  }

  /** A context acting as the identity named by --as or TENURE_ACTOR; rules apply to it exactly as over the API. */
  async as(): Promise<Context> {
    this.requireLocal();
    const handle = (this.program.opts().as as string | undefined) ?? this.config.actor;
    if (!handle) throw new TenureError('actor.required', 'name the acting identity with --as HANDLE or TENURE_ACTOR');
    const store = await this.open();
    const { findIdentity } = await import('../store/queries/identities.js');
    const identity = await findIdentity(store.db, handle, 'as').catch((error: unknown) => {
      // A database that does not answer says so (service.unavailable), not that the identity is unknown.
      if (!(error instanceof TenureError)) throw error;
      throw new TenureError('actor.required', `--as: no identity '${handle}'`, { field: 'as' });
    });
    return this.context({ id: identity.id, channel: 'cli', osUser: osUser() });
  }

  /** A context for the system itself (bootstrap, worker): no identity, still audited with the OS user. */
  async system(channel: 'system' | 'worker'): Promise<Context> {
    return this.context({ id: undefined, channel, osUser: osUser() });
  }

  private async context(actor: Actor): Promise<Context> {
    return { store: await this.open(), clock: this.clock, actor };
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    // A store that failed to open has nothing to sign or close; its error was reported where it was awaited.
    const store = await opening?.catch(() => undefined);
    if (!store) return;
    await this.signHead(store);
    await store.close();
  }

  /**
   * Every command that opened the database signs the chain head before it exits, when this machine
   * holds the key: with no worker running (the embedded default), nothing else would, and events
   * left unsigned are the ones the database's owner could cut without `audit verify` noticing.
   */
  private async signHead(store: Store): Promise<void> {
    try {
      const [{ anchorFrom }, { loadSigningKey }, { writeAuditCheckpoint }] = await (this.signing ?? signingModules());
      const source = { env: process.env, dataDir: this.config.dataDir };
      const key = loadSigningKey({ ...source, create: !this.config.databaseUrl });
      if (!key?.privateKey) return;
      await writeAuditCheckpoint({ store, clock: this.clock, actor: { id: undefined, channel: 'system', osUser: osUser() } }, key, anchorFrom(source));
    } catch (error) {
      process.stderr.write(`warning: the audit checkpoint was not signed: ${(error as Error).message}\n`);
    }
  }
}
