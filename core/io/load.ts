/**
 * Loading a `.nngraph` file: the only way a document comes in. Parse, check, migrate,
 * validate against the schema and the catalogue, and only then build the document.
 * Anything that cannot be understood gives one readable error naming the node, port or
 * field; nothing is half-loaded and no content is silently dropped.
 */
import { analyzeGraph } from '../graph/analyze.ts';
import { kindDef } from '../graph/catalogue.ts';
import { displayName, FORMAT_NAME, FORMAT_VERSION, type GraphDocument, type GraphNode } from '../graph/document.ts';
import { checkParam, type ParamSpecs } from '../graph/params.ts';
import { echo, hasControlCharacters, preview, quoted, summarize } from '../graph/text.ts';
import { decodeFloat32 } from './base64.ts';
import { MIGRATIONS, migrate, type Migration } from './migrations.ts';
import { documentSchema } from './schema.ts';
import { readStoredMask } from './masks.ts';

/** Files whose graph (everything but the trained weights) is larger than this are refused. */
export const MAX_GRAPH_BYTES = 64 * 1024 * 1024;
/** Hard limit for files with trained weights. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** Deepest nesting of JSON arrays and objects accepted (a graph file needs about 6). */
export const MAX_DEPTH = 64;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export class GraphFileError extends Error {
  /** Where in the file: e.g. "nodes[3] 'fc1' → params.units", or "line 4, column 10". */
  readonly where: string | undefined;
  constructor(message: string, where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'GraphFileError';
    this.where = where;
  }
}

export type LoadResult =
  | { ok: true; document: GraphDocument; warnings: string[] }
  | { ok: false; error: GraphFileError };

export interface LoadOptions {
  migrations?: readonly Migration[];
  /** The format version this build reads (tests use it to exercise migrations). */
  currentVersion?: number;
  /** Limit for the graph without its weights; MAX_GRAPH_BYTES unless a test sets a small one. */
  maxGraphBytes?: number;
}

/** Load a graph file from text or bytes. Never throws. */
export function loadGraph(input: string | Uint8Array, options: LoadOptions = {}): LoadResult {
  try {
    return { ok: true, ...loadOrThrow(input, options) };
  } catch (e) {
    if (e instanceof GraphFileError) return { ok: false, error: e };
    // A bug of ours must still not crash the caller or half-load anything, and must read as
    // what it is: not a problem the user can fix in the file.
    return {
      ok: false,
      error: new GraphFileError(`Gradflow failed while reading this file: this is a bug in Gradflow, not necessarily a problem with the file; please report it with the file (internal error: ${echo(e instanceof Error ? e.message : String(e), 200)})`),
    };
  }
}

