/**
 * The user's own data. A CSV or JSON file becomes a Table (column names, and cells as text);
 * a Table with a choice of feature and label columns becomes a Dataset.
 *
 * Rows are numbered from 1, starting with the first row after the header, and count only rows
 * that hold data (blank lines are skipped, as are JSON rows with no values). Messages about
 * the structure of a CSV file (ragged rows, quotes) also give the line in the file.
 *
 * A Table dataset node keeps its table in the graph file as compact CSV (`tableToCsv`), so
 * that a shared file trains anywhere. Shape inference runs on every edit, so `cachedTable`
 * keeps the last few parses keyed by that text: an unchanged node costs a map lookup.
 */
import * as PapaModule from 'papaparse';
import { splitIndices } from './dataset.ts';
import { validationCount } from './info.ts';
import { createRng } from './rng.ts';
import type { Dataset, DatasetInfo, Split, Task } from './types.ts';

// papaparse is a UMD/CommonJS module: Node's ESM loader exposes it only as `default`, a
// bundler may expose its functions directly. Take whichever this platform gives.
const Papa: typeof PapaModule = (PapaModule as unknown as { default?: typeof PapaModule }).default ?? PapaModule;

/**
 * Most characters of table data a graph embeds (CSV text; one byte per character for ASCII).
 * Half of the 64 MiB a graph file may take without its weights, leaving room for the JSON
 * escaping of the text and for the rest of the graph.
 */
export const MAX_TABLE_CHARS = 32 * 2 ** 20;
/** Most columns a table may have, and so most features. */
export const MAX_COLUMNS = 10_000;
/** Longest column name. */
export const MAX_COLUMN_NAME = 200;
/** Most classes a classification label may have (the width of the one-hot y). */
export const MAX_CLASSES = 1000;
/** Fewest rows a table dataset needs: one to train on and one to validate with. */
export const MIN_ROWS = 2;

export const NORMALIZATIONS = ['none', 'standardize', 'minmax'] as const;
/** How features are rescaled: not at all, to mean 0 and std 1, or to [0, 1]. */
export type Normalization = (typeof NORMALIZATIONS)[number];

export const TABLE_TASKS = ['classification', 'regression'] as const satisfies readonly Task[];

/** A table of text cells with a header: what a CSV or JSON file holds. */
export interface Table {
  /** Column names from the header: trimmed, non-empty and distinct. */
  columns: string[];
  /** Number of data rows (the header is not counted). */
  rows: number;
  /** Cells by column, then row: cells[c][r], trimmed. '' is an empty cell. */
  cells: string[][];
}

export type TableResult = { ok: true; table: Table } | { ok: false; error: string };

/** The source format of an imported file. */
export type TableFormat = 'csv' | 'json';

/** What a table dataset is built from: the columns to use and how. */
export interface TableSpec {
  /** Columns the network sees, in order: x has shape [features.length]. */
  features: readonly string[];
  /** Column the network predicts. */
  label: string;
  /** Classification: each distinct label is a class, y is one-hot. Regression: y is the number. */
  task: Task;
  normalization: Normalization;
  /** Fraction of the rows held out for validation, in [0, 1). */
  validationFraction: number;
  /** Seed of the shuffle that splits the rows. */
  seed: number;
}

/** The Table dataset node's parameters (defaults and ranges live in the node catalogue). */
export interface TableDatasetParams extends TableSpec {
  /** The table as CSV text (`tableToCsv`), embedded in the graph file; '' before an import. */
  data: string;
  /** Name of the imported file, for the user's reference. */
  fileName: string;
  features: string[];
  /** 0 = full batch (gradient descent), 1 = single-sample SGD, otherwise mini-batch. */
  batchSize: number;
}

/**
 * Feature scaling, as fitted on the training split: x' = (x − offset) / scale per feature.
 * Standardize: offset = mean, scale = standard deviation. Min–max: offset = min, scale =
 * max − min. None: offset 0, scale 1. A feature that is constant on the training split gets
 * offset = its value and scale 1 (it becomes 0) rather than a division by zero.
 */
export interface NormalizationStats {
  method: Normalization;
  /** Per feature, in the order of `features`. */
  offset: number[];
  scale: number[];
}

