/**
 * PostgreSQL roles connector: one login role per identity (`<rolePrefix><handle>`), and each grant
 * a membership of that login role in the entitlement's role. See docs/connectors.md.
 *
 * The login role is created without a password. The grantee may take one Tenure mints (setPassword:
 * a SCRAM verifier, valid until the account's end, cleared at the last removal), or authenticate by a
 * method pg_hba.conf names (LDAP, GSS, certificates). What Tenure guarantees is that the role can log
 * in only while a grant is live, and holds only the memberships its grants give.
 */
import pg from 'pg';
import { TenureError } from '../domain/errors.js';
import type {
  AccessEntry, AccountState, CheckResult, Connector, ConnectorGrant, ConnectorOutcome, ObservedSession, SignInDetails,
} from './contract.js';
import { scramVerifier } from './scram.js';
import { readAccounts, readLeftovers, readManagedRolePowers, readMemberships, readPowers } from './postgres-inspect.js';
import { resolveSecretRef } from './secret-ref.js';
import { provisionShared, rotateShared, sharedAccountProblems, type SharedAccountContext } from './postgres-shared.js';

export interface PostgresRolesConfig {
  /** A secret reference (`env:NAME` or `file:/path`) to the connection URL of the connector's own role. */
  url: string;
  /** Every login role Tenure manages starts with it; listAccess looks at these roles only. */
  rolePrefix: string;
  /** The entitlement roles this connector may grant; anything else is refused. */
  roles: string[];
  /**
   * Managed roles whose entitlement says `privileged_target: true` (tier privileged): the only ones
   * that may be superuser, BYPASSRLS, REPLICATION, CREATEROLE, the connector's own role, or reach a
   * role of DANGEROUS_ROLES. Any other such role is unsafe in check() and never granted.
   */
  privilegedRoles?: string[];
  /** Managed roles that are shared accounts (docs/sessions.md): login roles of their own, used only through the proxy. */
  sharedRoles?: string[];
  /** At the last removal, what the account owns and granted: reported (default), dropped, or reassigned to a role. */
  leftovers?: 'report' | 'drop' | { reassign_to: string };
  connectTimeoutMs?: number;
}

/** PostgreSQL silently truncates longer names, which could merge two identities into one role. */
const MAX_NAME_BYTES = 63;
const { escapeIdentifier: ident, escapeLiteral: literal } = pg;
/** Connections per connector: as many as removals the provisioning pass runs at once. */
const POOL_SIZE = 4;

const invalid = (field: string, message: string) => new TenureError('input.invalid', message, { field });

const validateConfig = (config: PostgresRolesConfig): void => {
  if (!config.rolePrefix) throw invalid('rolePrefix', 'rolePrefix must not be empty: without it every role would look managed');
  if (config.roles.length === 0 || config.roles.some((role) => !role)) {
    throw invalid('roles', 'roles must list the entitlement roles this connector may grant');
  }
  if (config.roles.some((role) => role.startsWith(config.rolePrefix))) {
    throw invalid('roles', 'an entitlement role must not start with rolePrefix, which is for login roles');
  }
};

/** `infinity` for a grant without end; VALID UNTIL takes a literal only, never a bind parameter. */
const validUntil = (end: Date | null): string => literal(end ? end.toISOString() : 'infinity');

const sameEnd = (current: unknown, wanted: Date | null): boolean => {
  const have = current instanceof Date ? current.getTime() : Infinity;
  return have === (wanted ? wanted.getTime() : Infinity);
};

/** Removes the URL's password from a message, in case a driver error ever echoes the URL. */
const scrub = (message: string, url: string): string => {
  let password = '';
  try { password = decodeURIComponent(new URL(url).password); } catch { /* not a URL: nothing to scrub */ }
  return password ? message.split(password).join('***') : message;
};

const describeTarget = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured server';
  }
};

export class PostgresRolesConnector implements Connector {
  readonly kind = 'postgres-roles';
  private readonly config: PostgresRolesConfig;

  constructor(config: PostgresRolesConfig) {
    validateConfig(config);
    this.config = config;
  }

  /** The login role of an identity. */
  loginRole(handle: string): string {
    const name = `${this.config.rolePrefix}${handle}`;
    if (!handle || Buffer.byteLength(name) > MAX_NAME_BYTES) {
      throw invalid('identityHandle', `the role name for ${handle} would be empty or longer than ${MAX_NAME_BYTES} bytes`);
    }
    return name;
  }

