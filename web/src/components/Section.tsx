import { Text, Title } from '@mantine/core';
import { useId, type ReactNode } from 'react';
import type { Loaded } from '../api/use-api';
import { PageState } from './PageState';

/**
 * A titled part of a page fed by one API call. A 403 or 404 says "not visible to you" rather than
 * failing the whole page: a person page mixes lists with different permissions.
 */
export const Section = <T,>({ title, loaded, children }: { title: string; loaded: Loaded<T>; children: (data: T) => ReactNode }) => {
  const id = useId();
  const hidden = loaded.problem && (loaded.problem.status === 403 || loaded.problem.status === 404);
  return (
    <section aria-labelledby={id}>
      <Title order={2} size="h4" id={id} mt="md" mb="xs">{title}</Title>
      {hidden ? <Text size="sm" c="dimmed">Not visible to you.</Text> : (
        <PageState loading={loaded.loading && loaded.data === undefined} problem={loaded.problem}>
          {loaded.data !== undefined && children(loaded.data)}
        </PageState>
      )}
    </section>
  );
};
