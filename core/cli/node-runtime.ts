/** Node-side setup shared by `gradflow train` and `gradflow bench`: tf, its backend, MNIST. */
import type { GraphDocument } from '../graph/document.ts';
import type { MnistData } from '../data/mnist.ts';
import { selectBackend, type BackendChoice } from '../train/backend.ts';
import type { TF } from '../graph/types.ts';

export const NODE_BACKENDS = ['wasm', 'cpu'] as const;

/** Load TensorFlow.js for Node, quietly, on the chosen backend (wasm first, then cpu). */
export async function nodeTf(preference: readonly string[] = NODE_BACKENDS): Promise<{ tf: TF; choice: BackendChoice }> {
  const tf = (await import('@tensorflow/tfjs')) as unknown as TF;
  // Production mode skips debug checks and the cpu backend's advert for tfjs-node (a native
  // build this project does not use: it needs a download at install time).
  tf.enableProdMode();
  const choice = await selectBackend(tf, preference, {
    wasm: async () => {
      await import('@tensorflow/tfjs-backend-wasm');
    },
  });
  return { tf, choice };
}

/** The MNIST digits if the document's Dataset uses them. */
export async function mnistFor(doc: Pick<GraphDocument, 'nodes'>): Promise<MnistData | undefined> {
  if (!doc.nodes.some((n) => n.kind === 'dataset' && n.params.source === 'mnist')) return undefined;
  const { loadMnistNode } = await import('../data/mnist-node.ts');
  return loadMnistNode();
}
