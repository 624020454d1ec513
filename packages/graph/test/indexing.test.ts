// Basic and advanced indexing (subtensor, inc_subtensor, advanced_subtensor,
// advanced_inc_subtensor through get/setSubtensor/incSubtensor) against plain index
// arithmetic and numpy's documented results, with static and unknown dims, negative
// steps and indices, empty and size-1 axes; and their error sentences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import type { NDArray, Variable } from '../src/index.ts';
import { assertClose, checkOp, expectEvaluationError, expectGraphError, expectShape, fromFunction, randomArray } from '../src/testing.ts';

const rand = (dtype: t.DType, ...shape: number[]) => randomArray(dtype, shape, { low: -50, high: 50, seed: shape.reduce((a, b) => a * 31 + b, 11) });
const ints = (...values: number[]) => t.array(new Int32Array(values));
const { slice } = t;

/** Runs the check twice: inputs with static shapes, then with every dim unknown. */
function check(label: string, build: (...xs: Variable[]) => Variable, values: NDArray[], expected: (...xs: NDArray[]) => NDArray) {
  checkOp(label, build, values, expected);
  const inputs = values.map((value, i) => t.tensor(value.dtype, value.shape.map(() => null), `in${i}`));
  const actual = t.evaluate(build(...inputs), inputs.map((input, i) => [input, values[i]!] as const));
  assertClose(actual, expected(...values), {}, `${label} (unknown dims)`);
}

/** The positions a slice visits, from the Python reference's wording: bounds relative to the end, clamped, walked one step at a time. */
function slicePositions(n: number, start: number | null, stop: number | null, step: number): number[] {
  const relative = (bound: number) => (bound < 0 ? bound + n : bound);
  const positions: number[] = [];
  if (step > 0) {
    const from = start === null ? 0 : Math.min(Math.max(relative(start), 0), n);
    const to = stop === null ? n : Math.min(Math.max(relative(stop), 0), n);
    for (let i = from; i < to; i += step) positions.push(i);
  } else {
    const from = start === null ? n - 1 : Math.min(Math.max(relative(start), -1), n - 1);
    const to = stop === null ? -1 : Math.min(Math.max(relative(stop), -1), n - 1);
    for (let i = from; i > to; i += step) positions.push(i);
  }
  return positions;
}

test('slices of numpy\'s arange(10)', () => {
  const x = t.vector('x');
  const value = t.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const cases: [t.Slice, number[]][] = [
    [slice(8, 2, -2), [8, 6, 4]], [slice(-3), [7, 8, 9]], [slice(null, null, -3), [9, 6, 3, 0]], [slice(3, -100, -1), [3, 2, 1, 0]],
    [slice(-100, 3), [0, 1, 2]], [slice(5, 100), [5, 6, 7, 8, 9]], [slice(-1, -4, -1), [9, 8, 7]], [slice(2, 8, 3), [2, 5]], [slice(7, 2), []],
  ];
  for (const [item, want] of cases) assertClose(t.evaluate(t.get(x, item), [[x, value]]), want, {}, JSON.stringify(item));
});

test('every slice of short axes, static and unknown', () => {
  const bounds = [null, -9, -3, -1, 0, 2, 4, 9];
  for (const n of [0, 1, 5]) {
    const x = rand('float64', n, 2);
    for (const start of bounds) for (const stop of bounds) for (const step of [1, 2, 3, -1, -2]) {
      const positions = slicePositions(n, start, stop, step);
      check(`[${start}:${stop}:${step}] of ${n}`, (v) => t.get(v, slice(start, stop, step)), [x], (v) => fromFunction('float64', [positions.length, 2], ([i, j]) => v.at(positions[i!]!, j!)));
    }
  }
});

