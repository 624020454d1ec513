// The device-test cases of every op: [name, build, input values, rtol]. ops.test.ts
// compiles each for the acquired device and compares it with the reference evaluator;
// test/op-coverage.test.ts walks them to check that every op of the graph package is
// among them. Inputs cover broadcasting, size-1 and odd sizes (not multiples of the
// workgroup), views (transposed, sliced) and scalars.
import * as T from '@theorbo/graph';
import { randomArray } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';

let seed = 11;
export const f = (...shape: number[]) => randomArray('float32', shape, { seed: seed++ });
export const pos = (...shape: number[]) => randomArray('float32', shape, { low: 0.1, high: 3, seed: seed++ });
export const i32 = (low: number, high: number, ...shape: number[]) => randomArray('int32', shape, { low, high, seed: seed++ });
export const u32 = (...shape: number[]) => randomArray('uint32', shape, { low: 0, high: 50, seed: seed++ });
export const bool = (...shape: number[]) => randomArray('bool', shape, { seed: seed++ });
export const ints = (values: number[], shape = [values.length]) => T.array(new Int32Array(values), { shape });

export type Case = [string, (...inputs: Variable[]) => Variable, NDArray[], number?];

const unary: Case[] = ([
  ['neg', T.neg], ['abs', T.abs], ['sign', T.sign], ['exp', T.exp], ['expm1', T.expm1], ['square', T.square],
  ['sin', T.sin], ['cos', T.cos], ['tanh', T.tanh], ['sigmoid', T.sigmoid], ['softplus', T.softplus],
  ['floor', T.floor], ['ceil', T.ceil], ['round', T.round], ['stop_gradient', T.stopGradient],
] as [string, (x: Variable) => Variable][]).map(([name, fn]) => [name, fn, [f(37, 29)]] as Case);

export const cases: Case[] = [
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
  // The first draw of a stream: the same Philox values on the device as in the reference.
  ['random uniform and normal', (x) => { const stream = new T.RandomStreams(7); return T.add(T.mul(x, stream.uniform([5, 3])), stream.normal([3])); }, [f(5, 3)], 1e-4],
  ['scalar', (x) => T.mul(T.exp(x), 2), [f()]],
];
