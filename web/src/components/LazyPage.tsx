import { Alert, Center, Loader } from '@mantine/core';
import { Component, Suspense, type ErrorInfo, type ReactNode } from 'react';

/**
 * Where a lazily loaded page is shown: a labelled spinner while its chunk downloads, and an alert instead of
 * a blank console if it cannot be shown (a chunk that failed to download, or one a newer build replaced).
 * `page` resets the alert when the user goes to another page.
 */
export const LazyPage = ({ page, children }: { page: string; children: ReactNode }) => (
  <PageBoundary key={page}>
    <Suspense fallback={<Center p="lg"><Loader aria-label="Loading page" /></Center>}>{children}</Suspense>
  </PageBoundary>
);

// Error boundaries can only be classes.
class PageBoundary extends Component<{ children: ReactNode }, { error?: Error }> {
  override state: { error?: Error } = {};

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error(error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <Alert color="red" title="This page could not be shown" role="alert">
        {this.state.error.message} Reload the console to try again.
      </Alert>
    );
  }
}