/** A dataset built from a table, with what is needed to read its predictions. */
export interface TableDataset extends Dataset {
  features: string[];
  label: string;
  /** Class names: one-hot position i is classes[i]. Empty for regression. */
  classes: string[];
  /** Apply these to new rows before predicting (`normalizeRows`). */
  normalization: NormalizationStats;
}

/** A problem with a table and spec, attached to the node parameter it concerns. */
export interface TableProblem {
  param: 'data' | 'features' | 'label' | 'task' | 'validationFraction';
  /** Stable code, e.g. 'table/not-a-number'. */
  code: string;
  message: string;
}

export type TableDatasetResult = { ok: true; dataset: TableDataset } | { ok: false; error: string; problems: TableProblem[] };

/** A problem found while parsing; caught by parseTable and returned as its error. */
class TableError extends Error {}

// ---------------------------------------------------------------------------------------
// Parsing

/** Whether a file is CSV or JSON: by its extension, and by its first character otherwise. */
export function tableFormat(fileName: string, text: string): TableFormat {
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase();
  if (ext === 'json') return 'json';
  if (ext === 'csv' || ext === 'tsv') return 'csv';
  return /^\s*[[{]/.test(text) ? 'json' : 'csv';
}

/**
 * Parse a CSV or JSON file into a Table. CSV needs a header row; its delimiter (comma, tab,
 * semicolon or bar) is detected. JSON is a list of objects ({"column": value, ...}, columns in
 * the order they first appear, a missing field an empty cell) or {"columns": [...], "rows":
 * [[...], ...]}. Cells are kept as text; whether they are numbers matters only for the
 * columns a dataset uses. Never throws: problems come back as one message naming the row
 * and column.
 */
export function parseTable(text: string, fileName: string): TableResult {
  try {
    const body = text.replace(/^\uFEFF/, '');
    if (body.trim() === '') return { ok: false, error: 'empty file: there is nothing in it to import' };
    const table = tableFormat(fileName, body) === 'json' ? parseJsonTable(body) : parseCsvTable(body, detectDelimiter(body));
    return { ok: true, table };
  } catch (e) {
    if (e instanceof TableError) return { ok: false, error: e.message };
    throw e;
  }
}

const GUESSED_DELIMITERS = [',', '\t', ';', '|'];

function detectDelimiter(text: string): string {
  // Guess on the first rows with blank lines skipped: papaparse counts a trailing blank
  // line against every candidate and would otherwise give up on short files.
  const probe = Papa.parse<string[]>(text, { preview: 10, skipEmptyLines: 'greedy', delimitersToGuess: GUESSED_DELIMITERS });
  return probe.errors.some((e) => e.code === 'UndetectableDelimiter') ? ',' : probe.meta.delimiter;
}

function parseCsvTable(text: string, delimiter: string): Table {
  // Blank lines are skipped here rather than by papaparse, so that row i of its output
  // still tells which line of the file a message should point at.
  const result = Papa.parse<string[]>(text, { delimiter, skipEmptyLines: false });
  const quote = result.errors.find((e) => e.type === 'Quotes');
  if (quote) {
    const at = quote.index === undefined ? '' : `line ${lineAt(text, quote.index)}: `;
    throw new TableError(
      quote.code === 'MissingQuotes'
        ? `${at}a quoted cell is not closed (a " is missing)`
        : `${at}a quoted cell has text after its closing quote (write "" for a quote inside a quoted cell)`,
    );
  }
  const raw = result.data;
  const nl = result.meta.linebreak === '\r' ? '\r' : '\n';
  // Only on the error path: a row spans one line plus the line breaks inside quoted cells.
  const lineOfRow = (i: number): number => {
    let line = 1 + i;
    for (let j = 0; j < i; j++) for (const cell of raw[j]!) line += countOf(cell, nl);
    return line;
  };
  let h = 0;
  while (h < raw.length && isBlank(raw[h]!)) h++;
  if (h === raw.length) throw new TableError('empty file: there is nothing in it to import');
  const columns = checkHeader(raw[h]!, true);
  const k = columns.length;
  const cells: string[][] = columns.map(() => []);
  let rows = 0;
  for (let i = h + 1; i < raw.length; i++) {
    const row = raw[i]!;
    if (isBlank(row)) continue;
    rows++;
    if (row.length !== k) {
      throw new TableError(`row ${rows} (line ${lineOfRow(i)}) has ${cellCount(row.length)} but the header has ${columnCount(k)}`);
    }
    for (let c = 0; c < k; c++) cells[c]!.push(row[c]!.trim());
  }
  if (rows === 0) throw new TableError('the file has a header but no rows of data');
  return { columns, rows, cells };
}

function parseJsonTable(text: string): Table {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).replace(/^JSON\.parse: /, '').replace(/, ".*" is not valid JSON$/s, '');
    throw new TableError(`not valid JSON (${reason})`);
  }
  if (Array.isArray(value)) return fromRecords(value);
  if (isRecord(value) && ('rows' in value || 'columns' in value)) return fromColumnsAndRows(value);
  throw new TableError('expected a list of rows ([{"column": value, ...}, ...]) or {"columns": [...], "rows": [[...], ...]}');
}

