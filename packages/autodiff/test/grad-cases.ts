// The gradient-check cases of every differentiable op: [name, function, float64 input
// values]. grad-ops.test.ts checks each against finite differences with verifyGrad;
// test/op-coverage.test.ts walks them to check that every differentiable op of the graph
// package is among them. Shapes include broadcasting and size-1 axes.
import * as T from '@theorbo/graph';
import { randomArray } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import { grad } from '../src/index.ts';

let seed = 1;
export const r = (...shape: number[]) => randomArray('float64', shape, { seed: seed++ });
const pos = (...shape: number[]) => randomArray('float64', shape, { low: 0.2, high: 2, seed: seed++ });
const ints = (values: number[], shape = [values.length]) => T.array(new Int32Array(values), { shape });
const distinct = (...shape: number[]) => {
  // Values far from each other, so max/min/sort-like ops are differentiable there.
  const a = r(...shape);
  a.data.forEach((_, i) => (a.data[i] = ((i * 0.37) % 1.7) - 0.8 + i * 0.001));
  return a;
};

export type Case = [string, (...inputs: Variable[]) => Variable, NDArray[]];

const unary: Case[] = ([
  ['neg', T.neg], ['abs', T.abs], ['exp', T.exp], ['expm1', T.expm1], ['square', T.square], ['sin', T.sin],
  ['cos', T.cos], ['tan', T.tan], ['tanh', T.tanh], ['sigmoid', T.sigmoid], ['softplus', T.softplus], ['erf', T.erf],
] as [string, (x: Variable) => Variable][]).map(([name, fn]) => [name, fn, [r(3, 4)]] as Case);

const positiveUnary: Case[] = ([
  ['log', T.log], ['log1p', T.log1p], ['sqrt', T.sqrt], ['rsqrt', T.rsqrt], ['reciprocal', T.reciprocal],
] as [string, (x: Variable) => Variable][]).map(([name, fn]) => [name, fn, [pos(2, 5)]] as Case);