  private entitlementRole(grant: ConnectorGrant): string {
    if (!this.config.roles.includes(grant.targetName)) {
      throw invalid('targetName', `${grant.entitlementKey}: role ${grant.targetName} is not one this connector manages`);
    }
    return grant.targetName;
  }

  /**
   * A few connections kept for this connector's life (one provisioning pass or reconciliation): a
   * scram login costs more than most of the statements it carries, and ends come in bursts. Idle
   * ones close after seconds, and close() ends the rest; a broken one is discarded, not reused.
   */
  private pool: pg.Pool | undefined;

  private clientPool(): pg.Pool {
    if (!this.pool) {
      this.pool = new pg.Pool({ connectionString: resolveSecretRef(this.config.url, 'url'), max: POOL_SIZE,
        connectionTimeoutMillis: this.config.connectTimeoutMs ?? 5000, idleTimeoutMillis: 5000, allowExitOnIdle: true });
      this.pool.on('error', () => undefined); // an idle client's broken connection: it is dropped from the pool
    }
    return this.pool;
  }

  private async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.clientPool().connect();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // After an error the session's state is unknown (an aborted transaction, a lost socket): never reuse it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end().catch(() => undefined);
  }

  /** Runs `work` in a transaction holding a lock per login role, so two workers never race on one identity. */
  private inRoleTransaction<T>(login: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        await client.query("SELECT pg_advisory_xact_lock(hashtext('tenure.postgres-roles'), hashtext($1))", [login]);
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  private async readRole(client: pg.Client, login: string) {
    const { rows } = await client.query<{ rolcanlogin: boolean; rolvaliduntil: unknown }>(
      'SELECT rolcanlogin, rolvaliduntil FROM pg_roles WHERE rolname = $1', [login]);
    return rows[0];
  }

  private async isMember(client: pg.Client, login: string, role: string): Promise<boolean> {
    const { rowCount } = await client.query(
      `SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE g.rolname = $1 AND u.rolname = $2`, [role, login]);
    return (rowCount ?? 0) > 0;
  }

  async provision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    if (grant.sharedAccount) return provisionShared(this.sharedContext(), this.entitlementRole(grant));
    const login = this.loginRole(grant.identityHandle);
    const role = this.entitlementRole(grant);
    return this.inRoleTransaction(login, async (client) => {
      await this.refuseUndeclaredPowers(client, role);
      let changed = false;
      const existing = await this.readRole(client, login);
      if (!existing) {
        await client.query(`CREATE ROLE ${ident(login)} LOGIN VALID UNTIL ${validUntil(grant.accountEndsAt)}`);
        changed = true;
      } else if (!existing.rolcanlogin) {
        // A locked account comes back without any password it once had: only a new credential opens it.
        await client.query(`ALTER ROLE ${ident(login)} LOGIN PASSWORD NULL VALID UNTIL ${validUntil(grant.accountEndsAt)}`);
        changed = true;
      } else if (!sameEnd(existing.rolvaliduntil, grant.accountEndsAt)) {
        await client.query(`ALTER ROLE ${ident(login)} VALID UNTIL ${validUntil(grant.accountEndsAt)}`);
        changed = true;
      }
      if (!(await this.isMember(client, login, role))) {
        await client.query(`GRANT ${ident(role)} TO ${ident(login)}`);
        changed = true;
      }
      return { changed };
    });
  }

  /** What the shared-account operations (postgres-shared.ts) use of this connector: its locked transactions and its safety check. */
  private sharedContext(): SharedAccountContext {
    return {
      inRoleTransaction: (role, work) => this.inRoleTransaction(role, work),
      refuseUndeclaredPowers: (client, role) => this.refuseUndeclaredPowers(client, role),
    };
  }

  /** Checked in the granting transaction, so a role changed by a DBA since the last check() is still caught. */
  private async refuseUndeclaredPowers(client: pg.Client, role: string): Promise<void> {
    const found = (await this.undeclaredPowers(client, [role])).get(role);
    if (found) {
      throw new TenureError('connector.privileged_target', `role ${role} ${found.join(', ')}: it is granted only by an entitlement that says `
        + 'privileged_target: true at tier privileged', { field: 'target' });
    }
  }

  private async undeclaredPowers(client: pg.Client, roles: string[]): Promise<Map<string, string[]>> {
    const declared = new Set(this.config.privilegedRoles ?? []);
    return readManagedRolePowers(client, roles.filter((role) => !declared.has(role)));
  }

  async deprovision(grant: ConnectorGrant): Promise<ConnectorOutcome> {
    if (grant.sharedAccount) return rotateShared(this.sharedContext(), this.entitlementRole(grant));
    const login = this.loginRole(grant.identityHandle);
    const role = this.entitlementRole(grant);
    const changedRole = await this.inRoleTransaction(login, async (client) => {
      const existing = await this.readRole(client, login);
      if (!existing) return false;
      let changed = false;
      if (await this.isMember(client, login, role)) {
        await client.query(`REVOKE ${ident(role)} FROM ${ident(login)}`);
        // Since PostgreSQL 16 a membership granted by another role survives our REVOKE: never claim a removal that did not happen.
        if (await this.isMember(client, login, role)) {
          throw new Error(`${login} is still a member of ${role} after REVOKE (granted by another role)`);
        }
        changed = true;
      }
      if (grant.lastOnSystem) {
        // The password goes with the login, so nothing revives it. Whether one is set cannot be read
        // without superuser (pg_authid), so it is cleared every time and counted only with the login.
        await client.query(`ALTER ROLE ${ident(login)} NOLOGIN PASSWORD NULL`);
        changed ||= existing.rolcanlogin;
      }
      return changed;
    });
    // After the commit, so a session cannot reconnect with the old rights between the two steps.
    const terminated = changedRole || grant.lastOnSystem ? await this.terminateSessions(login) : 0;
    const leftovers = grant.lastOnSystem ? await this.clearAway(login) : [];
    return { changed: changedRole || terminated > 0, ...(leftovers.length > 0 ? { leftovers } : {}) };
  }

  /**
   * After the last removal: deals with what the account owns or granted as the policy says, then
   * drops the role if nothing is left, else reports what is. REASSIGN and DROP OWNED need the role's
   * privileges, so a connector that is not superuser takes its membership for the transaction
   * (CREATEROLE allows it; on PostgreSQL 16 it holds ADMIN OPTION on roles it created).
   */
  private clearAway(login: string): Promise<string[]> {
    return this.inRoleTransaction(login, async (client) => {
      if (!(await this.readRole(client, login))) return [];
      const policy = this.config.leftovers ?? 'report';
      if (policy !== 'report' && (await readLeftovers(client, login)).length > 0) {
        const { rows } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
        if (!rows[0]?.rolsuper) await client.query(`GRANT ${ident(login)} TO current_user`);
        if (typeof policy === 'object') await client.query(`REASSIGN OWNED BY ${ident(login)} TO ${ident(policy.reassign_to)}`);
        await client.query(`DROP OWNED BY ${ident(login)}`);
        if (!rows[0]?.rolsuper) await client.query(`REVOKE ${ident(login)} FROM current_user`);
      }
      const left = await readLeftovers(client, login);
      if (left.length === 0) await client.query(`DROP ROLE ${ident(login)}`);
      return left;
    });
  }

  /**
   * Ends the login role's open sessions. NOLOGIN and VALID UNTIL only stop new logins, and a session
   * that ran `SET ROLE <entitlement>` keeps that role's rights after the REVOKE, so any removal ends them.
   */
  private terminateSessions(login: string): Promise<number> {
    return this.withClient(async (client) => {
      const { rows } = await client.query<{ ended: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [login]);
      return rows.filter((row) => row.ended).length;
    });
  }

  /** One membership read back after a removal, without listing every role of the target. */
  async holds(grant: ConnectorGrant): Promise<boolean> {
    const login = this.loginRole(grant.identityHandle);
    const role = this.entitlementRole(grant);
    return this.withClient((client) => this.isMember(client, login, role));
  }

  listAccess(): Promise<AccessEntry[]> {
    return this.withClient((client) => readMemberships(client, this.config.roles, this.config.rolePrefix));
  }

  /**
   * Client backends of managed login roles. A row whose address the connector's role may not read
   * (it needs pg_read_all_stats) is left out rather than guessed: client_port is NULL only then.
   */
  listSessions(): Promise<ObservedSession[]> {
    // Shared accounts too: a session on one that did not come through the proxy is attributed to nobody.
    return this.withClient(async (client) => (await client.query<{ account: string; address: string; started: Date }>(
      `SELECT usename AS account, CASE WHEN client_port = -1 THEN 'local' ELSE host(client_addr) END AS address, backend_start AS started
         FROM pg_stat_activity WHERE backend_type = 'client backend' AND (left(usename, length($1)) = $1 OR usename = ANY($2::text[]))
          AND client_port IS NOT NULL AND pid <> pg_backend_pid()`, [this.config.rolePrefix, this.config.sharedRoles ?? []]))
      .rows.map((r) => ({ account: r.account, clientAddress: r.address, startedAt: r.started })));
  }

  listAccounts(): Promise<AccountState[]> {
    return this.withClient((client) => readAccounts(client, this.config.rolePrefix));
  }

  /**
   * Removes a membership someone added by hand. Only of a managed role: a role the connector does not
   * manage is not its to touch. The same PostgreSQL 16 caveat as deprovision applies.
   */
  async revokeMembership(account: string, entitlement: string): Promise<ConnectorOutcome> {
    if (!this.config.roles.includes(entitlement)) throw invalid('entitlement', `role ${entitlement} is not one this connector manages`);
    const changed = await this.inRoleTransaction(account, async (client) => {
      if (!(await this.isMember(client, account, entitlement))) return false;
      await client.query(`REVOKE ${ident(entitlement)} FROM ${ident(account)}`);
      if (await this.isMember(client, account, entitlement)) throw new Error(`${account} is still a member of ${entitlement} after REVOKE (granted by another role)`);
      return true;
    });
    if (changed) await this.terminateSessions(account);
    return { changed };
  }

  /**
   * Sets a password Tenure minted, as a SCRAM verifier computed here, with VALID UNTIL at the
   * account's end. Only for a live account: a grant not yet provisioned has nothing to open.
   */
  async setPassword(grant: ConnectorGrant, password: string): Promise<SignInDetails> {
    const login = this.loginRole(grant.identityHandle);
    const verifier = scramVerifier(password);
    await this.inRoleTransaction(login, async (client) => {
      const existing = await this.readRole(client, login);
      if (!existing?.rolcanlogin) throw new TenureError('grant.credential_unavailable', `${login} does not exist or cannot sign in yet`, { field: 'grant' });
      await client.query(`ALTER ROLE ${ident(login)} PASSWORD ${literal(verifier)} VALID UNTIL ${validUntil(grant.accountEndsAt)}`);
    });
    return { account: login, target: describeTarget(resolveSecretRef(this.config.url, 'url')), validUntil: grant.accountEndsAt };
  }

  /** Only for an account named by the rule: everyone else's sign-in is not Tenure's business. */
  async restrictLogin(account: string, until: Date | null): Promise<ConnectorOutcome> {
    if (!account.startsWith(this.config.rolePrefix)) throw invalid('account', `${account} does not follow the naming rule of this connector`);
    const changed = await this.inRoleTransaction(account, async (client) => {
      const existing = await this.readRole(client, account);
      if (!existing) return false;
      if (until === null) {
        if (!existing.rolcanlogin) return false;
        await client.query(`ALTER ROLE ${ident(account)} NOLOGIN`);
      } else {
        if (sameEnd(existing.rolvaliduntil, until)) return false;
        await client.query(`ALTER ROLE ${ident(account)} VALID UNTIL ${validUntil(until)}`);
      }
      return true;
    });
    if (changed && until === null) await this.terminateSessions(account);
    return { changed };
  }

  async check(): Promise<CheckResult> {
    let url = '';
    try {
      url = resolveSecretRef(this.config.url, 'url');
      const powers = await this.withClient(async (client) => {
        const own = await readPowers(client);
        const managed = await this.undeclaredPowers(client, this.config.roles);
        return { ...own, unsafe: [...own.unsafe, ...[...managed].map(([role, found]) => `managed role ${role} ${found.join(', ')}, `
          + 'and no entitlement says privileged_target for it')] };
      });
      const where = `PostgreSQL ${Math.floor(powers.version / 10000)} at ${describeTarget(url)} as ${powers.who}`;
      if (!powers.mayCreateRoles) return { ok: false, detail: `${where}: the role lacks CREATEROLE`, unsafe: powers.unsafe };
      const shared = await this.withClient((client) => sharedAccountProblems(client, this.config.sharedRoles ?? []));
      if (shared.length > 0) return { ok: false, detail: `${where}: ${shared.join('; ')}`, unsafe: powers.unsafe };
      return { ok: true, detail: powers.unsafe.length > 0 ? `${where}: UNSAFE, ${powers.unsafe.join('; ')}` : where, unsafe: powers.unsafe };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, detail: scrub(`cannot reach ${url ? describeTarget(url) : 'the server'}: ${message}`, url) };
    }
  }
}
