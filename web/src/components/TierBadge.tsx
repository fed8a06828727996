import { Badge } from '@mantine/core';

const COLORS: Record<string, string> = { read: 'gray', standard: 'blue', privileged: 'red' };

export const TierBadge = ({ tier }: { tier: string | undefined }) =>
  tier ? <Badge color={COLORS[tier] ?? 'gray'} variant="light">{tier}</Badge> : null;

const STATUS: Record<string, string> = {
  active: 'green', pending: 'yellow', queued: 'yellow', scheduled: 'blue', approved: 'green', denied: 'red', revoked: 'red',
  expired: 'gray', cancelled: 'gray', open: 'orange', resolved: 'green', accepted: 'grape',
};

export const StatusBadge = ({ status }: { status: string }) =>
  <Badge color={STATUS[status] ?? 'gray'} variant="outline" miw="max-content">{status}</Badge>;
