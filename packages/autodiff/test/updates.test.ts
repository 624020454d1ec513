// Update rules under the reference evaluator: each rule reaches the known minimum of a
// quadratic ½(w − c)ᵀA(w − c) and of a least-squares regression, in float64 and
// float32; its first steps match the update equations run by hand in plain JS (so a
// wrong formula fails even where it would still converge); state persists across
// calls; a symbolic learning rate works; gradient clipping; errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, expectGraphError } from '@theorbo/graph/testing';
import type { DType, SharedVariable, Variable } from '@theorbo/graph';
import { adam, adamw, clipByGlobalNorm, grad, isOptimizerState, momentum, nesterovMomentum, rmsprop, sgd, totalNorm, type Updates } from '../src/index.ts';

const A = [[3, 1, 0], [1, 2, 0.5], [0, 0.5, 1]]; // symmetric, eigenvalues in (0.5, 3.7)
const c = [1, -2, 0.5];
const start = [0.3, -0.7, 1.2];
const read = (v: Variable): number[] => T.evaluate(v).toArray();

/** ½(w − c)ᵀA(w − c), minimum at w = c. */
function quadratic(dtype: DType, initial = start) {
  const w = T.shared(T.array(initial, { dtype }), 'w');
  const d = T.sub(w, T.constant(c, { dtype }));
  const loss = T.mul(0.5, T.sum(T.mul(d, T.dot(T.constant(A, { dtype }), d))));
  return { params: [w], loss, minimum: [c], gradient: (x: number[]) => A.map((row) => row.reduce((s, a, j) => s + a * (x[j]! - c[j]!), 0)) };
}

/** mean((Xw + b − y)²) with y = Xw* + b* exactly, so the minimum is (w*, b*). */
function leastSquares(dtype: DType) {
  const X = Array.from({ length: 8 }, (_, i) => [i / 4 - 1, Math.cos(i)]);
  const wStar = [2, -1];
  const bStar = 0.5;
  const y = X.map((row) => row[0]! * wStar[0]! + row[1]! * wStar[1]! + bStar);
  const w = T.shared(T.array([0, 0], { dtype }), 'weights');
  const b = T.shared(T.array(0, { dtype }), 'bias');
  const prediction = T.add(T.dot(T.constant(X, { dtype }), w), b);
  const loss = T.mean(T.square(T.sub(prediction, T.constant(y, { dtype }))));
  return { params: [w, b], loss, minimum: [wStar, [bStar]] };
}

type Builder = (loss: Variable, params: SharedVariable[]) => Updates;

// Steps and hyperparameters per rule. RMSProp's ε sits inside the root, so near the
// minimum its step is η·g/√ε: a plain gradient step that converges only while η/√ε
// < 2/λmax; with ε = 1e-6 it would hover within about η of the minimum. AdamW's
// decoupled decay keeps pulling w toward 0, so its fixed point (≈ c within ~ελ|w|)
// is reached only as Adam's v forgets the early gradients: slowly.
const convergence: [string, Builder, number, number][] = [
  ['sgd', (loss, params) => sgd(loss, params, 0.3), 200, 1e-9],
  ['momentum', (loss, params) => momentum(loss, params, 0.05, 0.9), 600, 1e-7],
  ['nesterov_momentum', (loss, params) => nesterovMomentum(loss, params, 0.05, 0.9), 400, 1e-7],
  ['rmsprop', (loss, params) => rmsprop(loss, params, 0.01, 0.9, 0.01), 600, 1e-9],
  ['adam', (loss, params) => adam(loss, params, 0.05), 600, 1e-7],
  ['adamw', (loss, params) => adamw(loss, params, 0.05), 6000, 1e-3],
];

for (const [name, build, steps, tolerance] of convergence) {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const [problemName, problem] of [['quadratic', quadratic], ['least squares', leastSquares]] as const) {
      test(`${name} reaches the minimum of a ${problemName} (${dtype}, ${steps} steps)`, () => {
        const { params, loss, minimum } = problem(dtype);
        const step = T.referenceFunction({ inputs: [], outputs: loss, updates: build(loss, params) });
        for (let i = 0; i < steps; i++) step();
        const tol = dtype === 'float64' ? tolerance : Math.max(tolerance, 1e-4);
        params.forEach((param, k) => assertClose(T.evaluate(param), T.array(minimum[k]!, { dtype, shape: param.shape as number[] }), { atol: tol, rtol: 0 }, `${name} ${param.name}`));
      });
    }
  }
}

