import { Card, CloseButton, Code, Group, SimpleGrid, Text, Title } from '@mantine/core';
import type { AuditEvent } from '../api/client';
import { actorText, subjectText } from './audit-names';
import { When } from './When';

const json = (value: unknown) => (value === null || value === undefined ? '—' : JSON.stringify(value, null, 2));
/** Long values (hashes, ids, reasons) wrap inside their column instead of running past the page's edge. */
const WRAP = { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' } as const;

/** One event as stored: its place in the hash chain, who did it on which channel, and what changed. */
export const AuditEventDetail = ({ event, onClose }: { event: AuditEvent; onClose: () => void }) => (
  <Card withBorder component="section" aria-labelledby="audit-event-title">
    <Group justify="space-between">
      <Title order={2} size="h4" id="audit-event-title">Event {event.seq}: {event.action}</Title>
      <CloseButton onClick={onClose} aria-label="Close event" />
    </Group>
    <Text size="sm"><b>Chain position</b> {event.seq} (format v{event.v}); hash <Code style={WRAP}>{event.hash}</Code></Text>
    <Text size="sm"><b>At</b> <When at={event.at} /></Text>
    <Text size="sm"><b>Actor</b> {actorText(event)}{event.actor.tokenId ? ` (token ${event.actor.tokenId})` : ''}{event.actor.id ? <> · <Code>{event.actor.id}</Code></> : ''}</Text>
    <Text size="sm"><b>Subject</b> {subjectText(event)} · <Code>{event.subject.id}</Code></Text>
    <Text size="sm"><b>Reason</b> {event.reason ?? '—'} · <b>Ticket</b> {event.ticket ?? '—'}</Text>
    <SimpleGrid cols={{ base: 1, md: 3 }} mt="xs">
      <div style={{ minWidth: 0 }}><Text size="sm" fw={700}>Before</Text><Code block style={WRAP}>{json(event.before)}</Code></div>
      <div style={{ minWidth: 0 }}><Text size="sm" fw={700}>After</Text><Code block style={WRAP}>{json(event.after)}</Code></div>
      <div style={{ minWidth: 0 }}><Text size="sm" fw={700}>Data</Text><Code block style={WRAP}>{json(event.data)}</Code></div>
    </SimpleGrid>
  </Card>
);
