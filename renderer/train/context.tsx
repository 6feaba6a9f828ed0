import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { RunState, TrainingClient } from './run.ts';

const ClientContext = createContext<TrainingClient | null>(null);

export function RunProvider({ client, children }: { client: TrainingClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useTraining(): TrainingClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('useTraining outside RunProvider');
  return c;
}

/** Read the live run through a narrow selector. */
export function useRun<T>(selector: (s: RunState) => T): T {
  return useStore(useTraining().store, selector);
}
