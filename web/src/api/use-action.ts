import { useState } from 'react';
import { problemOf, type Problem } from './client';

/**
 * Something the user sets off (submit a form, withdraw, give up): `busy` while it runs, for the button's
 * spinner, and the problem it met, kept until the next attempt so the form can show it next to the fields.
 */
export const useAction = () => {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await work();
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  return { busy, problem, run };
};
