// Fusion, asserted by kernel counts on the acquired device, with results checked too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, randomArray } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import { clipByGlobalNorm, grad, sgd } from '@theorbo/autodiff';
import { acquireDevice, compile, partition } from '../src/index.ts';

async function kernels(build: (...inputs: Variable[]) => Variable, values: NDArray[], types?: Variable[]): Promise<number> {
  const device = await acquireDevice();
  assert.ok(device.kind !== 'reference', 'no WebGPU device');
  const inputs = types ?? values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
  const output = build(...inputs);
  const fn = compile({ inputs, outputs: [output], device });
  const [got] = await fn(...values);
  assertClose(got as NDArray, T.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const)), { rtol: 1e-4, atol: 1e-5 });
  return fn.kernelCount();
}

const r = (...shape: number[]) => randomArray('float32', shape, { seed: shape.length * 7 + shape[0]! });

test('a chain of eight elementwise ops over broadcast inputs is one kernel', async () => {
  const count = await kernels((x, a, b) => T.sub(T.mul(T.tanh(T.add(T.mul(x, a), b)), T.sigmoid(x)), T.exp(T.neg(T.square(x)))), [r(33, 17), r(17), r(33, 1)]);
  assert.is(count, 1);
});

test('sum(exp(x − max(x))) is at most two kernels', async () => {
  const count = await kernels((x) => T.sum(T.exp(T.sub(x, T.max(x, 1, true))), 1), [r(9, 300)]);
  assert.ok(count <= 2, `${count} kernels`);
});

test('a matmul absorbs its bias and activation', async () => {
  assert.is(await kernels((a, w, b) => T.relu(T.add(T.matmul(a, w), b)), [r(20, 30), r(30, 10), r(10)]), 1);
});

test('a reduction absorbs the ops that follow it', async () => {
  assert.is(await kernels((x) => T.sqrt(T.add(T.mean(T.square(x), 1), 1e-5)), [r(8, 100)]), 1);
});

test('movement is index arithmetic, not copies', async () => {
  const count = await kernels((x) => T.exp(T.reshape(T.transpose(T.get(T.broadcastTo(x, [3, 4, 5]), ':', T.slice(1, null), T.slice(null, null, -1))), [-1])), [r(4, 1)]);
  assert.is(count, 1);
});

test('softmax and log-softmax are one pass: a workgroup a row computes max, sum and the output', async () => {
  assert.is(await kernels((x) => T.softmax(x), [r(7, 300)]), 1);
  assert.is(await kernels((x) => T.logSoftmax(x), [r(3, 2, 700)]), 1);
});

test('chained row reductions (a layer norm) fuse into one pass, also with more columns than threads', async () => {
  const layerNorm = (x: Variable) => {
    const centered = T.sub(x, T.mean(x, -1, true));
    return T.div(centered, T.sqrt(T.add(T.mean(T.square(centered), -1, true), 1e-5)));
  };
  assert.is(await kernels(layerNorm, [r(5, 1000)]), 1);
  assert.is(await kernels(layerNorm, [r(2, 3, 17)]), 1);
});

test('row fusion only where the reader takes each row\'s results at its own row (not flipped, rolled, or broadcast across columns)', async () => {
  await kernels((x) => T.flip(T.softmax(x), 0), [r(3, 4)]);
  await kernels((x) => T.roll(T.logSoftmax(x), 1, 0), [r(5, 300)]);
  await kernels((x) => T.sub(x, T.max(x, 1)), [r(4, 4)]); // max is [4], broadcast along the last axis
  assert.is(await kernels((x) => T.mul(T.softmax(x), 2), [r(3, 4)]), 1);
});

