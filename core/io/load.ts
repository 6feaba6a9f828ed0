/**
 * Loading a `.nngraph` file: the only way a document comes in. Parse, check, migrate,
 * validate against the schema and the catalogue, and only then build the document.
 * Anything that cannot be understood gives one readable error naming the node, port or
 * field; nothing is half-loaded and no content is silently dropped.
 */
import { kindDef } from '../graph/catalogue.ts';
import { FORMAT_NAME, FORMAT_VERSION, type GraphDocument, type GraphNode } from '../graph/document.ts';
import { checkParam, type ParamSpecs } from '../graph/params.ts';
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
    // A bug of ours must still not crash the caller or half-load anything.
    return { ok: false, error: new GraphFileError(`the file could not be read (${e instanceof Error ? e.message : String(e)})`) };
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
    throw new GraphFileError(`not a Gradflow graph file: expected "format": "${FORMAT_NAME}"${file.format === undefined ? '' : `, got ${JSON.stringify(file.format)}`}`);
  }
  const current = options.currentVersion ?? FORMAT_VERSION;
  const version = file.version;
  if (version === undefined) throw new GraphFileError('"version" is missing (expected a whole number ≥ 1)', 'version');
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new GraphFileError(`"version" must be a whole number ≥ 1, got ${JSON.stringify(version)}`, 'version');
  }
  if (version > current) {
    const meta = file.metadata as Record<string, unknown> | undefined;
    const made = typeof meta?.appVersion === 'string' ? `Gradflow ${meta.appVersion}` : 'a newer Gradflow';
    throw new GraphFileError(
      `this file was made by ${made} with file format version ${version}; this Gradflow reads format version ${current} and older. Update Gradflow to open it`,
    );
  }
  let migrated: Record<string, unknown>;
  try {
    migrated = migrate(file, version, current, options.migrations ?? MIGRATIONS);
  } catch (e) {
    throw new GraphFileError(
      `this file uses file format version ${version} and could not be upgraded to version ${current} (${e instanceof Error ? e.message : String(e)})`,
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
  const doc = parsed.data as GraphDocument;
  const warnings = checkGraph(doc);
  return { document: normalize(doc), warnings };
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
    throw new GraphFileError(`the file is not valid JSON (${reason})`, at >= 0 ? lineCol(text, at) : undefined);
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
    parts.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
  if ((head === 'nodes' || head === 'edges') && typeof index === 'number') {
    const item = (file[head] as Record<string, unknown>[] | undefined)?.[index];
    const itemId = item && typeof item.id === 'string' ? ` '${item.id}'` : '';
    const label = `${head === 'nodes' ? 'node' : 'edge'}${itemId} (${head}[${index}])`;
    return rest.length ? `${label} → ${tail(rest)}` : label;
  }
  return tail(path);
}

type ZodIssueLike = { code: string; message: string; path: PropertyKey[]; [k: string]: unknown };

function describeZodIssue(issue: ZodIssueLike): string {
  const field = issue.path.length ? String(issue.path[issue.path.length - 1]) : 'the file';
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected as string;
      const received = /received (\w+)/.exec(issue.message)?.[1];
      if (received === 'undefined') return `"${field}" is missing (expected ${article(expected)})`;
      return `"${field}" must be ${article(expected)}${received ? `, got ${article(received)}` : ''}`;
    }
    case 'unrecognized_keys':
      return `unknown field${(issue.keys as string[]).length > 1 ? 's' : ''} ${(issue.keys as string[]).map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `"${field}" must be ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_union':
    default:
      return `"${field}" is invalid: ${issue.message.replace(/^Invalid input: /, '')}`;
  }
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** Ids, wiring, parameters and weights, against the catalogue. Returns warnings. */
function checkGraph(doc: GraphDocument): string[] {
  const warnings: string[] = [];
  const byId = new Map<string, GraphNode>();
  doc.nodes.forEach((n, i) => {
    if (byId.has(n.id)) throw new GraphFileError(`two nodes have the id '${n.id}'; every node needs its own`, `node '${n.id}' (nodes[${i}]) → id`);
    byId.set(n.id, n);
    const def = kindDef(n.kind);
    const at = (field: string) => `node '${n.id}' (nodes[${i}]) → ${field}`;
    if (!def) {
      warnings.push(`node '${n.id}' is a '${n.kind}' node, which this version of Gradflow does not know: it is kept as a placeholder with its data and wiring, and the graph cannot train until it is replaced or removed`);
      return;
    }
    const specs = def.params as ParamSpecs;
    for (const key of Object.keys(n.params)) {
      if (!(key in specs)) {
        const known = Object.keys(specs);
        throw new GraphFileError(`${def.title} has no parameter "${key}"${known.length ? ` (it has ${known.map((k) => `"${k}"`).join(', ')})` : ''}`, at(`params.${key}`));
      }
    }
    for (const [key, spec] of Object.entries(specs)) {
      if (!(key in n.params)) continue; // filled with its default by normalize()
      const problem = checkParam(spec, n.params[key]);
      if (problem) throw new GraphFileError(`${spec.label}: ${problem}`, at(`params.${key}`));
    }
  });
  const edgeIds = new Set<string>();
  const single = new Map<string, string>();
  doc.edges.forEach((e, i) => {
    const at = `edge '${e.id}' (edges[${i}])`;
    if (edgeIds.has(e.id)) throw new GraphFileError(`two edges have the id '${e.id}'`, at);
    edgeIds.add(e.id);
    const source = byId.get(e.source);
    const target = byId.get(e.target);
    if (!source) throw new GraphFileError(`the edge comes from node '${e.source}', which is not in the file`, `${at} → source`);
    if (!target) throw new GraphFileError(`the edge goes to node '${e.target}', which is not in the file`, `${at} → target`);
    const sDef = kindDef(source.kind);
    const tDef = kindDef(target.kind);
    if (sDef && !sDef.outputs.some((p) => p.name === e.sourcePort)) {
      throw new GraphFileError(`${sDef.title} '${source.id}' has no output port '${e.sourcePort}' (it has ${sDef.outputs.map((p) => `'${p.name}'`).join(', ') || 'none'})`, `${at} → sourcePort`);
    }
    const tPort = tDef?.inputs.find((p) => p.name === e.targetPort);
    if (tDef && !tPort) {
      throw new GraphFileError(`${tDef.title} '${target.id}' has no input port '${e.targetPort}' (it has ${tDef.inputs.map((p) => `'${p.name}'`).join(', ') || 'none'})`, `${at} → targetPort`);
    }
    if (tPort && !tPort.multiple) {
      const key = `${e.target}\u0000${e.targetPort}`;
      const other = single.get(key);
      if (other) throw new GraphFileError(`input '${e.targetPort}' of ${tDef!.title} '${target.id}' takes one edge, but edges '${other}' and '${e.id}' both go into it`, at);
      single.set(key, e.id);
    }
  });
  if (doc.weights) {
    for (const [nodeId, tensors] of Object.entries(doc.weights.tensors)) {
      if (!byId.has(nodeId)) throw new GraphFileError(`trained weights for node '${nodeId}', which is not in the file`, `weights.tensors.${nodeId}`);
      for (const [name, t] of Object.entries(tensors)) {
        const values = decodeFloat32(t.data);
        const expected = t.shape.reduce((a, b) => a * b, 1);
        if (!values) throw new GraphFileError('the weight data is not valid base64 float32', `weights.tensors.${nodeId}.${name}.data`);
        if (values.length !== expected) {
          throw new GraphFileError(`shape [${t.shape.join(', ')}] needs ${expected} values but the data holds ${values.length}`, `weights.tensors.${nodeId}.${name}`);
        }
      }
    }
  }
  if (doc.masks) {
    for (const [nodeId, masks] of Object.entries(doc.masks)) {
      if (!byId.has(nodeId)) throw new GraphFileError(`a pruning mask for node '${nodeId}', which is not in the file`, `masks.${nodeId}`);
      for (const [name, m] of Object.entries(masks)) {
        const stored = doc.weights?.tensors[nodeId]?.[name];
        if (stored && stored.shape.join(',') !== m.shape.join(',')) {
          throw new GraphFileError(`the mask has shape [${m.shape.join(', ')}] but the trained ${name} has [${stored.shape.join(', ')}]`, `masks.${nodeId}.${name}`);
        }
        const r = readStoredMask(m);
        if (!r.ok) throw new GraphFileError(r.problem, `masks.${nodeId}.${name}`);
      }
    }
  }
  return warnings;
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
        const v = key in n.params ? n.params[key]! : spec.default;
        params[key] = Array.isArray(v) ? [...(v as number[])] : v;
      }
      return { ...n, params };
    }),
  };
}
