import { Alert, Button, Code, CopyButton, Group, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { api, unwrap, type GrantView } from '../api/client';
import { useAction } from '../api/use-action';
import { ProblemAlert } from './PageState';
import { When } from './When';

type Issued = { account: string; target: string; password: string | null; validUntil?: string | null };

/**
 * Takes a password Tenure mints for the grant's target and shows it this once: Tenure keeps no copy,
 * so closing the panel loses it (taking another replaces it).
 */
export const CredentialPanel = ({ grant }: { grant: GrantView }) => {
  const [issued, setIssued] = useState<Issued>();
  const taking = useAction();
  const take = () => taking.run(async () => {
    setIssued(await unwrap(api.POST('/v1/grants/{grant}/credential', { params: { path: { grant: grant.id } } })));
  });
  if (!issued) {
    return (
      <Stack gap="xs">
        {taking.problem && <ProblemAlert problem={taking.problem} />}
        <Text size="sm">{grant.credentialIssuedAt ? <>You took a password <When at={grant.credentialIssuedAt} />; a new one replaces it.</> : 'Take a password to sign in to the target.'}</Text>
        <Group><Button size="compact-sm" loading={taking.busy} onClick={() => void take()}>Get a new password</Button></Group>
      </Stack>
    );
  }
  return (
    <Alert color="blue" title="Your password, shown this once" role="status">
      <Stack gap={4}>
        <Text size="sm">Sign in to <Code>{issued.target}</Code> as <Code>{issued.account}</Code>{issued.validUntil ? <>, until <When at={issued.validUntil} /></> : null}.</Text>
        <Group gap="xs"><Code aria-label="password">{issued.password}</Code>
          <CopyButton value={issued.password ?? ''}>{({ copied, copy }) => <Button size="compact-xs" variant="light" onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>}</CopyButton></Group>
        <Text size="xs">Store it now: Tenure keeps no copy, and it stops working when your access ends.</Text>
      </Stack>
    </Alert>
  );
};