test('a root stored for other kernels runs before them; epilogues that would deadlock stay apart', async () => {
  // mean(square(x·w)) with SGD: the matmul's epilogue and other kernels both need x·w.
  const device = await acquireDevice();
  const x = T.matrix('x');
  const w = T.shared(randomArray('float32', [4, 3], { seed: 3 }), 'w');
  const loss = T.mean(T.square(T.dot(x, w)));
  const clipped = clipByGlobalNorm(grad(loss, [w]), 0.1);
  const updates = sgd(clipped, [w], 0.1);
  const step = compile({ inputs: [x], outputs: loss, updates, device });
  const reference = T.referenceFunction({ inputs: [x], outputs: loss, updates: updates.map(([p, v]) => [p, v] as const) });
  const xs = randomArray('float32', [8, 4], { seed: 4 });
  const before = w.get();
  const [got] = await step(xs);
  w.set(before);
  const [want] = reference(xs);
  assertClose(got as NDArray, want!, { rtol: 1e-5, atol: 1e-6 });
});

test('the gradient of x[arange(n), y] runs without a scatter kernel: a gather where a sum over columns reads it, else a one-hot select', async () => {
  const device = await acquireDevice();
  const n = 40;
  const labels = randomArray('int32', [n], { low: 0, high: 24, seed: 5 });
  const run = async (build: (x: Variable, y: Variable) => Variable, shape: number[]) => {
    const x = T.tensor('float32', shape.map(() => null), 'x');
    const y = T.ivector('y');
    const output = build(x, y);
    const values = [randomArray('float32', shape, { seed: 9 }), labels] as const;
    const fn = compile({ inputs: [x, y], outputs: [output], device });
    const [got] = await fn(...values);
    assertClose(got as NDArray, T.evaluate(output, [[x, values[0]], [y, values[1]]]), { rtol: 1e-4, atol: 1e-6 });
    return fn.lastPlan()!.kernels.map((kernel) => kernel.passes[0]!.label);
  };
  // The talk's template-distance loss, and cross-entropy with integer labels.
  const templates = T.constant(randomArray('float32', [24, 12], { seed: 3 }));
  const talk = (x: Variable, y: Variable) => {
    const distance = T.square(T.sub(T.dimshuffle(x, 0, 'x', 1), T.dimshuffle(templates, 'x', 0, 1)));
    return grad(T.mean(T.get(distance, T.arange(T.dim(y, 0)), y)), x);
  };
  const crossEntropy = (x: Variable, y: Variable) => grad(T.mean(T.neg(T.log(T.get(T.softmax(x, -1), T.arange(T.dim(y, 0)), y)))), x);
  const otherAxis = (x: Variable, y: Variable) => T.sum(T.mul(T.incSubtensor(T.zeros([n, 24]), [T.arange(n), y], T.ones([n])), x), 0);
  const negativeLabels = (x: Variable, y: Variable) => T.mul(T.incSubtensor(T.zeros([n, 24]), [T.arange(n), T.sub(y, 24)], T.ones([n])), x);
  // One label for every row (an index of shape [1] broadcasts against arange(n)).
  const oneLabel = (x: Variable, y: Variable) => T.mul(T.incSubtensor(T.zeros([n, 24]), [T.arange(n), T.get(y, T.slice(0, 1))], T.ones([n])), x);
  const cases = [['template distance', talk, [n, 12]], ['cross-entropy', crossEntropy, [n, 24]], ['summed over axis 0', otherAxis, [n, 24]], ['negative labels', negativeLabels, [n, 24]]] as const;
  await run(oneLabel, [n, 24]); // compiles (as a scatter) and agrees with the reference
  for (const [name, build, shape] of cases) {
    const kernelLabels = await run(build, [...shape]);
    assert.ok(kernelLabels.every((label) => !label.startsWith('scatter')), `${name}: ${kernelLabels.join('; ')}`);
    if (name === 'template distance') assert.ok(kernelLabels.every((label) => !label.includes('where,eq')), `a gather, not a select: ${kernelLabels.join('; ')}`);
  }
  // Rows that are not every row once keep the scatter (repeated rows accumulate).
  const rowsTwice = (x: Variable, y: Variable) => grad(T.sum(T.mul(T.get(x, T.mod(T.arange(T.dim(y, 0)), 20), y), T.arange(T.dim(y, 0), undefined, undefined, 'float32'))), x);
  const kept = await run(rowsTwice, [n, 24]);
  assert.ok(kept.some((label) => label.startsWith('scatter')), `rows hit twice: ${kept.join('; ')}`);
});

