/** The experiment running in the worker, as the Experiments panel shows it (kept apart from the training run's store). */
import { createStore } from 'zustand/vanilla';
import type { JsonRecord } from '../../core/experiments/framework.ts';
import type { JsonValue } from '../../core/graph/document.ts';

export interface ExperimentRunState {
  /** The experiment running now, with its settings, or null. */
  running: { name: string; settings: Record<string, JsonValue>; seed: number } | null;
  paused: boolean;
  done: number;
  total: number;
  /** The picture so far (coarse-to-fine), a valid result's data. */
  partial: JsonRecord | null;
  backend: string | null;
  /** Why the last experiment could not run. */
  error: string | null;
}

export function createExperimentStore() {
  return createStore<ExperimentRunState>()(() => ({ running: null, paused: false, done: 0, total: 0, partial: null, backend: null, error: null }));
}
export type ExperimentStore = ReturnType<typeof createExperimentStore>;
