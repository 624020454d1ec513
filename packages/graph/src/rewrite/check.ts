// Checks for rewrite rules, used by the rewrite tests (and fit for other passes' tests):
// run passes and list the rules that fired, and compare a graph before and after on
// seeded random values for its inputs, so that every firing in a test is also checked
// to keep the values. Not exported from the package root.

import { evaluate } from '../evaluate.ts';
import type { Variable } from '../graph.ts';
import type { NDArray } from '../ndarray.ts';
import { assertClose, randomArray, type Tolerance } from '../testing.ts';
import { graphInputs } from '../traverse.ts';
import type { Pass } from './engine.ts';
import { optimizeWithReport, type PassName } from './pipeline.ts';

/** Runs the passes on `output` and returns the result with the names of the rules that fired, in order. */
export function runRules(output: Variable, passes: readonly (Pass | PassName)[]): { output: Variable; fired: string[] } {
  const { outputs, reports } = optimizeWithReport([output], { passes });
  return { output: outputs[0]!, fired: reports.flatMap((report) => report.firings.map((firing) => firing.rule)) };
}

export interface GivensOptions {
  seed?: number;
  low?: number;
  high?: number;
  /** The size taken by dimensions the static shape leaves unknown (default 3). */
  unknownSize?: number;
}

/** Seeded random values for every symbolic input the outputs depend on. */
export function randomGivens(outputs: readonly Variable[], options: GivensOptions = {}): [Variable, NDArray][] {
  const { seed = 11, low = -2, high = 2, unknownSize = 3 } = options;
  return graphInputs(outputs).map((input, i) => {
    const shape = input.shape.map((dim) => dim ?? unknownSize);
    const range = input.dtype === 'int32' || input.dtype === 'uint32' ? { low: Math.max(low, input.dtype === 'uint32' ? 0 : -5), high: Math.max(high, 3) } : { low, high };
    return [input, randomArray(input.dtype, shape, { ...range, seed: seed + 101 * i })];
  });
}

/** Throws unless `after` evaluates to `before`'s values (within tolerance) on the same givens. */
export function assertSameValues(before: readonly Variable[], after: readonly Variable[], givens: readonly (readonly [Variable, NDArray])[], tolerance: Tolerance = {}, label = 'rewritten graph'): void {
  const expected = evaluate(before, givens);
  const actual = evaluate(after, givens);
  expected.forEach((value, i) => assertClose(actual[i]!, value, tolerance, `${label}, output ${i}`));
}
