import type { ReactNode } from 'react';
import { useStore } from 'zustand';
import { requiredContext } from '../required-context.ts';
import type { RunState, TrainingClient } from './run.ts';

const clientContext = requiredContext<TrainingClient>('useTraining', 'RunProvider');

export function RunProvider({ client, children }: { client: TrainingClient; children: ReactNode }) {
  return <clientContext.Provider value={client}>{children}</clientContext.Provider>;
}

export const useTraining: () => TrainingClient = clientContext.use;

/** Read the live run through a narrow selector. */
export function useRun<T>(selector: (s: RunState) => T): T {
  return useStore(useTraining().store, selector);
}
