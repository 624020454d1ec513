// Shape ops (reshape, dimshuffle, broadcast_to, concat, pad and their composites) against
// plain index arithmetic, with static and unknown dims, size-1 and empty axes, int32 and
// float64; and their error sentences.
import { test } from 'uvu';
import * as t from '../src/index.ts';
import type { NDArray, Variable } from '../src/index.ts';
import { assertClose, checkOp, expectEvaluationError, expectGraphError, expectShape, fromFunction, randomArray } from '../src/testing.ts';

const rand = (dtype: t.DType, ...shape: number[]) => randomArray(dtype, shape, { low: -50, high: 50, seed: shape.reduce((a, b) => a * 31 + b, 7) });

/** Runs the check twice: inputs with static shapes, then with every dim unknown. */
function check(label: string, build: (...xs: Variable[]) => Variable, values: NDArray[], expected: (...xs: NDArray[]) => NDArray) {
  checkOp(label, build, values, expected);
  const inputs = values.map((value, i) => t.tensor(value.dtype, value.shape.map(() => null), `in${i}`));
  const actual = t.evaluate(build(...inputs), inputs.map((input, i) => [input, values[i]!] as const));
  assertClose(actual, expected(...values), {}, `${label} (unknown dims)`);
}

/** Row-major flat position of a multi-index: the independent model of reshape. */
const ravel = (index: number[], shape: readonly number[]) => index.reduce((flat, i, axis) => flat * shape[axis]! + i, 0);
const element = (x: NDArray, flat: number) => x.data[flat]!;

test('reshape keeps row-major order, with -1 and symbolic sizes', () => {
  const cases: [number[], number[], number[]][] = [
    [[2, 3, 4], [4, 6], [4, 6]], [[2, 3, 4], [6, -1], [6, 4]], [[2, 3, 4], [-1], [24]], [[0, 3], [3, 0], [3, 0]],
    [[1], [], []], [[], [1, 1], [1, 1]], [[5], [5, 1], [5, 1]],
  ];
  for (const dtype of ['float64', 'int32'] as const) {
    for (const [from, spec, to] of cases) {
      check(`reshape ${from} → ${spec}`, (x) => t.reshape(x, spec), [rand(dtype, ...from)], (x) => fromFunction(dtype, to, (i) => element(x, ravel(i, to))));
    }
  }
  check('reshape to [dim(x, 0), -1]', (x) => t.reshape(x, [t.dim(x, 0), -1]), [rand('float32', 3, 2, 2)], (x) => fromFunction('float32', [3, 4], (i) => element(x, ravel(i, [3, 4]))));
  check('reshape by another tensor\'s dims', (x, y) => t.reshape(x, [t.dim(y, 1), t.dim(y, 0)]), [rand('float32', 6), rand('int32', 2, 3)], (x) => fromFunction('float32', [3, 2], (i) => element(x, ravel(i, [3, 2]))));
  expectShape(t.reshape(t.tensor('float32', [2, 3, 4]), [-1, 4]), [6, 4]);
  expectShape(t.reshape(t.tensor('float32', [null, 4]), [-1, 2]), [null, 2]);
  expectShape(t.reshape(t.tensor('float32', [null, 4]), [2, 3]), [2, 3]);
});

test('flatten folds trailing axes', () => {
  check('flatten', (x) => t.flatten(x), [rand('float64', 2, 3, 4)], (x) => fromFunction('float64', [24], ([i]) => element(x, i!)));
  check('flatten 2', (x) => t.flatten(x, 2), [rand('float64', 2, 3, 4)], (x) => fromFunction('float64', [2, 12], ([i, j]) => x.at(i!, Math.floor(j! / 4), j! % 4)));
  check('flatten empty', (x) => t.flatten(x, 2), [rand('int32', 0, 3, 2)], () => fromFunction('int32', [0, 6], () => 0));
  check('flatten scalar', (x) => t.flatten(x), [rand('float32')], (x) => fromFunction('float32', [1], () => element(x, 0)));
});

