/** Every experiment Gradflow can run, by name: the CLI, the file format and the app read this list. */
import { batchnorm } from './batchnorm.ts';
import type { ExperimentDef } from './framework.ts';
import { initialization } from './initialization.ts';
import { interpolation } from './interpolation.ts';
import { landscape } from './landscape.ts';
import { lottery } from './lottery.ts';
import { sharpVsFlat } from './sharp-flat.ts';
import { sharpness } from './sharpness.ts';
import { skipConnections } from './skip-connections.ts';
import { trajectory } from './trajectory.ts';
import { width } from './width.ts';

export const EXPERIMENTS: readonly ExperimentDef[] = [landscape, interpolation, trajectory, sharpness, sharpVsFlat, skipConnections, width, initialization, lottery, batchnorm] as unknown as ExperimentDef[];

/** The experiment with this name, or undefined. */
export function experimentDef(name: string): ExperimentDef | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}
