import { useCallback, useEffect, useState } from 'react';
import { problemOf, type Problem } from './client';

export interface Loaded<T> {
  data: T | undefined;
  problem: Problem | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads once per change of `deps`, keeping the last data while reloading so the page does not flicker. */
export const useApi = <T,>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> => {
  const [data, setData] = useState<T>();
  const [problem, setProblem] = useState<Problem>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  // The caller names what the loader depends on, as with useEffect.
  const stable = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setLoading(true);
    stable().then(
      (value) => { if (live) { setData(value); setProblem(undefined); setLoading(false); } },
      (error: unknown) => { if (live) { setProblem(problemOf(error)); setLoading(false); } },
    );
    return () => { live = false; };
  }, [stable, tick]);
  return { data, problem, loading, reload: () => setTick((t) => t + 1) };
};
