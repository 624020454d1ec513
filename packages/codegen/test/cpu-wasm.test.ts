// The cpu device's WebAssembly SIMD kernels (cpu/wasm-lower.ts, wasm-render.ts,
// wasm-kernels.ts): representative elementwise, reduce (along rows and down columns) and rows kernels take the wasm path
// (not JS) and equal the reference evaluator (bit for bit where float32 arithmetic is
// exact); edge cases (lengths not a multiple of 4, empty tensors, broadcasting, transposed
// and sliced views, sizes split over threads); kernels the renderer cannot express stay on
// JS and stay correct; the polynomial exp, tanh and sigmoid within their documented error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import { compile } from '../src/index.ts';
import { f } from './op-cases.ts';

interface Run { got: NDArray[]; want: NDArray[]; hows: string[] }

async function run(inputs: Variable[], outputs: Variable[], values: NDArray[]): Promise<Run> {
  const fn = compile({ inputs, outputs, device: 'cpu' });
  const got = (await fn(...values)) as NDArray[];
  const want = T.evaluate(outputs, inputs.map((input, i) => [input, values[i]!] as const));
  const plan = fn.cpuPlan();
  if (!plan) throw new Error('the cpu device did not build a plan');
  return { got, want, hows: plan.kernels.map((kernel) => `${kernel.label} [${kernel.how}]`) };
}

const exact = (run: Run, i: number, name: string) => {
  assert.equal(run.got[i]!.shape, run.want[i]!.shape, `${name}: shape`);
  assert.equal([...run.got[i]!.data], [...run.want[i]!.data], `${name}: equal to the reference`);
};

/**
 * A sum of `terms` values of magnitude ≤ 1 along rows of 32 or more: float32 partial sums
 * of at most 16 terms a lane, then float64 (cpu/wasm-render.ts), so within 16 float32
 * roundings of Σ|x| (16 · 2^-24 < 1e-6) of the reference's float64 sum, rounded once.
 */
const summed = (run: Run, i: number, name: string, terms: number) => {
  assert.equal(run.got[i]!.shape, run.want[i]!.shape, `${name}: shape`);
  assertClose(run.got[i]!, run.want[i]!, { rtol: 2 ** -23, atol: 1e-6 * terms }, `${name}: within float32 partial sums' rounding of the reference`);
};

test('cpu wasm: elementwise chains, reductions over the last, first and all axes, and softmax run as WebAssembly, equal to the reference (sums of 32+ terms within their float32 partials\' rounding)', async () => {
  const x = T.matrix('x');
  const a = T.vector('a');
  const outputs = [
    T.sub(T.mul(T.add(T.mul(x, a), 1), T.abs(x)), T.div(T.sqrt(T.abs(x)), T.maximum(x, a))), // broadcast a[N] against x[M,N]
    T.sum(T.square(x), 1),
    T.max(x, 0), // the reduced axis is strided: lanes gathered
    T.sum(x),
    T.prod(T.add(T.mul(x, 0.01), 1), 1),
    T.min(T.neg(x), -1, true),
    T.relu(T.sub(x, 0.5)),
    T.softmax(x),
  ];
  const values = [f(33, 17), f(17)]; // 17: four lanes and a tail of one
  const result = await run([x, a], outputs, values);
  assert.ok(result.hows.every((how) => how.endsWith('[wasm]')), result.hows.join('; '));
  for (const i of [0, 1, 2, 4, 5, 6]) exact(result, i, `output ${i}`);
  summed(result, 3, 'sum of all 561', 33 * 17);
  assertClose(result.got[7]!, result.want[7]!, { rtol: 1e-6, atol: 1e-7 }, 'softmax');
});

