/** Every export target behind one call, so the CLI and the app offer the same ones. */
import type { MnistData } from '../../data/mnist.ts';
import type { GraphDocument } from '../../graph/document.ts';
import type { NodeWeights } from '../weights.ts';
import { exportOnnx, type ExportResult } from './onnx.ts';
import { exportPytorch } from './pytorch.ts';
import { exportTfjs } from './tfjs.ts';

export const EXPORT_TARGETS = ['onnx', 'pytorch', 'tfjs'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

/** One file of an export, by its path inside the output folder (a single name for ONNX). */
export interface ExportFile {
  path: string;
  bytes: Uint8Array;
}

export interface ExportOptions {
  weights: NodeWeights;
  /** Whether the weights are trained ones (from the file) or the initial ones. */
  trained: boolean;
  /** The MNIST digits, for a PyTorch project's data.npz when the Dataset uses them. */
  mnist?: MnistData | undefined;
}

/** Export a document to a target: the files to write, or every reason it cannot be. */
export async function exportModel(doc: GraphDocument, to: ExportTarget, o: ExportOptions): Promise<ExportResult<ExportFile[]>> {
  switch (to) {
    case 'onnx': {
      const r = exportOnnx(doc, o.weights);
      return r.ok ? { ok: true, value: [{ path: 'model.onnx', bytes: r.value }], notes: r.notes } : r;
    }
    case 'pytorch':
      return exportPytorch(doc, o);
    case 'tfjs':
      return exportTfjs(doc, o.weights);
  }
}