function loadOrThrow(input: string | Uint8Array, options: LoadOptions): { document: GraphDocument; warnings: string[] } {
  const text = toText(input);
  if (text.trim() === '') throw new GraphFileError('the file is empty');
  if (text.length > MAX_FILE_BYTES) {
    throw new GraphFileError(`the file is too large (${mib(text.length)} MiB; the limit is ${mib(MAX_FILE_BYTES)} MiB)`);
  }
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text.slice(0, 65536))) {
    throw new GraphFileError('this is binary data, not a Gradflow graph file (which is JSON text)');
  }
  checkDepth(text);
  const raw = parseJson(text);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GraphFileError(`not a Gradflow graph file: expected a JSON object, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  const file = raw as Record<string, unknown>;
  checkValues(file, file, []);
  if (file.format !== FORMAT_NAME) {
    throw new GraphFileError(`not a Gradflow graph file: expected "format": "${FORMAT_NAME}"${file.format === undefined ? '' : `, got ${preview(file.format)}`}`);
  }
  const current = options.currentVersion ?? FORMAT_VERSION;
  const version = file.version;
  if (version === undefined) throw new GraphFileError('"version" is missing (expected a whole number ≥ 1)', 'version');
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new GraphFileError(`"version" must be a whole number ≥ 1, got ${preview(version)}`, 'version');
  }
  if (version > current) {
    const meta = file.metadata as Record<string, unknown> | undefined;
    const made = typeof meta?.appVersion === 'string' ? `Gradflow ${echo(meta.appVersion)}` : 'a newer Gradflow';
    throw new GraphFileError(
      `this file was made by ${made} with file format version ${version}; this Gradflow reads format version ${current} and older. Update Gradflow to open it`,
    );
  }
  let migrated: Record<string, unknown>;
  try {
    migrated = migrate(file, version, current, options.migrations ?? MIGRATIONS);
  } catch (e) {
    throw new GraphFileError(
      `this file uses file format version ${version} and could not be upgraded to version ${current} (${echo(e instanceof Error ? e.message : String(e), 200)})`,
      'version',
    );
  }
  const maxGraphBytes = options.maxGraphBytes ?? MAX_GRAPH_BYTES;
  const nonWeightBytes = text.length - weightBytes(migrated);
  if (nonWeightBytes > maxGraphBytes) {
    throw new GraphFileError(`the graph is too large (${mibAbove(nonWeightBytes)} MiB without its weights; the limit is ${mib(maxGraphBytes)} MiB)`);
  }
  // The version was checked and migrated above. The schema describes the format this build
  // writes; when a test passes its own currentVersion, the migrated file stands for that format.
  const parsed = documentSchema.safeParse({ ...migrated, version: FORMAT_VERSION });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GraphFileError(describeZodIssue(issue as unknown as ZodIssueLike), where(migrated, issue.path as (string | number)[]));
  }
  const doc: GraphDocument = parsed.data;
  const warnings = checkGraph(doc);
  const document = normalize(doc);
  if (document.weights) warnings.push(...weightsAgainstGraph(document));
  return { document, warnings };
}

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0);
}

/** A size just over a limit, rounded up so that it never reads as equal to the limit. */
function mibAbove(n: number): string {
  return (Math.ceil((n / 1024 / 1024) * 10) / 10).toFixed(1);
}

function toText(input: string | Uint8Array): string {
  if (typeof input === 'string') return input;
  if (input.length > MAX_FILE_BYTES) {
    throw new GraphFileError(`the file is too large (${mib(input.length)} MiB; the limit is ${mib(MAX_FILE_BYTES)} MiB)`);
  }
  if (input.slice(0, 65536).includes(0)) throw new GraphFileError('this is binary data, not a Gradflow graph file (which is JSON text)');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input).replace(/^\uFEFF/, '');
  } catch {
    throw new GraphFileError('the file is not UTF-8 text: it is binary data or uses another encoding');
  }
}

/** Reject pathological nesting before JSON.parse and zod recurse into it. */
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_DEPTH) throw new GraphFileError(`the JSON is nested more than ${MAX_DEPTH} levels deep, which no graph file needs`, lineCol(text, i));
    } else if (c === 125 || c === 93) depth--;
  }
}

function lineCol(text: string, pos: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line}, column ${col}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const at = pos ? Number(pos[1]) : -1;
    // JSON has no NaN or Infinity, and Node 20 does not say where it met them: find the literal.
    const literal = /Unexpected token '[NI]'|No number after minus sign/.test(msg) ? bareNonFinite(text) : null;
    if (literal) {
      throw new GraphFileError(`${literal.token} is not a valid number in a graph file: every number must be finite`, lineCol(text, literal.at));
    }
    if (/end of (JSON )?input|Unterminated string|Unexpected end/i.test(msg) || at >= text.trimEnd().length) {
      throw new GraphFileError('the file ends in the middle of the JSON: it is truncated or incomplete');
    }
    // V8 quotes the text around the problem (newlines and all); the line and column say it better.
    const reason = msg
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '')
      .replace(/^JSON\.parse: /, '');
    throw new GraphFileError(`the file is not valid JSON (${echo(reason, 120)})`, at >= 0 ? lineCol(text, at) : undefined);
  }
}

/** The first NaN, Infinity or -Infinity outside a string, where JSON.parse gave up. */
function bareNonFinite(text: string): { token: string; at: number } | null {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 78 || c === 73 || c === 45) {
      for (const token of ['NaN', 'Infinity', '-Infinity']) if (text.startsWith(token, i)) return { token, at: i };
    }
  }
  return null;
}

/** No prototype-polluting keys, no non-finite numbers (e.g. 1e999 parses to Infinity). */
function checkValues(file: Record<string, unknown>, value: unknown, path: (string | number)[]): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new GraphFileError(
      `a number is out of range (it reads as ${value}); every number in a graph file must be finite`,
      where(file, path),
    );
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkValues(file, value[i], [...path, i]);
  } else if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) throw new GraphFileError(`the key "${key}" is not allowed in a graph file`, where(file, [...path, key]));
      checkValues(file, (value as Record<string, unknown>)[key], [...path, key]);
    }
  }
}

function weightBytes(file: Record<string, unknown>): number {
  const tensors = (file.weights as { tensors?: Record<string, Record<string, { data?: unknown }>> } | undefined)?.tensors;
  let n = 0;
  if (tensors && typeof tensors === 'object') {
    for (const node of Object.values(tensors)) {
      if (node && typeof node === 'object') for (const t of Object.values(node)) if (typeof t?.data === 'string') n += t.data.length;
    }
  }
  return n;
}

/** Name a path in the file in the user's terms: "node 'fc1' (nodes[3]) → params.units". */
function where(file: Record<string, unknown>, path: (string | number)[]): string | undefined {
  if (path.length === 0) return undefined;
  const [head, index, ...rest] = path;
  const tail = (parts: (string | number)[]) =>
    parts.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${echo(p)}` : echo(p)), '');
  if ((head === 'nodes' || head === 'edges') && typeof index === 'number') {
    const item = (file[head] as Record<string, unknown>[] | undefined)?.[index];
    const itemId = item && typeof item.id === 'string' ? ` ${quoted(item.id)}` : '';
    const label = `${head === 'nodes' ? 'node' : 'edge'}${itemId} (${head}[${index}])`;
    return rest.length ? `${label} → ${tail(rest)}` : label;
  }
  return tail(path);
}