test('basic indexing: numbers drop axes, null adds them, ... fills in', () => {
  const x = rand('int32', 3, 4, 5);
  check('x[1]', (v) => t.get(v, 1), [x], (v) => fromFunction('int32', [4, 5], ([j, k]) => v.at(1, j!, k!)));
  check('x[:, -1]', (v) => t.get(v, ':', -1), [x], (v) => fromFunction('int32', [3, 5], ([i, k]) => v.at(i!, 3, k!)));
  check('x[::-1, 0, 1:4:2]', (v) => t.get(v, slice(null, null, -1), 0, slice(1, 4, 2)), [x], (v) => fromFunction('int32', [3, 2], ([i, k]) => v.at(2 - i!, 0, 1 + 2 * k!)));
  check('x[None, 2]', (v) => t.get(v, null, 2), [x], (v) => fromFunction('int32', [1, 4, 5], ([, j, k]) => v.at(2, j!, k!)));
  check('x[0, None, :, None]', (v) => t.get(v, 0, null, ':', null), [x], (v) => fromFunction('int32', [1, 4, 1, 5], ([, j, , k]) => v.at(0, j!, k!)));
  check('x[..., 1]', (v) => t.get(v, '...', 1), [x], (v) => fromFunction('int32', [3, 4], ([i, j]) => v.at(i!, j!, 1)));
  check('x[1, ..., -2]', (v) => t.get(v, 1, '...', -2), [x], (v) => fromFunction('int32', [4], ([j]) => v.at(1, j!, 3)));
  check('x[2, 3, 4]', (v) => t.get(v, 2, 3, 4), [x], (v) => fromFunction('int32', [], () => v.at(2, 3, 4)));
  check('x[0] of size 1', (v) => t.get(v, 0), [rand('float32', 1, 0)], () => fromFunction('float32', [0], () => 0));
  expectShape(t.get(t.tensor('float32', [null, 5]), slice(2, 1)), [0, 5]);
  expectShape(t.get(t.tensor('float32', [null, 5]), slice(-1, -3)), [0, 5]);
  expectShape(t.get(t.tensor('float32', [null, 5]), slice(0, 2)), [null, 5]);
  expectShape(t.get(t.tensor('float32', [null, 5]), ':', slice(1, null, 3)), [null, 2]);
  expectShape(t.get(t.tensor('float32', [null, 5]), -1, slice(null, null, -1)), [5]);
});

test('setSubtensor and incSubtensor through slices and numbers', () => {
  const x = rand('float64', 4, 5);
  const inRows = (i: number) => i === 1 || i === 2;
  check('set x[1:3, ::-2] = 7', (v) => t.setSubtensor(v, [slice(1, 3), slice(null, null, -2)], 7), [x], (v) =>
    fromFunction('float64', [4, 5], ([i, j]) => (inRows(i!) && j! % 2 === 0 ? 7 : v.at(i!, j!))));
  check('inc x[1:3] += row', (v, row) => t.incSubtensor(v, [slice(1, 3)], row), [x, rand('float64', 5)], (v, row) =>
    fromFunction('float64', [4, 5], ([i, j]) => v.at(i!, j!) + (inRows(i!) ? row.at(j!) : 0)));
  check('inc x[-1, 1:] += y', (v, y) => t.incSubtensor(v, [-1, slice(1)], y), [x, rand('float64', 4)], (v, y) =>
    fromFunction('float64', [4, 5], ([i, j]) => v.at(i!, j!) + (i === 3 && j! >= 1 ? y.at(j! - 1) : 0)));
  check('set int32 x[:, 2] = column', (v, y) => t.setSubtensor(v, [':', 2], y), [rand('int32', 3, 4), rand('int32', 3)], (v, y) =>
    fromFunction('int32', [3, 4], ([i, j]) => (j === 2 ? y.at(i!) : v.at(i!, j!))));
  check('set an empty slice', (v) => t.setSubtensor(v, [slice(2, 2)], 1), [x], (v) => v);
  const m = t.matrix('m');
  const written = t.setSubtensor(m, [0], [1.5, 2.5]);
  assertClose(t.evaluate(written, [[m, [[0, 0], [3, 4]]]]), [[1.5, 2.5], [3, 4]]);
  assert.is(t.setSubtensor(t.imatrix(), [0], 2.7).dtype, 'int32', 'a write keeps the target dtype');
});

