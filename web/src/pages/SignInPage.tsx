import { Alert, Button, Center, Code, Paper, Stack, Text, Title } from '@mantine/core';
import { api, unwrap } from '../api/client';
import { useApi } from '../api/use-api';

/**
 * Why the person is on this page, from `?signin=` (set by sign-out, and by the server when a sign-in
 * link or the provider refused them): each says in words what happened and what to do next.
 */
const REASONS: Record<string, { title: string; text: string; color: string }> = {
  signed_out: { title: 'You are signed out', text: 'Your session has ended.', color: 'blue' },
  demo_link_invalid: {
    title: 'This sign-in link no longer works',
    text: 'Each demo link signs in once, and only until the time tenure serve --demo printed beside it. It was already used, has expired, or belongs to an earlier run.',
    color: 'yellow',
  },
  demo_links_off: { title: 'Demo links are off', text: 'Demo sign-in links work only on a server started with tenure serve --demo.', color: 'yellow' },
  oidc_not_configured: { title: 'Sign-in through your organisation is not set up here', text: 'This server has no OpenID provider configured (TENURE_OIDC_ISSUER).', color: 'yellow' },
};

const signInReason = () => new URLSearchParams(window.location.search).get('signin') ?? '';

/** What a demo server's visitor must do to get in again: the links are printed by the server, once each. */
const DemoHelp = () => (
  <Text>
    To sign in to the demo, open one of the one-time links printed in the terminal where <Code>tenure serve --demo</Code> (or{' '}
    <Code>npm start</Code>) runs. Each link works once: for new ones, stop the server (Ctrl-C) and start <Code>tenure serve --demo</Code> again.
  </Text>
);

/** Shown when /v1/me answers 401: sign in through the OpenID provider, or, in the demo, with a printed link. */
export const SignInPage = () => {
  const methods = useApi(() => unwrap(api.GET('/auth/methods')), []);
  const returnTo = `/${window.location.hash}`;
  const reason = REASONS[signInReason()];
  const m = methods.data;
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" maw={520} w="100%" component="main">
        <Stack>
          <Title order={1}>Tenure</Title>
          {reason && <Alert color={reason.color} title={reason.title} role="status">{reason.text}</Alert>}
          <Text>Every grant has a named owner, a purpose and an end.</Text>
          {m?.oidc && <Text>Sign in with your organisation&apos;s account to continue.</Text>}
          {m?.oidc && <Button component="a" href={`/auth/login?returnTo=${encodeURIComponent(returnTo)}`}>Sign in</Button>}
          {m?.demo && <DemoHelp />}
          {m && !m.oidc && !m.demo && (
            <Text>Web sign-in is not configured on this server: set TENURE_OIDC_ISSUER (see docs/authentication.md), or use the API with a token.</Text>
          )}
        </Stack>
      </Paper>
    </Center>
  );
};
