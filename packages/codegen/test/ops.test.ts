// Every op of the graph package, compiled for the acquired WebGPU device (llvmpipe in
// CI), against the reference evaluator on random inputs: broadcasting, size-1 and odd
// sizes (not multiples of the workgroup), views (transposed, sliced) and scalars.
import { test } from 'uvu';
import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import * as assert from 'uvu/assert';
import { compile, acquireDevice, readShared, type TuningOptions } from '../src/index.ts';
import { chooseTiling } from '../src/render/matmul-tiles.ts';
import { KernelBuilder } from '../src/render/builder.ts';
import { cases, f, i32, type Case } from './op-cases.ts';

/** Plans shaped for the CPU device (thread-per-output reductions, thread-block matmuls), on whatever device runs. */
const cpuShaped: TuningOptions = { workgroupTarget: 1 };

/** Compiles `build` over symbolic inputs of the values' types and compares with the reference evaluator. */
async function check(name: string, build: (...inputs: Variable[]) => Variable, values: NDArray[], rtol = 2e-5, tuning?: TuningOptions): Promise<void> {
  const device = await acquireDevice();
  if (device.kind === 'reference') throw new Error(`no WebGPU device: ${device.skipped.map((s) => s.reason).join('; ')}`);
  // Unknown sizes, except size-1 axes, which broadcast and must say so in the type.
  const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
  const output = build(...inputs);
  const want = T.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
  const fn = compile({ inputs, outputs: [output], device, tuning });
  const [got] = await fn(...values);
  assertClose(got as NDArray, want, { rtol, atol: rtol }, `${name} on ${device.kind}`);
}

for (const [name, build, values, rtol] of cases) {
  test(name, () => check(name, build, values, rtol));
}

test('matmul tiles: on a GPU large products take 128×128 and small ones smaller tiles that fill it; 64×64 on the CPU device', () => {
  const side = (M: number, N: number, batch: number, target: number) => 16 * chooseTiling(M, N, batch, { workgroupTarget: target, matmulTile: 'auto' }).TM;
  assert.equal([side(4096, 4096, 1, 256), side(1024, 1024, 1, 256), side(256, 256, 1, 256), side(1025, 256, 1, 256)], [128, 64, 32, 32]);
  assert.equal([side(64, 12, 1, 256), side(256, 256, 16, 256)], [32, 64]);
  // The CPU device (target 1): 64×64 where it is not mostly padding, else 32×32.
  assert.equal([side(256, 256, 1, 1), side(100, 100, 1, 1), side(64, 12, 1, 1), side(5, 33, 1, 1), side(4096, 4096, 1, 1)], [64, 64, 32, 32, 64]);
});

