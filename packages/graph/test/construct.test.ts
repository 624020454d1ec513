// Constructors against plain loops: arange (numpy's rules, static and symbolic lengths),
// zeros/ones/full/alloc and their *Like forms, eye, linspace and oneHot.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import type { DType, NDArray, Variable } from '../src/index.ts';
import { assertClose, expectEvaluationError, expectGraphError, fromFunction } from '../src/testing.ts';

const sameShape = (label: string, v: Variable, shape: (number | null)[]): void => {
  assert.is(v.shape.join(','), shape.join(','), `${label}: static shape [${v.shape.map((d) => d ?? '?')}], expected [${shape.map((d) => d ?? '?')}]`);
};

/** numpy's arange written as a loop that steps until it passes stop. */
function rangeLoop(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; step > 0 ? start + i * step < stop : start + i * step > stop; i++) out.push(start + i * step);
  return out;
}

const arangeCases: [string, () => Variable, DType, number[]][] = [
  ['arange(5)', () => t.arange(5), 'int32', rangeLoop(0, 5, 1)],
  ['arange(2, 10, 3)', () => t.arange(2, 10, 3), 'int32', rangeLoop(2, 10, 3)],
  ['arange(10, 2, -3)', () => t.arange(10, 2, -3), 'int32', rangeLoop(10, 2, -3)],
  ['arange(5, 2) is empty', () => t.arange(5, 2), 'int32', []],
  ['arange(0)', () => t.arange(0), 'int32', []],
  ['arange(0.5, 3)', () => t.arange(0.5, 3), 'float32', rangeLoop(0.5, 3, 1)],
  ['arange(0, 1, 0.25)', () => t.arange(0, 1, 0.25), 'float32', rangeLoop(0, 1, 0.25)],
  ['arange(-1, 1, 0.5, float64)', () => t.arange(-1, 1, 0.5, 'float64'), 'float64', rangeLoop(-1, 1, 0.5)],
  ['arange(4, undefined, undefined, float32)', () => t.arange(4, undefined, undefined, 'float32'), 'float32', [0, 1, 2, 3]],
  ['arange(5, undefined, 2) is arange(0, 5, 2)', () => t.arange(5, undefined, 2), 'int32', [0, 2, 4]],
  ['arange(0, 2.5, 1, int32) truncates', () => t.arange(0.5, 3, 1, 'int32'), 'int32', [0, 1, 2]],
  ['arange(0, 1, 0.1) has numpy length 10', () => t.arange(0, 1, 0.1, 'float64'), 'float64', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => i * 0.1)],
];

for (const [label, build, dtype, values] of arangeCases) {
  test(label, () => {
    const range = build();
    sameShape(label, range, [values.length]);
    assertClose(t.evaluate(range), t.array(values, { dtype }), {}, label);
  });
}

test('arange of symbolic scalars has an unknown length', () => {
  const y = t.matrix('y');
  const rows = t.arange(t.dim(y, 0));
  sameShape('arange(dim(y, 0))', rows, [null]);
  assertClose(t.evaluate(rows, [[y, t.array([[1], [2], [3], [4]])]]), t.array([0, 1, 2, 3], { dtype: 'int32' }));
  const [a, b, s] = [t.iscalar('a'), t.iscalar('b'), t.iscalar('s')];
  const range = t.arange(a, b, s);
  assert.is(range.dtype, 'int32', `dtype ${range.dtype}, expected int32`);
  for (const [start, stop, step] of [[3, 20, 4], [20, 3, -4], [5, 5, 1], [-7, 2, 2]] as const) {
    const got = t.evaluate(range, [[a, start], [b, stop], [s, step]]);
    assertClose(got, t.array(rangeLoop(start, stop, step), { dtype: 'int32' }), {}, `arange(${start}, ${stop}, ${step})`);
  }
  const x = t.scalar('x');
  const floats = t.arange(x, 2);
  assert.is(floats.dtype, 'float32', `arange of a float32 scalar gives ${floats.dtype}`);
  assertClose(t.evaluate(floats, [[x, -0.5]]), [-0.5, 0.5, 1.5]);
  assert.is(t.arange(t.dscalar('d')).dtype, 'float64', 'arange of a float64 scalar should be float64');
  // dim of a static axis is a constant, so the length is static.
  sameShape('arange(dim(static, 1))', t.arange(t.dim(t.tensor('float32', [null, 6]), 1)), [6]);
});

