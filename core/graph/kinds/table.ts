/** The Table dataset: the user's own CSV or JSON data, embedded in the graph. */
import {
  buildTableDataset,
  cachedTable,
  MAX_COLUMN_NAME,
  MAX_COLUMNS,
  MAX_TABLE_CHARS,
  NO_DATA,
  NORMALIZATIONS,
  TABLE_TASKS,
  tableInfo,
  tableProblems,
  type TableDatasetParams,
} from '../../data/table.ts';
import { int, names, num, oneOf, text } from '../params.ts';
import { batchSizeParam, datasetPorts } from './data.ts';
import { defineKind, type DataSourceDef, type LocalIssue } from '../types.ts';
import { error } from './util.ts';

// Typed with the table module's params (the specs type `task` as a plain string).
const tableSource: DataSourceDef<TableDatasetParams> = {
  needs: () => [],
  // Analysis already parsed this data when the graph can train, so this is a cache hit.
  describe: (p) => {
    const parsed = cachedTable(p.data);
    return { source: 'table', samples: parsed.ok ? parsed.table.rows : 0 };
  },
  build: (p) => buildTableDataset(p),
  holdsImportedTable: true,
};

export const tableDataset = defineKind({
  kind: 'tableDataset',
  title: 'Table dataset',
  category: 'Data',
  role: 'dataset',
  description:
    'Your own data from a CSV or JSON file: choose the feature columns (inputs x) and the label column (targets y). The table is stored in the graph file, so a shared file trains anywhere.',
  ...datasetPorts({ x: 'The feature columns of a batch, normalized', y: 'The labels of the same batch (one-hot classes, or values)' }),
  // Order matters twice: the node shows its first three parameters, and the file writes
  // them in this order, so the (possibly large) data comes last.
  params: {
    fileName: text({
      label: 'File',
      help: 'The file the table was imported from. Only a reminder: the data itself is stored in the graph.',
      default: '',
      maxLength: 255,
      readOnly: true,
    }),
    features: names({
      label: 'Features',
      help: 'The columns the network sees as its inputs x, in order. They must hold numbers.',
      default: [],
      maxItems: MAX_COLUMNS,
      maxLength: MAX_COLUMN_NAME,
    }),
    label: text({
      label: 'Label',
      help: 'The column the network learns to predict (the targets y).',
      default: '',
      maxLength: MAX_COLUMN_NAME,
    }),
    task: oneOf({
      label: 'Task',
      help: 'Classification: every distinct label is a class and y is one-hot (for softmax cross-entropy). Regression: the label is a number and y has one value (for mean squared error).',
      options: TABLE_TASKS,
      default: 'classification',
      optionLabels: { classification: 'Classification', regression: 'Regression' },
    }),
    normalization: oneOf({
      label: 'Normalization',
      help: 'Rescales every feature with statistics of the training rows only (the validation rows stay unseen): standardize to mean 0 and standard deviation 1, or min–max to [0, 1].',
      options: NORMALIZATIONS,
      default: 'standardize',
      optionLabels: { none: 'None', standardize: 'Standardize (mean 0, std 1)', minmax: 'Min–max to [0, 1]' },
    }),
    validationFraction: num({
      label: 'Validation fraction',
      help: 'Share of the rows held out to measure generalization (and for early stopping).',
      default: 0.2,
      min: 0,
      max: 0.9,
    }),
    batchSize: batchSizeParam,
    seed: int({ label: 'Seed', help: 'Seed of the shuffle that splits the rows: the same seed gives the same split and run.', default: 1, min: 0, max: 2 ** 31 - 1 }),
    data: text({
      label: 'Data',
      help: 'The imported table as CSV text. It travels with the graph file and counts toward its size.',
      default: '',
      maxLength: MAX_TABLE_CHARS,
      readOnly: true,
    }),
  },
  infer(ctx) {
    const p = ctx.params as TableDatasetParams;
    const unknown = { outputs: { x: null, y: null } };
    const parsed = cachedTable(p.data);
    if (!parsed.ok) {
      const message = p.data === '' ? NO_DATA : `the data cannot be read: ${parsed.error}`;
      return { ...unknown, issues: [error(p.data === '' ? 'table/no-data' : 'table/unreadable', `Table dataset ${ctx.name}: ${message}`, { param: 'data' })] };
    }
    const problems = tableProblems(parsed.table, p);
    const issues: LocalIssue[] = problems.map((q) => error(q.code, `Table dataset ${ctx.name}: ${q.message}`, { param: q.param }));
    if (problems.length > 0) {
      // A shape is still known where its own columns are fine, so the rest of the graph
      // keeps its shapes while the user fixes one choice.
      const xBad = problems.some((q) => q.param === 'features' || q.param === 'data');
      const yBad = problems.some((q) => q.param === 'label' || q.param === 'task' || q.param === 'data');
      const info = tableInfo(parsed.table, p);
      return { outputs: { x: xBad ? null : info.xShape, y: yBad ? null : info.yShape }, issues };
    }
    const info = tableInfo(parsed.table, p);
    return { outputs: { x: info.xShape, y: info.yShape }, dataset: info };
  },
  data: tableSource,
});
