import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { approveRequest } from '../../src/operations/approve-request.js';
import { createRequest } from '../../src/operations/create-request.js';
import type { generateKeyPair } from './sshd.js';
import { LIFECYCLE_POLICY, type World } from './world.js';

/** A shared account's line needs no target: a proxied SSH system with one shared account, `bastion/ops`. */
export const LINE_APPROVERS = ['sam', 'olivia', 'selma'];

export type LineKeys = Record<'ca' | 'upstream', ReturnType<typeof generateKeyPair>>;

/** The lifecycle policy with `bastion/ops` (4 h at most); `sod` forbids holding it with payments/initiate. */
export const sharedAccountPolicy = (dir: string, { ca, upstream }: LineKeys, sod = false): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
  // Shorter than a check-out's longest: a request can lapse in line while the account is still held.
  doc.requests.pending_expires_after = '3h';
  doc.systems.bastion = {
    name: 'Bastion hosts', business_owner: 'olivia', technical_owner: 'tom', criticality: 'high',
    connector: { type: 'ssh-ca', ca_key: `file:${ca.privatePath}`, krl_path: join(dir, 'revoked.krl'), max_ttl: '4h',
      proxy: { upstream_key: `file:${upstream.privatePath}`, hosts: { web1: { address: '127.0.0.1:22', host_key: upstream.publicKey.split(' ').slice(0, 2).join(' ') } } } },
    entitlements: {},
    shared_accounts: { ops: { name: 'Operations account', tier: 'standard', max_duration: '4h', target: 'ops' } },
  };
  if (sod) doc.separation_of_duties.push({ name: 'no-ops-for-initiators', entitlements: ['bastion/ops', 'payments/initiate'], reason: 'test' });
  return stringify(doc);
};

/** Files a check-out and approves it stage by stage until it is decided: approved (a grant) or queued (a place in line). */
export const askFor = async (w: World, handle: string, duration: string, entitlement = 'bastion/ops') => {
  const request = await createRequest(await w.as(handle), { entitlement, justification: 'maintenance', duration });
  // Each stage by whoever the route gives it to, in order; the route of a standard check-out ends before security.
  for (const approver of LINE_APPROVERS) {
    const decision = await approveRequest(await w.as(approver), { request: request.id });
    if (decision.status !== 'pending') return decision;
  }
  throw new Error(`request ${request.id} is still pending after ${LINE_APPROVERS.join(', ')}`);
};
