import { createHash } from 'node:crypto';
import type { ActingIdentity } from '../operations/authorize.js';
import type { Principal } from '../operations/lib/credentials/principal.js';

export interface RememberedCaller { principal: Principal; acting: ActingIdentity; expiresAt: Date }

/** Even with no change in sight, a caller is looked up again after this long. */
const MAX_AGE_MS = 60_000;
const MAX_ENTRIES = 10_000;

/**
 * Remembers who a bearer token belongs to, for the decision point's hot path only: three queries
 * per check would cap it far below the rate target. An entry is trusted only while the change feed
 * shows no credential change since it was made (`epoch()` moves on any token revocation, status or
 * role change, and is undefined while the feed is stale), until the token's own expiry, and for at
 * most a minute. Keys are hashes: no token secret is kept in memory by this cache.
 */
export class CredentialCache {
  private readonly entries = new Map<string, RememberedCaller & { epoch: number; storedAt: number }>();

  constructor(private readonly epoch: () => number | undefined) {}

  get(authorization: string, now: Date): RememberedCaller | undefined {
    const epoch = this.epoch();
    if (epoch === undefined) return undefined;
    const key = keyOf(authorization);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const at = now.getTime();
    if (entry.epoch !== epoch || entry.expiresAt.getTime() <= at || at - entry.storedAt > MAX_AGE_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  put(authorization: string, caller: RememberedCaller, now: Date): void {
    const epoch = this.epoch();
    if (epoch === undefined) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(keyOf(authorization), { ...caller, epoch, storedAt: now.getTime() });
  }
}

const keyOf = (authorization: string) => createHash('sha256').update(authorization).digest('base64');
