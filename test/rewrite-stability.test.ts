// Rewrites and gradients together: expressions that overflow or lose their precision
// (log Σ exp at x ≈ 1000, log-softmax of logits ±200, log(1 + 1e−10), cross-entropy of
// a saturated softmax, log-sigmoid at ±200) give finite, correct values and gradients
// when the cost is optimized, differentiated, and the whole optimized again; at ordinary
// values the optimized forms pass verifyGrad. Then the talk's training graph: loss and
// the gradients of all six parameters keep their values through the pipeline, and the
// six copies of the backward graph merge into one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import type { NDArray, Variable } from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import { grad, verifyGrad } from '@theorbo/autodiff';
import { buildTalkProgram, syntheticBatch } from '../examples/talk-network.ts';

const finite = (value: NDArray): boolean => Array.from(value.data).every(Number.isFinite);

/**
 * The value and gradient of `cost` with respect to `x` as a user of optimize gets them:
 * optimize the cost, differentiate that, optimize both. Also checks that the cost as
 * written is not finite there, so that the case shows something.
 */
function stableValueAndGradient(cost: Variable, x: Variable, givens: readonly (readonly [Variable, T.ArrayLike])[]): [NDArray, NDArray] {
  assert.ok(!finite(T.evaluate(cost, givens)), 'the cost as written should not be finite here');
  const stable = T.optimize(cost);
  const [value, gradient] = T.evaluate(T.optimize([stable, grad(stable, x)]), givens) as [NDArray, NDArray];
  assert.ok(finite(value) && finite(gradient), `not finite: value ${value.toArray()}, gradient ${gradient.toArray()}`);
  return [value, gradient];
}

const softmaxOf = (row: readonly number[]): number[] => {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
};

test('log Σ exp(x) at x ≈ 1000: the value and the gradient (softmax) after optimize', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const x = T.tensor(dtype, [3], 'x');
    const row = [1000, 1001, 999];
    const [value, gradient] = stableValueAndGradient(T.log(T.sum(T.exp(x))), x, [[x, T.array(row, { dtype })]]);
    assertClose(value, T.array(1001 + Math.log(Math.exp(-1) + 1 + Math.exp(-2)), { dtype }), { rtol: 1e-6 });
    assertClose(gradient, T.array(softmaxOf(row), { dtype }), { rtol: 1e-5 });
  }
});

test('log(softmax) of logits ±200: the value and the gradient after optimize', () => {
  const x = T.tensor('float32', [1, 3], 'x');
  const weights = T.constant([[1, 0, 2]]);
  const row = [200, -200, 0];
  const [value, gradient] = stableValueAndGradient(T.sum(T.mul(weights, T.log(T.softmax(x)))), x, [[x, T.array([row])]]);
  const p = softmaxOf(row);
  const logP = row.map((v) => v - 200 - Math.log1p(Math.exp(-400) + Math.exp(-200)));
  assertClose(value, T.array(logP[0]! + 2 * logP[2]!), { rtol: 1e-6 });
  // d/dx Σ w·log softmax(x) = w − softmax(x)·Σw
  assertClose(gradient, T.array([[1, 0, 2].map((w, j) => w - 3 * p[j]!)]), { rtol: 1e-5, atol: 1e-6 });
});

test('log(1 + x) at 1e−10: the value keeps its precision, the gradient is 1/(1 + x)', () => {
  const x = T.dscalar('x');
  const cost = T.log(T.add(1, x));
  const givens = [[x, T.array(1e-10, { dtype: 'float64' })]] as const;
  const stable = T.optimize(cost);
  const [value, gradient] = T.evaluate(T.optimize([stable, grad(stable, x)]), givens);
  assertClose(value!, T.array(1e-10 - 5e-21, { dtype: 'float64' }), { rtol: 1e-15, atol: 0 });
  assertClose(gradient!, T.array(1 / (1 + 1e-10), { dtype: 'float64' }), { rtol: 1e-15 });
});

test('cross-entropy of a saturated softmax: the value and the gradient (softmax − one-hot) after optimize', () => {
  const logits = T.tensor('float32', [2, 3], 'logits');
  const labels = T.ivector('labels');
  const cost = T.mean(T.categoricalCrossentropy(T.softmax(logits), labels));
  const rows = [[0, 200, 0], [-150, 0, 150]];
  const targets = [0, 2];
  const [value, gradient] = stableValueAndGradient(cost, logits, [[logits, T.array(rows)], [labels, new Int32Array(targets)]]);
  assertClose(value, T.array((200 + Math.log1p(2 * Math.exp(-200)) + Math.log1p(Math.exp(-150) + Math.exp(-300))) / 2), { rtol: 1e-6 });
  const expected = rows.map((row, i) => softmaxOf(row).map((p, j) => (p - (j === targets[i] ? 1 : 0)) / 2));
  assertClose(gradient, T.array(expected), { rtol: 1e-5, atol: 1e-7 });
});

