import { Alert, Button, Group, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { Fragment, useState } from 'react';
import { api, unwrap, type GrantView, type Me } from '../api/client';
import { useAction } from '../api/use-action';
import { useApi } from '../api/use-api';
import { DataTable } from '../components/DataTable';
import { CredentialPanel } from '../components/CredentialPanel';
import { ExtendForm } from '../components/ExtendForm';
import { GrantSessions } from '../components/GrantSessions';
import { ProvisioningState } from '../components/ProvisioningState';
import { PageState, ProblemAlert } from '../components/PageState';
import { StatusBadge, TierBadge } from '../components/TierBadge';
import { When } from '../components/When';

const isLive = (g: GrantView) => g.status === 'active' || g.status === 'scheduled';

/** My grants with their ends: extend (a request the sponsor revalidates) or give up early. */
export const MyAccessPage = ({ me }: { me: Me }) => {
  const [showEnded, setShowEnded] = useState(false);
  const grants = useApi(() => unwrap(api.GET('/v1/grants', { params: { query: { identity: me.handle, ...(showEnded ? {} : { status: 'live' as const }), limit: 500 } } })), [showEnded, me.handle]);
  const [extending, setExtending] = useState<string>();
  const [credential, setCredential] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const givingUp = useAction();

  // No confirmation step: giving access up is never made harder than getting it, and it is audited.
  const giveUp = (grant: GrantView) => givingUp.run(async () => {
    await unwrap(api.POST('/v1/grants/{grant}/revoke', { params: { path: { grant: grant.id } }, body: { reason: 'given up by the holder from the web console' } }));
    setNotice(`${grant.entitlement} given up`);
    grants.reload();
  });

  const rows = grants.data?.items ?? [];
  return (
    <Stack maw={1000}>
      <Title order={1}>My access</Title>
      {notice && <Alert color="green" title={notice} role="status" withCloseButton onClose={() => setNotice(undefined)} />}
      {givingUp.problem && <ProblemAlert problem={givingUp.problem} />}
      <Switch label="Show ended grants" checked={showEnded} onChange={(e) => setShowEnded(e.currentTarget.checked)} />
      <PageState loading={grants.loading && !grants.data} problem={grants.problem}>
        {rows.length === 0 ? <Text>You hold no access{showEnded ? '' : ' now'}.</Text> : (
          <DataTable minWidth={640} head={['Entitlement', 'Tier', 'Status', 'Ends', 'Provisioning', 'Sessions', 'Actions']}>
            {rows.map((g) => (
              <Fragment key={g.id}>
                <Table.Tr>
                  <Table.Td>{g.entitlement}</Table.Td>
                  <Table.Td><TierBadge tier={g.tier} /></Table.Td>
                  <Table.Td><StatusBadge status={g.status} /></Table.Td>
                  <Table.Td>{isLive(g) ? <When at={g.endsAt} /> : <When at={g.endedAt ?? g.endsAt} />}</Table.Td>
                  <Table.Td><ProvisioningState state={g.provisioningState} /></Table.Td>
                  <Table.Td><GrantSessions grant={g} /></Table.Td>
                  <Table.Td>{isLive(g) && (
                    <Group gap="xs" wrap="nowrap">
                      <Button size="compact-sm" variant="light" onClick={() => setExtending(extending === g.id ? undefined : g.id)}
                        aria-expanded={extending === g.id}>Extend</Button>
                      {g.takesCredential && g.status === 'active' && g.provisioningState === 'provisioned' && (
                        <Button size="compact-sm" variant="light" onClick={() => setCredential(credential === g.id ? undefined : g.id)}
                          aria-expanded={credential === g.id}>Password</Button>
                      )}
                      <Button size="compact-sm" variant="outline" color="red" onClick={() => void giveUp(g)}>Give up</Button>
                    </Group>
                  )}</Table.Td>
                </Table.Tr>
                {credential === g.id && (
                  <Table.Tr><Table.Td colSpan={7}><CredentialPanel grant={g} /></Table.Td></Table.Tr>
                )}
                {extending === g.id && (
                  <Table.Tr><Table.Td colSpan={7}>
                    <ExtendForm grant={g} onDone={(text) => { setExtending(undefined); setNotice(text); }} />
                  </Table.Td></Table.Tr>
                )}
              </Fragment>
            ))}
          </DataTable>
        )}
      </PageState>
    </Stack>
  );
};