/** x[i, j] for index tensors that broadcast to `shape`, axis 0 and 1 of a 3-D x, trailing axis kept. */
const at = (v: NDArray, ...index: number[]) => v.at(...index.map((k, axis) => (k < 0 ? k + v.shape[axis]! : k)));
const pick = (index: NDArray, position: number[]) => index.at(...position.slice(position.length - index.ndim).map((k, axis) => (index.shape[axis] === 1 ? 0 : k)));

test('advanced indexing: one axis, adjacent axes, non-adjacent axes, broadcasting', () => {
  const x = rand('float64', 4, 5, 6);
  const i = ints(3, -1, 0, 3);
  const j = ints(4, 0, -5, 2);
  check('x[i]', (v, a) => t.get(v, a), [x, i], (v, a) => fromFunction('float64', [4, 5, 6], ([b, p, q]) => at(v, a.at(b!), p!, q!)));
  check('x[:, j]', (v, b) => t.get(v, ':', b), [x, j], (v, b) => fromFunction('float64', [4, 4, 6], ([p, c, q]) => at(v, p!, b.at(c!), q!)));
  check('x[:, i, j] adjacent', (v, a, b) => t.get(v, ':', a, b), [x, i, ints(0, 1, 2, 5)], (v, a, b) =>
    fromFunction('float64', [4, 4], ([p, c]) => at(v, p!, a.at(c!), b.at(c!))));
  check('x[i, :, j] dims go first', (v, a, b) => t.get(v, a, ':', b), [x, i, ints(0, 1, 2, 5)], (v, a, b) =>
    fromFunction('float64', [4, 5], ([c, p]) => at(v, a.at(c!), p!, b.at(c!))));
  check('x[i[:, None], j] broadcasts', (v, a, b) => t.get(v, a, b), [x, t.array(new Int32Array([0, 3, 1]), { shape: [3, 1] }), ints(4, 0)], (v, a, b) =>
    fromFunction('float64', [3, 2, 6], ([c, d, q]) => at(v, pick(a, [c!, d!]), pick(b, [c!, d!]), q!)));
  check('uint32 index, empty index', (v, a) => t.get(v, ':', a), [x, t.array(new Uint32Array(0))], () => fromFunction('float64', [4, 0, 6], () => 0));
  check('int32 values, 2-D index', (v, a) => t.get(v, a), [rand('int32', 5), t.array(new Int32Array([1, 4, 4, 0]), { shape: [2, 2] })], (v, a) =>
    fromFunction('int32', [2, 2], ([p, q]) => v.at(a.at(p!, q!))));
});

test('advanced indexing mixed with numbers, slices and new axes follows numpy', () => {
  const x = rand('float32', 4, 5, 6);
  const j = ints(0, 4, 2);
  // numpy: x[:, 1, j] is (4, 3); x[1, :, j] is (3, 5); x[j, None, j] is (3, 1, 6); x[None, j, j] is (1, 3, 6).
  check('x[:, 1, j]', (v, b) => t.get(v, ':', 1, b), [x, j], (v, b) => fromFunction('float32', [4, 3], ([p, c]) => v.at(p!, 1, b.at(c!))));
  check('x[1, :, j]', (v, b) => t.get(v, 1, ':', b), [x, j], (v, b) => fromFunction('float32', [3, 5], ([c, p]) => v.at(1, p!, b.at(c!))));
  check('x[j, None, j]', (v, b) => t.get(v, b, null, b), [x, ints(0, 3, 2)], (v, b) => fromFunction('float32', [3, 1, 6], ([c, , q]) => v.at(b.at(c!), b.at(c!), q!)));
  check('x[None, j, j]', (v, b) => t.get(v, null, b, b), [x, ints(0, 3, 2)], (v, b) => fromFunction('float32', [1, 3, 6], ([, c, q]) => v.at(b.at(c!), b.at(c!), q!)));
  check('x[1:3, j]', (v, b) => t.get(v, slice(1, 3), b), [x, j], (v, b) => fromFunction('float32', [2, 3, 6], ([p, c, q]) => v.at(1 + p!, b.at(c!), q!)));
  check('x[::-1, j, ::2]', (v, b) => t.get(v, slice(null, null, -1), b, slice(null, null, 2)), [x, j], (v, b) =>
    fromFunction('float32', [4, 3, 3], ([p, c, q]) => v.at(3 - p!, b.at(c!), 2 * q!)));
  const m = t.matrix('m');
  assertClose(t.evaluate(t.get(m, [1, -1], [[0], [2]]), [[m, [[1, 2, 3], [4, 5, 6]]]]), [[4, 4], [6, 6]]);
});

