/**
 * `forwarding` of an entitlement (docs/policy.md): the destinations a session through Tenure's SSH
 * proxy may forward to, each `host:port` exactly (domain/ssh-forwarding.ts). Only the SSH proxy
 * enforces it, so on any other system it would promise a limit nothing keeps: refused there.
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

interface SystemInput {
  connector?: { type: string; proxy?: unknown } | undefined;
  entitlements: Record<string, { forwarding?: string[] | undefined }>;
  shared_accounts?: Record<string, { forwarding?: string[] | undefined }> | undefined;
}

export const checkForwarding = (system: SystemInput, ctx: z.RefinementCtx): void => {
  const proxied = system.connector?.type === 'ssh-ca' && system.connector.proxy !== undefined;
  if (proxied) return;
  for (const section of ['entitlements', 'shared_accounts'] as const) {
    for (const [name] of Object.entries(system[section] ?? {}).filter(([, spec]) => spec.forwarding !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [section, name, 'forwarding'], message: 'only Tenure\'s SSH proxy enforces forwarding: '
        + 'the system needs an ssh-ca connector with a proxy block' });
    }
  }
};
