// The shape-test cases of every op: [name, build, input values, options]. For each,
// shape-cases.test.ts infers the output type twice — over inputs of the values' static
// shapes, and over inputs whose every size is unknown (size-1 axes stay 1, as
// broadcasting needs) — and checks both against what the reference evaluator returns:
// the same dtype, and every inferred size either unknown or the one computed (and, with
// static inputs, known). test/op-coverage.test.ts checks that every op is among them.
// Dtypes beyond float32 (float64, int32, uint32, bool) and empty axes are included
// where the op's rule treats them differently.
import * as t from '../src/index.ts';
import type { NDArray, Variable } from '../src/index.ts';
import { randomArray } from '../src/testing.ts';

export interface ShapeCaseOptions {
  /** The output's size depends on input values (a range between tensors): unknown even over static inputs. */
  valueDependent?: boolean;
}

export type ShapeCase = [string, (...inputs: Variable[]) => Variable, NDArray[], ShapeCaseOptions?];

let seed = 101;
const r = (dtype: t.DType, ...shape: number[]) => randomArray(dtype, shape, { low: -4, high: 4, seed: seed++ });
const f = (...shape: number[]) => r('float32', ...shape);
const d = (...shape: number[]) => r('float64', ...shape);
const i = (...shape: number[]) => r('int32', ...shape);
const u = (...shape: number[]) => randomArray('uint32', shape, { low: 0, high: 9, seed: seed++ });
const b = (...shape: number[]) => r('bool', ...shape);
const ints = (values: number[]) => t.array(new Int32Array(values), { shape: [values.length] });
const scalarInt = (value: number) => t.array(new Int32Array([value]), { shape: [] });

const unary = (name: string, fn: (x: Variable) => Variable): ShapeCase[] => [
  [`${name} float64`, fn, [d(3, 1, 4)]],
  [`${name} int32 (float32 or int32 out)`, fn, [i(2, 5)]],
];

