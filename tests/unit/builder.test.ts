/** GraphBuilder, which examples, benchmarks and tests build graphs with: it refuses what a file could not hold. */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../core/graph/builder.ts';
import { TABLE_KIND } from '../../core/graph/catalogue.ts';

describe('GraphBuilder', () => {
  it('refuses a second node with the same id, and an unknown kind', () => {
    const g = new GraphBuilder('g').add('dense', 'fc1');
    expect(() => g.add('relu', 'fc1')).toThrow("duplicate node id 'fc1'");
    expect(() => g.add('noSuchKind', 'x')).toThrow("unknown node kind 'noSuchKind'");
    expect(g.build().nodes.map((n) => n.id)).toEqual(['fc1']);
  });

  it('fills missing parameters with the catalogue defaults', () => {
    const doc = new GraphBuilder('g').add('dense', 'fc1', { units: 3 }).build();
    expect(doc.nodes[0]!.params).toMatchObject({ units: 3, bias: true, initializer: 'glorotUniform' });
  });
});

describe('the catalogue', () => {
  it('names one data kind that holds imported tables, and it takes the importer’s choice of columns', () => {
    expect(TABLE_KIND.kind).toBe('tableDataset');
    expect(TABLE_KIND.role).toBe('dataset');
    for (const p of ['data', 'fileName', 'features', 'label', 'task', 'normalization', 'validationFraction']) expect(Object.keys(TABLE_KIND.params)).toContain(p);
  });
});