test('cpu wasm: transposed and sliced views, size-1 axes and reshapes that add them, the stored root beside its epilogue', async () => {
  const x = T.matrix('x');
  const y = T.tensor3('y');
  const shifted = T.add(T.transpose(x), 2);
  const outputs = [
    T.mul(shifted, T.exp(T.neg(T.square(T.transpose(x))))),
    T.sum(T.transpose(x), 1), // reduce over a strided axis of a view
    T.add(T.get(x, T.slice(1, null, 2), T.slice(null, null, 3)), 1),
    T.mul(T.reshape(T.sum(y, 2), [4, 1, 3]), 3),
    T.sum(T.mul(y, T.dimshuffle(x, 'x', 0, 1)), [1, 2]),
  ];
  const values = [f(3, 5), f(4, 3, 5)];
  const result = await run([x, y], outputs, values);
  const wasm = result.hows.filter((how) => how.endsWith('[wasm]'));
  assert.ok(wasm.length >= 4, result.hows.join('; '));
  assertClose(result.got[0]!, result.want[0]!, { rtol: 2e-7, atol: 1e-7 }, 'transposed chain with exp');
  for (const i of [1, 2, 4]) exact(result, i, `output ${i}`);
  assertClose(result.got[3]!, result.want[3]!, { rtol: 0, atol: 0 }, 'reshape of a row sum');
});

test('cpu wasm: empty tensors and reductions over empty axes', async () => {
  const x = T.matrix('x');
  const outputs = [T.add(T.mul(x, 2), 1), T.sum(x, 0), T.sum(T.square(x), 1), T.prod(x, 0)];
  const empty = T.array(new Float32Array(0), { shape: [0, 6] });
  const result = await run([x], outputs, [empty]);
  assert.equal(result.got[0]!.shape, [0, 6]);
  exact(result, 1, 'sum over an empty axis');
  assert.equal(result.got[2]!.shape, [0], 'a row sum of no rows');
  exact(result, 3, 'prod over an empty axis');
});

test('cpu wasm: kernels large enough to split over the threads (rows, and columns of few rows) equal the reference', async () => {
  const x = T.matrix('x');
  const outputs = [T.add(T.mul(x, x), 1), T.sum(x, 1), T.softmax(x), T.sum(x, 0), T.max(T.mul(x, 2), 0, true), T.reshape(x, [-1])];
  for (const shape of [[3, 70001], [601, 257]] as const) {
    const result = await run([x], outputs, [f(...shape)]);
    assert.ok(result.hows.every((how) => how.endsWith('[wasm]')), result.hows.join('; '));
    exact(result, 0, `elementwise ${shape}`);
    summed(result, 1, `row sums ${shape}`, shape[1]);
    assertClose(result.got[2]!, result.want[2]!, { rtol: 1e-6, atol: 1e-8 }, `softmax ${shape}`);
    exact(result, 3, `column sums ${shape}`);
    exact(result, 4, `column maxima ${shape}`);
    exact(result, 5, `x flattened ${shape}`);
  }
});

test('cpu wasm: a sum of everything in two stages, the first reading x reshaped into rows of partial sums', async () => {
  const x = T.matrix('x');
  const result = await run([x], [T.sum(x)], [f(512, 512)]);
  assert.ok(result.hows.length === 2 && result.hows.every((how) => how.endsWith('[wasm]')), result.hows.join('; '));
  assertClose(result.got[0]!, result.want[0]!, { rtol: 1e-6, atol: 1e-6 }, 'sum of all');
});

test('cpu wasm: stored bool masks (comparisons stored, where and casts reading them) as bytes, unfused, equal to the reference', async () => {
  const x = T.matrix('x');
  const outputs = [T.relu(x), T.gt(x, 0.25), T.mul(T.cast(T.le(x, 0), 'float32'), x), T.where(T.ne(T.get(x, T.slice(), T.slice(null, null, 2)), 0.5), T.get(x, T.slice(), T.slice(null, null, 2)), -1)];
  for (const shape of [[5, 7], [3, 70001]] as const) {
    const inputs = [x];
    const fn = compile({ inputs, outputs, device: 'cpu', fusion: false });
    const value = f(...shape);
    const got = (await fn(value)) as NDArray[];
    const want = T.evaluate(outputs, [[x, value]]);
    const hows = fn.cpuPlan()!.kernels.map((kernel) => `${kernel.label} [${kernel.how}]`);
    assert.ok(hows.filter((how) => how.includes('bool')).length >= 2 && hows.every((how) => how.endsWith('[wasm]')), hows.join('; '));
    got.forEach((value, i) => assert.equal([...value.data], [...want[i]!.data], `output ${i} at ${shape}`));
  }
});

