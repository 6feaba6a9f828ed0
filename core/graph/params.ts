/**
 * Parameter specifications: the single description of a node's parameters from which the
 * file schema (zod), the inspector form (labels, ranges, help text) and the defaults derive.
 */
import { z } from 'zod';
import { escapeControls } from './text.ts';

interface ParamBase<T> {
  /** Label shown in the inspector. */
  label: string;
  /** Help text shown in the inspector; say what the parameter does in the course's words. */
  help: string;
  default: T;
  /** When present, the inspector shows the field only when this returns true. */
  visibleWhen?: (params: Record<string, ParamValue>) => boolean;
}

export interface IntParam extends ParamBase<number> {
  type: 'int';
  min: number;
  max?: number;
}
export interface NumberParam extends ParamBase<number> {
  type: 'number';
  min?: number;
  max?: number;
  /** The bound is excluded: e.g. a learning rate must be > 0. */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  /** Values span decades (learning rates, ε): the inspector uses a log slider. */
  log?: boolean;
}
export interface BooleanParam extends ParamBase<boolean> {
  type: 'boolean';
}
export interface EnumParam<T extends string = string> extends ParamBase<T> {
  type: 'enum';
  options: readonly T[];
  /** Human labels for the options, same order. */
  optionLabels?: Readonly<Record<T, string>>;
}
export interface ShapeParam extends ParamBase<number[]> {
  type: 'shape';
  /** Whether one dimension may be -1 (inferred), as in Reshape. */
  allowInferred?: boolean;
}

export interface TextParam extends ParamBase<string> {
  type: 'text';
  /**
   * Longest accepted value, in characters as JavaScript counts them (UTF-16 code units; one
   * byte each for ASCII text such as CSV). Embedded data counts toward the file's size limit.
   */
  maxLength: number;
  /** Set by an action (importing a file), not typed in: the inspector shows it read-only. */
  readOnly?: boolean;
}
/** A list of distinct, non-empty names, such as the columns chosen as features. */
export interface NamesParam extends ParamBase<string[]> {
  type: 'strings';
  /** Most names in the list. */
  maxItems: number;
  /** Longest name, in characters. */
  maxLength: number;
}

export type ParamSpec = IntParam | NumberParam | BooleanParam | EnumParam | ShapeParam | TextParam | NamesParam;
export type ParamValue = number | boolean | string | number[] | string[];
export type ParamSpecs = Record<string, ParamSpec>;

export const int = (p: Omit<IntParam, 'type'>): IntParam => ({ type: 'int', ...p });
export const num = (p: Omit<NumberParam, 'type'>): NumberParam => ({ type: 'number', ...p });
export const bool = (p: Omit<BooleanParam, 'type'>): BooleanParam => ({ type: 'boolean', ...p });
export const oneOf = <T extends string>(p: Omit<EnumParam<T>, 'type'>): EnumParam<T> => ({ type: 'enum', ...p });
export const shape = (p: Omit<ShapeParam, 'type'>): ShapeParam => ({ type: 'shape', ...p });
export const text = (p: Omit<TextParam, 'type'>): TextParam => ({ type: 'text', ...p });
export const names = (p: Omit<NamesParam, 'type'>): NamesParam => ({ type: 'strings', ...p });

