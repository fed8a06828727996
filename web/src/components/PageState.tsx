import { Alert, Center, Loader } from '@mantine/core';
import type { ReactNode } from 'react';
import type { Problem } from '../api/client';

/** The one way every page shows loading and failure: a labelled spinner, or an Alert with the problem's detail. */
export const PageState = ({ loading, problem, children }: { loading: boolean; problem: Problem | undefined; children?: ReactNode }) => {
  if (problem) return <ProblemAlert problem={problem} />;
  if (loading) return <Center p="lg"><Loader aria-label="Loading" /></Center>;
  return <>{children}</>;
};

export const ProblemAlert = ({ problem, title }: { problem: Problem; title?: string }) => (
  <Alert color="red" title={title ?? problem.title} role="alert">{problem.detail}</Alert>
);
