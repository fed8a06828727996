import { List, Text } from '@mantine/core';
import type { RequestView } from '../api/client';

const LABELS: Record<string, string> = { sponsor: 'Sponsor', system_owner: 'System owner', security: 'Security' };
export const stageLabel = (kind: string): string => LABELS[kind] ?? kind;

/** The approval route of a request, stage by stage, with who decided what. */
export const StageList = ({ stages }: { stages: RequestView['stages'] }) => (
  <div>
    <Text size="sm" fw={700}>Approval route</Text>
    <List size="sm">
      {stages.map((s) => (
        <List.Item key={s.position}>
          {stageLabel(s.kind)}: {s.status}
          {s.decidedBy ? ` by ${s.decidedBy}` : s.status === 'pending' ? ` (${s.approvers.join(', ') || 'nobody eligible'})` : ''}
          {s.comment ? ` — “${s.comment}”` : ''}
        </List.Item>
      ))}
    </List>
  </div>
);