test('CPU-shaped matmul in thread blocks: vec4 reads of stored operands and their transposes, vec4 epilogues, scalar reads elsewhere', async () => {
  const device = await acquireDevice();
  const tr = T.transpose;
  // [name, build, values, how many read-only bindings are vec4 arrays, whether the output is stored as vec4s]
  const blockCases: [string, (...inputs: Variable[]) => Variable, NDArray[], number, boolean][] = [
    ['plain, rows not a multiple of 8', T.matmul, [f(20, 36), f(36, 44)], 2, true],
    ['A transposed (contiguous along m)', (x, b) => T.matmul(tr(x), b), [f(36, 20), f(36, 44)], 2, true],
    ['B transposed (contiguous along k)', (a, w) => T.matmul(a, tr(w)), [f(20, 36), f(44, 36)], 2, true],
    ['both transposed', (x, w) => T.matmul(tr(x), tr(w)), [f(36, 12), f(28, 36)], 2, true],
    ['x·xᵀ: one buffer, both sides vec4', (x) => T.matmul(x, tr(x)), [f(24, 36)], 1, true],
    ['the epilogue reads A: A and the epilogue stay scalar', (a, b) => T.add(T.matmul(a, b), a), [f(32, 32), f(32, 32)], 1, false],
    ['the epilogue reads B through a reshape: B and the epilogue scalar, A still vec4', (a, b) => T.add(T.matmul(a, b), T.reshape(b, [1, 16, 16])), [f(2, 16, 16), f(16, 16)], 1, false],
    ['B a flipped view of A: one buffer, read one value at a time', (x) => T.matmul(x, T.flip(x)), [f(16, 16)], 0, true],
    ['B computed from A (stored first): both vec4', (x) => T.matmul(x, T.exp(x)), [f(16, 16)], 2, true],
    ['K not a multiple of 4: B along n only', T.matmul, [f(12, 13), f(13, 16)], 1, true],
    ['N not a multiple of 4: A along k only, scalar stores', T.matmul, [f(12, 16), f(16, 10)], 1, false],
    ['batched and broadcast', T.matmul, [f(2, 1, 12, 8), f(3, 8, 16)], 2, true],
    ['batched, B transposed, + bias + relu', (a, w, c) => T.relu(T.add(T.matmul(a, T.dimshuffle(w, 0, 2, 1)), c)), [f(2, 9, 8), f(2, 20, 8), f(20)], 3, true],
    ['a column bias read once per row', (a, b, c) => T.tanh(T.add(T.matmul(a, b), c)), [f(10, 8), f(8, 12), f(10, 1)], 2, true],
    ['narrow: 4-wide blocks, N = 5', T.matmul, [f(3, 8), f(8, 5)], 1, false],
    ['matrix · vector: 1-wide columns', T.matmul, [f(5, 8), f(8)], 1, false],
    ['vector · matrix: 1-high rows', T.matmul, [f(8), f(8, 12)], 1, true],
    ['int32: scalar', T.matmul, [i32(-5, 5, 8, 12), i32(-5, 5, 12, 8)], 0, false],
  ];
  const matmulCode = (fn: ReturnType<typeof compile>) => fn.lastPlan()!.kernels.map((kernel) => kernel.passes[0]!.code).find((text) => text.includes('acc0_0'));
  for (const [name, build, values, reads, vectorStore] of blockCases) {
    await check(name, build, values, 1e-4, cpuShaped);
    const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
    const fn = compile({ inputs, outputs: [build(...inputs)], device, tuning: cpuShaped });
    await fn(...values);
    const code = matmulCode(fn);
    assert.ok(code, `${name}: no thread-block matmul kernel`);
    assert.is(code!.match(/var<storage, read> \w+: array<vec4<f32>>/g)?.length ?? 0, reads, `${name}: vec4 reads\n${code!.slice(0, 600)}`);
    assert.is(/var<storage, read_write> \w+: array<vec4<f32>>/.test(code!), vectorStore, `${name}: vec4 stores\n${code!.slice(0, 600)}`);
  }
  // The product stored too, and its epilogue reading it through a reshape to the same
  // shape: the product is the kernel's own, never read back as a stored tensor.
  const a = T.matrix('a');
  const b = T.matrix('b');
  const product = T.matmul(a, b);
  const both = compile({ inputs: [a, b], outputs: [product, T.relu(T.reshape(product, [-1, 12]))], device, tuning: cpuShaped });
  const [as, bs] = [f(10, 8), f(8, 12)];
  const [got, relu] = await both(as, bs);
  assertClose(got as NDArray, T.evaluate(product, [[a, as], [b, bs]]), { rtol: 1e-5, atol: 1e-6 }, 'product');
  assertClose(relu as NDArray, T.evaluate(T.relu(product), [[a, as], [b, bs]]), { rtol: 1e-5, atol: 1e-6 }, 'relu of the reshaped product');
  // An SGD update written in place (the old weights read through the output's own binding, as vec4s).
  const w0 = f(8, 12);
  const w = T.shared(w0, 'w');
  const x = T.matrix('x');
  const g = T.matrix('g');
  const xs = f(16, 8);
  const gs = f(16, 12);
  const step = compile({ inputs: [x, g], outputs: [], updates: [[w, T.sub(w, T.mul(0.1, T.matmul(tr(x), g)))]], device, tuning: cpuShaped });
  await step(xs, gs);
  const want = T.evaluate(T.sub(T.constant(w0), T.mul(0.1, T.matmul(tr(x), g))), [[x, xs], [g, gs]]);
  assertClose(await readShared(w), want, { rtol: 1e-5, atol: 1e-6 }, 'in-place update');
  const code = matmulCode(step);
  assert.ok(code && /var<storage, read_write> \w+: array<vec4<f32>>/.test(code), code);
});