type ZodIssueLike = { code: string; message: string; path: PropertyKey[]; [k: string]: unknown };

function describeZodIssue(issue: ZodIssueLike): string {
  const field = issue.path.length ? echo(String(issue.path[issue.path.length - 1])) : 'the file';
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected as string;
      const received = /received (\w+)/.exec(issue.message)?.[1];
      if (received === 'undefined') return `"${field}" is missing (expected ${article(expected)})`;
      return `"${field}" must be ${article(expected)}${received ? `, got ${article(received)}` : ''}`;
    }
    case 'unrecognized_keys':
      return `unknown field${(issue.keys as string[]).length > 1 ? 's' : ''} ${summarize((issue.keys as string[]).map((k) => `"${echo(k)}"`))}`;
    case 'invalid_value':
      return `"${field}" must be ${(issue.values as unknown[]).map((v) => preview(v)).join(' or ')}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_union':
    default:
      return `"${field}" is invalid: ${echo(issue.message.replace(/^Invalid input: /, ''), 200)}`;
  }
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/**
 * Ids, wiring, parameters and the weights block, against the catalogue. Returns warnings.
 * Every value from the file that a message echoes is quoted, escaped and bounded.
 */
function checkGraph(doc: GraphDocument): string[] {
  const warnings: string[] = [];
  const byId = new Map<string, GraphNode>();
  doc.nodes.forEach((n, i) => {
    const at = (field: string) => `node ${quoted(n.id)} (nodes[${i}]) → ${field}`;
    noControls(n.id, 'a node id', at('id'));
    noControls(n.kind, 'a node kind', at('kind'));
    if (byId.has(n.id)) throw new GraphFileError(`two nodes have the id ${quoted(n.id)}; every node needs its own`, at('id'));
    byId.set(n.id, n);
    const def = kindDef(n.kind);
    if (!def) {
      warnings.push(`node ${quoted(n.id)} is a ${quoted(n.kind)} node, which this version of Gradflow does not know: it is kept as a placeholder with its data and wiring, and the graph cannot train until it is replaced or removed`);
      return;
    }
    const specs = def.params as ParamSpecs;
    for (const key of Object.keys(n.params)) {
      // Own keys only: `key in specs` is true for "toString", "valueOf", … and would drop them unseen.
      if (!Object.hasOwn(specs, key)) {
        const known = Object.keys(specs);
        throw new GraphFileError(`${def.title} has no parameter "${echo(key)}"${known.length ? ` (it has ${known.map((k) => `"${k}"`).join(', ')})` : ''}`, at(`params.${echo(key)}`));
      }
    }
    for (const [key, spec] of Object.entries(specs)) {
      if (!Object.hasOwn(n.params, key)) continue; // filled with its default by normalize()
      const problem = checkParam(spec, n.params[key]);
      if (problem) throw new GraphFileError(`${spec.label}: ${problem}`, at(`params.${key}`));
    }
  });
  const edgeIds = new Set<string>();
  const single = new Map<string, string>();
  doc.edges.forEach((e, i) => {
    const at = `edge ${quoted(e.id)} (edges[${i}])`;
    noControls(e.id, 'an edge id', `${at} → id`);
    noControls(e.sourcePort, 'a port name', `${at} → sourcePort`);
    noControls(e.targetPort, 'a port name', `${at} → targetPort`);
    if (edgeIds.has(e.id)) throw new GraphFileError(`two edges have the id ${quoted(e.id)}`, at);
    edgeIds.add(e.id);
    const source = byId.get(e.source);
    const target = byId.get(e.target);
    if (!source) throw new GraphFileError(`the edge comes from node ${quoted(e.source)}, which is not in the file`, `${at} → source`);
    if (!target) throw new GraphFileError(`the edge goes to node ${quoted(e.target)}, which is not in the file`, `${at} → target`);
    const sDef = kindDef(source.kind);
    const tDef = kindDef(target.kind);
    if (sDef && !sDef.outputs.some((p) => p.name === e.sourcePort)) {
      throw new GraphFileError(`${sDef.title} ${quoted(source.id)} has no output port ${quoted(e.sourcePort)} (it has ${sDef.outputs.map((p) => `'${p.name}'`).join(', ') || 'none'})`, `${at} → sourcePort`);
    }
    const tPort = tDef?.inputs.find((p) => p.name === e.targetPort);
    if (tDef && !tPort) {
      throw new GraphFileError(`${tDef.title} ${quoted(target.id)} has no input port ${quoted(e.targetPort)} (it has ${tDef.inputs.map((p) => `'${p.name}'`).join(', ') || 'none'})`, `${at} → targetPort`);
    }
    // A node wired into itself is a cycle, which the analysis reports as such; it must not
    // read as a second edge into a single port.
    if (tPort && !tPort.multiple && e.source !== e.target) {
      const key = `${e.target}\u0000${e.targetPort}`;
      const other = single.get(key);
      if (other !== undefined) throw new GraphFileError(`input ${quoted(e.targetPort)} of ${tDef!.title} ${quoted(target.id)} takes one edge, but edges ${quoted(other)} and ${quoted(e.id)} both go into it`, at);
      single.set(key, e.id);
    }
  });
  if (doc.weights) checkWeightValues(doc.weights, byId);
  checkMasks(doc, byId);
  return warnings;
}

/** Ids, kinds and ports are names, printed in tables and messages: no control characters in them. */
function noControls(value: string, what: string, at: string): void {
  if (hasControlCharacters(value)) {
    throw new GraphFileError(`${what} must not contain control characters (such as ESC, BEL, CR or NUL), but this one reads ${quoted(value)}`, at);
  }
}

/**
 * The weights block on its own: each tensor belongs to a node of the file that owns weights,
 * decodes, holds as many values as its shape says, and every value is finite. A damaged
 * block is refused, naming the node and tensor.
 */
function checkWeightValues(weights: NonNullable<GraphDocument['weights']>, byId: Map<string, GraphNode>): void {
  for (const [nodeId, tensors] of Object.entries(weights.tensors)) {
    const at = `weights.tensors.${echo(nodeId)}`;
    const node = byId.get(nodeId);
    if (!node) throw new GraphFileError(`trained weights for node ${quoted(nodeId)}, which is not in the file`, at);
    const def = kindDef(node.kind);
    if (def && !def.weights) {
      throw new GraphFileError(`${def.title} ${displayName(node)} has no weights, but the file holds trained weights for it (${summarize(Object.keys(tensors).map((k) => quoted(k)))})`, at);
    }
    for (const [name, t] of Object.entries(tensors)) {
      const tAt = `${at}.${echo(name)}`;
      const values = decodeFloat32(t.data);
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (!values) throw new GraphFileError('the weight data is not valid base64 float32', `${tAt}.data`);
      if (values.length !== expected) {
        throw new GraphFileError(`shape [${t.shape.join(', ')}] needs ${expected} values but the data holds ${values.length}`, tAt);
      }
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i]!)) {
          throw new GraphFileError(
            `the trained ${quoted(name)} of ${def?.title ?? 'node'} ${displayName(node)} holds ${values[i]} (value ${i.toLocaleString('en-US')} of ${values.length.toLocaleString('en-US')}): trained weights must be finite numbers`,
            tAt,
          );
        }
      }
    }
  }
}

/**
 * The weights block against the graph: every tensor a node needs, of the shape the graph
 * gives it, and nothing else. A graph edited after training (a Dense widened, a bias turned
 * off) no longer fits its saved weights; that is not damage, so the file loads, but the
 * weights are flagged as unusable, naming each node and tensor, and training refuses them.
 */
function weightsAgainstGraph(doc: GraphDocument): string[] {
  const stored = doc.weights!.tensors;
  const analysis = analyzeGraph(doc);
  const problems: string[] = [];
  let unchecked = 0;
  for (const n of doc.nodes) {
    const def = kindDef(n.kind);
    if (!def?.weights) continue;
    const a = analysis.nodes[n.id]!;
    const own = Object.hasOwn(stored, n.id) ? stored[n.id]! : undefined;
    const title = `${def.title} ${displayName(n)}`;
    const inputsKnown = Object.values(a.inputs).every((shapes) => shapes.every((s) => s !== null));
    if (!inputsKnown || Object.values(a.outputs).some((s) => s === null)) {
      if (own) unchecked++;
      continue;
    }
    if (a.weights.length === 0) continue;
    if (!own) {
      problems.push(`${title} has none`);
      continue;
    }
    for (const spec of a.weights) {
      const t = Object.hasOwn(own, spec.name) ? own[spec.name]! : undefined;
      if (!t) problems.push(`${title} has no ${spec.name}`);
      else if (t.shape.join(',') !== spec.shape.join(',')) problems.push(`the ${spec.name} of ${title} is [${t.shape.join(', ')}] but the graph needs [${spec.shape.join(', ')}]`);
    }
    const names = new Set(a.weights.map((w) => w.name));
    for (const name of Object.keys(own)) if (!names.has(name)) problems.push(`${title} has no tensor ${quoted(name)} in this graph`);
  }
  const warnings: string[] = [];
  if (problems.length) {
    warnings.push(`the trained weights in the file do not fit the graph, so they cannot be used (train with --fresh, or reset the weights, to start from new ones): ${summarize(problems, 3, '; ')}`);
  }
  if (unchecked) {
    warnings.push(`the trained weights of ${unchecked} node${unchecked === 1 ? '' : 's'} could not be checked against the graph, whose shapes are unknown there: fix the graph's errors first`);
  }
  return warnings;
}

