// The documented conventions of the gradient at non-smooth points and of grad's options,
// checked on hand-picked values whose gradients are written out by hand: relu'(0) = 0,
// abs'(0) = 0, maximum/minimum ties split ½/½, max/min reductions split among equal
// elements, prod with zeros, stopGradient, considerConstant, knownGrads, where. Also the
// form of two gradients: advanced indexing accumulates repeated indices (a scatter-add),
// and matmul's gradient is matmuls of dimshuffled operands, never a materialized copy.
// Finite differences cannot check any of this (the points are non-smooth, or the
// options change the answer on purpose), so nothing here goes through verifyGrad.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import type { DType, NDArray, NestedArray, Variable } from '@theorbo/graph';
import { grad, type GradOptions } from '../src/index.ts';

const values = (data: number[], shape: number[] = [data.length], dtype: DType = 'float64'): NDArray => T.array(data, { shape, dtype });

/** The evaluated gradients of `cost` with respect to each float input (masks get none), at `inputs`. */
function gradientsAt(cost: (...xs: Variable[]) => Variable, inputs: NDArray[], options?: (...xs: Variable[]) => GradOptions): NDArray[] {
  const xs = inputs.map((value, i) => T.tensor(value.dtype, value.shape, `x${i}`));
  const gradients = grad(cost(...xs), xs.filter((x) => T.isFloat(x.dtype)), options?.(...xs));
  return T.evaluate(gradients, xs.map((x, i) => [x, inputs[i]!] as const));
}

function expectGradients(cost: (...xs: Variable[]) => Variable, inputs: NDArray[], expected: NestedArray[], options?: (...xs: Variable[]) => GradOptions): void {
  const got = gradientsAt(cost, inputs, options);
  expected.forEach((want, i) => assertClose(got[i]!, want, {}, `gradient ${i}`));
}

// ---- non-smooth points ----

test("relu'(0) = 0, on either side of zero and in float32", () => {
  expectGradients((x) => T.sum(T.relu(x)), [values([-1, 0, 2, -0])], [[0, 0, 1, 0]]);
  expectGradients((x) => T.sum(T.relu(x)), [values([0, 3], [2], 'float32')], [[0, 1]]);
  // The leaky form takes the lower slope at 0, for the same reason (x > 0 is false there).
  expectGradients((x) => T.sum(T.relu(x, 0.1)), [values([-1, 0, 2])], [[0.1, 0.1, 1]]);
});

test("abs'(0) = 0; sign, floor, ceil and round have zero gradients", () => {
  expectGradients((x) => T.sum(T.abs(x)), [values([-2, 0, 3])], [[-1, 0, 1]]);
  // d/dx Σ op(x)·x = op(x) + x·op'(x) = op(x) when op' = 0 (x = 2 is a jump of floor and ceil).
  const x = values([-1.4, 0.3, 2]);
  for (const [op, expected] of [[T.sign, [-1, 1, 1]], [T.floor, [-2, 0, 2]], [T.ceil, [-1, 1, 2]], [T.round, [-1, 0, 2]]] as const) {
    expectGradients((v) => T.sum(T.mul(op(v), v)), [x], [[...expected]]);
  }
});

test('maximum and minimum split the gradient ½/½ at ties, also against a broadcast scalar', () => {
  const a = values([1, 2, 3]);
  const b = values([1, 5, 0]);
  expectGradients((x, y) => T.sum(T.maximum(x, y)), [a, b], [[0.5, 0, 1], [0.5, 1, 0]]);
  expectGradients((x, y) => T.sum(T.minimum(x, y)), [a, b], [[0.5, 1, 0], [0.5, 0, 1]]);
  // maximum(x, 0) at x = 0 gives ½, unlike relu (a where); that is the documented difference.
  expectGradients((x, y) => T.sum(T.maximum(x, y)), [values([0, 0, 1]), values([0], [])], [[0.5, 0.5, 1], 1]);
});