test('CPU-shaped reductions and row kernels over the last axis read stored rows as vec4s where they can', async () => {
  const device = await acquireDevice();
  const ties = T.array(Float32Array.from({ length: 80 * 8 }, (_, i) => Math.floor((i * 7919) % 13 / 4)), { shape: [80, 8] });
  const reduceCases: [string, (...inputs: Variable[]) => Variable, NDArray[], boolean][] = [
    ['sum of a product with a broadcast row', (x, y) => T.sum(T.mul(T.exp(x), y), -1), [f(70, 12), f(12)], true],
    ['argmax with ties (the first wins)', (x) => T.argmax(x, -1), [ties], true],
    ['argmin', (x) => T.argmin(x, -1), [f(90, 16)], true],
    ['max less a per-row column', (x, c) => T.max(T.sub(x, c), -1), [f(80, 8), f(80, 1)], true],
    ['3-D, the last axis', (x) => T.sum(T.square(x), -1), [f(3, 30, 8)], true],
    ['a width not a multiple of 4 stays scalar', (x) => T.sum(x, -1), [f(70, 10)], false],
    ['not the last axis stays scalar', (x) => T.sum(x, 0), [f(8, 70)], false],
    ['a transposed read stays scalar', (x) => T.sum(T.transpose(x), -1), [f(8, 70)], false],
    ['the epilogue reads the row through a view: scalar after all', (x) => T.add(T.sum(x, -1), T.get(x, ':', 0)), [f(70, 8)], false],
    ['a long sum of everything: chunks of the stored tensor', (x) => T.sum(x), [f(512, 512)], true],
    ['a long max of everything, padded chunks stay scalar', (x) => T.max(x), [f(513, 512)], false],
    ['softmax rows', (x) => T.softmax(x, -1), [f(70, 12)], true],
    ['log-softmax rows with a broadcast row', (x, w) => T.logSoftmax(T.mul(x, w), -1), [f(80, 16), f(16)], true],
    ['normalized rows', (x) => { const centred = T.sub(x, T.mean(x, -1, true)); return T.div(centred, T.sqrt(T.add(T.mean(T.square(centred), -1, true), 1e-5))); }, [f(64, 8)], true],
    ['softmax rows of width 10 stay scalar', (x) => T.softmax(x, -1), [f(70, 10)], false],
  ];
  for (const [name, build, values, vectorized] of reduceCases) {
    await check(name, build, values, undefined, cpuShaped);
    const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
    const fn = compile({ inputs, outputs: [build(...inputs)], device, tuning: cpuShaped });
    await fn(...values);
    const code = fn.lastPlan()!.kernels.map((kernel) => kernel.passes[0]!.code).join('\n');
    assert.is(/array<vec4<f32>>/.test(code), vectorized, `${name}\n${code.slice(0, 500)}`);
  }
});