export const shapeCases: ShapeCase[] = [
  ...(['neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tan',
    'tanh', 'sigmoid', 'softplus', 'erf', 'floor', 'ceil', 'round'] as const).flatMap((op) => unary(op, (x) => t.applyOp(op, [x], {}))),
  ['neg bool (int32 out)', t.neg, [b(4)]],
  ['logical_not', t.logicalNot, [b(2, 3)]],
  ['logical_not of floats', t.logicalNot, [f(3)]],
  ['cast float32 → int32', (x) => t.cast(x, 'int32'), [f(2, 3)]],
  ['cast int32 → bool, empty', (x) => t.cast(x, 'bool'), [i(0, 3)]],
  ['stop_gradient bool', t.stopGradient, [b(5)]],
  ...(['add', 'sub', 'mul', 'div', 'int_div', 'mod', 'pow', 'maximum', 'minimum', 'atan2', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const)
    .flatMap((op): ShapeCase[] => [
      [`${op} broadcast float64`, (x, y) => t.applyOp(op, [x, y], {}), [d(2, 1, 4), d(3, 1)]],
      [`${op} int32 with uint32`, (x, y) => t.applyOp(op, [x, y], {}), [i(3), u(3)]],
    ]),
  ['add bool (int32 out)', t.add, [b(3), b(1)]],
  ...(['logical_and', 'logical_or', 'logical_xor'] as const).map((op): ShapeCase => [op, (x, y) => t.applyOp(op, [x, y], {}), [b(2, 3), f(3)]]),
  ['where broadcast of three', t.where, [b(2, 1), d(1, 3), i(3)]],
  ...(['sum', 'prod', 'max', 'min', 'any', 'all'] as const).flatMap((op): ShapeCase[] => [
    [`${op} over axes 0, 2`, (x) => t.applyOp(op, [x], { axes: [0, 2], keepdims: false }), [f(2, 3, 4)]],
    [`${op} keepdims, int32`, (x) => t.applyOp(op, [x], { axes: [1], keepdims: true }), [i(2, 3)]],
  ]),
  ['sum of an empty axis', (x) => t.sum(x, 0), [f(0, 3)]],
  ['sum bool (int32 out)', (x) => t.sum(x), [b(5)]],
  ['argmax over an axis', (x) => t.argmax(x, 1), [d(3, 4)]],
  ['argmin of everything, keepdims', (x) => t.argmin(x, null, true), [i(3, 4)]],
  ['matmul batched broadcast', t.matmul, [f(2, 1, 3, 4), f(5, 4, 2)]],
  ['matmul vector @ matrix, int32', t.matmul, [i(4), i(4, 3)]],
  ['reshape with -1', (x) => t.reshape(x, [3, -1]), [d(2, 3, 2)]],
  ['reshape by a symbolic size', (x, y) => t.reshape(x, [t.dim(y, 0), -1]), [f(6, 2), i(4)]],
  ['dimshuffle inserting and dropping', (x) => t.dimshuffle(x, 2, 'x', 0), [f(2, 1, 3)]],
  ['broadcast_to', (x) => t.broadcastTo(x, [4, 2, 3]), [u(2, 1)]],
  ['broadcast_to a symbolic size', (x, y) => t.broadcastTo(x, [t.dim(y, 0), 3]), [f(1, 3), i(5)]],
  ['subtensor slices and an index', (x) => t.get(x, t.slice(1, null, 2), -1), [d(7, 4)]],
  ['subtensor reversed, empty', (x) => t.get(x, t.slice(null, null, -1)), [f(0, 2)]],
  ['concat', (x, y) => t.concat([x, y], 1), [i(2, 3), i(2, 1)]],
  ['pad', (x) => t.pad(x, [[1, 2], [0, 3]]), [f(2, 3)]],
  ['inc_subtensor', (x, y) => t.incSubtensor(x, [t.slice(1, 3)], y), [f(4, 3), f(3)]],
  ['set_subtensor at an index', (x, y) => t.setSubtensor(x, [':', 0], y), [i(4, 3), i(4)]],
  ['advanced_subtensor', (x, k) => t.get(x, k, ':'), [d(5, 3), ints([4, 0, 0, 2])]],
  ['advanced_subtensor non-adjacent', (x, k, j) => t.get(x, k, ':', j), [f(4, 5, 6), ints([1, 3]), ints([0, 5])]],
  ['advanced_inc_subtensor', (x, y, k) => t.incSubtensor(x, [k], y), [f(5, 3), f(2, 3), ints([1, 1])]],
  ['conv1d strided, dilated, grouped', (x, w) => t.conv1d(x, w, { stride: 2, dilation: 2, groups: 2, padding: [1, 2] }), [d(2, 4, 13), d(6, 2, 3)]],
  ['conv2d padded', (x, w) => t.conv2d(x, w, { padding: [1, [0, 1]] }), [f(1, 3, 5, 6), f(4, 3, 3, 2)]],
  ['conv_transpose by symbolic sizes', (y, w) => t.convTranspose1d(y, w, { stride: 3, padding: 1, outputPadding: 1 }), [f(2, 4, 5), f(4, 3, 4)]],
  ['conv_weight_grad', (x, y) => t.convAdjoint('conv_weight_grad', x, y, { stride: [2], padding: [[1, 0]], dilation: [1], groups: 1 }, [3]), [f(2, 3, 9), f(2, 5, 4)]],
  ['max pool 2-D, ceil mode', (x) => t.maxPool2d(x, [2, 3], { stride: 2, padding: 1, ceilMode: true }), [d(2, 3, 7, 8)]],
  ['avg pool 1-D', (x) => t.avgPool1d(x, 3, { stride: 1 }), [f(1, 2, 5)]],
  ['pool_grad', (x, y) => t.applyOp('pool_grad', [x, y], { mode: 'avg', size: [2], stride: [2], padding: [[0, 0]], ceilMode: false, countIncludePad: true }), [f(2, 3, 8), f(2, 3, 4)]],
  ['scan over a sequence, fed back and not', (xs, h0) => t.scan({ fn: (x, h) => [t.tanh(t.add(h, x)), t.sum(x)], sequences: xs, outputsInfo: [h0, null] }).outputs[0]!, [d(5, 3), d(3)]],
  ['scan kept last, nSteps', (h0) => t.scan({ fn: (h) => t.mul(h, 2), outputsInfo: [{ initial: h0, keep: 'last' }], nSteps: 4 }).outputs[0]!, [f(2, 3)]],
  ['arange of constants', () => t.arange(0, 7, 2), []],
  ['arange between tensors', (start, stop) => t.arange(start, stop, 1, 'int32'), [scalarInt(2), scalarInt(9)], { valueDependent: true }],
  ['dim', (x) => t.dim(x, 1), [f(2, 5)]],
  ['random normal of a symbolic shape', (x) => new t.RandomStreams(3).normal([t.dim(x, 0), 2]), [f(4, 1)]],
];
