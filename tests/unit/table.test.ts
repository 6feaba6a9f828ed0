/**
 * Your own data: a CSV or JSON file becomes a Table, a Table with a choice of columns becomes
 * a Dataset, and a Table dataset node carries the table inside the graph file, infers its
 * shapes, reports what is wrong on the parameter to change, and trains.
 *
 * Every message a user can meet is checked word for word in one of the tables below.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../../core/cli/main.ts';
import { compilePlan } from '../../core/compile/plan.ts';
import { validationCount } from '../../core/data/info.ts';
import { createRng } from '../../core/data/rng.ts';
import {
  buildTableDataset,
  cachedTable,
  importTable,
  MAX_TABLE_CHARS,
  normalizeRows,
  parseTable,
  tableDataset,
  tableFormat,
  tableToCsv,
  type Table,
  type TableDataset,
  type TableSpec,
} from '../../core/data/table.ts';
import { analyzeGraph } from '../../core/graph/analyze.ts';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { kindDef } from '../../core/graph/catalogue.ts';
import type { GraphDocument } from '../../core/graph/document.ts';
import { checkParam, describeRange, type ParamSpec, type ParamValue } from '../../core/graph/params.ts';
import type { TF } from '../../core/graph/types.ts';
import { loadGraph, MAX_GRAPH_BYTES } from '../../core/io/load.ts';
import { saveGraph } from '../../core/io/save.ts';
import { Trainer } from '../../core/train/trainer.ts';

// ---------------------------------------------------------------------------------------
// Helpers

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function table(text: string, fileName = 'data.csv'): Table {
  const r = parseTable(text, fileName);
  if (!r.ok) throw new Error(`expected the table to parse, got: ${r.error}`);
  return r.table;
}

function parseError(text: string, fileName = 'data.csv'): string {
  const r = parseTable(text, fileName);
  if (r.ok) throw new Error('expected the table to be refused');
  return r.error;
}

const spec = (over: Partial<TableSpec> = {}): TableSpec => ({
  features: ['a', 'b'],
  label: 'species',
  task: 'classification',
  normalization: 'none',
  validationFraction: 0.2,
  seed: 1,
  ...over,
});

function built(t: Table, s: TableSpec): TableDataset {
  const r = tableDataset(t, s);
  if (!r.ok) throw new Error(`expected a dataset, got: ${r.error}`);
  return r.dataset;
}

function datasetError(t: Table, s: TableSpec): string {
  const r = tableDataset(t, s);
  if (r.ok) throw new Error('expected the dataset to be refused');
  return r.error;
}

/** CSV text from a header and rows of cells. */
const csv = (header: string, rows: (string | number)[][]) => `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;

/** A 3-class table of 50 rows whose feature `a` is the row number (so a split row tells where it came from). */
const SPECIES = ['setosa', 'versicolor', 'virginica'];
const FIFTY = csv(
  'a,b,species',
  Array.from({ length: 50 }, (_, i) => [i + 1, ((i * 7) % 11) / 2, SPECIES[i % 3]!]),
);

/** Rows of a split as [a, b] pairs. */
function rowsOf(x: Float32Array, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < x.length; i += k) out.push(Array.from(x.subarray(i, i + k)));
  return out;
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const std = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));

// ---------------------------------------------------------------------------------------

describe('parseTable: CSV', () => {
  it('reads the header and the cells, column by column, trimmed', () => {
    const t = table('sepal length, sepal width ,species\n5.1,3.5, setosa\n4.9,3.0,setosa\n7.0,3.2,versicolor\n');
    expect(t).toEqual({
      columns: ['sepal length', 'sepal width', 'species'],
      rows: 3,
      cells: [
        ['5.1', '4.9', '7.0'],
        ['3.5', '3.0', '3.2'],
        ['setosa', 'setosa', 'versicolor'],
      ],
    });
  });

  it.each([
    ['semicolons', 'a;b\n1;2\n3;4\n'],
    ['tabs', 'a\tb\n1\t2\n3\t4'],
    ['bars', 'a|b\n1|2\n3|4\n'],
    ['Windows line ends', 'a,b\r\n1,2\r\n3,4\r\n'],
    ['a byte order mark', '\uFEFFa,b\n1,2\n3,4\n'],
    ['blank lines', '\na,b\n\n1,2\n   \n3,4\n\n'],
  ])('detects the layout: %s', (_what, text) => {
    expect(table(text)).toEqual({ columns: ['a', 'b'], rows: 2, cells: [['1', '3'], ['2', '4']] });
  });

  it('keeps quoted cells with commas, quotes and line breaks whole', () => {
    const t = table('name,note\n"Smith, J.","said ""hi""\nand left"\nLee,ok\n');
    expect(t.cells).toEqual([
      ['Smith, J.', 'Lee'],
      ['said "hi"\nand left', 'ok'],
    ]);
  });

  it('a one-column file is a table of one column', () => {
    expect(table('y\n1\n2\n')).toEqual({ columns: ['y'], rows: 2, cells: [['1', '2']] });
  });

  const raggedAt17 = csv(
    'a,b,c,d',
    Array.from({ length: 20 }, (_, i) => (i === 16 ? [1, 2, 3] : [1, 2, 3, 4])),
  );
  it.each([
    ['an empty file', '', 'empty file: there is nothing in it to import'],
    ['a file of blank lines', ' \n\n \n', 'empty file: there is nothing in it to import'],
    ['a file of empty cells', ',,\n,,\n', 'empty file: there is nothing in it to import'],
    ['a row with too few cells', raggedAt17, 'row 17 (line 18) has 3 cells but the header has 4 columns'],
    ['a row with too many cells', 'a,b\n1,2\n3,4,5\n', 'row 2 (line 3) has 3 cells but the header has 2 columns'],
    ['a ragged row after blank lines and a quoted line break', 'a,b\n\n1,"x\ny"\n\n3\n', 'row 2 (line 6) has 1 cell but the header has 2 columns'],
    ['no header (a first row of numbers)', '5.1,3.5,1.4,0.2\n4.9,3.0,1.4,0.2\n', 'no header: the first row holds numbers (5.1, 3.5, 1.4, 0.2), not column names; add a first row that names the columns'],
    ['a header without rows', 'a,b,c\n', 'the file has a header but no rows of data'],
    ['a column without a name', 'a,,c\n1,2,3\n', 'column 2 has no name in the header: every column needs one'],
    ['two columns of the same name', 'x,y,x\n1,2,3\n', "two columns are named 'x' (columns 1 and 3): every column needs its own name"],
    ['an unclosed quote', 'a,b\n1,2\n3,"4\n5,6\n', 'line 3: a quoted cell is not closed (a " is missing)'],
  ])('refuses %s', (_what, text, message) => {
    expect(parseError(text)).toBe(message);
  });
});

describe('parseTable: JSON', () => {
  it('reads a list of objects: columns in the order they first appear, missing and null fields empty', () => {
    const t = table('[{"x": 1.5, "kind": "a"}, {"kind": "b", "x": -2, "extra": true}, {"x": null, "kind": " c "}]', 'rows.json');
    expect(t).toEqual({
      columns: ['x', 'kind', 'extra'],
      rows: 3,
      cells: [
        ['1.5', '-2', ''],
        ['a', 'b', 'c'],
        ['', 'true', ''],
      ],
    });
  });

  it('reads {"columns": [...], "rows": [[...], ...]}', () => {
    const t = table('{"columns": ["x", "y"], "rows": [[1, "a"], [2, "b"]]}', 'table.json');
    expect(t).toEqual({ columns: ['x', 'y'], rows: 2, cells: [['1', '2'], ['a', 'b']] });
  });

  it('skips rows with no values, like blank lines', () => {
    expect(table('[{"x": 1}, {}, {"x": null}, {"x": 2}]', 'r.json')).toEqual({ columns: ['x'], rows: 2, cells: [['1', '2']] });
  });

  it.each([
    ['not JSON', '[{"x": 1},', /^not valid JSON \(/],
    ['a list of lists', '[[1, 2], [3, 4]]', /^no header: the rows are lists without column names/],
    ['rows without columns', '{"rows": [[1, 2]]}', 'no header: the JSON has "rows" but no "columns" naming them'],
    ['columns that are not names', '{"columns": [1, 2], "rows": [[1, 2]]}', 'no header: "columns" must be a list of column names (text)'],
    ['a ragged row', '{"columns": ["a", "b", "c"], "rows": [[1, 2, 3], [1, 2]]}', 'row 2 has 2 cells but the header has 3 columns'],
    ['a nested object', '[{"a": 1}, {"a": {"b": 2}}]', "row 2, column 'a': an object is not a table cell (cells are numbers or text)"],
    ['a nested list', '{"columns": ["a"], "rows": [[[1]]]}', "row 1, column 'a': a list is not a table cell (cells are numbers or text)"],
    ['a row that is not an object', '[{"a": 1}, 7]', 'row 2 is a number, not an object of {"column": value} fields'],
    ['an empty list', '[]', 'the JSON list is empty: there are no rows to import'],
    ['a lone value', '42', 'expected a list of rows ([{"column": value, ...}, ...]) or {"columns": [...], "rows": [[...], ...]}'],
    ['an empty file', '  \n', 'empty file: there is nothing in it to import'],
  ])('refuses %s', (_what, text, message) => {
    const error = parseError(text, 'data.json');
    if (typeof message === 'string') expect(error).toBe(message);
    else expect(error).toMatch(message);
  });

  it('tells CSV from JSON by the extension, then by the first character', () => {
    expect(tableFormat('a.JSON', 'x,y')).toBe('json');
    expect(tableFormat('a.csv', '[1]')).toBe('csv');
    expect(tableFormat('a.tsv', '{')).toBe('csv');
    expect(tableFormat('download', '  [{"a": 1}]')).toBe('json');
    expect(tableFormat('data.txt', 'a,b\n1,2')).toBe('csv');
  });
});

describe('tableToCsv and the embedded copy', () => {
  it('writes compact CSV that reads back to the same table, whatever the cells hold', () => {
    const t = table('[{"name": "Smith, J.", "note": "said \\"hi\\"\\nthen left", "v": 1e-7, "x;y": "a;b"}, {"name": "Ünïcødé", "note": "", "v": 3, "x;y": "c"}]', 'x.json');
    const text = tableToCsv(t);
    expect(text.split('\n')[0]).toBe('name,note,v,x;y');
    const back = cachedTable(text);
    expect(back.ok && back.table).toEqual(t);
  });

  it('a one-column table with semicolons in its cells stays one column', () => {
    const t = table('{"columns": ["pair"], "rows": [["1;2"], ["3;4"], ["5;6"]]}', 'p.json');
    const back = cachedTable(tableToCsv(t));
    expect(back.ok && back.table.columns).toEqual(['pair']);
  });

  it('parses the same text once (the cache hands back the same result)', () => {
    const text = tableToCsv(table(FIFTY));
    const first = cachedTable(text);
    expect(cachedTable(text)).toBe(first);
    // An equal string made separately is found too.
    expect(cachedTable(text.slice(0, 10) + text.slice(10))).toBe(first);
    expect(cachedTable('')).toEqual({ ok: false, error: 'no data: import a CSV or JSON file' });
  });
});

describe('importTable', () => {
  it('stores compact CSV and suggests the numeric columns as features and the last column as the label', () => {
    const r = importTable('id;height;weight;kind\nA1;1,80;75;x\nA2;1,65;60;y\n', 'people.csv');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // 'id' is text and 'height' has decimal commas: neither is suggested.
    expect(r.value).toMatchObject({ fileName: 'people.csv', features: ['weight'], label: 'kind', task: 'classification' });
    expect(r.value.data).toBe('id,height,weight,kind\nA1,"1,80",75,x\nA2,"1,65",60,y');
    expect(cachedTable(r.value.data)).toEqual({ ok: true, table: r.value.table });
  });

  it('suggests regression for a label of many different numbers', () => {
    const rows = Array.from({ length: 40 }, (_, i) => [i, i * 1.5 + 0.25]);
    const r = importTable(csv('x,price', rows), 'prices.csv');
    expect(r.ok && r.value.task).toBe('regression');
    expect(r.ok && r.value.features).toEqual(['x']);
  });

  it('passes on the parse error', () => {
    expect(importTable('', 'empty.csv')).toEqual({ ok: false, error: 'empty file: there is nothing in it to import' });
  });

  it('refuses a table too large to embed in a graph', () => {
    const cell = 'x'.repeat(2 ** 20);
    const text = `a\n${Array.from({ length: MAX_TABLE_CHARS / 2 ** 20 + 1 }, () => cell).join('\n')}\n`;
    const r = importTable(text, 'huge.csv');
    expect(r).toEqual({ ok: false, error: 'the table is too large to store in a graph (33.0 MiB as CSV; the limit is 32 MiB)' });
  });
});

// ---------------------------------------------------------------------------------------

describe('tableDataset: errors name the row, the column and the fix', () => {
  const rows = (n: number, at: Record<number, (string | number)[]> = {}) =>
    Array.from({ length: n }, (_, i) => at[i + 1] ?? [i + 1, i % 5, SPECIES[i % 3]!]);
  const T = (r: (string | number)[][], header = 'a,b,species') => table(csv(header, r));

  it.each<[string, Table, Partial<TableSpec>, string]>([
    ['a non-numeric feature cell', T(rows(20, { 12: [12, 'abc', 'setosa'] })), {}, "row 12, column 'b': 'abc' is not a number"],
    [
      'several non-numeric cells',
      T(rows(20, { 3: [3, 'n/a', 'setosa'], 9: [9, '?', 'setosa'] })),
      {},
      "row 3, column 'b': 'n/a' is not a number (and 1 more cell in 'b')",
    ],
    ['a decimal comma', table('a;b;species\n1;2,5;x\n2;3;y\n3;4;x\n'), {}, "row 1, column 'b': '2,5' is not a number (write decimals with a point: 3.5, not 3,5)"],
    [
      'a column of text as a feature',
      T(rows(10).map((r, i) => [r[0]!, `n${i}`, r[2]!]), 'a,name,species'),
      { features: ['a', 'name'] },
      "column 'name' holds text, not numbers (row 1: 'n0'), so it cannot be a feature",
    ],
    ['an empty feature cell', T(rows(20, { 7: [7, '', 'setosa'] })), {}, "row 7 has no value in the column 'b'"],
    ['a missing label', T(rows(50, { 40: [40, 1, ''] })), {}, "row 40 has no value in the label column 'species'"],
    ['missing labels', T(rows(50, { 40: [40, 1, ''], 41: [41, 1, ''], 45: [45, 1, ''] })), {}, "row 40 has no value in the label column 'species' (and 2 more rows)"],
    ['a label column with one class', T(rows(10).map((r) => [r[0]!, r[1]!, 'setosa'])), {}, "the label column 'species' has only one value ('setosa'): classification needs at least 2 classes"],
    ['an unknown feature column', T(rows(10)), { features: ['a', 'petal'] }, "unknown column 'petal' in the features (the table has 'a', 'b', 'species')"],
    ['an unknown label column', T(rows(10)), { label: 'Species' }, "unknown label column 'Species' (the table has 'a', 'b', 'species')"],
    ['the label as a feature', T(rows(10)), { features: ['a', 'species'] }, "'species' is the label, so it cannot also be a feature: the network would see the answer it must predict"],
    ['no features', T(rows(10)), { features: [] }, 'choose at least one feature column'],
    ['no label', T(rows(10)), { label: '' }, 'choose the label column, the one the network learns to predict'],
    ['a feature listed twice', T(rows(10)), { features: ['a', 'a'] }, "'a' is listed twice in the features"],
    ['too few rows', T(rows(1)), {}, 'the table has 1 row; a dataset needs at least 2 (one to train on, one to validate with)'],
    ['a validation split that takes every row', T(rows(2)), { validationFraction: 0.9 }, 'the validation split takes all 2 rows, leaving none to train on: lower the validation fraction'],
    [
      'text labels for regression',
      T(rows(10)),
      { task: 'regression' },
      "row 1, label column 'species': 'setosa' is not a number; regression predicts numbers (choose classification for categories)",
    ],
    [
      'too many classes',
      T(Array.from({ length: 1001 }, (_, i) => [i, i, i])),
      {},
      "the label column 'species' has 1,001 different values; classification allows at most 1,000 classes (for a numeric target, choose regression)",
    ],
  ])('%s', (_what, t, over, message) => {
    expect(datasetError(t, spec(over))).toBe(message);
  });

  it('lists every problem, each with the parameter to change', () => {
    const t = T(rows(20, { 12: [12, 'abc', ''] }));
    const r = tableDataset(t, spec({ features: ['a', 'b', 'nope'] }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => [p.param, p.code])).toEqual([
      ['features', 'table/unknown-column'],
      ['features', 'table/not-a-number'],
      ['label', 'table/missing-label'],
    ]);
  });
});

describe('tableDataset: what it builds', () => {
  it('one-hot classes, sorted by name, kept as a list', () => {
    const d = built(table(FIFTY), spec());
    expect(d.info).toEqual({ task: 'classification', xShape: [2], yShape: [3], classes: 3 });
    expect(d.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    for (const split of [d.train, d.val]) {
      for (let i = 0; i < split.n; i++) {
        const row = split.x[i * 2]!; // feature a is the row number (normalization none)
        const y = Array.from(split.y.subarray(i * 3, i * 3 + 3));
        expect(y).toEqual([0, 1, 2].map((c) => (c === (row - 1) % 3 ? 1 : 0)));
      }
    }
  });

  it('numeric classes sort by value, so 2 comes before 10', () => {
    const t = table(csv('a,digit', [[1, 10], [2, 2], [3, 10], [4, 2], [5, 7]]));
    expect(built(t, spec({ features: ['a'], label: 'digit' })).classes).toEqual(['2', '7', '10']);
  });

  it('regression keeps the label as a number: y is [1]', () => {
    const t = table(csv('x,y', Array.from({ length: 10 }, (_, i) => [i, i * 2.5 - 1])));
    const d = built(t, spec({ features: ['x'], label: 'y', task: 'regression', validationFraction: 0 }));
    expect(d.info).toEqual({ task: 'regression', xShape: [1], yShape: [1], classes: 0 });
    expect(d.classes).toEqual([]);
    for (let i = 0; i < d.train.n; i++) expect(d.train.y[i]).toBeCloseTo(d.train.x[i]! * 2.5 - 1, 6);
  });

  it('splits as the Dataset node does: validationCount rows held out, every row once', () => {
    const d = built(table(FIFTY), spec({ validationFraction: 0.3 }));
    expect(d.val.n).toBe(validationCount(50, 0.3));
    expect(d.train.n + d.val.n).toBe(50);
    const seen = [...rowsOf(d.train.x, 2), ...rowsOf(d.val.x, 2)].map((r) => r[0]!).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('the split is seeded: the same seed gives the same split, another seed another', () => {
    const t = table(FIFTY);
    const a = built(t, spec({ seed: 5 }));
    const b = built(table(FIFTY), spec({ seed: 5 }));
    const c = built(t, spec({ seed: 6 }));
    expect(b.train).toEqual(a.train);
    expect(b.val).toEqual(a.val);
    expect(Array.from(c.val.x)).not.toEqual(Array.from(a.val.x));
  });

  it('standardizes with the mean and σ of the training rows only', () => {
    // The validation rows hold the outliers: statistics over all rows would differ a lot.
    const t = table(FIFTY);
    const raw = built(t, spec({ seed: 3 }));
    const d = built(t, spec({ seed: 3, normalization: 'standardize' }));
    const trainRaw = rowsOf(raw.train.x, 2);
    for (let f = 0; f < 2; f++) {
      const col = trainRaw.map((r) => r[f]!);
      expect(d.normalization.offset[f]).toBeCloseTo(mean(col), 10);
      expect(d.normalization.scale[f]).toBeCloseTo(std(col), 10);
      const trainScaled = rowsOf(d.train.x, 2).map((r) => r[f]!);
      expect(mean(trainScaled)).toBeCloseTo(0, 5);
      expect(std(trainScaled)).toBeCloseTo(1, 5);
      // Validation rows are scaled with the training statistics, not their own.
      rowsOf(raw.val.x, 2).forEach((r, i) => expect(d.val.x[i * 2 + f]).toBeCloseTo((r[f]! - mean(col)) / std(col), 5));
    }
    expect(d.normalization.method).toBe('standardize');
    // Feature a runs 1..50: its mean over all rows is 25.5; over the training rows it is not.
    expect(d.normalization.offset[0]).not.toBeCloseTo(25.5, 3);
  });

  it('min–max scales the training rows to [0, 1], validation rows by the same rule', () => {
    const rows = Array.from({ length: 10 }, (_, i) => [i < 8 ? 10 + i : 1000 + i, SPECIES[i % 2]!]);
    const t = table(csv('a,species', rows));
    // Seed chosen so that both outliers (rows 9 and 10) are in validation.
    let d: TableDataset | null = null;
    for (let seed = 0; seed < 200 && !d; seed++) {
      const cand = built(t, spec({ features: ['a'], validationFraction: 0.2, seed, normalization: 'minmax' }));
      if (Array.from(cand.val.x).every((v) => v > 1)) d = cand;
    }
    expect(d).not.toBeNull();
    expect(d!.normalization).toEqual({ method: 'minmax', offset: [10], scale: [7] });
    expect(Math.min(...d!.train.x)).toBe(0);
    expect(Math.max(...d!.train.x)).toBe(1);
    expect(Array.from(d!.val.x).sort()).toEqual([(1008 - 10) / 7, (1009 - 10) / 7].map(Math.fround).sort());
  });

  it('a feature constant on the training rows becomes 0 instead of dividing by 0', () => {
    const t = table(csv('a,c,species', Array.from({ length: 10 }, (_, i) => [i, 0.1, SPECIES[i % 2]!])));
    for (const normalization of ['standardize', 'minmax'] as const) {
      const d = built(t, spec({ features: ['a', 'c'], normalization }));
      expect(d.normalization.offset[1]).toBe(0.1);
      expect(d.normalization.scale[1]).toBe(1);
      expect(rowsOf(d.train.x, 2).every((r) => r[1] === 0)).toBe(true);
    }
  });

  it('normalizeRows scales new rows for prediction as the training rows were', () => {
    const d = built(table(FIFTY), spec({ normalization: 'standardize' }));
    const out = normalizeRows(d.normalization, [10, 2, 20, 3]);
    expect(out[0]).toBeCloseTo((10 - d.normalization.offset[0]!) / d.normalization.scale[0]!, 5);
    expect(out[3]).toBeCloseTo((3 - d.normalization.offset[1]!) / d.normalization.scale[1]!, 5);
  });
});

// ---------------------------------------------------------------------------------------

const TABLE_NODE = 't';

/** A Table dataset with `data` -> Dense(units) -> loss -> Adam. */
function tableGraph(params: Record<string, ParamValue>, o: { units?: number; loss?: string; hidden?: number; epochs?: number; lr?: number } = {}): GraphDocument {
  const g = new GraphBuilder('table graph');
  g.add('tableDataset', TABLE_NODE, params, { label: 'My data' });
  let out = `${TABLE_NODE}.x`;
  if (o.hidden) out = g.chain(out, [['dense', 'hidden', { units: o.hidden }], ['tanh', 'act']]);
  g.add('dense', 'fc', { units: o.units ?? 3 }).wire(out, 'fc.in');
  g.add(o.loss ?? 'softmaxCrossEntropy', 'loss').wire('fc.out', 'loss.pred').wire(`${TABLE_NODE}.y`, 'loss.target');
  g.add('adam', 'opt', { learningRate: o.lr ?? 0.05, epochs: o.epochs ?? 5 }).wire('loss.loss', 'opt.loss');
  return g.build();
}

const FIFTY_PARAMS = { data: tableToCsv(table(FIFTY)), fileName: 'fifty.csv', features: ['a', 'b'], label: 'species' };

describe('the Table dataset node', () => {
  const nodeIssues = (doc: GraphDocument) => analyzeGraph(doc).nodes[TABLE_NODE]!.issues;

  it('is in the Data category, after the Dataset, with outputs x and y', () => {
    const def = kindDef('tableDataset')!;
    expect(def).toMatchObject({ title: 'Table dataset', category: 'Data', role: 'dataset' });
    expect(def.outputs.map((p) => p.name)).toEqual(['x', 'y']);
    expect(def.forward).toBeUndefined();
  });

  it('without data it says to import a file, on the data parameter, and does not crash', () => {
    const g = new GraphBuilder('empty');
    g.add('tableDataset', TABLE_NODE);
    const a = analyzeGraph(g.build());
    expect(a.nodes[TABLE_NODE]!.outputs).toEqual({ x: null, y: null });
    expect(a.nodes[TABLE_NODE]!.issues).toEqual([
      { severity: 'error', code: 'table/no-data', message: "Table dataset 't': no data: import a CSV or JSON file", nodeId: TABLE_NODE, param: 'data' },
    ]);
    expect(a.canTrain).toBe(false);
  });

  it('infers x [features] and y [classes], or y [1] for regression', () => {
    const a = analyzeGraph(tableGraph(FIFTY_PARAMS));
    expect(a.errors).toBe(0);
    expect(a.nodes[TABLE_NODE]!.outputs).toEqual({ x: [2], y: [3] });
    expect(a.nodes[TABLE_NODE]!.dataset).toEqual({ task: 'classification', xShape: [2], yShape: [3], classes: 3 });
    expect(a.nodes.fc!.params.trainable).toBe(2 * 3 + 3);
    const r = analyzeGraph(tableGraph({ ...FIFTY_PARAMS, features: ['b'], label: 'a', task: 'regression' }, { units: 1, loss: 'meanSquaredError' }));
    expect(r.errors).toBe(0);
    expect(r.nodes[TABLE_NODE]!.outputs).toEqual({ x: [1], y: [1] });
  });

  it.each<[string, Record<string, ParamValue>, string, string, { x: number[] | null; y: number[] | null }]>([
    ['an unknown column', { features: ['a', 'petal'] }, 'features', "Table dataset 'My data': unknown column 'petal' in the features (the table has 'a', 'b', 'species')", { x: null, y: [3] }],
    ['a label that is a feature', { features: ['a', 'species'] }, 'features', "Table dataset 'My data': 'species' is the label, so it cannot also be a feature: the network would see the answer it must predict", { x: null, y: [3] }],
    ['a text column as a feature', { features: ['species'], label: 'a' }, 'features', "Table dataset 'My data': column 'species' holds text, not numbers (row 1: 'setosa'), so it cannot be a feature", { x: null, y: [50] }],
    ['data that cannot be read', { data: 'a,b\n1,2\n3\n' }, 'data', "Table dataset 'My data': the data cannot be read: row 2 (line 3) has 1 cell but the header has 2 columns", { x: null, y: null }],
    ['regression on text labels', { task: 'regression' }, 'task', "Table dataset 'My data': row 1, label column 'species': 'setosa' is not a number; regression predicts numbers (choose classification for categories)", { x: [2], y: null }],
  ])('reports %s as an issue on the parameter to change', (_what, over, param, message, outputs) => {
    const doc = tableGraph({ ...FIFTY_PARAMS, ...over });
    const issues = nodeIssues(doc).filter((i) => i.severity === 'error');
    expect(issues[0]).toMatchObject({ param, message, nodeId: TABLE_NODE });
    expect(analyzeGraph(doc).nodes[TABLE_NODE]!.outputs).toEqual(outputs);
  });

  it('a missing label is reported on the label', () => {
    const data = tableToCsv(table(csv('a,b,species', Array.from({ length: 50 }, (_, i) => [i, i, i === 39 ? '' : SPECIES[i % 3]!]))));
    expect(nodeIssues(tableGraph({ ...FIFTY_PARAMS, data }))).toEqual([
      expect.objectContaining({ param: 'label', code: 'table/missing-label', message: "Table dataset 'My data': row 40 has no value in the label column 'species'" }),
    ]);
  });

  it('the shapes flow on: a Dense sized for the wrong number of classes is caught at the loss', () => {
    const a = analyzeGraph(tableGraph(FIFTY_PARAMS, { units: 2 }));
    expect(a.errors).toBeGreaterThan(0);
    expect(a.issues.find((i) => i.nodeId === 'loss')?.message).toMatch(/\[2\].*\[3\]|\[3\].*\[2\]/);
  });

  it('compiles to a plan that names the table and its rows', () => {
    const r = compilePlan(tableGraph(FIFTY_PARAMS));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.dataset).toMatchObject({ id: TABLE_NODE, kind: 'tableDataset', params: { source: 'table', samples: 50, batchSize: 32 } });
    expect(r.plan.task).toBe('classification');
    expect(r.plan.training.batchSize).toBe(32);
  });

  it('buildTableDataset builds from the node parameters, or says why not', () => {
    const p = { ...FIFTY_PARAMS, task: 'classification' as const, normalization: 'standardize' as const, validationFraction: 0.2, batchSize: 8, seed: 1 };
    expect(buildTableDataset(p).info.yShape).toEqual([3]);
    expect(() => buildTableDataset({ ...p, data: '' })).toThrow('Cannot build the table dataset: no data: import a CSV or JSON file');
    expect(() => buildTableDataset({ ...p, label: 'x' })).toThrow("Cannot build the table dataset: unknown label column 'x' (the table has 'a', 'b', 'species')");
  });

  it('analysing a 300-node graph with a table parses the table once', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [i % 97, (i * 31) % 89, (i * 7) % 13, SPECIES[i % 3]!]);
    const data = tableToCsv(table(csv('a,b,c,species', rows)));
    const g = new GraphBuilder('big');
    g.add('tableDataset', TABLE_NODE, { data, features: ['a', 'b', 'c'], label: 'species' });
    let out = `${TABLE_NODE}.x`;
    for (let i = 0; i < 296; i++) out = g.chain(out, [[i % 2 ? 'relu' : 'dense', `n${i}`, i % 2 ? {} : { units: 8 }]]);
    g.add('dense', 'head', { units: 3 }).wire(out, 'head.in');
    g.add('softmaxCrossEntropy', 'loss').wire('head.out', 'loss.pred').wire(`${TABLE_NODE}.y`, 'loss.target');
    g.add('adam', 'opt').wire('loss.loss', 'opt.loss');
    const doc = g.build();
    expect(doc.nodes).toHaveLength(300);
    const first = analyzeGraph(doc);
    expect(first.errors).toBe(0);
    const parsed = cachedTable(data);
    // Every later analysis (one per edit) finds the same parse; a changed copy of the
    // document (as an edit makes) keeps the same string.
    const edited = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'n0' ? { ...n, params: { ...n.params, units: 9 } } : n)) };
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      analyzeGraph(edited);
      times.push(performance.now() - t0);
    }
    expect(cachedTable(data)).toBe(parsed);
    times.sort((a, b) => a - b);
    console.log(`analyzeGraph, 300 nodes with a 20,000-row table: median ${times[10]!.toFixed(2)} ms (cached parse)`);
  });
});

describe('parameter types for the table: text and names', () => {
  const data = kindDef('tableDataset')!.params.data as ParamSpec;
  const features = kindDef('tableDataset')!.params.features as ParamSpec;

  it('describe their ranges in words', () => {
    expect(describeRange(data)).toBe('text of at most 32 MiB');
    expect(describeRange(kindDef('tableDataset')!.params.fileName as ParamSpec)).toBe('text of at most 255 characters');
    expect(describeRange(features)).toBe('a list of at most 10,000 different names, each of 1 to 200 characters');
  });

  it.each<[string, ParamSpec, unknown, string | null]>([
    ['text', data, 'a,b\n1,2', null],
    ['empty text', data, '', null],
    ['a number as text', data, 3, 'expected text of at most 32 MiB, got number 3'],
    ['text one character too long', data, 'x'.repeat(MAX_TABLE_CHARS + 1), 'expected text of at most 32 MiB, got 33,554,433 characters'],
    ['a list of names', features, ['a', 'b c'], null],
    ['an empty list', features, [], null],
    ['text as a list', features, 'a,b', 'expected a list of at most 10,000 different names, each of 1 to 200 characters, got the text "a,b"'],
    ['numbers as names', features, [1, 2], 'expected a list of at most 10,000 different names, each of 1 to 200 characters, got a list [1,2]'],
    ['an empty name', features, ['a', ''], 'expected a list of at most 10,000 different names, each of 1 to 200 characters, got an empty name'],
    ['a name twice', features, ['a', 'a'], 'expected a list of at most 10,000 different names, each of 1 to 200 characters, got "a" twice'],
    ['a name too long', features, ['x'.repeat(201)], 'expected a list of at most 10,000 different names, each of 1 to 200 characters, got a name of 201 characters'],
  ])('checkParam: %s', (_what, s, value, problem) => {
    expect(checkParam(s, value)).toBe(problem);
  });
});

// ---------------------------------------------------------------------------------------

describe('the graph file carries the table', () => {
  const tricky = tableToCsv(
    table('[{"name": "Smith, J.", "note": "said \\"hi\\"\\nthen left", "x": 1.5, "y": "a"}, {"name": "Ünïcødé ✓", "note": "", "x": -2, "y": "b"}]', 'x.json'),
  );
  const doc = () => tableGraph({ data: tricky, fileName: 'people.json', features: ['x'], label: 'y', task: 'classification' }, { units: 2 });

  it('saves and loads back exactly, and saves again to the same bytes', () => {
    const d = doc();
    const text = saveGraph(d);
    const r = loadGraph(text);
    if (!r.ok) throw r.error;
    expect(r.document).toEqual(d);
    expect(r.document.nodes[0]!.params.data).toBe(tricky);
    expect(saveGraph(r.document)).toBe(text);
    // Short lists stay on one line; the data comes last among the parameters.
    expect(text).toContain('"features": ["x"]');
    const keys = Object.keys(JSON.parse(text).nodes[0].params);
    expect(keys[keys.length - 1]).toBe('data');
  });

  it.each<[string, string, unknown, string]>([
    ['features as text', 'features', 'x', "node 't' (nodes[0]) → params.features: Features: expected a list of at most 10,000 different names, each of 1 to 200 characters, got the text \"x\""],
    ['a feature twice', 'features', ['x', 'x'], "node 't' (nodes[0]) → params.features: Features: expected a list of at most 10,000 different names, each of 1 to 200 characters, got \"x\" twice"],
    ['data as a number', 'data', 7, "node 't' (nodes[0]) → params.data: Data: expected text of at most 32 MiB, got number 7"],
    ['an unknown task', 'task', 'ranking', 'node \'t\' (nodes[0]) → params.task: Task: expected one of "classification", "regression", got the text "ranking"'],
  ])('refuses %s with the node and field named', (_what, key, value, message) => {
    const file = JSON.parse(saveGraph(doc()));
    file.nodes[0].params[key] = value;
    const r = loadGraph(JSON.stringify(file));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe(message);
  });

  it('embedded data counts toward the size limit of a graph without weights', () => {
    expect(MAX_TABLE_CHARS).toBeLessThanOrEqual(MAX_GRAPH_BYTES / 2);
    const text = saveGraph(doc());
    expect(loadGraph(text, { maxGraphBytes: text.length }).ok).toBe(true);
    const r = loadGraph(text, { maxGraphBytes: text.length - tricky.length });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/^the graph is too large \(.* MiB without its weights; the limit is .* MiB\)$/);
  });

  describe('gradflow check', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'gradflow-table-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function check(d: GraphDocument): Promise<{ code: number; out: string; err: string }> {
      const path = join(dir, 'table.nngraph');
      writeFileSync(path, saveGraph(d));
      let out = '';
      let err = '';
      const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false };
      const code = await main(['check', path], io);
      return { code, out, err };
    }

    it('passes a graph with a table dataset and prints its shapes', async () => {
      const r = await check(tableGraph(FIFTY_PARAMS));
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/t \(My data\)\s+Table dataset\s+x: \[2\]\s+y: \[3\]/);
      expect(r.out).toContain('table.nngraph: valid');
    });

    it('fails a graph whose table has a problem, with the message', async () => {
      const r = await check(tableGraph({ ...FIFTY_PARAMS, features: ['a', 'nope'] }));
      expect(r.code).toBe(1);
      expect(r.err).toContain("error: Table dataset 'My data': unknown column 'nope' in the features (the table has 'a', 'b', 'species')");
    });
  });
});

// ---------------------------------------------------------------------------------------

describe('training on a table', () => {
  beforeAll(async () => {
    tf.enableProdMode();
    await tf.setBackend('cpu');
    await tf.ready();
  });

  /**
   * Two classes separated by the line 2·height − weight = 40, with a margin, in units far from
   * 1 (so normalization matters), plus an id column of text that is not a feature.
   */
  function separable(n: number): string {
    const rng = createRng(42);
    const rows: (string | number)[][] = [];
    while (rows.length < n) {
      const height = 150 + 50 * rng.next();
      const weight = 40 + 80 * rng.next();
      const margin = 2 * (height - 150) - (weight - 40) - 20;
      if (Math.abs(margin) < 5) continue;
      rows.push([`p${rows.length}`, height.toFixed(1), weight.toFixed(1), margin > 0 ? 'tall' : 'heavy']);
    }
    return csv('id,height,weight,build', rows);
  }

  it('a linearly separable 2-class CSV trains to ≥ 95% validation accuracy (cpu)', async () => {
    const imported = importTable(separable(400), 'people.csv');
    if (!imported.ok) throw new Error(imported.error);
    const { data, fileName, features, label, task } = imported.value;
    expect(features).toEqual(['height', 'weight']);
    expect(label).toBe('build');
    const doc = tableGraph({ data, fileName, features, label, task, normalization: 'standardize', validationFraction: 0.25, batchSize: 16, seed: 2 }, { units: 2, epochs: 20, lr: 0.05 });
    // Through the file, as a shared graph would arrive.
    const loaded = loadGraph(saveGraph(doc));
    if (!loaded.ok) throw loaded.error;
    const before = tf.memory().numTensors;
    const trainer = Trainer.create(tf as unknown as TF, loaded.document);
    expect(trainer.dataset.info).toEqual({ task: 'classification', xShape: [2], yShape: [2], classes: 2 });
    expect((trainer.dataset as TableDataset).classes).toEqual(['heavy', 'tall']);
    expect(trainer.dataset.val.n).toBe(100);
    const run = await trainer.run();
    expect(run.status).toBe('completed');
    expect(run.settings).toMatchObject({ dataset: 'table', samples: 400 });
    const val = await trainer.validate();
    expect(val.accuracy).toBeGreaterThanOrEqual(0.95);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the iris-like example trains to ≥ 90% validation accuracy with its file settings (cpu)', async () => {
    const loaded = loadGraph(readFileSync(join(ROOT, 'examples', 'iris-like.nngraph')));
    if (!loaded.ok) throw loaded.error;
    const trainer = Trainer.create(tf as unknown as TF, loaded.document);
    expect(trainer.dataset.train.n + trainer.dataset.val.n).toBe(150);
    await trainer.run();
    const val = await trainer.validate();
    expect(val.accuracy).toBeGreaterThanOrEqual(0.9);
    trainer.dispose();
  });

  it('the same file and seed give the same run; --seed changes the split', async () => {
    const imported = importTable(separable(120), 'people.csv');
    if (!imported.ok) throw new Error(imported.error);
    const { data, features, label } = imported.value;
    const doc = tableGraph({ data, features, label, batchSize: 0, seed: 3 }, { units: 2, epochs: 3 });
    const a = Trainer.create(tf as unknown as TF, doc);
    const b = Trainer.create(tf as unknown as TF, doc);
    const c = Trainer.create(tf as unknown as TF, doc, { seed: 4 });
    expect(b.dataset.val).toEqual(a.dataset.val);
    expect(Array.from(c.dataset.val.x)).not.toEqual(Array.from(a.dataset.val.x));
    const [ra, rb] = [await a.run(), await b.run()];
    expect(rb.stepLoss).toEqual(ra.stepLoss);
    for (const t of [a, b, c]) t.dispose();
  });
});
