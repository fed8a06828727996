import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serialize } from 'pg-protocol';
import type { Store } from '../src/store/database.js';
import { BACKENDS } from './support/backends.js';
import {
  allEnded, carlWithGrant, psql, sessionsOf, startProxyTarget, type CarlWithGrant, type ProxyTarget, type ProxyWorld,
} from './support/pg-proxy-world.js';

/**
 * Issue 18, bad input: garbage, an oversized message, an unknown user or database, a client that
 * never finishes its handshake. Each gets a protocol error and a closed connection, no session is
 * recorded, and the proxy goes on serving everyone else.
 */
let target: ProxyTarget;
before(async () => { target = await startProxyTarget(); });
after(async () => { await target?.drop(); });

/** Sends `first`, then `then` once the proxy asks for a password (if given); resolves to everything received before the close. */
const exchange = (port: number, first: Buffer | null, then?: Buffer) => new Promise<string>((resolve, reject) => {
  const socket = connect({ host: '127.0.0.1', port });
  const got: Buffer[] = [];
  socket.on('data', (chunk) => {
    got.push(chunk);
    if (then && chunk[0] === 'R'.charCodeAt(0)) socket.write(then);
  });
  socket.on('error', reject);
  socket.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
  if (first) socket.write(first);
});

/** A password message declaring `length` bytes, with only its header sent. */
const hugePassword = (length: number) => { const b = Buffer.alloc(5); b.write('p'); b.writeInt32BE(length, 1); return b; };

for (const backend of BACKENDS) {
  describe(`the PostgreSQL proxy refuses bad input and keeps serving (${backend})`, () => {
    let store: Store;
    let p: ProxyWorld;
    let token: string;
    let world: CarlWithGrant;
    before(async () => { world = await carlWithGrant(backend, target); ({ store, p, token } = world); });
    after(async () => { await world?.stop(); });

    it('answers garbage with a protocol error and closes', async () => {
      const reply = await exchange(p.port, Buffer.from('GET / HTTP/1.1\r\nHost: tenure\r\n\r\n'));
      assert.match(reply, /^E.*FATAL.*08P01.*invalid startup packet length/s);
    });

    it('closes a connection whose message is over the size limit before reading it', async () => {
      const reply = await exchange(p.port, serialize.startup({ user: 'carl', database: 'payments/read' }), hugePassword(100 * 1024 * 1024));
      assert.match(reply, /54000.*over the limit/s);
    });

    it('refuses a startup for an unknown user or with a wrong token alike', async () => {
      await assert.rejects(psql(p.port, 'nobody', 'payments/read', token, 'SELECT 1'), /password authentication failed for user "nobody"/);
      await assert.rejects(psql(p.port, 'carl', 'payments/read', 'tnr_not-a-token', 'SELECT 1'), /password authentication failed for user "carl"/);
    });

    it('refuses a startup for an unknown database', async () => {
      await assert.rejects(psql(p.port, 'carl', 'payments/nothing', token, 'SELECT 1'), /holds no live grant of payments\/nothing now \(unknown_entitlement\)/);
    });

    it('drops a client that never finishes its handshake, and one that stops halfway', async () => {
      const [silent, halfway] = await Promise.all([
        exchange(p.port, null),
        exchange(p.port, serialize.startup({ user: 'carl', database: 'payments/read' }).subarray(0, 12)),
      ]);
      assert.match(silent, /did not finish in time/);
      assert.match(halfway, /did not finish in time/);
    });

    it('has recorded no session for any of them, and still serves carl', async () => {
      assert.deepEqual(await sessionsOf(store), []);
      assert.equal(await psql(p.port, 'carl', 'payments/read', token, 'SELECT count(*) FROM ledger'), '3\n');
      assert.equal((await allEnded(store)).length, 1);
    });
  });
}
