/**
 * Share by link: the graph (nodes, edges, parameters, layout and metadata; no weights, masks,
 * runs or experiment results) saved as a file would be, deflate-compressed and base64url
 * encoded into a URL fragment, as TensorFlow Playground keeps its state in the URL. The
 * fragment never reaches a server. Opening a link goes through `loadGraph` like a file, so a
 * damaged link is refused with the same messages and nothing is half-loaded.
 *
 * Uses the web-standard CompressionStream, which browsers, workers and Node (≥ 18) all have.
 */
import type { GraphDocument } from '../graph/document.ts';
import { saveGraph } from './save.ts';

/** The fragment's key: `#graph=<data>`. */
export const LINK_KEY = 'graph';
/**
 * Longest fragment offered as a link. Browsers take far longer URLs, but chat programs, mail
 * and issue trackers cut or refuse links past a few thousand characters to a few ten
 * thousand; past this a file is the better way to share.
 */
export const MAX_LINK_CHARS = 16_000;
/** Largest graph text a link may unpack to (a guard against decompression bombs). */
export const MAX_LINK_GRAPH_BYTES = 8 * 1024 * 1024;

export type LinkResult = { ok: true; fragment: string; chars: number } | { ok: false; error: string; chars: number };

/** The document as a link fragment ("graph=…", without "#"), or why it is too large for one. */
export async function graphToFragment(doc: GraphDocument): Promise<LinkResult> {
  const shared: GraphDocument = { format: doc.format, version: doc.version, metadata: doc.metadata, nodes: doc.nodes, edges: doc.edges };
  const packed = await deflate(new TextEncoder().encode(saveGraph(shared)));
  const fragment = `${LINK_KEY}=${toBase64Url(packed)}`;
  if (fragment.length > MAX_LINK_CHARS) {
    return {
      ok: false,
      chars: fragment.length,
      error: `this graph makes a link of ${kb(fragment.length)} KB, more than the ${kb(MAX_LINK_CHARS)} KB that links carry reliably (a Table dataset carries its data). Share the file instead: Save, then send the .nngraph file`,
    };
  }
  return { ok: true, fragment, chars: fragment.length };
}

/** Whether a URL fragment ("#graph=…" or "graph=…") holds a shared graph. */
export function isGraphFragment(hash: string): boolean {
  return hash.replace(/^#/, '').startsWith(`${LINK_KEY}=`);
}

/**
 * The graph text in a link fragment, to be opened with `loadGraph` (which checks it as it
 * checks a file). Never throws: a damaged fragment gives a message saying what is wrong.
 */
export async function fragmentToGraphText(hash: string): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  const body = hash.replace(/^#/, '');
  if (!isGraphFragment(body)) return { ok: false, error: `the link holds no graph (its part after # must start with "${LINK_KEY}=")` };
  const data = body.slice(LINK_KEY.length + 1);
  if (data === '') return { ok: false, error: 'the link holds no graph data after "graph=" (it was cut off?)' };
  if (data.length > MAX_LINK_CHARS * 4) return { ok: false, error: `the link is too long (${kb(data.length)} KB)` };
  const bytes = fromBase64Url(data);
  if (!bytes) return { ok: false, error: 'the link is damaged: its graph data has characters a link of ours never contains (was it edited or cut off?)' };
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(await inflate(bytes, MAX_LINK_GRAPH_BYTES));
    return { ok: true, text };
  } catch (e) {
    const why = e instanceof LinkTooLarge ? e.message : 'its compressed graph data is incomplete or corrupt (was it cut off?)';
    return { ok: false, error: `the link is damaged: ${why}` };
  }
}

class LinkTooLarge extends Error {}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Inflate, stopping as soon as the output passes `limit` bytes. */
async function inflate(bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new LinkTooLarge(`it unpacks to more than ${Math.round(limit / 1024 / 1024)} MiB`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) return null;
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const kb = (chars: number) => (chars / 1000).toFixed(chars < 10_000 ? 1 : 0);
