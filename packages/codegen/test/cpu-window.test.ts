// The cpu device's native window kernels (cpu/window.ts: convolutions as im2col + the
// WebAssembly GEMM, pooling as direct loops), random draws (cpu/random.ts), arg
// reductions and scan (each step's graph as a cpu plan): each
// against the reference evaluator over odd sizes, strides, padding, dilation and groups,
// with a check that the kernel ran natively (not on the reference fallback); gradients
// through the cpu device against central finite differences of the float64 reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, randomArray } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { compile } from '../src/index.ts';

let seed = 1600;
const f = (...shape: number[]) => randomArray('float32', shape, { seed: seed++ });

/** Compiles `outputs` of `inputs` for the cpu device, checks no kernel fell to the reference, returns the results and the plan's kernels. */
async function onCpu(inputs: Variable[], outputs: Variable[], values: NDArray[]): Promise<{ got: NDArray[]; kernels: string[] }> {
  const fn = compile({ inputs, outputs, device: 'cpu' });
  const got = (await fn(...values)) as NDArray[];
  const kernels = fn.cpuPlan()!.kernels.map((kernel) => `${kernel.label} [${kernel.how}${kernel.jsPasses ? `; ${kernel.jsPasses}` : ''}]${kernel.why ? ` (${kernel.why})` : ''}`);
  const fallen = kernels.filter((label) => label.includes('[reference]'));
  assert.equal(fallen, [], `kernels on the reference: ${fallen.join('; ')}`);
  return { got, kernels };
}

function variablesFor(values: readonly NDArray[]): Variable[] {
  return values.map((value, i) => T.tensor(value.dtype, value.shape, `in${i}`));
}

type Case = [string, (...inputs: Variable[]) => Variable, NDArray[], RegExp];
const cases: Case[] = [
  ['conv2d 3×3 valid/same mix (the demo CNN\'s layer), bias + relu', (x, w, b) => T.relu(T.conv2d(x, w, { padding: [[0, 0], [1, 1]], bias: b })), [f(5, 1, 3, 13), f(4, 1, 3, 3), f(4)], /window conv .*\[wasm\]/],
  ['conv1d strided, dilated, grouped, padded', (x, w) => T.conv1d(x, w, { stride: 2, dilation: 3, groups: 2, padding: [2, 1] }), [f(3, 4, 19), f(6, 2, 3)], /window conv .*\[wasm\]/],
  ['conv2d odd sizes, stride 2, uneven padding', (x, w) => T.conv2d(x, w, { stride: [2, 3], padding: [1, [0, 2]] }), [f(2, 3, 9, 11), f(5, 3, 3, 2)], /window conv .*\[wasm\]/],
  ['conv1d depthwise, long kernel, stride = hop (the FIR front end\'s form)', (x, w) => T.conv1d(x, w, { groups: 3, stride: 4 }), [f(2, 3, 61), f(3, 1, 17)], /window conv .*\[wasm\]/],
  ['conv_transpose 1-D strided (input gradient form)', (y, w) => T.convTranspose1d(y, w, { stride: 3, padding: 1, outputPadding: 1 }), [f(2, 4, 5), f(4, 3, 4)], /conv_transpose .*\[wasm\]/],
  ['conv_transpose 2-D grouped, dilated', (y, w) => T.convAdjoint('conv_transpose', y, w, { stride: [2, 1], padding: [[1, 0], [0, 1]], dilation: [1, 2], groups: 2 }, [7, 6]), [f(2, 4, 4, 3), f(4, 3, 2, 3)], /conv_transpose .*\[wasm\]/],
  ['conv_weight_grad 1-D', (x, y) => T.convAdjoint('conv_weight_grad', x, y, { stride: [2], padding: [[1, 0]], dilation: [1], groups: 1 }, [3]), [f(2, 3, 9), f(2, 5, 4)], /conv_weight_grad .*\[wasm\]/],
  ['conv_weight_grad 2-D grouped, dilated', (x, y) => T.convAdjoint('conv_weight_grad', x, y, { stride: [1, 2], padding: [[0, 0], [1, 1]], dilation: [2, 1], groups: 2 }, [2, 3]), [f(3, 4, 7, 6), f(3, 6, 5, 3)], /conv_weight_grad .*\[wasm\]/],
];

