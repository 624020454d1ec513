// Second and higher order, in float64 through the reference evaluator: Hessians against
// finite differences of the evaluated symbolic gradient (and a closed form for softmax
// cross-entropy); grad of graphs that already hold gradients (verifyGrad on functions
// that call grad, one line per op); a third derivative; Jacobians against finite
// differences; hessianVectorProduct, Rop and Lop against the explicit Hessian and
// Jacobian; and, on the talk's network, that the gradient graph recomputes nothing of
// the forward pass.
// Shapes: the Jacobian of y with respect to w is [y.size, ...w.shape]; so is the Hessian
// of a scalar (with y = the gradient, of w's shape).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, fromFunction, randomArray } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import { grad, hessian, hessianVectorProduct, jacobian, Lop, Rop, verifyGrad } from '../src/index.ts';
import { buildTalkProgram } from '../../../examples/talk-network.ts';

let seed = 11;
const r = (...shape: number[]) => randomArray('float64', shape, { seed: seed++ });
const pos = (...shape: number[]) => randomArray('float64', shape, { low: 0.3, high: 2, seed: seed++ });
const ints = (values: number[]) => T.constant(new Int32Array(values));
const input = (value: NDArray, name: string) => T.tensor(value.dtype, value.shape, name);

/**
 * Central finite differences of `f` (evaluated at a copy of `x`), laid out like a
 * Jacobian: [f's size, ...x's shape].
 */
function finiteDifferenceJacobian(f: (x: NDArray) => NDArray, x: NDArray, eps = 1e-5): NDArray {
  const point = x.astype('float64');
  const data = point.data as Float64Array;
  const columns: Float64Array[] = [];
  for (let j = 0; j < data.length; j++) {
    const saved = data[j]!;
    data[j] = saved + eps;
    const up = f(point).data;
    data[j] = saved - eps;
    const down = f(point).data;
    data[j] = saved;
    columns.push(Float64Array.from(up, (value, i) => (value - down[i]!) / (2 * eps)));
  }
  const rows = columns[0]?.length ?? 0;
  return fromFunction('float64', [rows, ...x.shape], (index) => columns[flatIndex(index.slice(1), x.shape)]![index[0]!]!);
}

function flatIndex(index: readonly number[], shape: readonly number[]): number {
  return index.reduce((flat, i, axis) => flat * shape[axis]! + i, 0);
}

/** Evaluates `output` with `w` set to each value given (and the fixed givens). */
const at = (output: Variable, w: Variable, givens: [Variable, NDArray][] = []) => (value: NDArray) =>
  T.evaluate(output, [[w, value], ...givens]);

/** M (viewed as [rows, cols]) times a vector v of cols elements, in plain loops. */
function matrixTimesVector(m: NDArray, v: NDArray): number[] {
  const cols = v.size;
  const rows = m.size / cols;
  return Array.from({ length: rows }, (_, i) => {
    let total = 0;
    for (let j = 0; j < cols; j++) total += m.data[i * cols + j]! * v.data[j]!;
    return total;
  });
}

/** vᵀ M for M viewed as [rows, cols] and v of rows elements. */
function vectorTimesMatrix(v: NDArray, m: NDArray): number[] {
  const rows = v.size;
  const cols = m.size / rows;
  return Array.from({ length: cols }, (_, j) => {
    let total = 0;
    for (let i = 0; i < rows; i++) total += v.data[i]! * m.data[i * cols + j]!;
    return total;
  });
}

const tolerance = { rtol: 1e-6, atol: 1e-8 };

// ---- Hessians ----

test('the Hessian of (Σ tanh(A·w))² + Σ w³ matches finite differences of its gradient', () => {
  const a = T.constant(r(4, 5));
  const wValue = r(5);
  const w = input(wValue, 'w');
  const cost = T.add(T.square(T.sum(T.tanh(T.matmul(a, w)))), T.sum(T.mul(T.mul(w, w), w)));
  const h = hessian(cost, w);
  assert.equal(h.shape, [5, 5]);
  const value = T.evaluate(h, [[w, wValue]]);
  assertClose(value, finiteDifferenceJacobian(at(grad(cost, w), w), wValue), tolerance, 'Hessian');
  // Symmetric, as a Hessian must be (computed by a different route for each triangle).
  assertClose(value, fromFunction('float64', [5, 5], ([i, j]) => value.data[j! * 5 + i!]!), { rtol: 1e-12, atol: 1e-12 }, 'Hessian transposed');
});