test('max and min reductions split the gradient evenly among equal elements', () => {
  expectGradients((x) => T.max(x), [values([1, 3, 3, 2])], [[0, 0.5, 0.5, 0]]);
  expectGradients((x) => T.min(x), [values([1, 3, 1, 1])], [[1 / 3, 0, 1 / 3, 1 / 3]]);
  // Per row along an axis: a row of three equal maxima, one with a single maximum.
  expectGradients((x) => T.sum(T.mul(T.max(x, 1), values([1, 10]))), [values([4, 4, 4, 0, 7, 1], [2, 3])], [[[1 / 3, 1 / 3, 1 / 3], [0, 10, 0]]]);
  expectGradients((x) => T.sum(T.max(x, 0, true)), [values([2, 5, 2, 5], [2, 2])], [[[0.5, 0.5], [0.5, 0.5]]]);
});

test('prod with one zero gives the product of the others there; with two zeros, zeros', () => {
  expectGradients((x) => T.prod(x), [values([2, 0, 3])], [[0, 6, 0]]);
  expectGradients((x) => T.prod(x), [values([2, 0, 0, 3])], [[0, 0, 0, 0]]);
  expectGradients((x) => T.prod(x), [values([2, 4, 3])], [[12, 6, 8]]);
  // Rows reduced independently: no zero, one zero, two zeros.
  expectGradients((x) => T.sum(T.prod(x, 1)), [values([1, 2, 3, 0, 5, 4, 0, 0, 7], [3, 3])], [[[6, 3, 2], [20, 0, 0], [0, 0, 0]]]);
});

// ---- grad's options ----

test('stopGradient blocks the gradient through its operand only', () => {
  // d/dx Σ x·stop(x) = stop(x) = x, not 2x.
  expectGradients((x) => T.sum(T.mul(x, T.stopGradient(x))), [values([1, -2, 3])], [[1, -2, 3]]);
  // Through stop_gradient alone, x is disconnected.
  expectGradients((x) => T.sum(T.stopGradient(T.square(x))), [values([1, 2])], [[0, 0]], () => ({ disconnected: 'zero' }));
});

test('considerConstant blocks the gradient through the listed variables', () => {
  let y: Variable | undefined;
  const cost = (x: Variable) => T.sum(T.mul((y = T.square(x)), x));
  // Without it: d/dx Σ x³ = 3x²; with y = x² constant: d/dx Σ y·x = y = x².
  expectGradients(cost, [values([1, 2, -3])], [[3, 12, 27]]);
  expectGradients(cost, [values([1, 2, -3])], [[1, 4, 9]], () => ({ considerConstant: [y!] }));
  // As in Theano, a listed variable still gets its own gradient; only what lies behind it is cut.
  expectGradients((x) => T.sum(T.mul(x, 3)), [values([1, 2])], [[3, 3]], (x) => ({ considerConstant: [x] }));
});

test('knownGrads adds to the gradient flowing into an intermediate variable', () => {
  let h: Variable | undefined;
  const cost = (x: Variable) => T.sum((h = T.mul(x, 2)));
  // ∂cost/∂h = 1, plus the known [10, 20, 30]; then ∂h/∂x = 2.
  expectGradients(cost, [values([1, 2, 3])], [[22, 42, 62]], () => ({ knownGrads: [[h!, T.constant(values([10, 20, 30]))]] }));
  // As a Map, and for a variable the cost does not otherwise reach (the gradient is the known one alone).
  const x = T.dvector('x');
  const side = T.exp(x);
  const gx = grad(T.sum(T.mul(x, 0)), x, { knownGrads: new Map([[side, T.constant(values([1, 1]))]]) });
  assertClose(T.evaluate(gx, [[x, values([0, 1])]]), [1, Math.E]);
});