/** Pruning masks: each for a node of the file, of its trained tensor's shape, and readable. */
function checkMasks(doc: GraphDocument, byId: Map<string, GraphNode>): void {
  if (!doc.masks) return;
  const tensors = doc.weights?.tensors ?? {};
  for (const [nodeId, masks] of Object.entries(doc.masks)) {
    const at = `masks.${echo(nodeId)}`;
    if (!byId.has(nodeId)) throw new GraphFileError(`a pruning mask for node ${quoted(nodeId)}, which is not in the file`, at);
    const trained = Object.hasOwn(tensors, nodeId) ? tensors[nodeId]! : {};
    for (const [name, m] of Object.entries(masks)) {
      const stored = Object.hasOwn(trained, name) ? trained[name] : undefined;
      if (stored && stored.shape.join(',') !== m.shape.join(',')) {
        throw new GraphFileError(`the mask has shape [${m.shape.join(', ')}] but the trained ${echo(name)} has [${stored.shape.join(', ')}]`, `${at}.${echo(name)}`);
      }
      const r = readStoredMask(m);
      if (!r.ok) throw new GraphFileError(r.problem, `${at}.${echo(name)}`);
    }
  }
}

/** Fill in parameters the file leaves out with their defaults, and fix the order of nothing else. */
function normalize(doc: GraphDocument): GraphDocument {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const def = kindDef(n.kind);
      if (!def) return n;
      const params: GraphNode['params'] = {};
      for (const [key, spec] of Object.entries(def.params as ParamSpecs)) {
        const v = Object.hasOwn(n.params, key) ? n.params[key]! : spec.default;
        params[key] = Array.isArray(v) ? [...(v as number[])] : v;
      }
      return { ...n, params };
    }),
  };
}
