// Every op of the graph package, compiled for the acquired WebGPU device (llvmpipe in
// CI), against the reference evaluator on random inputs: broadcasting, size-1 and odd
// sizes (not multiples of the workgroup), views (transposed, sliced) and scalars.
import { test } from 'uvu';
import * as T from '@theorbo/graph';
import { assertClose, randomArray } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import * as assert from 'uvu/assert';
import { compile, acquireDevice, readShared } from '../src/index.ts';
import { chooseTiling } from '../src/render/matmul.ts';
import { KernelBuilder } from '../src/render/builder.ts';

let seed = 11;
const f = (...shape: number[]) => randomArray('float32', shape, { seed: seed++ });
const pos = (...shape: number[]) => randomArray('float32', shape, { low: 0.1, high: 3, seed: seed++ });
const i32 = (low: number, high: number, ...shape: number[]) => randomArray('int32', shape, { low, high, seed: seed++ });
const u32 = (...shape: number[]) => randomArray('uint32', shape, { low: 0, high: 50, seed: seed++ });
const bool = (...shape: number[]) => randomArray('bool', shape, { seed: seed++ });
const ints = (values: number[], shape = [values.length]) => T.array(new Int32Array(values), { shape });

type Case = [string, (...inputs: Variable[]) => Variable, NDArray[], number?];

/** Runs `body` with the default vec4 setting (the tests that check which reads are vec4s hold whatever THEORBO_VEC4 the run sets). */
async function withDefaultVec4(body: () => Promise<void>): Promise<void> {
  const saved = process.env.THEORBO_VEC4;
  delete process.env.THEORBO_VEC4;
  try {
    await body();
  } finally {
    if (saved !== undefined) process.env.THEORBO_VEC4 = saved;
  }
}

/** Compiles `build` over symbolic inputs of the values' types and compares with the reference evaluator. */
async function check(name: string, build: (...inputs: Variable[]) => Variable, values: NDArray[], rtol = 2e-5): Promise<void> {
  const device = await acquireDevice();
  if (device.kind === 'reference') throw new Error(`no WebGPU device: ${device.skipped.map((s) => s.reason).join('; ')}`);
  // Unknown sizes, except size-1 axes, which broadcast and must say so in the type.
  const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
  const output = build(...inputs);
  const want = T.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
  const fn = compile({ inputs, outputs: [output], device });
  const [got] = await fn(...values);
  assertClose(got as NDArray, want, { rtol, atol: rtol }, `${name} on ${device.kind}`);
}

const unary: Case[] = ([
  ['neg', T.neg], ['abs', T.abs], ['sign', T.sign], ['exp', T.exp], ['expm1', T.expm1], ['square', T.square],
  ['sin', T.sin], ['cos', T.cos], ['tanh', T.tanh], ['sigmoid', T.sigmoid], ['softplus', T.softplus],
  ['floor', T.floor], ['ceil', T.ceil], ['round', T.round], ['stop_gradient', T.stopGradient],
] as [string, (x: Variable) => Variable][]).map(([name, fn]) => [name, fn, [f(37, 29)]] as Case);