/** [{"a": 1, "b": "x"}, ...]: the columns are the fields, in the order they first appear. */
function fromRecords(list: unknown[]): Table {
  if (list.length === 0) throw new TableError('the JSON list is empty: there are no rows to import');
  const index = new Map<string, number>();
  const names: string[] = [];
  list.forEach((row, i) => {
    if (Array.isArray(row)) {
      throw new TableError(
        'no header: the rows are lists without column names; write each row as an object ({"column": value, ...}) or the table as {"columns": [...], "rows": [...]}',
      );
    }
    if (!isRecord(row)) throw new TableError(`row ${i + 1} is ${describeJson(row)}, not an object of {"column": value} fields`);
    for (const key of Object.keys(row)) {
      if (!index.has(key)) {
        index.set(key, names.length);
        names.push(key);
      }
    }
  });
  const columns = checkHeader(names);
  const cells: string[][] = columns.map(() => []);
  let rows = 0;
  list.forEach((row, i) => {
    const values = names.map((name) => cellText((row as Record<string, unknown>)[name], i + 1, name));
    if (values.every((v) => v === '')) return; // a row with no values, like a blank line
    rows++;
    values.forEach((v, c) => cells[c]!.push(v));
  });
  if (rows === 0) throw new TableError('no row of the JSON list has a value');
  return { columns, rows, cells };
}

/** {"columns": ["a", "b"], "rows": [[1, "x"], ...]}. */
function fromColumnsAndRows(obj: Record<string, unknown>): Table {
  const names = obj.columns;
  if (names === undefined) throw new TableError('no header: the JSON has "rows" but no "columns" naming them');
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    throw new TableError('no header: "columns" must be a list of column names (text)');
  }
  const columns = checkHeader(names as string[]);
  const list = obj.rows;
  if (!Array.isArray(list)) throw new TableError(`"rows" must be a list of rows (lists of cells), got ${describeJson(list)}`);
  const k = columns.length;
  const cells: string[][] = columns.map(() => []);
  let rows = 0;
  list.forEach((row, i) => {
    if (!Array.isArray(row)) throw new TableError(`row ${i + 1} is ${describeJson(row)}, not a list of cells`);
    if (row.length !== k) throw new TableError(`row ${i + 1} has ${cellCount(row.length)} but the header has ${columnCount(k)}`);
    const values = row.map((v, c) => cellText(v, i + 1, columns[c]!));
    if (values.every((v) => v === '')) return;
    rows++;
    values.forEach((v, c) => cells[c]!.push(v));
  });
  if (rows === 0) throw new TableError('the JSON has "columns" but no rows of data');
  return { columns, rows, cells };
}

/** A JSON value as a cell: numbers and text as written, null or missing as empty. */
function cellText(v: unknown, row: number, column: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TableError(`row ${row}, column '${column}': ${Array.isArray(v) ? 'a list' : 'an object'} is not a table cell (cells are numbers or text)`);
}

/**
 * Trimmed, named, distinct column names; or why they are not a header. A CSV row of numbers
 * is data, not names (JSON field names are names whatever they say).
 */