test('split-K: GPU-shaped plans split long, narrow products and sum the parts, epilogue included', async () => {
  const gpuShaped: TuningOptions = { workgroupTarget: 256 };
  const splitCases: Case[] = [
    ['split-K + bias + relu', (a, b, c) => T.relu(T.add(T.matmul(a, b), c)), [f(40, 300), f(300, 30), f(30)], 1e-4],
    ['split-K, transposed operands', (a, b) => T.matmul(T.transpose(a), b), [f(1025, 20), f(1025, 7)], 1e-4],
    ['split-K int32', T.matmul, [i32(-5, 5, 6, 130), i32(-5, 5, 130, 3)]],
  ];
  for (const [name, build, values, rtol] of splitCases) await check(name, build, values, rtol, gpuShaped);
  // The plan: a batched product of views, then the sum (one kernel each).
  const a = T.matrix('a');
  const b = T.matrix('b');
  const fn = compile({ inputs: [a, b], outputs: T.tanh(T.matmul(a, b)), device: await acquireDevice(), tuning: gpuShaped });
  await fn(f(40, 300), f(300, 30));
  const labels = fn.lastPlan()!.kernels.map((kernel) => kernel.passes[0]!.label);
  assert.equal(labels.length, 2, labels.join('; '));
  assert.ok(labels[0]!.startsWith('matmul[') && labels[0]!.endsWith('float32[6,40,30]') && labels[1]!.startsWith('reduce[tanh,sum'), labels.join('; '));
});

// Every tiling runs every matmul case here (the sizes alone would pick the small ones).
for (const tile of [128, 64, 32] as const) {
  for (const vec4 of [false, true]) {
    test(`matmul cases with ${tile}×${tile} tiles${vec4 ? ', vec4 loads where they apply' : ''}`, async () => {
      const tuning: TuningOptions = { matmulTile: tile, matmulVec4Loads: vec4 };
      const matmulCases = cases.filter(([name]) => name.startsWith('matmul') || name === 'tensordot');
      const exact: Case[] = [['matmul 128×128 by 128×128', T.matmul, [f(128, 128), f(128, 128)], 1e-4], ['matmul + bias, batched exact', (a, b, c) => T.add(T.matmul(a, b), c), [f(2, 64, 64), f(64, 128), f(128)], 1e-4]];
      for (const [name, build, values, rtol] of [...matmulCases, ...exact]) await check(`${name} (${tile}×${tile} tiles)`, build, values, rtol, tuning);
    });
  }
}

test('vec4 matmul loads: on for plain buffers at tile multiples, off where the epilogue or the other operand reads an operand', async () => {
  const device = await acquireDevice();
  const tuning: TuningOptions = { matmulVec4Loads: true, cpuMatmul: 'tiles' };
  const a = T.matrix('a');
  const b = T.matrix('b');
  const values = [f(128, 128), f(128, 128)];
  // x·xᵀ: B reads A's buffer one value at a time, so A may not be a vec4 binding.
  for (const [output, vectorized] of [[T.tanh(T.matmul(a, b)), true], [T.add(T.matmul(a, b), a), false], [T.add(T.matmul(a, T.transpose(a)), b), false]] as const) {
    const fn = compile({ inputs: [a, b], outputs: [output], device, tuning });
    const [got] = await fn(...values);
    assertClose(got as NDArray, T.evaluate(output, [[a, values[0]!], [b, values[1]!]]), { rtol: 1e-4, atol: 1e-4 });
    const code = fn.lastPlan()!.kernels[0]!.passes[0]!.code;
    assert.is(code.includes('ra4'), vectorized, code.slice(0, 400));
  }
});

test('elementwise kernels on vec4s where the reads allow, and scalar where they do not', async () => {
  const device = await acquireDevice();
  const cases: [string, (...inputs: Variable[]) => Variable, NDArray[], boolean][] = [
    ['broadcast rows and columns', (x, a, b) => T.sub(T.mul(T.tanh(T.add(T.mul(x, a), b)), T.sigmoid(x)), T.exp(T.neg(T.square(x)))), [f(6, 8), f(8), f(1, 8)], true],
    ['a column broadcast along the row', (x, c) => T.where(T.gt(c, 0), T.mul(x, c), T.sub(x, 1)), [f(3, 12), f(3, 1)], true],
    ['1-D with a scalar', (x) => T.add(T.mul(x, 3), T.exp(x)), [f(20)], true],
    ['a transposed operand stays scalar', (x, y) => T.add(x, T.transpose(y)), [f(4, 8), f(8, 4)], false],
    ['a last axis not a multiple of 4 stays scalar', (x) => T.exp(x), [f(5, 7)], false],
    ['a tensor read as itself and as vec4s through a reshape stays scalar', (x) => T.sub(x, T.reshape(x, [1, 8])), [f(8, 1)], false],
    ['an int32 output stays scalar', (x) => T.mul(x, 2), [i32(-9, 9, 4, 8)], false],
  ];
  for (const [name, build, values, vectorized] of cases) {
    const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
    const output = build(...inputs);
    const want = T.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
    const fn = compile({ inputs, outputs: [output], device });
    const [got] = await fn(...values);
    assertClose(got as NDArray, want, { rtol: 2e-5, atol: 2e-5 }, name);
    const code = fn.lastPlan()!.kernels.map((kernel) => kernel.passes[0]!.code).join('\n');
    assert.is(code.includes('array<vec4<f32>>'), vectorized, `${name}: vec4 kernel ${vectorized ? 'expected' : 'not expected'}\n${code}`);
  }
});

