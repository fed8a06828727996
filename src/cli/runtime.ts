import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Actor } from '../audit/event-types.js';
import { loadConfig, type Config } from '../config.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { TenureError } from '../domain/errors.js';
import type { Context } from '../operations/context.js';
import { openStore, type Store } from '../store/database.js';
import { findIdentity } from '../store/queries/identities.js';
import { print, type OutputOptions } from './output.js';

const osUser = (): string => { try { return userInfo().username; } catch { return 'unknown'; } };

/** What every command shares: configuration, the store (opened on first use), the clock and output. */
export class Runtime {
  readonly config: Config;
  readonly clock: Clock = systemClock;
  private store: Store | undefined;
  /** Set by long-running commands that stop their own loop on SIGINT/SIGTERM before the store closes. */
  handlesSignals = false;

  constructor(private readonly program: Command) {
    this.config = loadConfig();
  }

  get output(): OutputOptions {
    return { json: Boolean(this.program.opts().json) };
  }

  print(data: unknown, columns?: string[]): void {
    print(data, this.output, columns);
  }

  async open(): Promise<Store> {
    this.store ??= await openStore(this.config);
    return this.store;
  }

  /** A context acting as the identity named by --as or TENURE_ACTOR; rules apply to it exactly as over the API. */
  async as(): Promise<Context> {
    const handle = (this.program.opts().as as string | undefined) ?? this.config.actor;
    if (!handle) throw new TenureError('actor.required', 'name the acting identity with --as HANDLE or TENURE_ACTOR');
    const store = await this.open();
    const identity = await findIdentity(store.db, handle, 'as').catch(() => {
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
    const store = this.store;
    this.store = undefined;
    await store?.close();
  }
}