test('dimshuffle permutes, inserts and drops broadcastable axes', () => {
  const x = rand('float64', 2, 1, 3);
  checkOp('dimshuffle drop', (v) => t.dimshuffle(v, 2, 0), [x], (v) => fromFunction('float64', [3, 2], ([i, j]) => v.at(j!, 0, i!)));
  checkOp('dimshuffle insert', (v) => t.dimshuffle(v, 'x', 0, 'x', 2, 1), [x], (v) => fromFunction('float64', [1, 2, 1, 3, 1], ([, i, , k]) => v.at(i!, 0, k!)));
  check('transpose', (v) => t.transpose(v), [rand('int32', 3, 4)], (v) => fromFunction('int32', [4, 3], ([i, j]) => v.at(j!, i!)));
  check('transpose axes', (v) => t.transpose(v, [1, 2, 0]), [rand('float32', 2, 3, 4)], (v) => fromFunction('float32', [3, 4, 2], ([i, j, k]) => v.at(k!, i!, j!)));
  check('transpose empty', (v) => t.transpose(v, [1, 0]), [rand('float32', 0, 4)], () => fromFunction('float32', [4, 0], () => 0));
  checkOp('squeeze all', (v) => t.squeeze(v), [rand('float32', 1, 3, 1)], (v) => fromFunction('float32', [3], ([i]) => v.at(0, i!, 0)));
  checkOp('squeeze one', (v) => t.squeeze(v, -1), [rand('float32', 1, 3, 1)], (v) => fromFunction('float32', [1, 3], ([, i]) => v.at(0, i!, 0)));
  check('expandDims', (v) => t.expandDims(v, [0, -1]), [rand('float64', 2, 3)], (v) => fromFunction('float64', [1, 2, 3, 1], ([, i, j]) => v.at(i!, j!)));
  check('expandDims middle', (v) => t.expandDims(v, 1), [rand('int32', 2, 3)], (v) => fromFunction('int32', [2, 1, 3], ([i, , j]) => v.at(i!, j!)));
});

test('broadcastTo aligns on the right', () => {
  const cases: [number[], number[]][] = [[[3], [2, 3]], [[2, 1], [2, 4]], [[], [3, 2]], [[1, 0], [2, 0]], [[1, 1], [1, 1]], [[4], [0, 4]]];
  for (const [from, to] of cases) {
    checkOp(`broadcastTo ${from} → ${to}`, (x) => t.broadcastTo(x, to), [rand('float64', ...from)], (x) =>
      fromFunction('float64', to, (i) => x.at(...i.slice(to.length - from.length).map((k, axis) => (from[axis] === 1 ? 0 : k)))));
  }
  check('broadcastTo symbolic size', (x, y) => t.broadcastTo(x, [t.dim(y, 0), 3]), [rand('int32', 3), rand('int32', 4)], (x) => fromFunction('int32', [4, 3], ([, j]) => x.at(j!)));
  expectShape(t.broadcastTo(t.tensor('float32', [3]), [t.dim(t.vector(), 0), 3]), [null, 3]);
  expectShape(t.applyOp('broadcast_to', [t.tensor('float32', [4]), t.dim(t.vector(), 0)], { shape: [null] }), [4]);
});

test('concat joins along an axis and promotes the dtype', () => {
  check('concat axis 0', (a, b) => t.concat([a, b]), [rand('float64', 2, 3), rand('float64', 4, 3)], (a, b) =>
    fromFunction('float64', [6, 3], ([i, j]) => (i! < 2 ? a.at(i!, j!) : b.at(i! - 2, j!))));
  check('concat axis -1 with an empty part', (a, b, c) => t.concat([a, b, c], -1), [rand('int32', 2, 3), rand('int32', 2, 0), rand('int32', 2, 1)], (a, _, c) =>
    fromFunction('int32', [2, 4], ([i, j]) => (j! < 3 ? a.at(i!, j!) : c.at(i!, 0))));
  check('concat promotes', (a, b) => t.concat([a, b]), [rand('int32', 2), rand('float64', 3)], (a, b) =>
    fromFunction('float64', [5], ([i]) => (i! < 2 ? a.at(i!) : b.at(i! - 2))));
  expectShape(t.concat([t.tensor('float32', [2, null]), t.tensor('float32', [null, 3])]), [null, 3]);
  check('stack', (a, b, c) => t.stack([a, b, c]), [rand('float32', 2, 3), rand('float32', 2, 3), rand('float32', 2, 3)], (...xs) =>
    fromFunction('float32', [3, 2, 3], ([k, i, j]) => xs[k!]!.at(i!, j!)));
  checkOp('stack last axis', (a, b) => t.stack([a, b], -1), [rand('float64', 4), rand('float64', 4)], (a, b) => fromFunction('float64', [4, 2], ([i, k]) => (k ? b : a).at(i!)));
});