test('the Hessian of softmax cross-entropy in W matches finite differences and the closed form', () => {
  // cost = mean over rows b of −log softmax(x_b·W)[y_b]; W is [4, 3], so H is [12, 4, 3].
  const xValue = r(3, 4);
  const labels = [2, 0, 1];
  const wValue = r(4, 3);
  const weights = input(wValue, 'W');
  const cost = T.mean(T.categoricalCrossentropy(T.softmax(T.matmul(T.constant(xValue), weights)), ints(labels)));
  const h = hessian(cost, weights);
  assert.equal(h.shape, [12, 4, 3]);
  const value = T.evaluate(h, [[weights, wValue]]);
  assertClose(value, finiteDifferenceJacobian(at(grad(cost, weights), weights), wValue), tolerance, 'Hessian');
  // H[(i,c),(j,d)] = (1/B) Σ_b x_bi x_bj (p_bc δ_cd − p_bc p_bd), with p_b = softmax(x_b·W).
  const p = [0, 1, 2].map((b) => {
    const logits = [0, 1, 2].map((c) => [0, 1, 2, 3].reduce((s, i) => s + xValue.data[b * 4 + i]! * wValue.data[i * 3 + c]!, 0));
    const e = logits.map((l) => Math.exp(l));
    const total = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / total);
  });
  const closed = fromFunction('float64', [12, 4, 3], ([row, j, d]) => {
    const [i, c] = [Math.floor(row! / 3), row! % 3];
    let total = 0;
    for (let b = 0; b < 3; b++) {
      const pb = p[b]!;
      total += xValue.data[b * 4 + i]! * xValue.data[b * 4 + j!]! * (pb[c]! * (c === d ? 1 : 0) - pb[c]! * pb[d!]!);
    }
    return total / 3;
  });
  assertClose(value, closed, { rtol: 1e-10, atol: 1e-12 }, 'closed form');
});

// ---- grad of graphs that hold gradients ----

/**
 * The gradient of a scalar function with respect to its float inputs, flattened and
 * joined: verifyGrad differentiates this again, so the second derivative of every rule
 * on the path is checked against finite differences of the first.
 */
const gradientOf = (f: (...xs: Variable[]) => Variable) => (...xs: Variable[]): Variable => {
  const floats = xs.filter((x) => T.isFloat(x.dtype));
  return T.concat(grad(f(...xs), floats).map((g) => T.flatten(g)), 0);
};

type Case = [string, (...xs: Variable[]) => Variable, () => NDArray[]];

const mask = () => T.array([1, 0, 0, 1, 1, 0], { shape: [2, 3], dtype: 'bool' });

const secondOrderCases: Case[] = [
  ['tanh', (x) => T.sum(T.tanh(x)), () => [r(3, 4)]],
  ['sigmoid', (x) => T.sum(T.sigmoid(x)), () => [r(3, 4)]],
  ['softmax', (x) => T.sum(T.square(T.softmax(x))), () => [r(3, 5)]],
  ['logSoftmax', (x) => T.sum(T.mul(T.logSoftmax(x), T.constant(r(3, 5)))), () => [r(3, 5)]],
  ['softmax cross-entropy', (x) => T.mean(T.categoricalCrossentropy(T.softmax(x), ints([1, 0, 4]))), () => [r(3, 5)]],
  ['matmul 2-D', (a, b) => T.sum(T.square(T.matmul(a, b))), () => [r(3, 4), r(4, 2)]],
  ['matmul vector @ matrix', (a, b) => T.sum(T.tanh(T.matmul(a, b))), () => [r(4), r(4, 3)]],
  ['matmul batched', (a, b) => T.sum(T.square(T.matmul(a, b))), () => [r(2, 3, 4), r(4, 2)]],
  ['exp', (x) => T.sum(T.mul(T.exp(x), x)), () => [r(3, 4)]],
  ['log', (x) => T.sum(T.square(T.log(x))), () => [pos(3, 4)]],
  ['pow, base and exponent', (a, b) => T.sum(T.pow(a, b)), () => [pos(3, 2), r(2)]],
  ['pow by a constant', (x) => T.sum(T.pow(x, 3)), () => [r(5)]],
  ['where', (c, a, b) => T.sum(T.square(T.where(c, T.mul(a, b), b))), () => [mask(), r(2, 3), r(3)]],
  ['relu', (x) => T.sum(T.mul(T.square(T.relu(x)), x)), () => [r(4, 4)]],
  ['sum over an axis', (x) => T.sum(T.square(T.sum(x, 1))), () => [r(3, 4)]],
  ['mean', (x) => T.mul(T.square(T.mean(x)), T.mean(x, 0)).sum(), () => [r(3, 4)]],
  ['max', (x) => T.sum(T.square(T.max(x, 1))), () => [T.array(Float64Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.7) * (i + 1)), { shape: [3, 4] })]],
  ['dimshuffle and reshape', (x) => T.sum(T.tanh(T.mul(T.dimshuffle(x, 1, 'x', 0), T.reshape(x, [3, 1, 2])))), () => [r(2, 3)]],
  ['advanced gather with repeats', (x) => T.sum(T.tanh(T.mul(T.get(x, ints([2, 0, 2])), T.get(x, ints([1, 1, 0]))))), () => [r(3, 4)]],
  ['basic slicing', (x) => T.sum(T.sin(T.mul(T.get(x, T.slice(1, null)), T.get(x, T.slice(null, -1))))), () => [r(4, 2)]],
];