test("the talk's distance[arange(n), y] is [n, 12]", () => {
  const distance = rand('float32', 3, 24, 12);
  const labels = ints(5, 23, 0);
  checkOp('constant rows', (d, y) => t.get(d, new Int32Array([0, 1, 2]), y), [distance, labels], (d, y) =>
    fromFunction('float32', [3, 12], ([n, k]) => d.at(n!, y.at(n!), k!)));
  const d = t.tensor('float32', [null, 24, 12], 'distance');
  const y = t.ivector('y');
  const picked = t.get(d, t.arange(t.dim(y, 0)), y);
  expectShape(picked, [null, 12]);
  assertClose(t.evaluate(picked, [[d, distance], [y, labels]]), fromFunction('float32', [3, 12], ([n, k]) => distance.at(n!, labels.at(n!), k!)));
});

test('advanced writes: inc accumulates repeated indices, set keeps the last write', () => {
  const index = ints(1, 1, 3, 1, -1);
  check('inc vector', (v, a, y) => t.incSubtensor(v, [a], y), [rand('float64', 5), index, rand('float64', 5)], (v, a, y) => {
    const out = fromFunction('float64', [5], ([p]) => v.at(p!));
    for (let k = 0; k < a.size; k++) out.data[(a.at(k) + 5) % 5]! += y.at(k); // np.add.at
    return out;
  });
  check('set vector', (v, a, y) => t.setSubtensor(v, [a], y), [rand('int32', 5), index, rand('int32', 5)], (v, a, y) => {
    const out = fromFunction('int32', [5], ([p]) => v.at(p!));
    for (let k = 0; k < a.size; k++) out.data[(a.at(k) + 5) % 5] = y.at(k);
    return out;
  });
  check('inc rows by a broadcast row', (v, a, y) => t.incSubtensor(v, [a], y), [rand('float64', 4, 3), ints(2, 0, 2), rand('float64', 3)], (v, a, y) => {
    const out = fromFunction('float64', [4, 3], ([p, q]) => v.at(p!, q!));
    for (let k = 0; k < a.size; k++) for (let q = 0; q < 3; q++) out.data[a.at(k) * 3 + q]! += y.at(q);
    return out;
  });
  check('inc x[:, i, j] non-trivially', (v, a, b, y) => t.incSubtensor(v, [':', a, b], y), [rand('float64', 2, 3, 4), ints(0, 2, 0), ints(1, 3, 1), rand('float64', 2, 3)], (v, a, b, y) => {
    const out = fromFunction('float64', [2, 3, 4], (p) => v.at(...p));
    for (let p = 0; p < 2; p++) for (let c = 0; c < 3; c++) out.data[p * 12 + a.at(c) * 4 + b.at(c)]! += y.at(p, c);
    return out;
  });
  check('inc x[1:3, j] mixes slices', (v, b, y) => t.incSubtensor(v, [slice(1, 3), b], y), [rand('float64', 4, 5), ints(4, 4), rand('float64', 2, 2)], (v, b, y) => {
    const out = fromFunction('float64', [4, 5], (p) => v.at(...p));
    for (let p = 0; p < 2; p++) for (let c = 0; c < 2; c++) out.data[(1 + p) * 5 + b.at(c)]! += y.at(p, c);
    return out;
  });
  check('set x[::-1, j] mixes slices', (v, b) => t.setSubtensor(v, [slice(null, null, -1), b], 9), [rand('float32', 3, 4), ints(0, 2)], (v) =>
    fromFunction('float32', [3, 4], ([p, q]) => (q === 0 || q === 2 ? 9 : v.at(p!, q!))));
});