test('log(sigmoid(x)) and log(1 − sigmoid(x)) at ±200: the values and gradients after optimize', () => {
  const x = T.tensor('float32', [2], 'x');
  const givens = [[x, T.array([-200, 200])]] as const;
  const [value, gradient] = stableValueAndGradient(T.sum(T.log(T.sigmoid(x))), x, givens);
  assertClose(value, T.array(-200), { rtol: 1e-6 });
  assertClose(gradient, T.array([1, 0]), { atol: 1e-7 }); // 1 − sigmoid(x)
  const [complement, complementGradient] = stableValueAndGradient(T.sum(T.log(T.sub(1, T.sigmoid(x)))), x, givens);
  assertClose(complement, T.array(-200), { rtol: 1e-6 });
  assertClose(complementGradient, T.array([0, -1]), { atol: 1e-7 }); // −sigmoid(x)
});

test('at ordinary values the optimized forms have the right gradients (verifyGrad)', () => {
  const values = T.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]], { dtype: 'float64' });
  const positive = T.array([[0.3, 1.2, 2.0], [1.5, 0.1, 0.7]], { dtype: 'float64' });
  const cases: [string, (x: Variable) => Variable, NDArray][] = [
    ['log-softmax', (x) => T.optimize(T.log(T.softmax(x))), values],
    ['naive log-softmax', (x) => T.optimize(T.log(T.div(T.exp(x), T.sum(T.exp(x), 1, true)))), values],
    ['logsumexp', (x) => T.optimize(T.log(T.sum(T.exp(x), 0))), values],
    ['log1p', (x) => T.optimize(T.log(T.add(1, x))), positive],
    ['expm1', (x) => T.optimize(T.sub(T.exp(x), 1)), values],
    ['log-sigmoid', (x) => T.optimize(T.log(T.sigmoid(x))), values],
    ['log-one-minus-sigmoid', (x) => T.optimize(T.log(T.sub(1, T.sigmoid(x)))), values],
    ['sqrt-square', (x) => T.optimize(T.sqrt(T.square(x))), values],
    ['powers', (x) => T.optimize(T.add(T.pow(x, -0.5), T.div(T.pow(x, 2), 3))), positive],
    ['sum of a product', (x) => T.optimize(T.sum(T.mul(T.dimshuffle(x, 0, 1, 'x'), T.dimshuffle(T.transpose(x), 'x', 0, 1)), 1)), values],
  ];
  for (const [label, fn, at] of cases) {
    try {
      verifyGrad(fn, [at]);
    } catch (error) {
      assert.unreachable(`${label}: ${(error as Error).message}`);
    }
  }
});

test("the talk's training graph keeps its values through the pipeline, and the six backward graphs merge", () => {
  const program = buildTalkProgram(5, 'float64');
  for (const param of program.params) {
    const value = param.get();
    param.set(T.array(value.data.map((v, i) => (param.ndim === 2 ? v * 10 : 0.05 * Math.sin(i))), { shape: value.shape, dtype: 'float64' }));
  }
  const outputs = [program.scalarLoss, ...program.params.map((param) => grad(program.scalarLoss, param))];
  const { outputs: optimized, reports } = T.optimizeWithReport(outputs);
  const before = reports[0]!.nodesBefore;
  const after = reports[reports.length - 1]!.nodesAfter;
  assert.ok(after < before / 2, `only ${before} → ${after} nodes`);
  const { x, y } = syntheticBatch(6, 3);
  const givens = [[program.xInput, x.astype('float64')], [program.yTarget, y]] as const;
  const expected = T.evaluate(outputs, givens);
  const actual = T.evaluate(optimized, givens);
  expected.forEach((value, i) => assertClose(actual[i]!, value, { rtol: 1e-10, atol: 1e-14 }, `output ${i}`));
  assert.ok(expected.slice(1).every((g) => g.data.some((v) => v !== 0)), 'a gradient is all zeros: the comparison would show little');
});

test.run();