for (const [name, f, inputs] of secondOrderCases) {
  test(`grad of grad: ${name}`, () => {
    verifyGrad(gradientOf(f), inputs());
  });
}

test('grad of grad with unknown static shapes (softmax, matmul)', () => {
  verifyGrad(gradientOf((x) => T.sum(T.square(T.softmax(x)))), [r(3, 5)], { unknownShapes: true });
  verifyGrad(gradientOf((a, b) => T.sum(T.tanh(T.matmul(a, b)))), [r(3, 4), r(4, 2)], { unknownShapes: true });
});

test('the third derivative of tanh, by three nested grads', () => {
  const x = T.dscalar('x');
  const third = grad(grad(grad(T.tanh(x), x), x), x);
  for (const value of [-1.3, 0, 0.4, 2]) {
    const t = Math.tanh(value);
    const s = 1 - t * t;
    // tanh' = s, tanh'' = −2ts, tanh''' = −2s(1 − 3t²).
    assertClose(T.evaluate(third, [[x, T.array(value, { dtype: 'float64' })]]), -2 * s * (1 - 3 * t * t), { rtol: 1e-12, atol: 1e-14 }, `tanh'''(${value})`);
  }
});

// ---- Jacobians and products ----

test('the Jacobian of a vector function matches finite differences', () => {
  const a = T.constant(r(3, 4));
  const xValue = r(4);
  const x = input(xValue, 'x');
  // y = [tanh(A·x)·Σx², x·flip(x)]: every output depends on several inputs.
  const y = T.concat([T.mul(T.tanh(T.matmul(a, x)), T.sum(T.square(x))), T.mul(x, T.flip(x))], 0);
  const j = jacobian(y, x);
  assert.equal(j.shape, [7, 4]);
  assertClose(T.evaluate(j, [[x, xValue]]), finiteDifferenceJacobian(at(y, x), xValue), tolerance, 'Jacobian');
});

test('the Jacobian of a matrix function of a matrix has shape [y.size, ...w.shape]', () => {
  const xValue = r(3, 4);
  const wValue = r(4, 2);
  const w = input(wValue, 'w');
  const y = T.sigmoid(T.matmul(T.constant(xValue), w));
  const j = jacobian(y, w);
  assert.equal(j.shape, [6, 4, 2]);
  assertClose(T.evaluate(j, [[w, wValue]]), finiteDifferenceJacobian(at(y, w), wValue), tolerance, 'Jacobian');
});

test('hessianVectorProduct equals H·v', () => {
  const a = T.constant(r(4, 5));
  const [wValue, vValue] = [r(5), r(5)];
  const [w, v] = [input(wValue, 'w'), input(vValue, 'v')];
  const cost = T.add(T.square(T.sum(T.tanh(T.matmul(a, w)))), T.sum(T.mul(T.mul(w, w), w)));
  const [h, hv] = T.evaluate([hessian(cost, w), hessianVectorProduct(cost, w, v)], [[w, wValue], [v, vValue]]);
  assertClose(hv!, matrixTimesVector(h!, vValue), { rtol: 1e-12, atol: 1e-12 });
});

test('hessianVectorProduct equals H·v for a matrix parameter (softmax cross-entropy)', () => {
  const [wValue, vValue] = [r(4, 3), r(4, 3)];
  const [w, v] = [input(wValue, 'W'), input(vValue, 'V')];
  const cost = T.mean(T.categoricalCrossentropy(T.softmax(T.matmul(T.constant(r(5, 4)), w)), ints([0, 2, 1, 1, 0])));
  const [h, hv] = T.evaluate([hessian(cost, w), hessianVectorProduct(cost, w, v)], [[w, wValue], [v, vValue]]);
  assertClose(hv!, T.array(matrixTimesVector(h!, vValue), { shape: [4, 3], dtype: 'float64' }), { rtol: 1e-12, atol: 1e-12 });
});

/** y = tanh(X·W)·W[0] (so y depends on W through two paths), X [3, 4], W [4, 2]. */
function twoPathFunction() {
  const wValue = r(4, 2);
  const w = input(wValue, 'W');
  const y = T.mul(T.tanh(T.matmul(T.constant(r(3, 4)), w)), T.get(w, 0));
  return { w, wValue, y, j: jacobian(y, w) };
}