function checkHeader(raw: readonly string[], firstRow = false): string[] {
  const names = raw.map((n) => n.trim());
  if (names.every((n) => n === '')) throw new TableError('no header: the first row must name the columns');
  if (firstRow && names.every((n) => isNumber(n))) {
    const shown = names.slice(0, 4).join(', ') + (names.length > 4 ? ', ...' : '');
    throw new TableError(`no header: the first row holds numbers (${shown}), not column names; add a first row that names the columns`);
  }
  if (names.length > MAX_COLUMNS) throw new TableError(`the table has ${columnCount(names.length)}; at most ${MAX_COLUMNS.toLocaleString('en-US')} are supported`);
  const seen = new Map<string, number>();
  names.forEach((name, c) => {
    if (name === '') throw new TableError(`column ${c + 1} has no name in the header: every column needs one`);
    if (name.length > MAX_COLUMN_NAME) throw new TableError(`the name of column ${c + 1} is longer than ${MAX_COLUMN_NAME} characters`);
    const before = seen.get(name);
    if (before !== undefined) throw new TableError(`two columns are named '${name}' (columns ${before + 1} and ${c + 1}): every column needs its own name`);
    seen.set(name, c);
  });
  return names;
}

/**
 * The table as compact CSV: comma-separated, '\n' line ends, cells quoted only where they
 * must be. What a Table dataset node stores; `cachedTable` reads it back to the same Table.
 */
export function tableToCsv(table: Table): string {
  const data: string[][] = new Array(table.rows);
  for (let r = 0; r < table.rows; r++) data[r] = table.cells.map((col) => col[r]!);
  return toCsv(table.columns, data);
}

/**
 * Rows as compact CSV with papaparse's quoting (comma-separated, '\n' line ends, a cell
 * quoted only where it must be: a comma, quote, line break or edge space). null and
 * undefined cells are empty; no line end after the last row.
 */
export function toCsv(fields: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return Papa.unparse({ fields: [...fields], data: rows.map((r) => [...r]) }, { delimiter: ',', newline: '\n' });
}

// ---------------------------------------------------------------------------------------
// The embedded table, parsed once

const CACHE_SIZE = 3;
const cache = new Map<string, TableResult>();

/** What a node with no data says. */
export const NO_DATA = 'no data: import a CSV or JSON file';

/**
 * The Table stored in a node's `data` (CSV from `tableToCsv`), parsed once and kept for the
 * next calls with the same text. Keyed by the string itself: V8 caches a string's hash, so an
 * unchanged node's data is found without reading it again. Do not modify the result.
 */
export function cachedTable(data: string): TableResult {
  if (data === '') return { ok: false, error: NO_DATA };
  const hit = cache.get(data);
  if (hit) return hit;
  let result: TableResult;
  try {
    // The stored text is always comma-separated: no guessing (a one-column table of
    // "a;b" cells would otherwise read as two columns).
    result = { ok: true, table: parseCsvTable(data.replace(/^\uFEFF/, ''), ',') };
  } catch (e) {
    if (!(e instanceof TableError)) throw e;
    result = { ok: false, error: e.message };
  }
  remember(data, result);
  return result;
}

function remember(data: string, result: TableResult): void {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(data, result);
}

/** What an import gives: the node's data and file name, and a first choice of columns. */
export interface TableImport {
  table: Table;
  /** The table as compact CSV, for the node's `data`. */
  data: string;
  fileName: string;
  /** Suggested: every column of numbers except the label. */
  features: string[];
  /** Suggested: the last column. */
  label: string;
  /** Suggested: regression for a label of many different numbers, classification otherwise. */
  task: Task;
}

/**
 * Import a file the user chose: parse it, convert it to the compact CSV the node stores, and
 * suggest features, label and task (the user can change them). Refuses tables too large to
 * embed in a graph.
 */
export function importTable(text: string, fileName: string): { ok: true; value: TableImport } | { ok: false; error: string } {
  const parsed = parseTable(text, fileName);
  if (!parsed.ok) return parsed;
  const table = parsed.table;
  const data = tableToCsv(table);
  if (data.length > MAX_TABLE_CHARS) {
    return {
      ok: false,
      error: `the table is too large to store in a graph (${(data.length / 2 ** 20).toFixed(1)} MiB as CSV; the limit is ${MAX_TABLE_CHARS / 2 ** 20} MiB)`,
    };
  }
  remember(data, parsed); // the node's data reads back to this same table
  const label = table.columns[table.columns.length - 1]!;
  const features = table.columns.filter((c) => c !== label && isNumericColumn(columnSummary(table, c)));
  const y = columnSummary(table, label);
  const distinct = new Set(table.cells[table.columns.length - 1]).size;
  const task: Task = isNumericColumn(y) && distinct > 20 ? 'regression' : 'classification';
  return { ok: true, value: { table, data, fileName, features, label, task } };
}

