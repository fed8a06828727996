import { AppShell, Burger, Button, Group, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { api, unwrap, type Me } from './api/client';
import { can } from './api/permissions';
import { useApi } from './api/use-api';
import { PageState } from './components/PageState';
import { Pages } from './Pages';
import { href, useRoute } from './router';
import { SignInPage } from './pages/SignInPage';

interface NavEntry { path: string; label: string; shown: (me: Me) => boolean }

/** Entries a user's roles cannot use are not shown at all; the API refuses them anyway. */
const NAV: NavEntry[] = [
  { path: 'inbox', label: 'Inbox', shown: () => true },
  { path: 'request', label: 'Request access', shown: (me) => me.kind !== 'service_account' },
  { path: 'access', label: 'My access', shown: () => true },
  { path: 'reviews', label: 'Reviews', shown: () => true },
  { path: 'findings', label: 'Findings', shown: () => true },
  { path: 'audit', label: 'Audit', shown: (me) => can(me, 'audit.read') },
  { path: 'breakglass', label: 'Break-glass', shown: () => true },
  // Everyone may ask: the API lists only the sessions the reader may read (their own at least).
  { path: 'sessions', label: 'Sessions', shown: () => true },
  { path: 'people', label: 'People', shown: () => true },
  { path: 'systems', label: 'Systems', shown: () => true },
  // Relationship owners are employees; readers of all vendors may be anyone with the role.
  { path: 'vendors', label: 'Vendors', shown: (me) => me.kind === 'employee' || can(me, 'vendor.read_all') },
];

const signOut = async () => {
  await api.POST('/auth/logout').catch(() => undefined);
  // The sign-in page then says the session ended and how to get back in (a demo has no provider to go to).
  window.location.assign('/?signin=signed_out');
};

export const App = () => {
  const me = useApi(() => unwrap(api.GET('/v1/me')), []);
  if (me.problem?.status === 401) return <SignInPage />;
  if (!me.data) return <PageState loading={me.loading} problem={me.problem} />;
  return <Shell me={me.data} />;
};

const Shell = ({ me }: { me: Me }) => {
  const [opened, { toggle, close }] = useDisclosure();
  const route = useRoute();
  const nav = NAV.filter((entry) => entry.shown(me));
  const current = route[0] ?? 'inbox';
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Title order={2} size="h4">Tenure</Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text fw={600} title={me.displayName} data-testid="signed-in-handle">{me.handle}</Text>
            <Button variant="subtle" size="compact-sm" onClick={() => void signOut()}>Sign out</Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {nav.map((entry) => (
          <NavLink key={entry.path} href={href(entry.path)} label={entry.label} active={current === entry.path} variant="light"
            aria-current={current === entry.path ? 'page' : undefined} onClick={close} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Pages me={me} route={route.length > 0 ? route : ['inbox']} />
      </AppShell.Main>
    </AppShell>
  );
};
