import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyDocument } from '../../core/graph/document.ts';
import { addNode } from '../../core/graph/edit.ts';
import { MAX_LINK_CHARS, fragmentToGraphText, graphToFragment, isGraphFragment } from '../../core/io/link.ts';
import { loadGraph } from '../../core/io/load.ts';

const examples = readdirSync(new URL('../../examples/', import.meta.url)).filter((f) => f.endsWith('.nngraph'));
const load = (text: string) => {
  const r = loadGraph(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.document;
};
const example = (f: string) => load(readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8'));

/** Open a fragment the way the app does: unpack, then the file loader's checks. */
async function open(fragment: string) {
  const t = await fragmentToGraphText(fragment);
  if (!t.ok) return { ok: false as const, error: t.error };
  const r = loadGraph(t.text);
  return r.ok ? { ok: true as const, doc: r.document } : { ok: false as const, error: r.error.message };
}

describe('share by link', () => {
  it.each(examples)('%s travels in a link and comes back with the same graph, without weights or runs', async (f) => {
    const doc = example(f);
    const link = await graphToFragment({ ...doc, runs: [{ id: 'r1' } as never] });
    expect(link.ok).toBe(true);
    if (!link.ok) return;
    expect(link.fragment).toMatch(/^graph=[A-Za-z0-9_-]+$/);
    expect(isGraphFragment(`#${link.fragment}`)).toBe(true);
    const back = await open(`#${link.fragment}`);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.doc.nodes).toEqual(doc.nodes);
    expect(back.doc.edges).toEqual(doc.edges);
    expect(back.doc.metadata.name).toBe(doc.metadata.name);
    expect(back.doc.weights).toBeUndefined();
    expect(back.doc.runs ?? []).toEqual([]);
  });

  it('keeps the MNIST MLP link short', async () => {
    const link = await graphToFragment(example('mnist-mlp.nngraph'));
    expect(link.chars).toBeLessThan(2000);
  });

  it('refuses a graph too large for a link and suggests the file', async () => {
    // Random text does not compress: a note that large makes a link past the limit.
    let seed = 7;
    // mulberry32: seeded, and random enough that deflate cannot shrink it much.
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const noise = Array.from({ length: MAX_LINK_CHARS * 2 }, () => String.fromCharCode(48 + Math.floor(next() * 75))).join('');
    const doc = { ...emptyDocument('Big'), metadata: { ...emptyDocument('Big').metadata, description: noise } };
    const link = await graphToFragment(doc);
    expect(link.ok).toBe(false);
    if (link.ok) return;
    expect(link.error).toMatch(/more than the 16 KB that links carry reliably.*Share the file instead/);
  });

  const good = async () => {
    const { doc } = addNode(emptyDocument('One'), 'dense', { x: 0, y: 0 });
    const link = await graphToFragment(doc);
    if (!link.ok) throw new Error(link.error);
    return link.fragment;
  };
  const deflated = async (text: string) => {
    const s = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'));
    const b = new Uint8Array(await new Response(s).arrayBuffer());
    return `graph=${Buffer.from(b).toString('base64url')}`;
  };

  it.each([
    ['no graph key', async () => 'state=abc', /holds no graph/],
    ['nothing after graph=', async () => 'graph=', /no graph data/],
    ['characters outside base64url', async () => 'graph=abc$%def', /characters a link of ours never contains/],
    ['cut off', async () => (await good()).slice(0, -12), /damaged/],
    ['corrupt compressed data', async () => 'graph=' + 'A'.repeat(40), /damaged/],
    ['not JSON inside', async () => deflated('this is not a graph'), /JSON/i],
    ['JSON that is not a graph file', async () => deflated('{"format":"something-else"}'), /format/i],
    ['a NaN parameter', async () => deflated((await fragmentToGraphText(await good()).then((t) => (t.ok ? t.text : ''))).replace(/"units": \d+/, '"units": NaN')), /NaN|JSON/],
    ['a decompression bomb', async () => deflated(' '.repeat(9 * 1024 * 1024)), /unpacks to more than 8 MiB/],
  ])('refuses a link with %s, saying why', async (_what, make, message) => {
    const r = await open(await make());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});
