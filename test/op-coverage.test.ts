// Every op of the graph package is tested three ways: a shape test (type inference
// against the reference evaluator, packages/graph/test/shape-cases.ts), a
// reference-vs-device test (packages/codegen/test/op-cases.ts, compiled with the rewrite
// pipeline as compile() runs it) and, unless its VJP rule marks it not differentiable, a
// gradient check against finite differences (packages/autodiff/test/grad-cases.ts).
// This walks every op name and fails, naming the op and the list, where one is missing:
// a new op cannot land untested. The lists' own test files run the cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import type { NDArray, OpName, Variable } from '@theorbo/graph';
import { notDifferentiable, vjpTable } from '@theorbo/autodiff';
import { shapeCases } from '../packages/graph/test/shape-cases.ts';
import { cases as deviceCases } from '../packages/codegen/test/op-cases.ts';
import { cases as gradCases } from '../packages/autodiff/test/grad-cases.ts';

type Build = (...inputs: Variable[]) => Variable;

/** The ops in the graphs a case list builds (over inputs of its values' types), optimized first where the test runs the pipeline. */
function opsOf(cases: readonly (readonly [string, Build, NDArray[], ...unknown[]])[], optimize: boolean): Map<OpName, string> {
  const found = new Map<OpName, string>();
  for (const [name, build, values] of cases) {
    // Built as the lists' tests build them: over inputs of unknown sizes (size-1 axes stay
    // 1), and over static ones (where a case needs static sizes, as padding 'same' may).
    for (const unknown of [true, false]) {
      const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (unknown && dim !== 1 ? null : dim)), `in${i}`));
      let outputs: Variable[];
      try {
        outputs = [build(...inputs)];
      } catch (error) {
        if (unknown && error instanceof T.GraphError) continue;
        throw error;
      }
      if (optimize) outputs = T.optimize(outputs);
      for (const variable of T.topologicalOrder(outputs)) {
        const op = variable.owner?.op;
        if (op && !found.has(op)) found.set(op, name);
      }
    }
  }
  return found;
}

test('every op has a shape test, a reference-vs-device test and (where differentiable) a gradient check', () => {
  const shapes = opsOf(shapeCases, false);
  const device = opsOf(deviceCases, true);
  const gradients = opsOf(gradCases, false);
  const missing: string[] = [];
  for (const op of T.opNames) {
    if (!shapes.has(op)) missing.push(`${op}: no shape test in packages/graph/test/shape-cases.ts`);
    if (!device.has(op)) missing.push(`${op}: no reference-vs-device test in packages/codegen/test/op-cases.ts`);
    if (vjpTable[op] !== notDifferentiable && !gradients.has(op)) missing.push(`${op}: no gradient check in packages/autodiff/test/grad-cases.ts`);
  }
  assert.equal(missing, [], `ops without tests:\n  ${missing.join('\n  ')}`);
});

test('the coverage walk sees what the lists build (a list of nothing would cover nothing)', () => {
  // Guards the walk itself: an op used only in one case is found, and a list without it is not.
  const found = opsOf([['one exp', (x) => T.exp(x), [T.array([1, 2])]]], false);
  assert.ok(found.has('exp'));
  assert.not.ok(found.has('log'));
});

test.run();