// The update equations by hand, per element; `s` holds the state arrays, t counts from 1.
type Hand = (w: number, g: number, s: Record<string, number>, t: number) => number;
const byHand: [string, Builder, Hand, string[]][] = [
  ['sgd', (loss, p) => sgd(loss, p, 0.1), (w, g) => w - 0.1 * g, []],
  ['momentum', (loss, p) => momentum(loss, p, 0.1), (w, g, s) => {
    s.velocity = 0.9 * s.velocity! - 0.1 * g;
    return w + s.velocity;
  }, ['velocity']],
  ['nesterov_momentum', (loss, p) => nesterovMomentum(loss, p, 0.1, 0.8), (w, g, s) => {
    s.velocity = 0.8 * s.velocity! - 0.1 * g;
    return w + 0.8 * s.velocity - 0.1 * g;
  }, ['velocity']],
  ['rmsprop', (loss, p) => rmsprop(loss, p), (w, g, s) => {
    s.accumulator = 0.9 * s.accumulator! + 0.1 * g * g;
    return w - (1.0 * g) / Math.sqrt(s.accumulator + 1e-6);
  }, ['accumulator']],
  ['adam', (loss, p) => adam(loss, p), (w, g, s, t) => {
    s.m = 0.9 * s.m! + 0.1 * g;
    s.v = 0.999 * s.v! + 0.001 * g * g;
    return w - (0.001 * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)) * s.m / (Math.sqrt(s.v) + 1e-8);
  }, ['m', 'v']],
  ['adamw', (loss, p) => adamw(loss, p, 0.01, 0.8, 0.99, 1e-3, 0.5), (w, g, s, t) => {
    s.m = 0.8 * s.m! + 0.2 * g;
    s.v = 0.99 * s.v! + 0.01 * g * g;
    return w - 0.01 * ((Math.sqrt(1 - 0.99 ** t) / (1 - 0.8 ** t)) * s.m / (Math.sqrt(s.v) + 1e-3) + 0.5 * w);
  }, ['m', 'v']],
];

for (const [name, build, hand, stateNames] of byHand) {
  test(`${name}: the first three steps follow its equations, and its state persists across calls`, () => {
    const { params, loss, gradient } = quadratic('float64');
    const updates = build(loss, params);
    const w = params[0]!;
    const states = stateNames.map((role) => updates.find(([target]) => target.name === `w.${role}`)?.[0]);
    states.forEach((state, k) => {
      assert.ok(state, `${name} has a state variable named w.${stateNames[k]}`);
      assert.ok(isOptimizerState(state!));
      assert.equal(state!.dtype, 'float64');
      assert.equal(state!.shape, [3]);
    });
    assert.is(updates[0]![0], w, 'the parameter comes first');
    const step = T.referenceFunction({ inputs: [], outputs: loss, updates });
    let x = [...start];
    const s = stateNames.map(() => [0, 0, 0]);
    for (let t = 1; t <= 3; t++) {
      const g = gradient(x);
      x = x.map((value, i) => {
        const element: Record<string, number> = Object.fromEntries(stateNames.map((role, k) => [role, s[k]![i]!]));
        const next = hand(value, g[i]!, element, t);
        stateNames.forEach((role, k) => (s[k]![i] = element[role]!));
        return next;
      });
      step();
      assertClose(T.evaluate(w), T.array(x, { dtype: 'float64' }), { rtol: 1e-12, atol: 1e-14 }, `${name} step ${t}`);
      states.forEach((state, k) => assertClose(T.evaluate(state!), T.array(s[k]!, { dtype: 'float64' }), { rtol: 1e-12, atol: 1e-14 }, `${name} ${stateNames[k]} after step ${t}`));
    }
    const counter = updates.find(([target]) => target.name === `${name}.t`)?.[0];
    if (name.startsWith('adam')) assert.equal(read(counter!), [3], 'the step counter counted three calls');
    else assert.is(counter, undefined);
  });
}

test('adamw decays decoupled from the gradient: with zero gradients w shrinks by (1 − ηλ) per step', () => {
  const w = T.shared(T.array([2, -4], { dtype: 'float64' }), 'w');
  const step = T.referenceFunction({ inputs: [], outputs: [], updates: adamw([T.zerosLike(w)], [w], 0.1, 0.9, 0.999, 1e-8, 0.5) });
  for (let i = 0; i < 10; i++) step();
  assertClose(T.evaluate(w), T.array([2 * 0.95 ** 10, -4 * 0.95 ** 10], { dtype: 'float64' }), { rtol: 1e-12 });
});

test('a training loop built twice over the same parameters keeps separate state; one built once keeps its state', () => {
  const { params, loss } = quadratic('float64');
  const first = momentum(loss, params, 0.1);
  const second = momentum(loss, params, 0.1);
  assert.is.not(first[1]![0], second[1]![0], 'each builder call makes its own velocity');
  const step = T.referenceFunction({ inputs: [], outputs: loss, updates: first });
  step();
  const velocity = read(first[1]![0]);
  assert.ok(velocity.some((v) => v !== 0), 'the velocity was written');
  assert.equal(read(second[1]![0]), [0, 0, 0], 'the other builder\'s velocity is untouched');
});

test('a symbolic learning rate (the talk\'s eta = T.scalar(\'learning_rate\')) is an input of the step function', () => {
  const { params, loss, gradient } = quadratic('float64');
  const eta = T.scalar('learning_rate'); // float32, cast to the parameters' float64
  const step = T.referenceFunction({ inputs: [eta], outputs: loss, updates: sgd(loss, params, eta) });
  step(0.1);
  const g = gradient(start);
  const expected = start.map((x, i) => x - Math.fround(0.1) * g[i]!);
  assertClose(T.evaluate(params[0]!), T.array(expected, { dtype: 'float64' }), { rtol: 1e-12 });
  step(0);
  assertClose(T.evaluate(params[0]!), T.array(expected, { dtype: 'float64' }), { rtol: 0, atol: 0 }, 'a zero learning rate leaves w alone');
});