const cases: Case[] = [
  ...unary,
  ['erf', T.erf, [f(300)], 3e-6],
  // Away from tan's poles, where float32 rounding of the input alone changes the result.
  ['tan', T.tan, [randomArray('float32', [37, 29], { low: -1.2, high: 1.2, seed: 5 })]],
  ...([['log', T.log], ['log1p', T.log1p], ['sqrt', T.sqrt], ['rsqrt', T.rsqrt], ['reciprocal', T.reciprocal]] as [string, (x: Variable) => Variable][])
    .map(([name, fn]) => [name, fn, [pos(513)]] as Case),
  ['neg int32', T.neg, [i32(-9, 9, 5, 7)]],
  ['abs int32', T.abs, [i32(-9, 9, 65)]],
  ['sign int32', T.sign, [i32(-3, 3, 65)]],
  ['logical_not', T.logicalNot, [bool(33)]],
  ['cast float→int32', (x) => T.cast(T.mul(x, 100), 'int32'), [f(257)]],
  ['cast float→uint32', (x) => T.cast(T.mul(x, 100), 'uint32'), [f(257)]],
  ['cast int→float', (x) => T.cast(x, 'float32'), [i32(-100, 100, 9)]],
  ['cast float→bool', (x) => T.cast(T.round(x), 'bool'), [f(40)]],
  ['add broadcast', T.add, [f(7, 1, 5), f(3, 1)]],
  ['sub', T.sub, [f(300), f(1)]],
  ['mul scalar', T.mul, [f(), f(4, 3)]],
  ['div', T.div, [f(5, 6), pos(6)]],
  ['int_div float', T.intDiv, [f(50), pos(50)]],
  ['mod float', T.mod, [f(50), pos(50)]],
  ['int_div int32', T.intDiv, [i32(-20, 20, 100), i32(-5, 6, 100)]],
  ['mod int32', T.mod, [i32(-20, 20, 100), i32(-5, 6, 100)]],
  ['int_div uint32', T.intDiv, [u32(100), u32(100)]],
  ['mod uint32', T.mod, [u32(100), u32(100)]],
  ['add uint32', T.add, [u32(10), u32(10)]],
  ['mul int32', T.mul, [i32(-1000, 1000, 10), i32(-1000, 1000, 10)]],
  ['pow', T.pow, [pos(40), f(40)]],
  ['pow negative base integral exponent', (a) => T.pow(a, 3), [f(40)]],
  ['pow int32', T.pow, [i32(-4, 4, 30), i32(0, 5, 30)]],
  ['maximum', T.maximum, [f(9, 9), f(9)]],
  ['minimum', T.minimum, [f(9, 9), f(1, 9)]],
  ['maximum int32', T.maximum, [i32(-5, 5, 9), i32(-5, 5, 9)]],
  ['atan2', T.atan2, [f(70), f(70)]],
  ...(['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const).map((op) => [op, (a: Variable, b: Variable) => (T as unknown as Record<string, (a: Variable, b: Variable) => Variable>)[op]!(a, b), [i32(-2, 2, 4, 9), i32(-2, 2, 9)]] as Case),
  ['lt float', T.lt, [f(100), f(100)]],
  ['logical_and', T.logicalAnd, [bool(5, 8), bool(8)]],
  ['logical_or', T.logicalOr, [bool(40), bool(40)]],
  ['logical_xor', T.logicalXor, [bool(40), bool(1)]],
  ['where', T.where, [bool(6, 1), f(6, 7), f(7)]],
  ['clip', (x) => T.clip(x, -0.5, 0.5), [f(300)]],
  ['chain of eight', (x, a, b) => T.sub(T.mul(T.tanh(T.add(T.mul(x, a), b)), T.sigmoid(x)), T.exp(T.neg(T.square(x)))), [f(33, 17), f(17), f(33, 1)]],
  ['sum all', (x) => T.sum(x), [f(37, 29)]],
  ['sum all, long: two stages', (x) => T.sum(x), [f(301, 999)], 1e-3],
  ['max all, long: two stages, padded with −∞', (x) => T.max(x, null, true), [f(70001)]],
  ['all, long: two stages, padded with true', (x) => T.all(x), [bool(70001)]],
  ['sum large', (x) => T.sum(x, 1), [f(3, 5000)], 1e-4],
  ['sum axis 0', (x) => T.sum(x, 0), [f(300, 7)], 1e-4],
  ['sum axes keepdims', (x) => T.sum(x, [0, 2], true), [f(4, 5, 6)]],
  ['sum int32', (x) => T.sum(x, 1), [i32(-9, 9, 5, 7)]],
  ['sum bool', (x) => T.sum(x), [bool(77)]],
  ['prod', (x) => T.prod(x, 1), [f(4, 6)]],
  ['max', (x) => T.max(x, 1), [f(13, 700)]],
  ['min', (x) => T.min(x, 0), [f(13, 7)]],
  ['max int32', (x) => T.max(x), [i32(-99, 99, 1000)]],
  ['any', (x) => T.any(x, 1), [bool(5, 3)]],
  ['all', (x) => T.all(x, 0), [bool(5, 3)]],
  ['argmax', (x) => T.argmax(x, 1), [f(9, 31)]],
  ['argmin flattened', (x) => T.argmin(x), [f(9, 300)]],
  ['argmax ties', (x) => T.argmax(x, 1), [i32(0, 2, 5, 9)]],
  ['mean', (x) => T.mean(x, 0), [f(10, 3)]],
  ['variance', (x) => T.variance(x, 1), [f(4, 50)]],
  ['logsumexp', (x) => T.logsumexp(x, 1), [f(4, 50)]],
  ['softmax', (x) => T.softmax(x), [f(7, 300)]],
  ['logSoftmax', (x) => T.logSoftmax(x), [f(7, 12)]],
  ['matmul odd sizes', T.matmul, [f(67, 33), f(33, 70)], 1e-4],
  ['matmul large tiles, odd sizes', (a, b, c) => T.tanh(T.add(T.matmul(a, b), c)), [f(131, 21), f(21, 150), f(150)], 1e-4],
  ['matmul large tiles, transposed, batched', (a, b) => T.matmul(a, T.dimshuffle(b, 0, 2, 1)), [f(2, 129, 9), f(2, 140, 9)], 1e-4],
  ['matmul exact multiples of every tile (no edge masks)', T.matmul, [f(128, 112), f(112, 128)], 1e-4],
  ['matmul vector @ matrix', T.matmul, [f(33), f(33, 5)]],
  ['matmul matrix @ vector', T.matmul, [f(5, 33), f(33)]],
  ['matmul vector @ vector', T.matmul, [f(100), f(100)]],
  ['matmul batched broadcast', T.matmul, [f(2, 1, 3, 4), f(5, 4, 2)]],
  ['matmul transposed operands', (a, b) => T.matmul(T.transpose(a), T.transpose(b)), [f(20, 9), f(7, 20)]],
  ['matmul int32', T.matmul, [i32(-5, 5, 6, 7), i32(-5, 5, 7, 3)]],
  ['matmul + bias + relu', (a, b, c) => T.relu(T.add(T.matmul(a, b), c)), [f(70, 40), f(40, 65), f(65)], 1e-4],
  ['tensordot', (a, b) => T.tensordot(a, b, [[1, 2], [0, 1]]), [f(3, 4, 5), f(4, 5, 6)]],
  ['reshape', (x) => T.reshape(x, [6, -1]), [f(4, 3, 5)]],
  ['reshape of transpose', (x) => T.reshape(T.transpose(x), [-1]), [f(4, 3)]],
  ['dimshuffle', (x) => T.dimshuffle(x, 2, 'x', 0, 1), [f(3, 4, 5)]],
  ['broadcastTo', (x) => T.broadcastTo(x, [4, 3, 5]), [f(3, 1)]],
  ['slice', (x) => T.get(x, T.slice(1, null, 2), T.slice(null, null, -1)), [f(9, 7)]],
  ['index', (x) => T.get(x, ':', -2), [f(9, 7)]],
  ['concat', (a, b) => T.concat([a, b], 1), [f(3, 4), f(3, 2)]],
  ['stack', (a, b) => T.stack([a, b], 1), [f(3, 4), f(3, 4)]],
  ['pad constant', (x) => T.pad(x, [[1, 2], [0, 3]], { value: 7 }), [f(4, 5)]],
  ['pad reflect', (x) => T.pad(x, [[2, 1], [1, 2]], { mode: 'reflect' }), [f(4, 5)]],
  ['pad edge', (x) => T.pad(x, [[2, 1], [0, 3]], { mode: 'edge' }), [f(4, 5)]],
  ['roll', (x) => T.roll(x, 3, 1), [f(2, 7)]],
  ['flip', (x) => T.flip(x), [f(4, 5)]],
  ['setSubtensor', (x, y) => T.setSubtensor(x, [T.slice(1, 6, 2)], y), [f(7, 3), f(3)]],
  ['incSubtensor index', (x, y) => T.incSubtensor(x, [':', 1], y), [f(4, 3), f(4)]],
  ['gather rows', (x, i) => T.get(x, i), [f(5, 3), ints([4, 0, -1, 2, 2])]],
  ['gather talk style', (d, y) => T.get(d, T.arange(T.dim(y, 0)), y), [f(6, 24, 12), i32(0, 24, 6)]],
  ['gather non-adjacent', (x, i, j) => T.get(x, i, ':', j), [f(4, 5, 6), ints([1, 3]), ints([0, 5])]],
  ['scatter inc with repeats', (x, y, i) => T.incSubtensor(x, [i], y), [f(5, 3), f(6, 3), ints([1, 1, 4, 0, 1, 4])]],
  ['scatter inc int32', (x, y, i) => T.incSubtensor(x, [i], y), [i32(0, 5, 5), i32(0, 5, 4), ints([1, 1, 3, 1])]],
  ['scatter set', (x, y, i) => T.setSubtensor(x, [i], y), [f(5, 3), f(2, 3), ints([3, 0])]],
  ['arange', (x) => T.add(x, T.arange(0, 7, 1, 'float32')), [f(3, 7)]],
  ['eye', (x) => T.mul(x, T.eye(5)), [f(5, 5)]],
  ['oneHot', (y) => T.oneHot(y, 6), [i32(0, 6, 9)]],
  ['categoricalCrossentropy', (p, y) => T.categoricalCrossentropy(T.softmax(p), y), [f(8, 5), i32(0, 5, 8)]],
  ['empty', (x) => T.exp(x), [f(0, 3)]],
  ['scalar', (x) => T.mul(T.exp(x), 2), [f()]],
];

for (const [name, build, values, rtol] of cases) {
  test(name, () => check(name, build, values, rtol));
}

test('matmul tiles: on a GPU large products take 128×128 and small ones smaller tiles that fill it; 64×64 on the CPU device', () => {
  const side = (M: number, N: number, batch: number, target: number) => 16 * chooseTiling(M, N, batch, target).TM;
  assert.equal([side(4096, 4096, 1, 256), side(1024, 1024, 1, 256), side(256, 256, 1, 256), side(1025, 256, 1, 256)], [128, 64, 32, 32]);
  assert.equal([side(64, 12, 1, 256), side(256, 256, 16, 256)], [32, 64]);
  // The CPU device (target 1): 64×64 where it is not mostly padding, else 32×32.
  assert.equal([side(256, 256, 1, 1), side(100, 100, 1, 1), side(64, 12, 1, 1), side(5, 33, 1, 1), side(4096, 4096, 1, 1)], [64, 64, 32, 32, 64]);
});

test('CPU-device matmul in thread blocks: vec4 reads of stored operands and their transposes, vec4 epilogues, scalar reads elsewhere', () => withDefaultVec4(async () => {
  const device = await acquireDevice();
  if (device.kind !== 'cpu-webgpu') return; // a GPU runs the tiled kernel (the cases above)
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
    await check(name, build, values, 1e-4);
    const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
    const fn = compile({ inputs, outputs: [build(...inputs)], device });
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
  const both = compile({ inputs: [a, b], outputs: [product, T.relu(T.reshape(product, [-1, 12]))], device });
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
  const step = compile({ inputs: [x, g], outputs: [], updates: [[w, T.sub(w, T.mul(0.1, T.matmul(tr(x), g)))]], device });
  await step(xs, gs);
  const want = T.evaluate(T.sub(T.constant(w0), T.mul(0.1, T.matmul(tr(x), g))), [[x, xs], [g, gs]]);
  assertClose(await readShared(w), want, { rtol: 1e-5, atol: 1e-6 }, 'in-place update');
  const code = matmulCode(step);
  assert.ok(code && /var<storage, read_write> \w+: array<vec4<f32>>/.test(code), code);
}));

test('CPU-device reductions and row kernels over the last axis read stored rows as vec4s where they can', () => withDefaultVec4(async () => {
  const device = await acquireDevice();
  if (device.kind !== 'cpu-webgpu') return; // GPU plans reduce in workgroups
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
    await check(name, build, values);
    const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
    const fn = compile({ inputs, outputs: [build(...inputs)], device });
    await fn(...values);
    const code = fn.lastPlan()!.kernels.map((kernel) => kernel.passes[0]!.code).join('\n');
    assert.is(/array<vec4<f32>>/.test(code), vectorized, `${name}\n${code.slice(0, 500)}`);
  }
}));

test('split-K: GPU-shaped plans split long, narrow products and sum the parts, epilogue included', async () => {
  process.env.THEORBO_WORKGROUP_TARGET = '256';
  try {
    const splitCases: Case[] = [
      ['split-K + bias + relu', (a, b, c) => T.relu(T.add(T.matmul(a, b), c)), [f(40, 300), f(300, 30), f(30)], 1e-4],
      ['split-K, transposed operands', (a, b) => T.matmul(T.transpose(a), b), [f(1025, 20), f(1025, 7)], 1e-4],
      ['split-K int32', T.matmul, [i32(-5, 5, 6, 130), i32(-5, 5, 130, 3)]],
    ];
    for (const [name, build, values, rtol] of splitCases) await check(name, build, values, rtol);
    // The plan: a batched product of views, then the sum (one kernel each).
    const a = T.matrix('a');
    const b = T.matrix('b');
    const fn = compile({ inputs: [a, b], outputs: T.tanh(T.matmul(a, b)), device: await acquireDevice() });
    await fn(f(40, 300), f(300, 30));
    const labels = fn.lastPlan()!.kernels.map((kernel) => kernel.passes[0]!.label);
    assert.equal(labels.length, 2, labels.join('; '));
    assert.ok(labels[0]!.startsWith('matmul[') && labels[0]!.endsWith('float32[6,40,30]') && labels[1]!.startsWith('reduce[tanh,sum'), labels.join('; '));
  } finally {
    delete process.env.THEORBO_WORKGROUP_TARGET;
  }
});

// Every tiling runs every matmul case here (the sizes alone would pick the small ones).
for (const tile of ['128', '64', '32']) {
  for (const vec4 of ['0', '1']) {
    test(`matmul cases with ${tile}×${tile} tiles${vec4 === '1' ? ', vec4 loads where they apply' : ''}`, async () => {
      process.env.THEORBO_MATMUL_TILE = tile;
      process.env.THEORBO_MATMUL_VEC4 = vec4;
      try {
        const matmulCases = cases.filter(([name]) => name.startsWith('matmul') || name === 'tensordot');
        const exact: Case[] = [['matmul 128×128 by 128×128', T.matmul, [f(128, 128), f(128, 128)], 1e-4], ['matmul + bias, batched exact', (a, b, c) => T.add(T.matmul(a, b), c), [f(2, 64, 64), f(64, 128), f(128)], 1e-4]];
        for (const [name, build, values, rtol] of [...matmulCases, ...exact]) await check(`${name} (${tile}×${tile} tiles)`, build, values, rtol);
      } finally {
        delete process.env.THEORBO_MATMUL_TILE;
        delete process.env.THEORBO_MATMUL_VEC4;
      }
    });
  }
}

test('vec4 matmul loads: on for plain buffers at tile multiples, off where the epilogue or the other operand reads an operand', async () => {
  const device = await acquireDevice();
  process.env.THEORBO_MATMUL_VEC4 = '1';
  process.env.THEORBO_MATMUL_CPU = 'tiles';
  try {
    const a = T.matrix('a');
    const b = T.matrix('b');
    const values = [f(128, 128), f(128, 128)];
    // x·xᵀ: B reads A's buffer one value at a time, so A may not be a vec4 binding.
    for (const [output, vectorized] of [[T.tanh(T.matmul(a, b)), true], [T.add(T.matmul(a, b), a), false], [T.add(T.matmul(a, T.transpose(a)), b), false]] as const) {
      const fn = compile({ inputs: [a, b], outputs: [output], device });
      const [got] = await fn(...values);
      assertClose(got as NDArray, T.evaluate(output, [[a, values[0]!], [b, values[1]!]]), { rtol: 1e-4, atol: 1e-4 });
      const code = fn.lastPlan()!.kernels[0]!.passes[0]!.code;
      assert.is(code.includes('ra4'), vectorized, code.slice(0, 400));
    }
  } finally {
    delete process.env.THEORBO_MATMUL_VEC4;
    delete process.env.THEORBO_MATMUL_CPU;
  }
});

test('elementwise kernels on vec4s where the reads allow, and scalar where they do not', () => withDefaultVec4(async () => {
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
}));

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
