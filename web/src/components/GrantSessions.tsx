import { Anchor } from '@mantine/core';
import type { GrantView } from '../api/client';
import { href } from '../router';

/** How many sessions went through the access proxy under a grant, linked to their list when there are any. */
export const GrantSessions = ({ grant }: { grant: GrantView }) => grant.proxySessions === 0 ? <>—</> : (
  <Anchor href={href('sessions', 'grant', grant.id)} aria-label={`${grant.proxySessions} sessions of ${grant.entitlement}`}>{grant.proxySessions}</Anchor>
);