const binaryShapes = [[[3, 4], [3, 4]], [[3, 4], [4]], [[2, 1, 3], [4, 1]], [[], [5]]];
const binary: Case[] = ([
  ['add', T.add], ['sub', T.sub], ['mul', T.mul], ['div', (a: Variable, b: Variable) => T.div(a, T.add(T.square(b), 1))],
  ['maximum', T.maximum], ['minimum', T.minimum], ['atan2', T.atan2],
] as [string, (a: Variable, b: Variable) => Variable][]).flatMap(([name, fn]) =>
  binaryShapes.map(([sa, sb]) => [`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, fn, [r(...sa!), r(...sb!)]] as Case));

/** Values away from integers and from 0, where floor, ceil, round and sign are flat. */
const offInteger = () => T.array(new Float64Array([0.3, 1.6, -0.4, -2.7, 3.2, -1.3]), { shape: [2, 3] });

export const cases: Case[] = [
  ...(['sign', 'floor', 'ceil', 'round'] as const).map((op): Case => [`${op} (zero almost everywhere)`, (x) => T.applyOp(op, [x], {}), [offInteger()]]),
  ...unary,
  ...positiveUnary,
  ...binary,
  ['pow', T.pow, [pos(3, 2), r(2)]],
  ['pow by constant', (x) => T.pow(x, 3), [r(4)]],
  ['mod', T.mod, [randomArray('float64', [6], { low: 0.1, high: 0.9, seed: 5 }), randomArray('float64', [6], { low: 1.5, high: 2, seed: 6 })]],
  ['where', (c, a, b) => T.where(c, a, b), [T.array(new Uint8Array([1, 0, 1]), { shape: [3, 1] }), r(3, 4), r(4)]],
  ['clip', (x) => T.clip(x, -0.5, 0.5), [r(4, 3)]],
  ['sum all', (x) => T.sum(x), [r(3, 4)]],
  ['sum axis 1', (x) => T.sum(x, 1), [r(3, 4)]],
  ['sum axes keepdims', (x) => T.sum(x, [0, 2], true), [r(2, 3, 4)]],
  ['prod', (x) => T.prod(x, 1), [r(3, 4)]],
  ['prod with one zero', (x) => T.prod(x, 0), [T.array(new Float64Array([0, 2, 3, 4, 0.5, 6]), { shape: [3, 2] })]],
  ['max axis', (x) => T.max(x, 1), [distinct(3, 5)]],
  ['min all', (x) => T.min(x), [distinct(4, 2)]],
  ['mean', (x) => T.mean(x, 0), [r(4, 3)]],
  ['variance', (x) => T.variance(x, 1), [r(3, 5)]],
  ['std', (x) => T.std(x), [r(3, 5)]],
  ['logsumexp', (x) => T.logsumexp(x, 1), [r(3, 5)]],
  ['matmul 2-D', T.matmul, [r(3, 4), r(4, 5)]],
  ['matmul vector @ matrix', T.matmul, [r(4), r(4, 3)]],
  ['matmul matrix @ vector', T.matmul, [r(3, 4), r(4)]],
  ['matmul vector @ vector', T.matmul, [r(4), r(4)]],
  ['matmul batched broadcast', T.matmul, [r(2, 1, 3, 4), r(5, 4, 2)]],
  ['dot', T.dot, [r(2, 3), r(3, 2)]],
  ['outer', T.outer, [r(3), r(4)]],
  ['tensordot', (a, b) => T.tensordot(a, b, [[1, 2], [0, 1]]), [r(2, 3, 4), r(3, 4, 2)]],
  ['reshape', (x) => T.reshape(x, [4, -1]), [r(2, 3, 2)]],
  ['flatten', (x) => T.flatten(x), [r(2, 3)]],
  ['dimshuffle', (x) => T.dimshuffle(x, 1, 'x', 0), [r(2, 3)]],
  ['dimshuffle drop', (x) => T.dimshuffle(x, 2, 0), [r(3, 1, 2)]],
  ['transpose', (x) => T.transpose(x), [r(2, 3, 4)]],
  ['broadcastTo', (x) => T.broadcastTo(x, [3, 2, 4]), [r(2, 1)]],
  ['slice', (x) => T.get(x, T.slice(1, null), T.slice(null, null, -2)), [r(4, 5)]],
  ['index', (x) => T.get(x, -1), [r(4, 5)]],
  ['concat', (a, b) => T.concat([a, b], 1), [r(2, 3), r(2, 2)]],
  ['stack', (a, b) => T.stack([a, b], 0), [r(2, 3), r(2, 3)]],
  ['split', (x) => T.mul(T.split(x, [1, 3], 1)[1]!, 2), [r(2, 4)]],
  ['roll', (x) => T.roll(x, 2, 1), [r(2, 5)]],
  ['flip', (x) => T.flip(x, 0), [r(3, 2)]],
  ['pad constant', (x) => T.pad(x, [[1, 2], [0, 1]]), [r(2, 3)]],
  ['pad reflect', (x) => T.pad(x, [[2, 1], [1, 2]], { mode: 'reflect' }), [r(4, 3)]],
  ['pad edge', (x) => T.pad(x, [[2, 1], [0, 3]], { mode: 'edge' }), [r(3, 2)]],
  ['setSubtensor', (x, y) => T.setSubtensor(x, [T.slice(1, 3)], y), [r(4, 3), r(3)]],
  ['incSubtensor', (x, y) => T.incSubtensor(x, [':', 1], y), [r(4, 3), r(4)]],
  ['advanced gather with repeats', (x) => T.get(x, ints([2, 0, 2, 2])), [r(3, 4)]],
  ['advanced gather two axes', (x, i, j) => T.get(x, i, j), [r(3, 4), ints([0, 2, 2]), ints([1, 3, 1])]],
  ['advanced inc with repeats', (x, y) => T.incSubtensor(x, [ints([1, 1, 0])], y), [r(3, 2), r(3, 2)]],
  ['advanced set', (x, y) => T.setSubtensor(x, [ints([2, 0])], y), [r(3, 2), r(2, 2)]],
  ['conv1d strided, dilated, grouped, padded', (x, w) => T.conv1d(x, w, { stride: 2, dilation: 2, groups: 2, padding: [1, 2] }), [r(2, 4, 11), r(6, 2, 3)]],
  ['conv1d batch 1, depthwise, with bias', (x, w, b) => T.conv1d(x, w, { groups: 3, padding: 'same', bias: b }), [r(1, 3, 7), r(3, 1, 4), r(3)]],
  ['conv2d odd sizes, stride, filter flip', (x, w) => T.conv2d(x, w, { stride: [2, 1], padding: [1, [0, 2]], filterFlip: true }), [r(2, 3, 5, 6), r(4, 3, 3, 2)]],
  ['convTranspose1d', (x, w) => T.convTranspose1d(x, w, { stride: 3, padding: 1, outputPadding: 1 }), [r(2, 4, 5), r(4, 3, 4)]],
  ['convTranspose2d grouped', (x, w) => T.convTranspose2d(x, w, { stride: 2, groups: 2 }), [r(1, 4, 3, 2), r(4, 1, 2, 3)]],
  ['conv_weight_grad', (x, y) => T.convAdjoint('conv_weight_grad', x, y, { stride: [2], padding: [[1, 0]], dilation: [1], groups: 1 }, [3]), [r(2, 3, 9), r(2, 5, 4)]],
  ['second order through conv', (x, w) => T.sum(T.square(T.conv1d(x, w, { stride: 2 }))), [r(1, 2, 7), r(3, 2, 3)]],
  ['maxPool2d ceil mode, padded', (x) => T.maxPool2d(x, [2, 3], { stride: 2, padding: 1, ceilMode: true }), [distinct(2, 2, 5, 7)]],
  ['avgPool1d excluding padding', (x) => T.avgPool1d(x, 3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), [r(2, 2, 8)]],
  ['avg pool_grad', (x, y) => T.applyOp('pool_grad', [x, y], { mode: 'avg', size: [3], stride: [2], padding: [[1, 1]], ceilMode: false, countIncludePad: true }), [r(1, 2, 7), r(1, 2, 4)]],
  ['scan: a tanh recurrence with a gain read as a non-sequence', (xs, a) => T.scan({ fn: (xt, h, gain) => T.tanh(T.add(T.mul(gain, h), xt)), sequences: xs, outputsInfo: [T.constant(0.1, { dtype: 'float64' })], nonSequences: [a] }).outputs[0]!, [r(6), r()]],
  ['scan: an RNN with taps −2 and −1 and weights read from outside', (xs, w, h0) => T.scan({ fn: (xt, h2, h1) => T.tanh(T.add(T.add(T.dot(xt, w), T.mul(h1, 0.5)), T.mul(h2, -0.3))), sequences: xs, outputsInfo: [{ initial: h0, taps: [-2, -1] }] }).outputs[0]!, [r(5, 2, 3), r(3, 4), r(2, 2, 4)]],
  ['scan: backwards, fewer steps than the sequence, kept last', (xs, h0) => T.scan({ fn: (xt, h) => T.sin(T.add(T.mul(h, xt), 1)), sequences: xs, outputsInfo: [{ initial: h0, keep: 'last' }], goBackwards: true, nSteps: 4 }).outputs[0]!, [r(6, 3), r(3)]],
  ['scan: second order (the gradient of a loop\'s gradient)', (xs, w) => grad(T.sum(T.square(T.scan({ fn: (xt, h) => T.tanh(T.add(T.mul(h, w), xt)), sequences: xs, outputsInfo: [T.zeros([3], 'float64')] }).outputs[0]!)), w), [r(4, 3), r(3)]],
  ['scan: nested', (xs, w) => T.scan({ fn: (row, acc) => T.add(acc, T.scan({ fn: (e, s) => T.tanh(T.add(T.mul(s, w), e)), sequences: row, outputsInfo: [T.constant(0, { dtype: 'float64' })] }).outputs[0]!.at(-1)), sequences: xs, outputsInfo: [T.constant(0, { dtype: 'float64' })] }).outputs[0]!, [r(3, 4), r()]],
  ['relu', (x) => T.relu(x), [r(4, 4)]],
  ['softmax', (x) => T.softmax(x), [r(3, 5)]],
  ['logSoftmax', (x) => T.logSoftmax(x), [r(3, 5)]],
  ['categoricalCrossentropy', (x) => T.categoricalCrossentropy(T.softmax(x), ints([1, 0, 4])), [r(3, 5)]],
  ['meanSquaredError', T.meanSquaredError, [r(3, 2), r(3, 2)]],
  ['l2Norm', (x) => T.l2Norm(x, 1), [r(3, 4)]],
];
