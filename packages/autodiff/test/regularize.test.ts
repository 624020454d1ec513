// Penalties and max-norm constraints: l1/l2 values against plain loops and their
// gradients against finite differences (verifyGrad); maxNormConstraint limits the
// norms of the slices Lasagne picks and leaves small ones exactly alone;
// constrainUpdates applies it to the new weights of an update list; errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, expectGraphError, fromFunction, randomArray } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import { constrainUpdates, l1Penalty, l2Penalty, maxNormConstraint, momentum, verifyGrad } from '../src/index.ts';

const sumOf = (values: NDArray[], fn: (x: number) => number) => values.reduce((total, v) => total + v.toArray().reduce((s, x) => s + fn(x), 0), 0);

test('l1Penalty and l2Penalty: Σ|w| and Σw² over every parameter', () => {
  const W = randomArray('float64', [3, 4], { seed: 1 });
  const b = randomArray('float64', [4], { seed: 2 });
  const w = T.dmatrix('W');
  const v = T.dvector('b');
  const givens = [[w, W], [v, b]] as const;
  assertClose(T.evaluate(l1Penalty([w, v]), givens), T.array(sumOf([W, b], Math.abs), { dtype: 'float64' }));
  assertClose(T.evaluate(l2Penalty([w, v]), givens), T.array(sumOf([W, b], (x) => x * x), { dtype: 'float64' }));
  assertClose(T.evaluate(l2Penalty(w), givens), T.array(sumOf([W], (x) => x * x), { dtype: 'float64' }), {}, 'a single parameter');
  const small = T.shared(T.array([1, -2], { dtype: 'float32' }), 'small');
  const mixed = l1Penalty([small, v]);
  assert.is(mixed.dtype, 'float64', 'float32 and float64 parameters sum in float64');
  assertClose(T.evaluate(mixed, [[v, b]]), T.array(3 + sumOf([b], Math.abs), { dtype: 'float64' }));
  assert.equal(T.evaluate(l2Penalty([])).toArray(), [0], 'no parameters, no penalty');
});

test('l1Penalty and l2Penalty gradients match finite differences (sign(w) and 2w)', () => {
  const W = randomArray('float64', [3, 4], { seed: 3 });
  const b = randomArray('float64', [4], { seed: 4 });
  verifyGrad((w, v) => l1Penalty([w!, v!]), [W, b]);
  verifyGrad((w, v) => l2Penalty([w!, v!]), [W, b]);
  verifyGrad((w) => T.add(T.mul(0.1, l1Penalty(w!)), T.mul(0.01, l2Penalty(w!))), [W], { unknownShapes: true });
});

/** A [3, 4] weight whose column (output unit) j has l2 norm norms[j]. */
function columnsWithNorms(norms: number[]): NDArray {
  const direction = [[1, -2, 2], [0, 3, 4], [2, 2, 1], [-1, 0, 0]].map((col) => {
    const n = Math.hypot(...col);
    return col.map((x) => x / n);
  });
  return fromFunction('float64', [3, 4], ([i, j]) => direction[j!]![i!]! * norms[j!]!);
}

const normsOver = (value: NDArray, sliceOf: (index: number[]) => number, slices: number) => {
  const squares = new Array<number>(slices).fill(0);
  fromFunction('float64', value.shape, (index) => {
    squares[sliceOf(index)]! += value.at(...index) ** 2;
    return 0;
  });
  return squares.map(Math.sqrt);
};

test('maxNormConstraint on a dense [in, out] weight limits each output unit\'s incoming norm and leaves small ones alone', () => {
  const W = columnsWithNorms([0.5, 3, 1.999, 10]);
  const w = T.dmatrix('W');
  const out = T.evaluate(maxNormConstraint(w, 2), [[w, W]]);
  const norms = normsOver(out, ([, j]) => j!, 4);
  assertClose(T.array(norms, { dtype: 'float64' }), T.array([0.5, 2, 1.999, 2], { dtype: 'float64' }), { rtol: 1e-7 });
  for (let i = 0; i < 3; i++) {
    for (const j of [0, 2]) assert.is(out.at(i, j), W.at(i, j), `small column ${j} is untouched`);
    for (const j of [1, 3]) assertClose(T.array(out.at(i, j), { dtype: 'float64' }), T.array(W.at(i, j) * (2 / (normsOver(W, ([, k]) => k!, 4)[j]! + 1e-7)), { dtype: 'float64' }));
  }
  const rows = T.evaluate(maxNormConstraint(w, 1, 1), [[w, W]]);
  normsOver(rows, ([i]) => i!, 3).forEach((n, i) => assert.ok(n <= 1 + 1e-12, `row ${i} has norm ${n}`));
  const limit = T.dscalar('limit');
  const symbolic = T.evaluate(maxNormConstraint(w, limit), [[w, W], [limit, 5]]);
  assertClose(T.array(normsOver(symbolic, ([, j]) => j!, 4), { dtype: 'float64' }), T.array([0.5, 3, 1.999, 5], { dtype: 'float64' }), { rtol: 1e-7 }, 'a symbolic limit');
});