test('Rop equals J·v', () => {
  const { w, wValue, y, j } = twoPathFunction();
  const vValue = r(4, 2);
  const v = input(vValue, 'v');
  const [jValue, rop] = T.evaluate([j, Rop(y, w, v)], [[w, wValue], [v, vValue]]);
  assert.equal(rop!.shape, [3, 2]);
  assertClose(rop!, T.array(matrixTimesVector(jValue!, vValue), { shape: [3, 2], dtype: 'float64' }), { rtol: 1e-12, atol: 1e-12 });
});

test('Lop equals vᵀ·J', () => {
  const { w, wValue, y, j } = twoPathFunction();
  const uValue = r(3, 2);
  const u = input(uValue, 'u');
  const [jValue, lop] = T.evaluate([j, Lop(y, w, u)], [[w, wValue], [u, uValue]]);
  assert.equal(lop!.shape, [4, 2]);
  assertClose(lop!, T.array(vectorTimesMatrix(uValue, jValue!), { shape: [4, 2], dtype: 'float64' }), { rtol: 1e-12, atol: 1e-12 });
});

test('Rop of an expression with unknown static shapes', () => {
  const x = T.dmatrix('x');
  const v = T.dmatrix('v');
  const [xValue, vValue] = [r(2, 3), r(2, 3)];
  const rop = T.evaluate(Rop(T.softmax(x), x, v), [[x, xValue], [v, vValue]]);
  // J·v of softmax, row by row: p ⊙ (v − ⟨p, v⟩).
  const expected = fromFunction('float64', [2, 3], ([row, col]) => {
    const e = [0, 1, 2].map((k) => Math.exp(xValue.data[row! * 3 + k]!));
    const total = e.reduce((s, value) => s + value, 0);
    const p = e.map((value) => value / total);
    const dot = p.reduce((s, pk, k) => s + pk * vValue.data[row! * 3 + k]!, 0);
    return p[col!]! * (vValue.data[row! * 3 + col!]! - dot);
  });
  assertClose(rop, expected, { rtol: 1e-12, atol: 1e-12 });
});

// ---- the talk's network: no recomputation of the forward pass ----

/**
 * The nodes of the gradient graph that recompute a forward node: built anew, but
 * structurally equal to one the forward graph already holds. `dim` (reading an axis's
 * size, no arithmetic) is left out; a merge pass folds those.
 */
function recomputedNodes(cost: Variable, gradients: readonly Variable[]): T.Apply[] {
  const forward = T.applyOrder([cost]);
  const forwardOutputs = new Set(forward.map((node) => node.output));
  const byHash = new Map<number, Variable[]>();
  for (const node of forward) byHash.set(T.structuralHash(node.output), [...(byHash.get(T.structuralHash(node.output)) ?? []), node.output]);
  return T.applyOrder(gradients).filter((node) =>
    !forwardOutputs.has(node.output) && node.op !== 'dim' &&
    (byHash.get(T.structuralHash(node.output)) ?? []).some((old) => T.structurallyEqual(old, node.output)));
}

test("the talk's gradient graph reuses the forward pass and recomputes none of it", () => {
  const program = buildTalkProgram(1);
  const describe = (nodes: T.Apply[]) => nodes.map((node) => `${node.op} ${node.output.type}`).join(', ');
  const together = grad(program.scalarLoss, program.params);
  assert.is(describe(recomputedNodes(program.scalarLoss, together)), '');
  // Within one call, shared subexpressions are built once: no two new nodes are equal.
  const forwardVariables = new Set(T.topologicalOrder([program.scalarLoss]));
  const added = T.applyOrder(together).filter((node) => !forwardVariables.has(node.output));
  const duplicates = added.filter((node, i) => added.slice(0, i).some((other) => T.structurallyEqual(other.output, node.output)));
  assert.is(describe(duplicates), '');
  // As the talk's loop writes it, one grad call per parameter.
  const separate = program.params.map((param) => grad(program.scalarLoss, param));
  assert.is(describe(recomputedNodes(program.scalarLoss, separate)), '');
  // And it does reuse the forward pass: each rectifier's mask and the layer outputs.
  const reused = new Set(added.flatMap((node) => node.inputs.filter((i) => i.owner && forwardVariables.has(i))));
  assert.is([...reused].filter((v) => v.owner!.op === 'gt').length, 3, 'the three rectifier masks');
  assert.is([...reused].filter((v) => v.owner!.op === 'where').length, 2, 'the two hidden layers (for the weights above them)');
});

test.run();