for (const [name, build, values, pattern] of cases) {
  test(`cpu window: ${name} equals the reference, natively`, async () => {
    const inputs = variablesFor(values);
    const output = build(...inputs);
    const want = T.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
    const { got: [got], kernels } = await onCpu(inputs, [output], values);
    assertClose(got!, want, { rtol: 1e-5, atol: 1e-5 }, name);
    assert.ok(kernels.some((label) => pattern.test(label)), `expected a kernel like ${pattern}, got ${kernels.join('; ')}`);
  });
}

// Pooling computes in the reference's order and arithmetic: equal, not close.
const pools: [string, (x: Variable) => Variable, NDArray][] = [
  ['max pool 2-D, ceil mode, padding', (x) => T.maxPool2d(x, [2, 3], { stride: 2, padding: [1, 1], ceilMode: true }), f(2, 3, 7, 9)],
  ['max pool 1-D after relu (fused activation)', (x) => T.maxPool1d(T.relu(x), [3], { stride: 2 }), f(2, 2, 12)],
  ['avg pool 2-D, padding not counted', (x) => T.avgPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 1], countIncludePad: false }), f(1, 2, 8, 5)],
  ['avg pool 1-D, padding counted', (x) => T.avgPool1d(x, [4], { stride: 3, padding: 2 }), f(3, 1, 11)],
];
for (const [name, build, value] of pools) {
  test(`cpu window: ${name} and its gradient equal the reference bit for bit, natively`, async () => {
    const x = T.tensor('float32', value.shape, 'x');
    const pooled = build(x);
    const weights = T.constant(f(...(pooled.shape as number[])));
    const [gradient] = grad(T.sum(T.mul(pooled, weights)), [x]);
    const want = T.evaluate([pooled, gradient!], [[x, value]]);
    const { got, kernels } = await onCpu([x], [pooled, gradient!], [value]);
    assert.equal([...got[0]!.data], [...want[0]!.data], 'pool');
    assert.equal([...got[1]!.data], [...want[1]!.data], 'pool_grad');
    assert.ok(kernels.some((label) => /window pool .*\[js\]/.test(label)) && kernels.some((label) => /pool_grad .*\[js\]/.test(label)), kernels.join('; '));
  });
}

test('cpu window: max pooling keeps a NaN and the first of equal maxima, as the reference does', async () => {
  const value = T.array(new Float32Array([1, 3, 3, 0, NaN, 2, 5, 5, 5, -1, -2, -3]), { shape: [1, 1, 12] });
  const x = T.tensor('float32', [1, 1, 12], 'x');
  const pooled = T.maxPool1d(x, [3]);
  const [gradient] = grad(T.sum(pooled), [x]);
  const want = T.evaluate([pooled, gradient!], [[x, value]]);
  const { got } = await onCpu([x], [pooled, gradient!], [value]);
  assert.equal([...got[0]!.data], [...want[0]!.data]);
  assert.equal([...got[1]!.data], [...want[1]!.data]);
});

/**
 * The gradient of loss(inputs) on the cpu device against central differences of the
 * float64 reference, at a few elements of each input.
 */
async function checkGradient(name: string, loss: (...inputs: Variable[]) => Variable, values: NDArray[]): Promise<void> {
  const inputs = variablesFor(values);
  const output = loss(...inputs);
  const gradients = grad(output, inputs);
  const { got } = await onCpu(inputs, gradients, values);
  const wide = values.map((value) => value.astype('float64'));
  const inputs64 = wide.map((value, i) => T.tensor('float64', value.shape, `w${i}`));
  const loss64 = loss(...inputs64);
  const at = (changed: NDArray[]) => T.evaluate(loss64, inputs64.map((input, i) => [input, changed[i]!] as const)).data[0]!;
  const h = 1e-4;
  wide.forEach((value, i) => {
    for (const element of [0, Math.floor(value.size / 2), value.size - 1]) {
      const shifted = (delta: number) => wide.map((other, j) => {
        if (j !== i) return other;
        const data = Float64Array.from(other.data);
        data[element]! += delta;
        return T.array(data, { shape: other.shape as number[] });
      });
      const numeric = (at(shifted(h)) - at(shifted(-h))) / (2 * h);
      const analytic = got[i]!.data[element]!;
      assert.ok(Math.abs(numeric - analytic) <= 2e-3 * Math.max(1, Math.abs(numeric)), `${name}: d/d input ${i}[${element}] is ${analytic} on cpu, ${numeric} by finite differences`);
    }
  });
}

