/**
 * `forwarding` of an entitlement (docs/policy.md): the destinations a session through Tenure's SSH
 * proxy may forward to, each `host:port` exactly (domain/ssh-forwarding.ts). Only the SSH proxy
 * enforces it, so on any other system it would promise a limit nothing keeps: refused there, as is
 * `file_transfer`, the other allowance only the SSH proxy keeps.
 */
import { z } from 'zod';
import { FORWARDING_RULE, isForwardingDestination } from '../domain/ssh-forwarding.js';

/** More than this is not a list of destinations anyone reviews. */
const MAX_DESTINATIONS = 64;

export const forwardingSchema = z.array(z.string({ error: FORWARDING_RULE }).refine(isForwardingDestination, FORWARDING_RULE))
  .min(1, 'must name at least one destination (leave forwarding out to refuse it)')
  .max(MAX_DESTINATIONS, `must name at most ${MAX_DESTINATIONS} destinations`)
  .superRefine((list, ctx) => {
    list.forEach((destination, i) => {
      // Only a well-formed destination is echoed back: it is short, and it is what was meant.
      if (list.indexOf(destination) !== i && isForwardingDestination(destination)) ctx.addIssue({ code: 'custom', path: [i], message: `'${destination}' is listed twice` });
    });
  });

type ProxyOnlySpec = { forwarding?: string[] | undefined; file_transfer?: boolean | undefined };

interface SystemInput {
  connector?: { type: string; proxy?: unknown } | undefined;
  entitlements: Record<string, ProxyOnlySpec>;
  shared_accounts?: Record<string, ProxyOnlySpec> | undefined;
}

const PROXY_ONLY = [['forwarding', 'forwarding'], ['file_transfer', 'file transfer']] as const;

export const checkSshProxyOnly = (system: SystemInput, ctx: z.RefinementCtx): void => {
  const proxied = system.connector?.type === 'ssh-ca' && system.connector.proxy !== undefined;
  if (proxied) return;
  for (const section of ['entitlements', 'shared_accounts'] as const) {
    for (const [name, spec] of Object.entries(system[section] ?? {})) {
      for (const [field, what] of PROXY_ONLY.filter(([f]) => spec[f] !== undefined)) {
        ctx.addIssue({ code: 'custom', path: [section, name, field], message: `only Tenure's SSH proxy enforces ${what}: `
          + 'the system needs an ssh-ca connector with a proxy block' });
      }
    }
  }
};
