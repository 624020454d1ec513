// Elementwise ops against plain-loop values, over broadcasting, size-1, empty and scalar shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import { checkOp, fromFunction, expectGraphError, assertClose } from '../src/testing.ts';
import type { NDArray } from '../src/index.ts';

const f32 = (...shape: number[]) => ({ dtype: 'float32' as const, shape });
const f64 = (...shape: number[]) => ({ dtype: 'float64' as const, shape });
const positive = (...shape: number[]) => ({ dtype: 'float64' as const, shape, low: 0.1, high: 3 });

/** Expected value of a unary op, computed with an independent closed form per element. */
const unaryExpect = (fn: (v: number) => number) => (x: NDArray) => fromFunction(x.dtype, x.shape, (i) => fn(x.at(...i)));
const bcast = (a: NDArray, b: NDArray, out: number[], fn: (x: number, y: number) => number, dtype = a.dtype) =>
  fromFunction(dtype, out, (i) => {
    const pick = (v: NDArray) => v.at(...i.slice(i.length - v.ndim).map((k, ax) => (v.shape[ax] === 1 ? 0 : k)));
    return fn(pick(a), pick(b));
  });

const unaryCases: [string, (x: t.Variable) => t.Variable, (v: number) => number, ReturnType<typeof f64>?][] = [
  ['neg', t.neg, (v) => -v],
  ['abs', t.abs, Math.abs],
  ['sign', t.sign, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0)],
  ['exp', t.exp, Math.exp],
  ['log', t.log, Math.log, positive(3, 4)],
  ['log1p', t.log1p, (v) => Math.log(1 + v), positive(3, 4)],
  ['expm1', t.expm1, (v) => Math.exp(v) - 1],
  ['sqrt', t.sqrt, Math.sqrt, positive(3, 4)],
  ['rsqrt', t.rsqrt, (v) => 1 / Math.sqrt(v), positive(3, 4)],
  ['square', t.square, (v) => v * v],
  ['reciprocal', t.reciprocal, (v) => 1 / v, positive(3, 4)],
  ['sin', t.sin, Math.sin],
  ['cos', t.cos, Math.cos],
  ['tan', t.tan, (v) => Math.sin(v) / Math.cos(v)],
  ['tanh', t.tanh, (v) => (Math.exp(2 * v) - 1) / (Math.exp(2 * v) + 1)],
  ['sigmoid', t.sigmoid, (v) => 1 / (1 + Math.exp(-v))],
  ['softplus', t.softplus, (v) => Math.log(1 + Math.exp(v))],
  ['floor', t.floor, Math.floor],
  ['ceil', t.ceil, Math.ceil],
  ['stop_gradient', t.stopGradient, (v) => v],
];

for (const [name, build, fn, spec] of unaryCases) {
  test(`${name} float64`, () => checkOp(name, build, [spec ?? f64(3, 4)], unaryExpect(fn), { rtol: 1e-13, atol: 1e-14 }));
  test(`${name} float32 odd and empty shapes`, () => {
    for (const shape of [[7], [1, 5], [0, 3], []]) {
      checkOp(name, build, [{ ...(spec ?? f32()), dtype: 'float32', shape }], unaryExpect((v) => Math.fround(fn(v))), { rtol: 2e-6, atol: 1e-7 });
    }
  });
}

test('erf against tabulated values', () => {
  // Abramowitz & Stegun table 7.1 values.
  const xs = [0, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, -1, 4.5];
  const want = [0, 0.1124629160182849, 0.5204998778130465, 0.8427007929497149, 0.9661051464753108, 0.9953222650189527,
    0.9995930479825550, 0.9999779095030014, 0.9999992569016276, -0.8427007929497149, 0.9999999998033839];
  const x = t.dvector('x');
  assertClose(t.evaluate(t.erf(x), [[x, new Float64Array(xs)]]), t.array(new Float64Array(want)), { rtol: 1e-14, atol: 1e-15 });
});

test('round is half to even', () => {
  const x = t.vector('x');
  assertClose(t.evaluate(t.round(x), [[x, [0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6]]]), [0, 2, 2, -0, -2, 2, 3]);
});

const binaryCases: [string, (a: t.Variable, b: t.Variable) => t.Variable, (x: number, y: number) => number][] = [
  ['add', t.add, (x, y) => x + y],
  ['sub', t.sub, (x, y) => x - y],
  ['mul', t.mul, (x, y) => x * y],
  ['div', t.div, (x, y) => x / y],
  ['maximum', t.maximum, Math.max],
  ['minimum', t.minimum, Math.min],
  ['atan2', t.atan2, Math.atan2],
  ['int_div', t.intDiv, (x, y) => Math.floor(x / y)],
  ['mod', t.mod, (x, y) => ((x % y) + y) % y],
];

