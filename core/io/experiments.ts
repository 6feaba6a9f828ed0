/**
 * The `experiments` block of a graph file: results of experiments (core/experiments) with
 * their settings, seed and backend. The block has its own layout version and migrations
 * (so the file format's version is untouched by it), and each result carries its
 * experiment's data version: data written by an older Gradflow is upgraded by the
 * experiment, data of an experiment this Gradflow does not know (or of a newer version of
 * one) is kept verbatim, and anything else that does not match is refused with a message
 * naming the result and the field.
 */
import { z } from 'zod';
import { EXPERIMENTS_VERSION, type ExperimentsBlock } from '../graph/document.ts';
import { experimentDef } from '../experiments/registry.ts';
import { jsonValue } from './json.ts';
import { migrate, type Migration } from './migrations.ts';


export const experimentResultSchema = z.strictObject({
  id: z.string().min(1, 'must not be empty').max(200),
  experiment: z.string().min(1, 'must not be empty').max(100),
  version: z.number().int().min(1),
  startedAt: z.string().max(100),
  seconds: z.number().min(0),
  status: z.enum(['completed', 'cancelled']),
  backend: z.string().max(50),
  seed: z.number().int(),
  settings: z.record(z.string(), jsonValue),
  weightsStep: z.number().int().min(0).nullable(),
  data: z.record(z.string(), jsonValue),
});

/** Migrations of the block's layout: entry N reads block version N. */
export const EXPERIMENTS_MIGRATIONS: readonly Migration[] = [];

/** A block or result that cannot be upgraded; `path` is where, inside the block. */
export class ExperimentsBlockError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
  }
}

/**
 * Bring a block to the current layout and its results' data to their experiments' current
 * versions. Throws with a message for what cannot be upgraded.
 */
export function upgradeExperimentsBlock(raw: unknown, migrations: readonly Migration[] = EXPERIMENTS_MIGRATIONS, current = EXPERIMENTS_VERSION): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const block = raw as Record<string, unknown>;
  const v = block.version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return raw; // the schema names the problem
  if (v > current) throw new ExperimentsBlockError(`the experiments block has layout version ${v}, made by a newer Gradflow; this one reads version ${current} and older`);
  let migrated: Record<string, unknown>;
  try {
    migrated = migrate(block, v, current, migrations);
  } catch (e) {
    throw new ExperimentsBlockError(`the experiments block could not be upgraded from layout version ${v} (${e instanceof Error ? e.message : String(e)})`, ['version']);
  }
  if (!Array.isArray(migrated.results)) return migrated;
  return {
    ...migrated,
    results: migrated.results.map((r: unknown, i: number) => {
      if (!r || typeof r !== 'object') return r;
      const result = r as Record<string, unknown>;
      const def = typeof result.experiment === 'string' ? experimentDef(result.experiment) : undefined;
      const rv = result.version;
      if (!def || typeof rv !== 'number' || rv >= def.dataVersion || !result.data || typeof result.data !== 'object') return r;
      const cannot = (why: string) => new ExperimentsBlockError(`the ${def.title.toLowerCase()} result '${String(result.id)}' has data version ${rv}, which ${why}`, ['results', i, 'version']);
      if (!def.upgrade) throw cannot(`this Gradflow cannot read (it reads version ${def.dataVersion})`);
      try {
        return { ...result, version: def.dataVersion, data: def.upgrade(result.data as never, rv) };
      } catch (e) {
        throw cannot(`could not be upgraded (${e instanceof Error ? e.message : String(e)})`);
      }
    }),
  };
}

/** The block as the file holds it, after upgrading: results of known experiments are checked against their data schema. */
export const experimentsBlockSchema = z.preprocess(
  (raw, ctx) => {
    try {
      return upgradeExperimentsBlock(raw);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e), path: e instanceof ExperimentsBlockError ? e.path : [] });
      return z.NEVER;
    }
  },
  z
    .strictObject({
      version: z.literal(EXPERIMENTS_VERSION),
      results: z.array(experimentResultSchema).max(10_000),
    })
    .superRefine((block, ctx) => {
      const ids = new Set<string>();
      block.results.forEach((r, i) => {
        if (ids.has(r.id)) ctx.addIssue({ code: 'custom', message: `two results have the id '${r.id}'; every result needs its own`, path: ['results', i, 'id'] });
        ids.add(r.id);
        const def = experimentDef(r.experiment);
        // An experiment this version does not know, or a newer version of one: kept verbatim.
        if (!def || r.version !== def.dataVersion) return;
        const parsed = def.data.safeParse(r.data);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          ctx.addIssue({ code: 'custom', message: `the ${def.title.toLowerCase()} result '${r.id}' is damaged: ${issue.message.replace(/^Invalid input: /, '')}`, path: ['results', i, 'data', ...(issue.path as (string | number)[])] });
        }
      });
    }),
);

/** The block in a fixed key order for saving (results in their order, their data's keys sorted). */
export function orderExperimentsBlock(block: ExperimentsBlock, sortKeys: (v: unknown) => unknown): Record<string, unknown> {
  return {
    version: block.version,
    results: block.results.map((r) => ({
      id: r.id,
      experiment: r.experiment,
      version: r.version,
      startedAt: r.startedAt,
      seconds: r.seconds,
      status: r.status,
      backend: r.backend,
      seed: r.seed,
      settings: sortKeys(r.settings),
      weightsStep: r.weightsStep,
      data: sortKeys(r.data),
    })),
  };
}