// ---------------------------------------------------------------------------------------
// Columns

/** What one column holds, computed once per table and column. */
interface ColumnSummary {
  /** The cells as numbers; NaN where a cell is empty or not a number. */
  values: Float64Array;
  /** Empty cells: how many, and the first one's row index (-1 when none). */
  empty: number;
  firstEmpty: number;
  /** Non-empty cells that are not numbers: how many, and the first one's row index (-1 when none). */
  text: number;
  firstText: number;
}

const summaries = new WeakMap<Table, Map<string, ColumnSummary>>();
const classLists = new WeakMap<Table, Map<string, string[]>>();

function columnSummary(table: Table, column: string): ColumnSummary {
  let byColumn = summaries.get(table);
  if (!byColumn) summaries.set(table, (byColumn = new Map()));
  const hit = byColumn.get(column);
  if (hit) return hit;
  const cells = table.cells[table.columns.indexOf(column)]!;
  const values = new Float64Array(cells.length);
  const s: ColumnSummary = { values, empty: 0, firstEmpty: -1, text: 0, firstText: -1 };
  for (let r = 0; r < cells.length; r++) {
    const cell = cells[r]!;
    const v = toNumber(cell);
    values[r] = v;
    if (!Number.isNaN(v)) continue;
    if (cell === '') {
      if (s.empty++ === 0) s.firstEmpty = r;
    } else if (s.text++ === 0) s.firstText = r;
  }
  byColumn.set(column, s);
  return s;
}

const isNumericColumn = (s: ColumnSummary) => s.empty === 0 && s.text === 0;

/**
 * The classes of a label column: its distinct non-empty values, sorted by value when they
 * are all numbers (so 2 comes before 10) and by character code otherwise. Values are
 * compared as written: '1' and '1.0' are different classes.
 */