test('split into equal parts and by sizes', () => {
  const x = rand('float64', 6, 4);
  for (const [label, parts, axis] of [['count', 3, 0], ['sizes', [1, 0, 3], 1]] as const) {
    const sizes = typeof parts === 'number' ? [2, 2, 2] : parts;
    sizes.forEach((size, k) => {
      const offset = sizes.slice(0, k).reduce((a, b) => a + b, 0);
      const shape = axis === 0 ? [size, 4] : [6, size];
      checkOp(`split ${label} part ${k}`, (v) => t.split(v, parts as number | number[], axis)[k]!, [x], (v) =>
        fromFunction('float64', shape, ([i, j]) => (axis === 0 ? v.at(i! + offset, j!) : v.at(i!, j! + offset))));
    });
  }
  const unknown = t.matrix('m');
  const [a, b] = t.split(unknown, [1, 2], 1);
  expectShape(a!, [null, 1]);
  expectShape(b!, [null, 2]);
  const value = rand('float32', 2, 3);
  assertClose(t.evaluate(b!, [[unknown, value]]), fromFunction('float32', [2, 2], ([i, j]) => value.at(i!, j! + 1)));
  expectEvaluationError(() => t.evaluate(b!, [[unknown, rand('float32', 2, 4)]]), 'reshape', '[2,3]', '[2,2]');
});

/** numpy's pad, written from its definitions: reflect is a mirror of period 2n - 2. */
function padExpected(x: NDArray, widths: [number, number][], mode: t.PadMode, value = 0) {
  const shape = x.shape.map((n, axis) => n + widths[axis]![0] + widths[axis]![1]);
  return fromFunction(x.dtype, shape, (index) => {
    const source: number[] = [];
    for (const [axis, j] of index.entries()) {
      const n = x.shape[axis]!;
      const i = j - widths[axis]![0];
      if (i >= 0 && i < n) source.push(i);
      else if (mode === 'constant') return value;
      else if (mode === 'edge') source.push(Math.min(Math.max(i, 0), n - 1));
      else {
        const period = 2 * n - 2;
        const r = ((i % period) + period) % period;
        source.push(r < n ? r : period - r);
      }
    }
    return x.at(...source);
  });
}

test('pad: constant, reflect and edge', () => {
  const widths: [number, number][] = [[1, 2], [2, 1]];
  for (const mode of ['constant', 'reflect', 'edge'] as const) {
    check(`pad ${mode}`, (x) => t.pad(x, widths, { mode, value: 7 }), [rand('float64', 3, 4)], (x) => padExpected(x, widths, mode, 7));
    check(`pad ${mode} int32 3-D`, (x) => t.pad(x, [[0, 0], [1, 1], [2, 0]], { mode, value: -3 }), [rand('int32', 2, 3, 4)], (x) => padExpected(x, [[0, 0], [1, 1], [2, 0]], mode, -3));
  }
  check('pad one width everywhere', (x) => t.pad(x, 2), [rand('float32', 3)], (x) => padExpected(x, [[2, 2]], 'constant'));
  check('pad empty axis', (x) => t.pad(x, [[1, 1], [0, 2]]), [rand('float32', 0, 3)], (x) => padExpected(x, [[1, 1], [0, 2]], 'constant'));
  // numpy's np.pad([[1,2,3],[4,5,6]], ((1,1),(2,1)), mode='reflect')
  const x = t.matrix('x');
  assertClose(t.evaluate(t.pad(x, [[1, 1], [2, 1]], { mode: 'reflect' }), [[x, [[1, 2, 3], [4, 5, 6]]]]),
    [[6, 5, 4, 5, 6, 5], [3, 2, 1, 2, 3, 2], [6, 5, 4, 5, 6, 5], [3, 2, 1, 2, 3, 2]]);
});

test('roll and flip', () => {
  const rolled = (x: NDArray, shift: number, axis: number) =>
    fromFunction(x.dtype, x.shape, (i) => x.at(...i.map((k, a) => (a === axis ? (((k - shift) % x.shape[a]!) + x.shape[a]!) % x.shape[a]! : k))));
  for (const shift of [0, 1, 2, -1, -3, 4]) {
    check(`roll ${shift}`, (x) => t.roll(x, shift, 1), [rand('float64', 3, 5)], (x) => rolled(x, shift, 1));
  }
  for (const shift of [7, -12, 10]) check(`roll ${shift} past the size`, (x) => t.roll(x, shift, -1), [rand('int32', 2, 5)], (x) => rolled(x, shift, 1));
  checkOp('roll flattened', (x) => t.roll(x, 2), [rand('float32', 2, 3)], (x) => fromFunction('float32', [2, 3], (i) => element(x, (ravel(i, [2, 3]) + 4) % 6)));
  check('roll size 1', (x) => t.roll(x, 1, 0), [rand('float32', 1, 2)], (x) => x);
  check('flip all', (x) => t.flip(x), [rand('float64', 3, 4)], (x) => fromFunction('float64', [3, 4], ([i, j]) => x.at(2 - i!, 3 - j!)));
  check('flip one axis', (x) => t.flip(x, -1), [rand('int32', 2, 3, 4)], (x) => fromFunction('int32', [2, 3, 4], ([i, j, k]) => x.at(i!, j!, 3 - k!)));
  check('flip empty', (x) => t.flip(x, 0), [rand('float32', 0, 2)], (x) => x);
});