test('float32 parameters keep float32 updates and state, even with a float64 hyperparameter', () => {
  const { params, loss } = quadratic('float32');
  const eta = T.dscalar('eta');
  const updates = adam(loss, params, eta);
  for (const [target, value] of updates) assert.is(value.dtype, target.dtype, `${target.name}`);
  assert.equal(updates.map(([target]) => target.dtype), ['float32', 'float32', 'float32', 'int32']);
  const step = T.referenceFunction({ inputs: [eta], outputs: loss, updates });
  step(0.01);
  // Adam's first step moves each element by η·sign(g) (up to ε), whatever g's size.
  const expected = start.map((x, i) => x - 0.01 * Math.sign(quadratic('float64').gradient(start)[i]!));
  assertClose(T.evaluate(params[0]!), T.array(expected, { dtype: 'float32' }), { rtol: 1e-5, atol: 1e-6 });
});

test('totalNorm and clipByGlobalNorm: scaled as a whole above the limit, unchanged below it', () => {
  const g1 = T.constant([3, 0], { dtype: 'float64' });
  const g2 = T.constant([[0], [4]], { dtype: 'float64' });
  assert.equal(read(totalNorm([g1, g2])), [5]);
  const below = clipByGlobalNorm([g1, g2], 10);
  assert.equal(read(below[0]!), [3, 0]);
  assert.equal(read(below[1]!), [0, 4]);
  const scale = 2 / (5 + 1e-7);
  const above = clipByGlobalNorm([g1, g2], 2);
  assertClose(T.evaluate(above[0]!), T.array([3 * scale, 0], { dtype: 'float64' }));
  assertClose(T.evaluate(above[1]!), T.array([[0], [4 * scale]], { dtype: 'float64' }));
  assertClose(T.evaluate(totalNorm(above)), T.array(2, { dtype: 'float64' }), { rtol: 1e-7 });
  const limit = T.dscalar('limit');
  assertClose(T.evaluate(clipByGlobalNorm([g1, g2], limit)[0]!, [[limit, 1]]), T.array([3 / (5 + 1e-7), 0], { dtype: 'float64' }), {}, 'a symbolic limit');
});

test('clipped gradients drive a builder in place of the loss', () => {
  const { params, loss, gradient } = quadratic('float64');
  const step = T.referenceFunction({ inputs: [], outputs: loss, updates: sgd(clipByGlobalNorm(grad(loss, params), 0.5), params, 0.1) });
  const g = gradient(start);
  const norm = Math.hypot(...g);
  assert.ok(norm > 0.5, 'the test starts above the limit');
  step();
  assertClose(T.evaluate(params[0]!), T.array(start.map((x, i) => x - 0.1 * g[i]! * (0.5 / (norm + 1e-7))), { dtype: 'float64' }), { rtol: 1e-12 });
});

test('errors: gradient list of the wrong length or type, non-shared or repeated parameters, bad hyperparameters', () => {
  const { params, loss } = quadratic('float64');
  const w = params[0]!;
  const other = T.shared(T.array([1, 2], { dtype: 'float64' }), 'other');
  expectGraphError(() => sgd([T.zerosLike(w)], [w, other], 0.1), 'sgd', 'was given 1 gradients for 2 parameters', 'updates.test.ts');
  expectGraphError(() => adam([T.zerosLike(w, 'float32')], [w]), 'adam', 'gradient 0 has type float32[3]', "'w' (float64[3])", 'updates.test.ts');
  expectGraphError(() => momentum([T.zeros([2], 'float64')], [w], 0.1), 'momentum', 'gradient 0 has type float64[2]', 'updates.test.ts');
  const x = T.dvector('x');
  expectGraphError(() => sgd(T.sum(x), [x as unknown as SharedVariable], 0.1), 'sgd', "parameter 0, 'x' (float64[?]), is an input, not a shared variable", 'updates.test.ts');
  expectGraphError(() => rmsprop(loss, [w, w]), 'rmsprop', 'listed twice', 'updates.test.ts');
  const counter = T.shared(T.array(new Int32Array([1])), 'counter');
  expectGraphError(() => sgd([counter], [counter], 0.1), 'sgd', "'counter' (int32[1]), is not a float tensor", 'updates.test.ts');
  expectGraphError(() => sgd(loss, [w], T.dvector('rates')), 'sgd', 'the learning rate must be a number or a scalar Variable', "'rates' (float64[?])", 'updates.test.ts');
  expectGraphError(() => nesterovMomentum(loss, [w], Number.NaN), 'nesterov_momentum', 'the learning rate must be a finite number', 'updates.test.ts');
  expectGraphError(() => sgd(T.mul(w, 2), [w], 0.1), 'grad', 'the cost must be a scalar', 'updates.test.ts');
  expectGraphError(() => totalNorm([]), 'total_norm', 'no gradients', 'updates.test.ts');
});

test.run();