test('cpu window: conv2d gradients (input and filters, through conv_transpose and conv_weight_grad) match finite differences', () =>
  checkGradient('conv2d', (x, w) => T.sum(T.square(T.conv2d(x, w, { stride: [1, 2], padding: [[1, 0], [1, 1]], dilation: [2, 1] }))), [f(2, 2, 6, 7), f(3, 2, 2, 3)]));

test('cpu window: grouped conv1d gradients match finite differences', () =>
  checkGradient('grouped conv1d', (x, w) => T.sum(T.tanh(T.conv1d(x, w, { stride: 2, groups: 2, padding: 1 }))), [f(2, 4, 13), f(4, 2, 3)]));

test('cpu window: avg pool gradient matches finite differences', () =>
  checkGradient('avg pool', (x) => T.sum(T.square(T.avgPool2d(x, [2, 2], { stride: 1, padding: 1 }))), [f(1, 2, 4, 5)]));

test('cpu random: uniform, normal and a dropout mask equal the reference bit for bit, and fuse (no fallback)', async () => {
  const streams = new T.RandomStreams(77);
  const x = T.matrix('x');
  const w = T.matrix('w');
  const uniform = streams.uniform([5, 37]);
  const normal = streams.normal([3, 41]);
  const mask = streams.bernoulli([5, 6], 0.8);
  const dropped = T.matmul(T.mul(x, mask), w);
  const values = [f(5, 6), f(6, 4)];
  const outputs = [uniform, normal, dropped];
  const want = T.evaluate(outputs, [[x, values[0]!], [w, values[1]!]]);
  const { got } = await onCpu([x, w], outputs, values);
  assert.equal([...got[0]!.data], [...want[0]!.data], 'uniform');
  assert.equal([...got[1]!.data], [...want[1]!.data], 'normal');
  assertClose(got[2]!, want[2]!, { rtol: 1e-5, atol: 1e-6 }, 'dropout then matmul');
  assert.ok(got[0]!.data.some((v, i) => v !== got[0]!.data[0] && i > 0), 'the draw varies');
});

test('cpu random: uniform draws and dropout masks run as WebAssembly SIMD (Philox in i32x4 lanes), bit for bit the reference, in vector lanes, tails, threads and broadcasts', async () => {
  const streams = new T.RandomStreams(2024);
  const x = T.matrix('x');
  const big = streams.uniform([67, 301]); // 20167 draws: four-lane steps, a tail of one per row
  const dropped = T.mul(x, T.mul(streams.bernoulli([129, 515], 0.8), 1.25)); // past the serial threshold: split over threads
  const rows = T.add(x, streams.uniform([129, 1])); // one draw per row, broadcast along it
  const values = [f(129, 515)];
  const outputs = [big, dropped, rows];
  const want = T.evaluate(outputs, [[x, values[0]!]]);
  const { got, kernels } = await onCpu([x], outputs, values);
  outputs.forEach((_, i) => assert.equal([...got[i]!.data], [...want[i]!.data], `output ${i}`));
  const drawn = kernels.filter((label) => !label.includes('uint32'));
  assert.ok(drawn.length >= 3 && drawn.every((label) => label.endsWith('[wasm]')), kernels.join('; '));
});

test('cpu: a convolution\'s bias, relu, flattening and dropout run in its WebAssembly epilogue, and their gradient in the product\'s (no JS pass), as the reference computes them', async () => {
  // The demo CNN's layer: the reshape regroups [n, 8, 1, 21] into [n, 168], so the
  // epilogue loops over the convolution's shape and reads the mask at row-major positions.
  const streams = new T.RandomStreams(9);
  const x = T.tensor('float32', [6, 1, 3, 21], 'x');
  const filters = T.tensor('float32', [8, 1, 3, 3], 'filters');
  const bias = T.vector('bias');
  const w = T.matrix('w');
  const flag = T.shared(T.NDArray.scalar(1, 'float32'), 'training');
  const conv = T.relu(T.conv2d(x, filters, { padding: [[0, 0], [1, 1]], bias }));
  const flat = T.reshape(conv, [6, 168]);
  const dropped = T.where(T.gt(flag, 0), T.mul(flat, T.mul(streams.bernoulli([6, 168], 0.75), 1 / 0.75)), flat);
  const loss = T.sum(T.square(T.matmul(dropped, w)));
  const outputs = [dropped, ...grad(loss, [filters, w])];
  const values = [f(6, 1, 3, 21), f(8, 1, 3, 3), f(8), f(168, 5)];
  const inputs = [x, filters, bias, w];
  const want = T.evaluate(outputs, inputs.map((input, i) => [input, values[i]!] as const));
  const { got, kernels } = await onCpu(inputs, outputs, values);
  // Float32 sums in another order: within 1e-5 of each output's largest magnitude.
  outputs.forEach((_, i) => assertClose(got[i]!, want[i]!, { rtol: 1e-4, atol: 1e-5 * Math.max(...want[i]!.data.map(Math.abs)) }, `output ${i}`));
  assert.ok(kernels.every((label) => !label.includes('JS ')), kernels.join('; '));
  assert.ok(kernels.some((label) => /^window conv .*float32\[6,168\] \[wasm\]$/.test(label)), kernels.join('; '));
});