test('errors name the op, the types and the place', () => {
  expectGraphError(() => t.reshape(t.tensor('float32', [2, 3], 'x'), [4, 2]), 'reshape', 'float32[2,3]', '6 elements', '[4,2]', '8 elements', 'shape.test.ts:');
  expectGraphError(() => t.reshape(t.tensor('float32', [2, 3]), [-1, -1]), 'reshape', 'at most one -1');
  expectGraphError(() => t.reshape(t.tensor('float32', [2, 3]), [4, -1]), 'reshape', 'float32[2,3]', 'whole size');
  const x = t.matrix('x');
  expectEvaluationError(() => t.evaluate(t.reshape(x, [4, 2]), [[x, rand('float32', 2, 3)]]), 'reshape', '[2,3]', '[4,2]', 'shape.test.ts:');
  expectGraphError(() => t.dimshuffle(t.tensor('float32', [2, 3]), 1), 'dimshuffle', 'axis 0', 'float32[2,3]', 'not broadcastable', 'shape.test.ts:');
  expectGraphError(() => t.dimshuffle(t.matrix(), 1, 'x'), 'dimshuffle', 'axis 0', 'float32[?,?]');
  expectGraphError(() => t.dimshuffle(t.matrix(), 1, 1, 0), 'dimshuffle', 'twice');
  expectGraphError(() => t.squeeze(t.tensor('float32', [2, 3]), 1), 'squeeze', 'axis 1', 'float32[2,3]', 'size 3');
  expectGraphError(() => t.transpose(t.matrix(), [0, 2]), 'transpose', 'axis 2', 'float32[?,?]');
  expectGraphError(() => t.concat([t.tensor('float32', [2, 3]), t.tensor('float32', [2, 4])]), 'concat', 'float32[2,3]', 'float32[2,4]', 'axis 1', 'shape.test.ts:');
  expectGraphError(() => t.concat([t.matrix(), t.vector()]), 'concat', 'number of axes');
  expectGraphError(() => t.stack([t.tensor('float32', [2]), t.tensor('float32', [3])]), 'stack', 'float32[1,2]', 'float32[1,3]');
  expectGraphError(() => t.broadcastTo(t.tensor('float32', [3]), [2, 4]), 'broadcast_to', 'float32[3]', '[2,4]', 'shape.test.ts:');
  expectGraphError(() => t.broadcastTo(t.tensor('float32', [2, 3]), [3]), 'broadcast_to', 'more axes');
  const v = t.vector('v');
  expectEvaluationError(() => t.evaluate(t.broadcastTo(v, [2, 4]), [[v, rand('float32', 3)]]), 'broadcast_to', '[3]', '[2,4]');
  expectGraphError(() => t.pad(t.tensor('float32', [3, 4]), [[0, 0], [4, 0]], { mode: 'reflect' }), 'pad', 'reflect', 'axis 1', 'float32[3,4]', 'size 4', 'shape.test.ts:');
  expectEvaluationError(() => t.evaluate(t.pad(v, 3, { mode: 'reflect' }), [[v, rand('float32', 3)]]), 'pad', 'reflect', 'size 3');
  expectGraphError(() => t.pad(t.tensor('float32', [0]), 1, { mode: 'edge' }), 'pad', 'edge', 'size 0');
  expectGraphError(() => t.pad(t.matrix(), [[1, 1], [1, 1], [1, 1]]), 'pad', '3 axes', 'float32[?,?]');
  expectGraphError(() => t.split(t.tensor('float32', [5]), [2, 2]), 'split', 'add up to 4', 'float32[5]');
  expectGraphError(() => t.split(t.tensor('float32', [5]), 2), 'split', 'float32[5]', '2 equal parts');
});

test.run();
