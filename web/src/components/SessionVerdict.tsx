import { Alert, Badge } from '@mantine/core';
import type { ProxySession } from '../api/client';

type Verified = ProxySession['verified'];

export const PROTOCOL: Record<string, string> = { postgres: 'PostgreSQL', ssh: 'SSH' };

/**
 * What `verified` means to a reader (docs/sessions.md, "Reading sessions back"). A mismatch is the one
 * answer that needs someone to act, so it is the only one shown filled, in red, in capitals.
 */
export const verdictOf = (verified: Verified): { color: string; label: string; means: string } => {
  if (verified === true) return { color: 'green', label: 'Verified', means: 'The recording hashes to the digest in the audit chain' };
  if (verified === false) {
    return { color: 'red', label: 'MISMATCH', means: 'The stored recording does not hash to the digest in the audit chain: it was changed, added to or cut after the session' };
  }
  if (verified === 'purged') return { color: 'gray', label: 'Purged', means: 'Retention deleted the recording; its digest stays in the audit chain' };
  return { color: 'blue', label: 'Open', means: 'The session is still open: its recording is verified once it ends' };
};

export const VerdictBadge = ({ verified }: { verified: Verified }) => {
  const v = verdictOf(verified);
  return <Badge color={v.color} variant={verified === false ? 'filled' : 'light'} title={v.means} miw="max-content">{v.label}</Badge>;
};

/** The verdict as a sentence at the top of a session's page; an alert (read out at once) when it is a mismatch. */
export const VerdictAlert = ({ verified }: { verified: Verified }) => {
  const v = verdictOf(verified);
  return (
    <Alert color={v.color} variant={verified === false ? 'filled' : 'light'} title={`Recording: ${v.label}`}
      role={verified === false ? 'alert' : 'status'}>{v.means}.</Alert>
  );
};