test('arange errors: step 0 at build and at run time, non-scalars', () => {
  expectGraphError(() => t.arange(0, 5, 0), 'arange', 'step is 0', 'construct.test.ts:');
  expectGraphError(() => t.arange(t.vector('v')), 'arange', 'stop must be a scalar', 'float32[?]', 'construct.test.ts:');
  expectGraphError(() => t.arange(3, undefined, undefined, 'bool'), 'arange', 'bool', 'construct.test.ts:');
  const s = t.iscalar('s');
  const zeroStep = expectEvaluationError(() => t.evaluate(t.arange(0, 5, s), [[s, 0]]));
  assert.match(zeroStep.message, /arange: step is 0.*construct\.test\.ts:/, 'a zero step at run time should name arange and this file');
});

test('zeros, ones and full: static shapes, symbolic sizes and dtypes', () => {
  const z = t.zeros([2, 3]);
  sameShape('zeros', z, [2, 3]);
  assertClose(t.evaluate(z), fromFunction('float32', [2, 3], () => 0));
  assertClose(t.evaluate(t.ones([4], 'int32')), fromFunction('int32', [4], () => 1));
  assertClose(t.evaluate(t.ones([], 'float64')), fromFunction('float64', [], () => 1));
  assertClose(t.evaluate(t.zeros([0, 5])), fromFunction('float32', [0, 5], () => 0));
  assertClose(t.evaluate(t.full([2, 2], 7.5)), fromFunction('float32', [2, 2], () => 7.5));
  assertClose(t.evaluate(t.full([3], 2, 'uint32')), fromFunction('uint32', [3], () => 2));
  assertClose(t.evaluate(t.full([2], true, 'bool')), fromFunction('bool', [2], () => 1));
  const x = t.matrix('x');
  const n = t.iscalar('n');
  const v = t.dscalar('v');
  const filled = t.full([t.dim(x, 1), n, 2], v);
  sameShape('full of symbolic sizes', filled, [null, null, 2]);
  assert.is(filled.dtype, 'float64', 'full of a float64 value should be float64');
  const value = t.evaluate(filled, [[x, t.array([[1, 2, 3]])], [n, 4], [v, -1.25]]);
  assertClose(value, fromFunction('float64', [3, 4, 2], () => -1.25));
});

test('alloc broadcasts a tensor value', () => {
  const row = t.vector('row');
  const block = t.alloc(row, [3, 4]);
  sameShape('alloc', block, [3, 4]);
  const values = t.array([1, 2, 3, 4]);
  assertClose(t.evaluate(block, [[row, values]]), fromFunction('float32', [3, 4], ([, j]) => values.at(j!)));
  expectGraphError(() => t.alloc(t.tensor('float32', [3]), [2, 4]), 'alloc', 'float32[3]', 'construct.test.ts:');
});