/** Describe a value's allowed range in words, e.g. "a number > 0 and ≤ 1". */
export function describeRange(spec: ParamSpec): string {
  switch (spec.type) {
    case 'int':
      return spec.max === undefined ? `a whole number ≥ ${spec.min}` : `a whole number from ${spec.min} to ${spec.max}`;
    case 'number': {
      const parts: string[] = [];
      if (spec.min !== undefined) parts.push(`${spec.exclusiveMin ? '>' : '≥'} ${spec.min}`);
      if (spec.max !== undefined) parts.push(`${spec.exclusiveMax ? '<' : '≤'} ${spec.max}`);
      return parts.length ? `a number ${parts.join(' and ')}` : 'a finite number';
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.options.map((o) => `"${o}"`).join(', ')}`;
    case 'shape':
      return spec.allowInferred
        ? 'a list of positive whole numbers (one may be -1 to infer it)'
        : 'a list of positive whole numbers';
    case 'text':
      return `text of at most ${describeLength(spec.maxLength)}`;
    case 'strings':
      return `a list of at most ${spec.maxItems.toLocaleString('en-US')} different names, each of 1 to ${describeLength(spec.maxLength)}`;
  }
}

/** "255 characters", or "32 MiB" for lengths of whole mebi-units (one byte per character of ASCII text). */
function describeLength(n: number): string {
  const mib = n / 2 ** 20;
  return Number.isInteger(mib) && mib >= 1 ? `${mib} MiB` : `${n.toLocaleString('en-US')} characters`;
}

/** Check one value against its spec; returns a problem in words, or null when valid. */
export function checkParam(spec: ParamSpec, value: unknown): string | null {
  const expected = `expected ${describeRange(spec)}`;
  switch (spec.type) {
    case 'int':
    case 'number': {
      if (typeof value !== 'number') return `${expected}, got ${describeValue(value)}`;
      if (!Number.isFinite(value)) return `${expected}, got ${String(value)}`;
      if (spec.type === 'int' && !Number.isInteger(value)) return `${expected}, got ${value}`;
      if (spec.min !== undefined) {
        const exclusive = spec.type === 'number' && spec.exclusiveMin;
        if (exclusive ? value <= spec.min : value < spec.min) return `${expected}, got ${value}`;
      }
      if (spec.max !== undefined) {
        const exclusive = spec.type === 'number' && spec.exclusiveMax;
        if (exclusive ? value >= spec.max : value > spec.max) return `${expected}, got ${value}`;
      }
      return null;
    }
    case 'boolean':
      return typeof value === 'boolean' ? null : `${expected}, got ${describeValue(value)}`;
    case 'enum':
      return typeof value === 'string' && (spec.options as readonly string[]).includes(value)
        ? null
        : `${expected}, got ${describeValue(value)}`;
    case 'shape': {
      if (!Array.isArray(value) || value.length === 0 || value.length > 8) return `${expected}, got ${describeValue(value)}`;
      let inferred = 0;
      for (const d of value) {
        if (typeof d !== 'number' || !Number.isInteger(d)) return `${expected}, got ${describeValue(value)}`;
        if (d === -1 && spec.allowInferred) inferred++;
        else if (d < 1) return `${expected}, got ${JSON.stringify(value)}`;
      }
      if (inferred > 1) return `only one dimension may be -1, got ${JSON.stringify(value)}`;
      return null;
    }
    case 'text':
      if (typeof value !== 'string') return `${expected}, got ${describeValue(value)}`;
      // The value may be megabytes of data: say how long it is, not what it says.
      return value.length > spec.maxLength ? `${expected}, got ${value.length.toLocaleString('en-US')} characters` : null;
    case 'strings': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return `${expected}, got ${describeValue(value)}`;
      if (value.length > spec.maxItems) return `${expected}, got ${value.length.toLocaleString('en-US')} names`;
      const seen = new Set<string>();
      for (const v of value as string[]) {
        if (v === '') return `${expected}, got an empty name`;
        if (v.length > spec.maxLength) return `${expected}, got a name of ${v.length.toLocaleString('en-US')} characters`;
        if (seen.has(v)) return `${expected}, got "${truncate(v)}" twice`;
        seen.add(v);
      }
      return null;
    }
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the value is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list ${truncate(JSON.stringify(value))}`;
  if (typeof value === 'string') return `the text "${truncate(value)}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** A value as a message echoes it: control characters escaped (it may come from a stranger's file), at most 40 characters. */
function truncate(s: string): string {
  const e = escapeControls(s.length > 160 ? s.slice(0, 160) : s);
  return e.length > 40 ? `${e.slice(0, 37)}...` : e;
}

/** The defaults of a ParamSpecs record, as a fresh object. */
export function defaultParams(specs: ParamSpecs): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, spec] of Object.entries(specs)) out[k] = Array.isArray(spec.default) ? spec.default.slice() : spec.default;
  return out;
}

/** A zod schema for any JSON value a parameter may take (used for unknown node kinds). */
export const jsonParamValue: z.ZodType<ParamValue> = z.union([
  z.number(),
  z.boolean(),
  z.string(),
  z.array(z.number()),
  z.array(z.string()),
]);
