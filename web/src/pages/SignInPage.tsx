import { Button, Center, Paper, Stack, Text, Title } from '@mantine/core';

/** Shown when /v1/me answers 401: sign-in goes through the OpenID provider and comes back here. */
export const SignInPage = () => {
  const returnTo = `/${window.location.hash}`;
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" maw={420} w="100%" component="main">
        <Stack>
          <Title order={1}>Tenure</Title>
          <Text>Every grant has a named owner, a purpose and an end. Sign in with your organisation's account to continue.</Text>
          <Button component="a" href={`/auth/login?returnTo=${encodeURIComponent(returnTo)}`}>Sign in</Button>
        </Stack>
      </Paper>
    </Center>
  );
};