test('zerosLike and onesLike follow the run-time shape and dtype', () => {
  const x = t.tensor('int32', [null, 3], 'x');
  const z = t.zerosLike(x);
  const o = t.onesLike(x, 'float64');
  sameShape('zerosLike', z, [null, 3]);
  const givens = [[x, t.array([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' })]] as const;
  assertClose(t.evaluate(z, givens), fromFunction('int32', [2, 3], () => 0));
  assertClose(t.evaluate(o, givens), fromFunction('float64', [2, 3], () => 1));
  sameShape('onesLike of a scalar', t.onesLike(t.scalar()), []);
});

test('eye: sizes, offsets, dtypes and symbolic n', () => {
  const eyeLoop = (n: number, m: number, k: number, dtype: DType): NDArray => fromFunction(dtype, [n, m], ([i, j]) => (j! - i! === k ? 1 : 0));
  for (const [n, m, k] of [[3, 3, 0], [3, 5, 1], [4, 2, -1], [3, 3, 5], [0, 0, 0], [1, 4, 3]] as const) {
    const matrix = t.eye(n, m, k);
    sameShape(`eye(${n}, ${m}, ${k})`, matrix, [n, m]);
    assertClose(t.evaluate(matrix), eyeLoop(n, m, k, 'float32'), {}, `eye(${n}, ${m}, ${k})`);
  }
  assertClose(t.evaluate(t.eye(3, undefined, 0, 'int32')), eyeLoop(3, 3, 0, 'int32'));
  assertClose(t.evaluate(t.eye(2, 3, 0, 'bool')), eyeLoop(2, 3, 0, 'bool'));
  const n = t.iscalar('n');
  const symbolic = t.eye(n, 4);
  sameShape('eye(n, 4)', symbolic, [null, 4]);
  assertClose(t.evaluate(symbolic, [[n, 5]]), eyeLoop(5, 4, 0, 'float32'));
  expectGraphError(() => t.eye(-2), 'eye', '-2', 'construct.test.ts:');
  expectGraphError(() => t.eye(2, 2, 0.5), 'eye', '0.5', 'construct.test.ts:');
});

test('linspace: numpy endpoint=true, the last value exactly stop', () => {
  const cases: [number, number, number, DType][] = [[0, 1, 5, 'float32'], [-1, 1, 7, 'float64'], [0, 0.1, 3, 'float32'], [2, 3, 1, 'float32'], [0, 1, 0, 'float32'], [10, -10, 4, 'float64'], [0, 10, 4, 'int32']];
  for (const [start, stop, num, dtype] of cases) {
    const values = t.linspace(start, stop, num, dtype);
    sameShape(`linspace(${start}, ${stop}, ${num})`, values, [num]);
    const want = fromFunction(dtype, [num], ([i]) => (num > 1 && i === num - 1 ? stop : start + (i! * (stop - start)) / Math.max(num - 1, 1)));
    const tolerance = dtype === 'float64' ? { rtol: 1e-15, atol: 1e-15 } : { rtol: 1e-6, atol: 1e-7 };
    assertClose(t.evaluate(values), want, tolerance, `linspace(${start}, ${stop}, ${num}, ${dtype})`);
  }
  assert.ok(t.evaluate(t.linspace(0, 0.1, 3)).data[2] === Math.fround(0.1), 'the last value of linspace is not exactly stop');
  const [a, b] = [t.scalar('a'), t.scalar('b')];
  assertClose(t.evaluate(t.linspace(a, b, 3), [[a, 1], [b, 2]]), [1, 1.5, 2]);
  expectGraphError(() => t.linspace(0, 1, 2.5), 'linspace', '2.5', 'construct.test.ts:');
  expectGraphError(() => t.linspace(t.vector('v'), 1, 3), 'linspace', 'float32[?]', 'construct.test.ts:');
});

test('oneHot: a new last axis; out-of-range indices give zeros', () => {
  const indices = t.ivector('indices');
  const values = t.array([0, 2, 1, 5, -1], { dtype: 'int32' });
  const encoded = t.oneHot(indices, 3);
  sameShape('oneHot', encoded, [null, 3]);
  assertClose(t.evaluate(encoded, [[indices, values]]), fromFunction('float32', [5, 3], ([i, j]) => (values.at(i!) === j ? 1 : 0)));
  const grid = t.imatrix('grid');
  const gridValues = t.array([[0, 1], [3, 2]], { dtype: 'int32' });
  const depth = t.iscalar('depth');
  const encodedGrid = t.oneHot(grid, depth, 'int32');
  sameShape('oneHot of a matrix', encodedGrid, [null, null, null]);
  assertClose(t.evaluate(encodedGrid, [[grid, gridValues], [depth, 4]]), fromFunction('int32', [2, 2, 4], ([i, j, k]) => (gridValues.at(i!, j!) === k ? 1 : 0)));
  expectGraphError(() => t.oneHot(t.vector('f'), 3), 'oneHot', 'float32[?]', 'construct.test.ts:');
});

test('bad shapes and dtypes name the constructor and the place', () => {
  expectGraphError(() => t.zeros([2, -1]), 'zeros', '-1', 'construct.test.ts:');
  expectGraphError(() => t.ones([2.5]), 'ones', '2.5', 'construct.test.ts:');
  expectGraphError(() => t.full([t.vector('v')], 1), 'full', 'float32[?]', 'construct.test.ts:');
  expectGraphError(() => t.zeros([2], 'float16' as DType), 'zeros', 'float16', 'construct.test.ts:');
});

test.run();