test('maxNormConstraint on a convolution weight [out, in, h, w] limits each output channel over its other axes', () => {
  const K = randomArray('float64', [3, 2, 2, 2], { seed: 5, low: -1, high: 1 });
  K.data.forEach((x, i) => (K.data[i] = i < 8 ? x * 0.1 : x)); // channel 0 stays small
  const k = T.tensor('float64', [3, 2, 2, 2], 'K');
  const before = normsOver(K, ([o]) => o!, 3);
  assert.ok(before[0]! < 0.5 && before[1]! > 0.5 && before[2]! > 0.5, `norms before: ${before}`);
  const out = T.evaluate(maxNormConstraint(k, 0.5), [[k, K]]);
  assertClose(T.array(normsOver(out, ([o]) => o!, 3), { dtype: 'float64' }), T.array([before[0]!, 0.5, 0.5], { dtype: 'float64' }), { rtol: 1e-6 });
  for (let i = 0; i < 8; i++) assert.is(out.data[i], K.data[i]);
});

test('maxNormConstraint keeps float32 and never divides by a zero norm', () => {
  const w = T.shared(T.array([[0, 3], [0, 4]], { dtype: 'float32' }), 'w');
  const out = maxNormConstraint(w, 1);
  assert.is(out.dtype, 'float32');
  assertClose(T.evaluate(out), T.array([[0, 0.6], [0, 0.8]], { dtype: 'float32' }));
});

test('constrainUpdates limits the new weights only (not biases or optimizer state), or the parameters named', () => {
  const W = T.shared(T.array(new Float64Array(12), { shape: [3, 4] }), 'W');
  const b = T.shared(T.array(new Float64Array(4)), 'b');
  const C = columnsWithNorms([0.5, 3, 1, 10]);
  const loss = T.add(T.sum(T.mul(W, T.constant(C))), T.sum(T.mul(b, T.constant([3, 4, 0, 0], { dtype: 'float64' }))));
  const updates = momentum(loss, [W, b], 1); // one step from zero: W ← −C, b ← −[3, 4, 0, 0]
  const original = updates.map(([, value]) => value);
  const constrained = constrainUpdates(updates, 2);
  assert.equal(updates.map(([, value]) => value), original, 'the given list is not changed');
  assert.equal(constrained.map(([target]) => target), updates.map(([target]) => target), 'same targets, same order');
  const step = T.referenceFunction({ inputs: [], outputs: [], updates: constrained });
  step();
  const newW = T.evaluate(W);
  assertClose(T.array(normsOver(newW, ([, j]) => j!, 4), { dtype: 'float64' }), T.array([0.5, 2, 1, 2], { dtype: 'float64' }), { rtol: 1e-7 });
  assert.equal(T.evaluate(b).toArray(), [-3, -4, -0, -0], 'the bias is not constrained');
  const velocity = updates.find(([target]) => target.name === 'W.velocity')![0];
  assertClose(T.evaluate(velocity), T.array(C.toArray().map((x) => -x), { dtype: 'float64', shape: [3, 4] }), {}, 'the velocity is not constrained');
});

test('constrainUpdates with explicit parameters and norm axes', () => {
  const b = T.shared(T.array([0, 0], { dtype: 'float64' }), 'b');
  const updates = momentum([T.constant([3, 4], { dtype: 'float64' })], [b], 1);
  const step = T.referenceFunction({ inputs: [], outputs: [], updates: constrainUpdates(updates, 1, [b], { normAxes: 0 }) });
  step();
  assertClose(T.evaluate(b), T.array([-0.6, -0.8], { dtype: 'float64' }), { rtol: 1e-6 });
});

test('errors: no default norm axes for 1-D, a parameter without an update, non-float values', () => {
  const v = T.dvector('v');
  expectGraphError(() => maxNormConstraint(v, 1), 'max_norm_constraint', "no default norm axes for 'v' (float64[?])", 'pass normAxes', 'regularize.test.ts');
  expectGraphError(() => maxNormConstraint(T.dmatrix('m'), 1, 2), 'max_norm_constraint', 'axis 2', 'regularize.test.ts');
  expectGraphError(() => maxNormConstraint(T.imatrix('ints'), 1), 'max_norm_constraint', "'ints' (int32[?,?])", 'regularize.test.ts');
  expectGraphError(() => maxNormConstraint(T.dmatrix('m'), -1), 'max_norm_constraint', 'non-negative', 'regularize.test.ts');
  const W = T.shared(T.array([[1, 2]], { dtype: 'float64' }), 'W');
  const unrelated = T.shared(T.array([[1, 2]], { dtype: 'float64' }), 'unrelated');
  const updates = momentum([T.onesLike(W)], [W], 0.1);
  expectGraphError(() => constrainUpdates(updates, 1, [unrelated]), 'constrain_updates', "'unrelated' (float64[1,2]) has no update in this list", 'regularize.test.ts');
  expectGraphError(() => l2Penalty([T.ivector('i') as Variable]), 'l2_penalty', "'i' (int32[?])", 'regularize.test.ts');
});

test.run();
