import { Text, Tooltip } from '@mantine/core';

/** What each provisioning state means for the person who holds or approved the access. */
const MEANING: Record<string, string> = {
  pending: 'Approved, but not yet confirmed in the target system: Tenure\'s worker is applying it (a manual system waits for its owner to confirm the task).',
  provisioned: 'In place in the target system, as Tenure read it back.',
  failed: 'The target system refused or could not be reached; Tenure retries, and a finding is raised if it keeps failing.',
  deprovisioned: 'Removed from the target system.',
};

export const provisioningMeaning = (state: string): string => MEANING[state] ?? `Provisioning state: ${state}.`;

/** A grant's provisioning state, with its meaning in a tooltip on hover, touch and keyboard focus. */
export const ProvisioningState = ({ state }: { state: string }) => (
  <Tooltip label={provisioningMeaning(state)} multiline w={280} events={{ hover: true, focus: true, touch: true }}>
    <Text span size="sm" tabIndex={0} style={{ textDecoration: 'underline dotted', cursor: 'help' }}>{state}</Text>
  </Tooltip>
);
