/** The example graphs in examples/, for tests that run every one. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GraphDocument } from '../../../core/graph/document.ts';
import { loadGraph } from '../../../core/io/load.ts';

export const EXAMPLES = join(import.meta.dirname, '../../../examples');
export const exampleFiles: string[] = readdirSync(EXAMPLES).filter((f) => f.endsWith('.nngraph')).sort();

/** One example, loaded through the file format as the app loads it. */
export function loadExample(file: string): GraphDocument {
  const r = loadGraph(readFileSync(join(EXAMPLES, file)));
  if (!r.ok) throw new Error(r.error.message);
  return r.document;
}