test('where routes the gradient to the chosen branch and sums a broadcast branch', () => {
  const mask = T.array([1, 0, 1, 0], { dtype: 'bool' });
  expectGradients((c, a, b) => T.sum(T.mul(T.where(c, a, b), values([1, 2, 3, 4]))), [mask, values([5, 5, 5, 5]), values([7], [])], [[1, 0, 3, 0], 6]);
});

// ---- the form of gradients ----

test('the gradient of advanced indexing accumulates repeated indices (scatter-add)', () => {
  const index = T.constant(new Int32Array([0, 0, 1]));
  expectGradients((x) => T.sum(T.get(x, index)), [values([5, 6, 7, 8])], [[2, 1, 0, 0]]);
  // Rows of a matrix, weighted so that each occurrence is seen: row 2 gets 1 + 3, row 0 gets 2.
  const rows = T.constant(new Int32Array([2, 0, 2]));
  expectGradients((x) => T.sum(T.mul(T.get(x, rows), values([1, 2, 3], [3, 1]))), [values([0, 0, 0, 0, 0, 0], [3, 2])], [[[2, 2], [0, 0], [4, 4]]]);
  const x = T.dvector('x');
  const gx = grad(T.sum(T.get(x, index)), x);
  const scatter = T.topologicalOrder([gx]).find((v) => v.owner?.op === 'advanced_inc_subtensor');
  assert.ok(scatter, 'no advanced_inc_subtensor in the gradient');
  assert.is((scatter.owner as T.Apply<'advanced_inc_subtensor'>).attrs.mode, 'inc');
});

/** Ops of the gradient graph that the forward graph does not already hold. */
function gradientOnlyNodes(cost: Variable, gradients: readonly Variable[]): T.Apply[] {
  const forward = new Set(T.topologicalOrder([cost]));
  return T.applyOrder(gradients).filter((node) => !forward.has(node.output));
}

for (const [label, aShape, bShape] of [
  ['2-D', [3, 4], [4, 5]],
  ['batched with broadcasting', [2, 1, 3, 4], [5, 4, 2]],
  ['vector @ matrix', [4], [4, 3]],
  ['matrix @ vector', [3, 4], [4]],
] as [string, number[], number[]][]) {
  test(`the gradient of matmul (${label}) is matmuls of dimshuffled operands, not copies`, () => {
    const a = T.tensor('float32', aShape, 'a');
    const b = T.tensor('float32', bShape, 'b');
    const product = T.matmul(a, b);
    // The cotangent comes in as a known gradient of the product (the cost itself is cut
    // off by stopGradient), so the gradient graph holds matmul's rule and nothing else.
    const cotangent = T.tensor('float32', product.shape, 'cotangent');
    const cost = T.sum(T.stopGradient(product));
    const [ga, gb] = grad(cost, [a, b], { knownGrads: [[product, cotangent]] });
    const nodes = gradientOnlyNodes(cost, [ga!, gb!]);
    // sum undoes broadcast batch axes (grad.ts's unbroadcast); everything else is matmul and dimshuffle.
    for (const node of nodes) assert.ok(['matmul', 'dimshuffle', 'sum'].includes(node.op), `unexpected ${node.op} in matmul's gradient`);
    assert.is(nodes.filter((node) => node.op === 'matmul').length, 2);
    // No operand is broadcast, reshaped or gathered into a transposed copy: in the
    // gradient, a and b are read only through chains of dimshuffles that end in a matmul.
    const views = new Set<Variable>([a, b]);
    for (const node of nodes) {
      if (!node.inputs.some((input) => views.has(input))) continue;
      assert.ok(node.op === 'dimshuffle' || node.op === 'matmul', `an operand of matmul is read by ${node.op} in its gradient`);
      if (node.op === 'dimshuffle') views.add(node.output);
    }
    // Every node is an ancestor of ga or gb, so each chain of dimshuffles ends in a
    // matmul, unless it ends in a gradient itself.
    assert.ok(!views.has(ga!) && !views.has(gb!), 'a gradient that is a dimshuffle of an operand');
  });
}

test.run();