test('cpu wasm: powers 2 and 1 (a squared distance and its gradient) run as WebAssembly, bit for bit the reference; other exponents as JS', async () => {
  const x = T.matrix('x');
  const t = T.matrix('t');
  const d = T.sub(x.dimshuffle(0, 'x', 1), t.dimshuffle('x', 0, 1));
  const outputs = [T.pow(d, 2), T.mul(T.pow(d, 1), 2), T.pow(x, 3)];
  const values = [f(9, 13), f(5, 13)];
  const result = await run([x, t], outputs, values);
  assert.ok(result.hows[0]!.endsWith('[wasm]') && result.hows[1]!.endsWith('[wasm]'), result.hows.join('; '));
  assert.ok(result.hows[2]!.endsWith('[js]'), result.hows.join('; '));
  result.got.forEach((_, k) => exact(result, k, `output ${k}`));
});

test('cpu wasm: a constant bool condition (a training flag fixed by the caller) picks its side of where, and casts to 1 or 0, in WebAssembly', async () => {
  const x = T.matrix('x');
  const on = T.constant(T.array(new Uint8Array([1]), { shape: [], dtype: 'bool' }));
  const off = T.constant(T.array(new Uint8Array([0]), { shape: [], dtype: 'bool' }));
  const outputs = [T.where(on, T.mul(x, 2), x), T.where(off, T.mul(x, 2), T.neg(x)), T.mul(T.cast(on, 'float32'), x)];
  const result = await run([x], outputs, [f(7, 9)]);
  assert.ok(result.hows.every((how) => how.endsWith('[wasm]')), result.hows.join('; '));
  result.got.forEach((_, k) => exact(result, k, `output ${k}`));
});

test('cpu wasm: int32 labels compared with an int32 arange (a one-hot, its masked sums) run as WebAssembly in int32 lanes, bit for bit the reference', async () => {
  const x = T.matrix('x');
  const labels = T.tensor('int32', [null], 'labels');
  const classes = T.arange(0, 25, 1, 'int32');
  const oneHot = T.cast(T.eq(labels.dimshuffle(0, 'x'), classes.dimshuffle('x', 0)), 'float32');
  const outputs = [
    oneHot,
    T.sum(T.mul(oneHot, x), 1),
    T.where(T.lt(labels.dimshuffle(0, 'x'), T.arange(3, 53, 2, 'int32').dimshuffle('x', 0)), x, T.neg(x)),
    T.mul(T.cast(T.ge(labels, -2), 'float32'), T.cast(labels, 'float32')),
  ];
  const values = [f(11, 25), T.array(Int32Array.from([0, 24, 7, -3, 12, 25, 1, 2, 3, 16777217, -2147483648]), { shape: [11] })];
  const result = await run([x, labels], outputs, values);
  assert.ok(result.hows.every((how) => how.endsWith('[wasm]')), result.hows.join('; '));
  result.got.forEach((_, k) => exact(result, k, `output ${k}`));
});

test('cpu wasm: a regrouping reshape of an elementwise op with a one-element operand read from the same input (x · x[0, 0], flattened) equals the reference', async () => {
  const x = T.tensor('float32', [2, 6], 'x');
  const corner = T.get(x, T.slice(0, 1), T.slice(0, 1));
  const outputs = [
    T.reshape(T.mul(x, corner), [-1]),
    T.reshape(T.add(T.mul(T.mul(x, corner), 2), T.sum(corner)), [-1]),
    T.reshape(T.sub(x, T.mul(corner, corner)), [3, 4]),
  ];
  const result = await run([x], outputs, [f(2, 6)]);
  assert.ok(result.hows.every((how) => how.endsWith('[wasm]')), result.hows.join('; '));
  result.got.forEach((_, k) => exact(result, k, `output ${k}`));
});