test('a costly value read at many shifts (a sliding maximum and its gradient) is stored once, not recomputed at each', async () => {
  // f costs four ops; the maximum over five shifted windows reads it at five indices
  // per element, and the gradient reads each window's running maximum at five more.
  const costly = (x: Variable) => T.log(T.add(T.mul(T.exp(x), x), 2));
  const slidingMax = (f: Variable) => [1, 2, 3, 4].reduce((m, k) => T.maximum(m, T.get(f, ':', T.slice(k, 36 + k))), T.get(f, ':', T.slice(0, 36)));
  const x = T.tensor('float32', [4, 40], 'x');
  const f = costly(x);
  const y = slidingMax(f);
  const parts = partition([y], { maxBuffers: 8 });
  assert.ok(parts.materialized.has(f), 'f is stored');
  assert.is(parts.kernels.length, 2);
  // Read at two shifts it stays fused: recomputing four ops twice beats a buffer round trip.
  const pair = T.add(T.get(f, ':', T.slice(0, 39)), T.get(f, ':', T.slice(1, 40)));
  assert.not.ok(partition([pair], { maxBuffers: 8 }).materialized.has(f), 'two shifts: fused');
  // The gradient through the windows agrees with the reference on the acquired device.
  const values = [r(4, 40)];
  const count = await kernels((v) => grad(T.sum(T.mul(slidingMax(costly(v)), T.arange(36, undefined, undefined, 'float32'))), v), values, [x]);
  assert.ok(count >= 2, `${count} kernels`);
});

test('a scalar random draw whose state is computed in the same graph (the state has more axes than the draw) partitions and runs, equal to the reference', async () => {
  const streams = new T.RandomStreams(3);
  const x = T.tensor('float32', [2, 3], 'x');
  const seed = T.tensor('uint32', [2], 'seed');
  const drawn = T.mul(T.exp(T.add(x, streams.uniform([]))), 2);
  const [out] = T.clone([drawn], [[streams.state, T.add(seed, T.constant(new Uint32Array([0, 1])))]]);
  const parts = partition([out!], { maxBuffers: 8 });
  assert.ok(parts.kernels.length >= 1);
  const values = [r(2, 3), T.array(new Uint32Array([5, 9]), { shape: [2] })];
  const count = await kernels(() => out!, values, [x, seed]);
  assert.ok(count >= 1, `${count} kernels`);
  const [onCpu] = await compile({ inputs: [x, seed], outputs: [out!], device: 'cpu' })(...values);
  assert.equal([...(onCpu as NDArray).data], [...T.evaluate(out!, [[x, values[0]!], [seed, values[1]!]]).data], 'the cpu device, bit for bit');
});

test('fusion: false runs one kernel per op with the same results', async () => {
  const device = await acquireDevice();
  const x = T.matrix('x');
  const a = T.vector('a');
  const y = T.sum(T.tanh(T.add(T.mul(x, 2), a)), 1);
  const values = [r(5, 7), r(7)];
  const fused = compile({ inputs: [x, a], outputs: y, device });
  const unfused = compile({ inputs: [x, a], outputs: y, device, fusion: false });
  const [want] = await fused(...values);
  const [got] = await unfused(...values);
  assertClose(got as NDArray, want as NDArray, { rtol: 1e-6, atol: 1e-6 });
  assert.is(fused.kernelCount(), 1);
  assert.ok(unfused.kernelCount() >= 4, `${unfused.kernelCount()} kernels`);
});

test.run();