// The convolutions through every kernel that can run them: implicit products in thread
// blocks (CPU-shaped), in each tile size (GPU-shaped), and the direct kernel.
const convTunings: [string, TuningOptions][] = [
  ['thread blocks', { workgroupTarget: 1 }], ['GPU-shaped', { workgroupTarget: 256 }],
  ['128×128 tiles', { matmulTile: 128 }], ['32×32 tiles', { matmulTile: 32 }], ['direct', { convolutions: 'direct' }],
];
for (const [label, tuning] of convTunings) {
  test(`convolutions and their adjoints through ${label}`, async () => {
    for (const [name, build, values, rtol] of cases.filter(([name]) => /^conv/.test(name))) await check(`${name} (${label})`, build, values, rtol, tuning);
  });
}

test('conv1d on long audio (8 × 1 × 220500, 64 filters of 1024 taps, stride 256) stores no im2col matrix', async () => {
  const device = await acquireDevice();
  const x = T.tensor('float32', [8, 1, 220500], 'audio');
  const w = T.tensor('float32', [64, 1, 1024], 'filters');
  const [audio, filters] = [f(8, 1, 220500), f(64, 1, 1024)];
  const fn = compile({ inputs: [x, w], outputs: [T.conv1d(x, w, { stride: 256 })], device });
  const [got] = (await fn(audio, filters)) as NDArray[];
  assert.equal(got!.shape, [8, 64, Math.floor((220500 - 1024) / 256) + 1]);
  // Sampled outputs against a direct sum on the host.
  for (const [n, k, o] of [[0, 0, 0], [7, 63, 856], [3, 17, 400]] as const) {
    let want = 0;
    for (let tap = 0; tap < 1024; tap++) want += audio.data[n * 220500 + o * 256 + tap]! * filters.data[k * 1024 + tap]!;
    const value = got!.data[(n * 64 + k) * got!.shape[2]! + o]!;
    assert.ok(Math.abs(value - want) <= 1e-4 * 32, `[${n}, ${k}, ${o}]: ${value}, expected ${want}`);
  }
  // No buffer of the plan is larger than the audio itself (im2col would be 1024 / 256 = 4 times larger).
  const largest = Math.max(...fn.lastPlan()!.owned.map((buffer) => buffer.size));
  assert.ok(largest <= 8 * 220500 * 4, `a ${largest}-byte buffer`);
});

test('views read in place: a sliced, transposed operand', async () => {
  await check('view', (x) => T.exp(T.transpose(T.get(x, T.slice(1, null), T.slice(null, null, 2)))), [f(9, 8)]);
});

test('generated names never spell a WGSL type or reserved word (the 32nd name with prefix f would be f32)', () => {
  for (const prefix of ['f', 'i', 'u', 'vec']) {
    const builder = new KernelBuilder(new Set(), T.scalar('s'));
    const names = Array.from({ length: 70 }, () => builder.fresh(prefix));
    for (const reserved of ['f16', 'f32', 'f64', 'i32', 'u32', 'u8', 'i16', 'vec2', 'vec3', 'vec4']) assert.not.ok(names.includes(reserved), `${prefix}: ${names.join(' ')}`);
  }
});

test.run();