test('cpu wasm: what the renderer cannot express (sin, integer values) runs as JS, still correct', async () => {
  const x = T.matrix('x');
  const i = T.tensor('int32', [null], 'i');
  const outputs = [T.sin(T.add(T.abs(x), 0.5)), T.mul(i, 3), T.sum(i)];
  const values = [f(5, 7), T.array(new Int32Array([1, -2, 3]), { shape: [3] })];
  const result = await run([x, i], outputs, values);
  assert.ok(result.hows.every((how) => how.endsWith('[js]')), result.hows.join('; '));
  result.got.forEach((_, k) => exact(result, k, `output ${k}`));
});

test('cpu wasm: the polynomial log within its documented error of Math.log, subnormals and special values included', async () => {
  const x = T.vector('x');
  const n = 200003;
  const values = Float32Array.from([
    ...Array.from({ length: n }, (_, k) => Math.exp(-103 + (190 * k) / (n - 1))),
    0, -0, -1, 1, 1e-45, 1e-40, 3.4e38, Infinity, -Infinity, NaN,
  ]);
  const result = await run([x], [T.log(x)], [T.array(values, { shape: [values.length] })]);
  assert.ok(result.hows.every((how) => how.endsWith('[wasm]')), result.hows.join('; '));
  const got = result.got[0]!.data;
  let worst = 0;
  for (let k = 0; k < values.length; k++) {
    const want = Math.fround(Math.log(values[k]!));
    if (Number.isNaN(want) || !Number.isFinite(want)) {
      assert.ok(Object.is(got[k], want), `log(${values[k]}) = ${got[k]}, want ${want}`);
      continue;
    }
    worst = Math.max(worst, Math.abs(got[k]! - want) / Math.max(Math.abs(want), 2 ** -24));
  }
  assert.ok(worst < 2.5e-7, `log: relative error ${worst}`);
});

test('cpu wasm: the polynomial exp, tanh and sigmoid within their documented error of Math.*', async () => {
  const x = T.vector('x');
  const outputs = [T.exp(x), T.tanh(x), T.sigmoid(x)];
  const n = 200003;
  const grid = Float32Array.from({ length: n }, (_, k) => -87 + (175 * k) / (n - 1));
  const special = new Float32Array([0, -0, 1e-8, -1e-8, 0.6249, 0.6251, 9, 88.7, 89, 200, -200, Infinity, -Infinity, NaN]);
  const values = Float32Array.from([...grid, ...special]);
  const result = await run([x], outputs, [T.array(values, { shape: [values.length] })]);
  assert.ok(result.hows.every((how) => how.endsWith('[wasm]')), result.hows.join('; '));
  const [exp, tanh, sigmoid] = result.got.map((value) => value.data);
  let expError = 0, tanhError = 0, sigmoidError = 0;
  for (let k = 0; k < n; k++) {
    const v = values[k]!;
    const want = Math.fround(Math.exp(v));
    if (want > 1.2e-38) expError = Math.max(expError, Math.abs(exp![k]! - want) / want);
    tanhError = Math.max(tanhError, Math.abs(tanh![k]! - Math.tanh(v)));
    sigmoidError = Math.max(sigmoidError, Math.abs(sigmoid![k]! - result.want[2]!.data[k]!));
  }
  assert.ok(expError < 2.5e-7, `exp: relative error ${expError}`);
  assert.ok(tanhError < 2e-7, `tanh: absolute error ${tanhError}`);
  assert.ok(sigmoidError < 2e-7, `sigmoid: absolute error ${sigmoidError}`);
  const at = (k: number) => n + k;
  const reference = (fn: (v: number) => number, k: number) => Math.fround(fn(special[k]!));
  for (let k = 0; k < special.length; k++) {
    for (const [name, data, fn] of [['exp', exp, Math.exp], ['tanh', tanh, Math.tanh]] as const) {
      const want = reference(fn, k), got = data![at(k)]!;
      const ok = Number.isNaN(want) ? Number.isNaN(got) : got === want || Math.abs(got - want) <= 2.5e-7 * Math.abs(want) + 1e-37;
      assert.ok(ok, `${name}(${special[k]}) = ${got}, want ${want}`);
    }
  }
});

test.run();
