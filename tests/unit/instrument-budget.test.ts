/**
 * The instrumentation budget of time-paced runs (the app): instrumented steps come only as
 * often as keeps their extra cost within the share, the first due step is instrumented, and
 * a plain read-back step is measured before the budget decides.
 */
import { describe, expect, it } from 'vitest';
import { InstrumentBudget } from '../../core/train/instrument-budget.ts';

/** Simulates a paced run: a read-back every `everyMs`, each plain read-back step `plainMs`, an instrumented one `plainMs + extraMs`. */
function simulate(budget: InstrumentBudget, o: { everyMs: number; plainMs: number; extraMs: number; totalMs: number }) {
  let t = 0;
  let extraSpent = 0;
  const instrumentedAt: number[] = [];
  while (t < o.totalMs) {
    if (budget.allows(t)) {
      budget.instrumented(t, o.plainMs + o.extraMs);
      instrumentedAt.push(t);
      extraSpent += o.extraMs;
      t += o.plainMs + o.extraMs;
    } else {
      budget.plain(o.plainMs);
      t += o.plainMs;
    }
    t += o.everyMs;
  }
  return { instrumentedAt, share: extraSpent / t };
}

describe('instrumentation budget', () => {
  it('instruments the first due step, measures a plain one, and decides from the second instrumented one', () => {
    const b = new InstrumentBudget(0.05);
    expect(b.allows(0)).toBe(true);
    b.instrumented(0, 5000); // the first compiles its kernels: not counted
    expect(b.allows(10_000)).toBe(false); // no plain read-back measured yet
    b.plain(15);
    expect(b.minIntervalMs).toBeNull();
    expect(b.allows(200)).toBe(true);
    b.instrumented(400, 30);
    expect(b.minIntervalMs).toBeCloseTo(300); // (30 − 15) / 0.05
    expect(b.allows(699)).toBe(false);
    expect(b.allows(700)).toBe(true);
  });

  it('keeps an expensive instrumentation within its share of the time', () => {
    // An instrumented step 100 ms dearer than a plain one (a big conv net), read-backs at 5 Hz.
    const r = simulate(new InstrumentBudget(0.05), { everyMs: 200, plainMs: 15, extraMs: 100, totalMs: 120_000 });
    expect(r.share).toBeLessThanOrEqual(0.05);
    expect(r.share).toBeGreaterThan(0.04); // and uses it: not far fewer updates than allowed
    expect(r.instrumentedAt[2]! - r.instrumentedAt[1]!).toBeGreaterThanOrEqual(2000);
  });

  it('leaves a cheap instrumentation at the caller’s pace', () => {
    const r = simulate(new InstrumentBudget(0.05), { everyMs: 200, plainMs: 2, extraMs: 1, totalMs: 10_000 });
    // Every read-back but the second (the plain measurement) is instrumented.
    const readBacks = Math.round(10_000 / 202);
    expect(r.instrumentedAt.length).toBeGreaterThanOrEqual(readBacks - 2);
  });

  it('a slower plain step never makes the interval negative; a bad share is refused', () => {
    const b = new InstrumentBudget(0.1);
    b.instrumented(0, 10);
    b.plain(50);
    b.instrumented(100, 10);
    expect(b.minIntervalMs).toBe(0);
    expect(b.allows(100)).toBe(true);
    expect(() => new InstrumentBudget(0)).toThrow(/share/);
    expect(() => new InstrumentBudget(1.5)).toThrow(/share/);
  });
});