test('errors name the op, the types and the place', () => {
  expectGraphError(() => t.get(t.tensor('float32', [3, 4]), 3), 'get', 'index 3', 'axis 0', 'float32[3,4]', 'size 3', 'indexing.test.ts:');
  expectGraphError(() => t.get(t.tensor('float32', [3, 4]), ':', -5), 'get', 'index -5', 'axis 1', 'float32[3,4]');
  expectGraphError(() => t.get(t.tensor('float32', [3, 4]), 7, t.ivector()), 'get', 'index 7', 'float32[3,4]');
  expectGraphError(() => t.get(t.matrix(), slice(null, null, 0)), 'get', 'step 0');
  expectGraphError(() => t.get(t.matrix(), 0, 0, 0), 'get', '3 indices', 'float32[?,?]');
  expectGraphError(() => t.get(t.matrix(), t.vector('f')), 'advanced_subtensor', 'float32[?]', 'int32 or uint32', 'indexing.test.ts:');
  expectGraphError(() => t.get(t.matrix(), new Float32Array([1, 2]) as unknown as t.IndexItem), 'get', 'float32', 'int32 or uint32');
  expectGraphError(() => t.get(t.matrix(), t.bvector()), 'get', 'boolean mask');
  expectGraphError(() => t.get(t.matrix(), [true, false]), 'get', 'boolean mask');
  expectGraphError(() => t.get(t.tensor('float32', [3, 4]), t.tensor('int32', [2]), t.tensor('int32', [3])), 'advanced_subtensor', 'int32[2]', 'int32[3]', 'broadcast');
  expectGraphError(() => t.setSubtensor(t.tensor('float32', [4, 5]), [slice(1, 3)], t.tensor('float32', [3])), 'inc_subtensor', 'float32[3]', '[2,5]', 'float32[4,5]', 'indexing.test.ts:');
  expectGraphError(() => t.incSubtensor(t.tensor('float32', [4, 5]), [t.tensor('int32', [2])], t.tensor('float32', [3, 5])), 'advanced_inc_subtensor', 'float32[3,5]', '[2,5]');
  expectGraphError(() => t.setSubtensor(t.matrix(), [null, 0], 1), 'setSubtensor', 'new axis');
  const m = t.matrix('m');
  expectEvaluationError(() => t.evaluate(t.get(m, 3), [[m, rand('float32', 3, 2)]]), 'subtensor', 'index 3', 'axis 0', 'size 3', 'indexing.test.ts:');
  const i = t.ivector('i');
  expectEvaluationError(() => t.evaluate(t.get(m, ':', i), [[m, rand('float32', 3, 5)], [i, new Int32Array([0, 5])]]), 'advanced_subtensor', 'index 5', 'axis 1', 'size 5');
  expectEvaluationError(() => t.evaluate(t.get(m, i), [[m, rand('float32', 3, 5)], [i, new Int32Array([-4])]]), 'advanced_subtensor', 'index -4', 'axis 0', 'size 3');
  expectEvaluationError(() => t.evaluate(t.incSubtensor(m, [i], m), [[m, rand('float32', 3, 5)], [i, new Int32Array([0, 1])]]), 'advanced_inc_subtensor', '[3,5]', '[2,5]');
});

test.run();