export function labelClasses(table: Table, label: string): string[] {
  let byColumn = classLists.get(table);
  if (!byColumn) classLists.set(table, (byColumn = new Map()));
  const hit = byColumn.get(label);
  if (hit) return hit;
  const c = table.columns.indexOf(label);
  if (c < 0) return [];
  const distinct = [...new Set(table.cells[c])].filter((v) => v !== '');
  const numbers = distinct.every(isNumber);
  distinct.sort(numbers ? (a, b) => toNumber(a) - toNumber(b) || (a < b ? -1 : a > b ? 1 : 0) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  byColumn.set(label, distinct);
  return distinct;
}

// ---------------------------------------------------------------------------------------
// From table to dataset

/**
 * Everything wrong with building a dataset from `table` with `spec`, each attached to the
 * parameter to change; empty when it can be built. Cheap after the first call for a table
 * (column summaries are kept), so shape inference calls it on every edit.
 */
export function tableProblems(table: Table, spec: TableSpec): TableProblem[] {
  const problems: TableProblem[] = [];
  const add = (param: TableProblem['param'], code: string, message: string) => problems.push({ param, code, message });
  const known = new Set(table.columns);
  const has = (c: string) => known.has(c);
  const columnsList = () => {
    const shown = table.columns.slice(0, 8).map((c) => `'${c}'`).join(', ');
    return table.columns.length > 8 ? `${shown} and ${table.columns.length - 8} more` : shown;
  };

  if (spec.features.length === 0) add('features', 'table/no-features', 'choose at least one feature column');
  const seen = new Set<string>();
  for (const f of spec.features) {
    if (seen.has(f)) add('features', 'table/duplicate-feature', `'${f}' is listed twice in the features`);
    seen.add(f);
    if (!has(f)) add('features', 'table/unknown-column', `unknown column '${f}' in the features (the table has ${columnsList()})`);
  }
  if (spec.label === '') add('label', 'table/no-label', 'choose the label column, the one the network learns to predict');
  else if (!has(spec.label)) add('label', 'table/unknown-column', `unknown label column '${spec.label}' (the table has ${columnsList()})`);
  else if (seen.has(spec.label)) {
    add('features', 'table/label-is-feature', `'${spec.label}' is the label, so it cannot also be a feature: the network would see the answer it must predict`);
  }

  const n = table.rows;
  if (n < MIN_ROWS) {
    add('data', 'table/too-few-rows', `the table has ${rowCount(n)}; a dataset needs at least ${MIN_ROWS} (one to train on, one to validate with)`);
  } else if (validationCount(n, spec.validationFraction) >= n) {
    add('validationFraction', 'table/too-few-rows', `the validation split takes all ${n} rows, leaving none to train on: lower the validation fraction`);
  }

  for (const f of seen) {
    if (!has(f) || f === spec.label) continue;
    const s = columnSummary(table, f);
    const cells = table.cells[table.columns.indexOf(f)]!;
    if (s.text > 0 && s.text + s.empty === n) {
      add('features', 'table/not-a-number', `column '${f}' holds text, not numbers (row ${s.firstText + 1}: '${short(cells[s.firstText]!)}'), so it cannot be a feature`);
    } else if (s.text > 0) {
      add('features', 'table/not-a-number', `row ${s.firstText + 1}, column '${f}': '${short(cells[s.firstText]!)}' is not a number${decimalCommaHint(cells[s.firstText]!)}${more(s.text, 'cell', f)}`);
    }
    if (s.empty > 0) add('features', 'table/missing-value', `row ${s.firstEmpty + 1} has no value in the column '${f}'${more(s.empty, 'row', f)}`);
  }

  if (has(spec.label)) {
    const s = columnSummary(table, spec.label);
    const cells = table.cells[table.columns.indexOf(spec.label)]!;
    if (s.empty > 0) {
      add('label', 'table/missing-label', `row ${s.firstEmpty + 1} has no value in the label column '${spec.label}'${more(s.empty, 'row', spec.label)}`);
    }
    if (spec.task === 'regression') {
      if (s.text > 0) {
        add(
          'task',
          'table/not-a-number',
          `row ${s.firstText + 1}, label column '${spec.label}': '${short(cells[s.firstText]!)}' is not a number; regression predicts numbers (choose classification for categories)`,
        );
      }
    } else {
      const classes = labelClasses(table, spec.label);
      if (classes.length === 1) {
        add('label', 'table/one-class', `the label column '${spec.label}' has only one value ('${short(classes[0]!)}'): classification needs at least 2 classes`);
      } else if (classes.length > MAX_CLASSES) {
        add(
          'task',
          'table/too-many-classes',
          `the label column '${spec.label}' has ${classes.length.toLocaleString('en-US')} different values; classification allows at most ${MAX_CLASSES.toLocaleString('en-US')} classes (for a numeric target, choose regression)`,
        );
      }
    }
  }
  return problems;
}

/** Shapes and task of the dataset `spec` makes of `table` (meaningful when tableProblems is empty). */
export function tableInfo(table: Table, spec: Pick<TableSpec, 'features' | 'label' | 'task'>): DatasetInfo {
  if (spec.task === 'regression') return { task: 'regression', xShape: [spec.features.length], yShape: [1], classes: 0 };
  const classes = labelClasses(table, spec.label).length;
  return { task: 'classification', xShape: [spec.features.length], yShape: [classes], classes };
}

/**
 * Build the dataset `spec` makes of `table`: rows shuffled with `spec.seed` and split as the
 * Dataset node splits (validationCount rows for validation), features rescaled, labels
 * one-hot (classification, classes as labelClasses orders them) or as numbers (regression).
 *
 * The normalization statistics come from the training split only: the validation rows
 * stand for data the network has never seen, and letting their mean or range shape the
 * inputs would leak them into training and flatter the validation score. New data for
 * predictions is scaled with the same statistics (returned, and `normalizeRows`).
 */
export function tableDataset(table: Table, spec: TableSpec): TableDatasetResult {
  const problems = tableProblems(table, spec);
  if (problems.length > 0) return { ok: false, error: problems[0]!.message, problems };
  const n = table.rows;
  const k = spec.features.length;
  const info = tableInfo(table, spec);
  // A forked stream, as buildDataset splits with: the seed alone decides the split.
  const { train, val } = splitIndices(n, spec.validationFraction, createRng(spec.seed).fork());
  const columns = spec.features.map((f) => columnSummary(table, f).values);
  const normalization = fitNormalization(spec.normalization, columns, train);

  const labels = columnSummary(table, spec.label).values;
  const labelCells = table.cells[table.columns.indexOf(spec.label)]!;
  const classes = info.task === 'classification' ? labelClasses(table, spec.label) : [];
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const yWidth = info.task === 'classification' ? classes.length : 1;

  const take = (rows: Uint32Array): Split => {
    const x = new Float32Array(rows.length * k);
    const y = new Float32Array(rows.length * yWidth);
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j]!;
      for (let f = 0; f < k; f++) x[j * k + f] = (columns[f]![r]! - normalization.offset[f]!) / normalization.scale[f]!;
      if (info.task === 'classification') y[j * yWidth + classIndex.get(labelCells[r]!)!] = 1;
      else y[j] = labels[r]!;
    }
    return { x, y, n: rows.length };
  };
  return {
    ok: true,
    dataset: { info, train: take(train), val: take(val), features: [...spec.features], label: spec.label, classes, normalization },
  };
}