test('cpu reductions: argmax and argmin (ties, NaN, an axis, all axes, keepdims, a fused prologue and epilogue) equal the reference, natively', async () => {
  const value = T.array(new Float32Array([3, 1, 3, -2, NaN, 0, 7, 7, 1, -5, -5, 2]), { shape: [3, 4] });
  const x = T.matrix('x');
  const outputs = [T.argmax(x, 1), T.argmin(x, 0), T.argmax(T.neg(x), null, true), T.eq(T.argmin(T.abs(x), 1), 1)];
  const want = T.evaluate(outputs, [[x, value]]);
  const { got, kernels } = await onCpu([x], outputs, [value]);
  got.forEach((result, i) => assert.equal([...result.data], [...want[i]!.data], `output ${i}`));
  assert.ok(kernels.some((label) => /reduce argmax .*\[js\]/.test(label)), kernels.join('; '));
});

test('cpu subtensor writes: incSubtensor and setSubtensor over slices (negative step, stride), an index and a broadcast value equal the reference bit for bit, natively', async () => {
  const x = T.tensor('float32', [7, 5], 'x');
  const y = T.tensor('float32', [3, 5], 'y');
  const v = T.vector('v');
  const outputs = [
    T.incSubtensor(x, [T.slice(1, 6, 2)], y),
    T.setSubtensor(x, [T.slice(6, 0, -2)], T.mul(y, 2)),
    T.incSubtensor(x, [':', 3], T.exp(v)),
    T.incSubtensor(T.mul(x, 3), [T.slice(2, 4), T.slice(1, null)], 1.5),
  ];
  const values = [f(7, 5), f(3, 5), f(7)];
  const want = T.evaluate(outputs, [[x, values[0]!], [y, values[1]!], [v, values[2]!]]);
  const { got } = await onCpu([x, y, v], outputs, values);
  got.forEach((value, i) => assert.equal([...value.data], [...want[i]!.data], `output ${i}`));
});

test('cpu scan: a GRU-like recurrence and its gradient (backpropagation through time) run each step as a cpu plan, equal to the reference', async () => {
  const xs = T.tensor('float32', [6, 3, 5], 'xs');
  const w = T.matrix('w');
  const u = T.matrix('u');
  const h0 = T.matrix('h0');
  const hs = T.scan({
    fn: (xt, hp) => {
      const z = T.sigmoid(T.add(T.matmul(xt, w), T.matmul(hp, u)));
      return T.add(T.mul(z, hp), T.mul(T.sub(1, z), T.tanh(T.matmul(xt, w))));
    },
    sequences: xs, outputsInfo: [h0],
  }).outputs[0]!;
  const loss = T.sum(T.square(hs));
  const [gw, gu] = grad(loss, [w, u]);
  const values = [f(6, 3, 5), f(5, 4), f(4, 4), f(3, 4)];
  const inputs = [xs, w, u, h0];
  const outputs = [hs, gw!, gu!];
  const want = T.evaluate(outputs, inputs.map((input, i) => [input, values[i]!] as const));
  const { got, kernels } = await onCpu(inputs, outputs, values);
  got.forEach((value, i) => assertClose(value, want[i]!, { rtol: 1e-4, atol: 1e-5 }, `output ${i}`));
  assert.ok(kernels.filter((label) => /\[loop\]/.test(label)).length >= 2, `the forward and backward loops run as loops: ${kernels.join('; ')}`);
});

test.run();