for (const [name, build, fn] of binaryCases) {
  test(`${name} broadcasting`, () => {
    for (const [sa, sb, out] of [[[3, 4], [4], [3, 4]], [[2, 1, 5], [3, 1], [2, 3, 5]], [[1], [0], [0]], [[], [3], [3]]] as number[][][]) {
      checkOp(name, build, [f64(...sa!), { dtype: 'float64', shape: sb!, low: 0.5, high: 3 }], (a, b) => bcast(a, b, out!, fn), { rtol: 1e-14 });
    }
  });
}

test('pow of positive bases', () => checkOp('pow', t.pow, [positive(2, 3), f64(3)], (a, b) => bcast(a, b, [2, 3], Math.pow), { rtol: 1e-14 }));

const comparisons: [string, (a: t.Variable, b: t.Variable) => t.Variable, (x: number, y: number) => boolean][] = [
  ['eq', t.eq, (x, y) => x === y], ['ne', t.ne, (x, y) => x !== y], ['lt', t.lt, (x, y) => x < y],
  ['le', t.le, (x, y) => x <= y], ['gt', t.gt, (x, y) => x > y], ['ge', t.ge, (x, y) => x >= y],
];
for (const [name, build, fn] of comparisons) {
  test(`${name} gives bool`, () => {
    const ints = { dtype: 'int32' as const, shape: [4, 5], low: -2, high: 3 };
    checkOp(name, build, [ints, { ...ints, shape: [5] }], (a, b) => bcast(a, b, [4, 5], (x, y) => (fn(x, y) ? 1 : 0), 'bool'));
  });
}

const logical: [string, (a: t.Variable, b: t.Variable) => t.Variable, (x: boolean, y: boolean) => boolean][] = [
  ['logical_and', t.logicalAnd, (x, y) => x && y], ['logical_or', t.logicalOr, (x, y) => x || y], ['logical_xor', t.logicalXor, (x, y) => x !== y],
];
for (const [name, build, fn] of logical) {
  test(name, () => checkOp(name, build, [{ dtype: 'bool', shape: [3, 4] }, { dtype: 'bool', shape: [1, 4] }], (a, b) => bcast(a, b, [3, 4], (x, y) => (fn(x !== 0, y !== 0) ? 1 : 0), 'bool')));
}
test('logical_not', () => checkOp('logical_not', t.logicalNot, [{ dtype: 'bool', shape: [6] }], (a) => fromFunction('bool', [6], (i) => (a.at(...i) ? 0 : 1))));

test('integer arithmetic stays integer and floors', () => {
  const a = t.ivector('a');
  const b = t.ivector('b');
  const givens = [[a, new Int32Array([7, -7, 7, -7, 5])], [b, new Int32Array([2, 2, -2, -2, 0])]] as const;
  assertClose(t.evaluate(t.intDiv(a, b), givens), t.array(new Int32Array([3, -4, -4, 3, 0])));
  assertClose(t.evaluate(t.mod(a, b), givens), t.array(new Int32Array([1, 1, -1, -1, 0])));
  assertClose(t.evaluate(t.div(a, b), givens), t.array(new Float32Array([3.5, -3.5, -3.5, 3.5, Infinity])));
});

test('where broadcasts condition and branches', () => {
  checkOp('where', (c, a, b) => t.where(c, a, b), [{ dtype: 'bool', shape: [3, 1] }, f64(3, 4), f64(4)], (c, a, b) =>
    fromFunction('float64', [3, 4], ([i, j]) => (c.at(i!, 0) ? a.at(i!, j!) : b.at(j!))));
});

test('cast saturates and truncates like WGSL', () => {
  const x = t.vector('x');
  const v = [1.7, -1.7, 3e9, -3e9, NaN, 0];
  assertClose(t.evaluate(t.cast(x, 'int32'), [[x, v]]), t.array(new Int32Array([1, -1, 2147483647, -2147483648, 0, 0])));
  assertClose(t.evaluate(t.cast(x, 'uint32'), [[x, v]]), t.array(new Uint32Array([1, 0, 3e9, 0, 0, 0])));
  assertClose(t.evaluate(t.cast(x, 'bool'), [[x, v]]), t.array(new Uint8Array([1, 1, 1, 1, 1, 0])));
});

test('clip', () => checkOp('clip', (x) => t.clip(x, -0.5, 0.75), [f64(5, 3)], unaryExpect((v) => Math.min(Math.max(v, -0.5), 0.75))));

test('weak JS numbers keep the tensor dtype', () => {
  const x = t.vector('x');
  assert.is(t.mul(x, 2).dtype, 'float32', 'float32 * 2 should stay float32');
  const i = t.ivector('i');
  assert.is(t.add(i, 1).dtype, 'int32', 'int32 + 1 should stay int32');
  assert.is(t.mul(i, 0.5).dtype, 'float32', 'int32 * 0.5 should be float32');
  assert.is(t.exp(i).dtype, 'float32', 'exp of int32 should be float32');
});

test('broadcast mismatch names the op, types and place', () => {
  const a = t.tensor('float32', [8, 3], 'a');
  const b = t.tensor('float32', [4], 'b');
  expectGraphError(() => t.add(a, b), 'add', 'float32[8,3]', 'float32[4]', 'elementwise.test.ts:');
});

test.run();