function fitNormalization(method: Normalization, columns: Float64Array[], train: Uint32Array): NormalizationStats {
  const offset: number[] = [];
  const scale: number[] = [];
  for (const values of columns) {
    if (method === 'none') {
      offset.push(0);
      scale.push(1);
      continue;
    }
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const r of train) {
      const v = values[r]!;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    if (min === max) {
      // Constant on the training split: nothing to scale (and σ computed in floating point
      // would be a rounding error, not 0).
      offset.push(min);
      scale.push(1);
    } else if (method === 'minmax') {
      offset.push(min);
      scale.push(max - min);
    } else {
      const mean = sum / train.length;
      let ss = 0;
      for (const r of train) ss += (values[r]! - mean) ** 2;
      offset.push(mean);
      scale.push(Math.sqrt(ss / train.length)); // population σ, as BatchNorm's batch variance
    }
  }
  return { method, offset, scale };
}

/** Scale rows of raw feature values (row-major, features in the dataset's order) for prediction. */
export function normalizeRows(stats: NormalizationStats, rows: ArrayLike<number>): Float32Array {
  const k = stats.offset.length;
  const out = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = (rows[i]! - stats.offset[i % k]!) / stats.scale[i % k]!;
  return out;
}

/**
 * Build the dataset a Table dataset node describes, from its embedded data. Throws an Error
 * with a readable message when the data or the choice of columns cannot make a dataset.
 */
export function buildTableDataset(p: TableDatasetParams): TableDataset {
  const parsed = cachedTable(p.data);
  if (!parsed.ok) throw new Error(`Cannot build the table dataset: ${parsed.error}`);
  const built = tableDataset(parsed.table, p);
  if (!built.ok) throw new Error(`Cannot build the table dataset: ${built.problems.map((q) => q.message).join('; ')}`);
  return built.dataset;
}

// ---------------------------------------------------------------------------------------
// Helpers

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A cell as a finite number, or NaN. Stricter than Number(): '' and '0x1f' are not numbers. */
function toNumber(cell: string): number {
  if (!NUMBER.test(cell)) return NaN;
  const v = Number(cell);
  return Number.isFinite(v) ? v : NaN;
}

const isNumber = (cell: string) => !Number.isNaN(toNumber(cell));

function decimalCommaHint(cell: string): string {
  return /^[+-]?\d+,\d+$/.test(cell) ? ' (write decimals with a point: 3.5, not 3,5)' : '';
}

function more(count: number, what: 'cell' | 'row', column: string): string {
  if (count <= 1) return '';
  const others = count - 1;
  return what === 'cell'
    ? ` (and ${others.toLocaleString('en-US')} more cell${others === 1 ? '' : 's'} in '${column}')`
    : ` (and ${others.toLocaleString('en-US')} more row${others === 1 ? '' : 's'})`;
}

function short(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

const cellCount = (n: number) => `${n} cell${n === 1 ? '' : 's'}`;
const columnCount = (n: number) => `${n.toLocaleString('en-US')} column${n === 1 ? '' : 's'}`;
const rowCount = (n: number) => `${n} row${n === 1 ? '' : 's'}`;

function isBlank(row: readonly string[]): boolean {
  return row.every((c) => c.trim() === '');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'text';
  return `a ${typeof v}`;
}

function countOf(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

function lineAt(text: string, index: number): number {
  return countOf(text.slice(0, index), text.includes('\n') ? '\n' : '\r') + 1;
}
