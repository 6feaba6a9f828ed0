/**
 * The MNIST digits from the page's assets: the worker trains on them, and the Model… dialog
 * writes them into a PyTorch project's data.npz.
 */
import { decodeMnistBinary, type MnistData } from '../../core/data/mnist.ts';

export async function fetchMnist(url: string): Promise<MnistData> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load the MNIST digits from ${url} (HTTP ${res.status})`);
  return decodeMnistBinary(new Uint8Array(await res.arrayBuffer()));
}
