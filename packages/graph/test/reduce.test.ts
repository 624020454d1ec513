// Reductions and their composites against plain loops: every axis choice (all, one,
// several, negative, none), keepdims, size-1 and empty axes, over float64/float32/int32/bool.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import { assertClose, checkOp, expectGraphError, fromFunction, randomArray } from '../src/testing.ts';
import type { DType, NDArray } from '../src/index.ts';

type Axis = number | number[] | null | undefined;

/** Every multi-index of `shape`, row-major. */
function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((d) => d === 0)) return;
  const index = shape.map(() => 0);
  while (true) {
    yield [...index];
    let axis = shape.length - 1;
    for (; axis >= 0; axis--) {
      if (++index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
    if (axis < 0) return;
  }
}

const axesOf = (ndim: number, axis: Axis): number[] =>
  axis === undefined || axis === null ? [...Array(ndim).keys()] : (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + ndim : a)).sort((a, b) => a - b);

/** The expected reduction: for each output element, the values it gathers (row-major) folded by `fold`. */
function expectReduce(x: NDArray, axis: Axis, keepdims: boolean, dtype: DType, fold: (values: number[]) => number): NDArray {
  const axes = axesOf(x.ndim, axis);
  const outShape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keepdims ? [1] : []) : [d]));
  const keptAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return fromFunction(dtype, outShape, (out) => {
    const kept = keepdims ? out.filter((_, i) => !axes.includes(i)) : out;
    const values: number[] = [];
    for (const r of indices(axes.map((a) => x.shape[a]!))) {
      const full = new Array<number>(x.ndim);
      keptAxes.forEach((a, i) => (full[a] = kept[i]!));
      axes.forEach((a, i) => (full[a] = r[i]!));
      values.push(x.at(...full));
    }
    return fold(values);
  });
}

const truthy = (v: number) => v !== 0 && !Number.isNaN(v);
const wrap = (dtype: DType, v: number) => (dtype === 'int32' || dtype === 'bool' ? v | 0 : dtype === 'uint32' ? v >>> 0 : v);

const folds = {
  sum: (dtype: DType) => (vs: number[]) => vs.reduce((a, v) => wrap(dtype, a + v), 0),
  prod: (dtype: DType) => (vs: number[]) => vs.reduce((a, v) => (dtype === 'float32' || dtype === 'float64' ? a * v : wrap(dtype, Math.imul(a, v))), 1),
  max: () => (vs: number[]) => (vs.some(Number.isNaN) ? NaN : Math.max(...vs)),
  min: () => (vs: number[]) => (vs.some(Number.isNaN) ? NaN : Math.min(...vs)),
  any: () => (vs: number[]) => (vs.some(truthy) ? 1 : 0),
  all: () => (vs: number[]) => (vs.every(truthy) ? 1 : 0),
};
const resultDType = (op: keyof typeof folds, dtype: DType): DType =>
  op === 'any' || op === 'all' ? 'bool' : (op === 'sum' || op === 'prod') && dtype === 'bool' ? 'int32' : dtype;

const axisCases: [number[], Axis][] = [
  [[3, 4, 5], undefined], [[3, 4, 5], 1], [[3, 4, 5], [0, 2]], [[3, 4, 5], -1], [[3, 4, 5], [-1, 0]], [[3, 4, 5], []],
  [[1, 4, 1], 0], [[1, 4, 1], [0, 2]], [[7], 0], [[], undefined], [[2, 3], null],
];
const emptyCases: [number[], Axis][] = [[[0, 3], 0], [[0, 3], 1], [[0, 3], undefined], [[3, 0, 2], [1, 2]]];

for (const op of ['sum', 'prod', 'max', 'min', 'any', 'all'] as const) {
  const dtypes: DType[] = ['float64', 'float32', 'int32', 'bool'];
  for (const dtype of dtypes) {
    test(`${op} ${dtype} over every axis choice, with and without keepdims`, () => {
      for (const [shape, axis] of axisCases) {
        for (const keepdims of [false, true]) {
          checkOp(`${op}(${JSON.stringify(axis)}, keepdims=${keepdims}) of ${dtype}[${shape}]`, (x) => t[op](x, axis, keepdims), [{ dtype, shape }],
            (x) => expectReduce(x, axis, keepdims, resultDType(op, dtype), folds[op](dtype)), { rtol: 1e-12 });
        }
      }
    });
  }
  if (op !== 'max' && op !== 'min') {
    test(`${op} over empty axes gives its identity`, () => {
      for (const [shape, axis] of emptyCases) {
        for (const keepdims of [false, true]) {
          checkOp(`${op} of [${shape}]`, (x) => t[op](x, axis, keepdims), [{ dtype: 'float32', shape }], (x) => expectReduce(x, axis, keepdims, resultDType(op, 'float32'), folds[op]('float32')));
        }
      }
    });
  }
}

test('sum and prod of bool are int32, of ints wrap; max keeps bool', () => {
  const b = t.bvector('b');
  assert.ok(t.sum(b).dtype === 'int32' && t.prod(b).dtype === 'int32' && t.max(b).dtype === 'bool' && t.any(t.vector()).dtype === 'bool', 'wrong reduction dtype');
  const i = t.ivector('i');
  assertClose(t.evaluate(t.sum(i), [[i, new Int32Array([2147483647, 1])]]), t.array(new Int32Array([-2147483648]), { shape: [] }));
  assertClose(t.evaluate(t.prod(i), [[i, new Int32Array([65536, 65536, 3])]]), t.array(new Int32Array([0]), { shape: [] }));
  const u = t.tensor('uint32', [null], 'u');
  assertClose(t.evaluate(t.sum(u), [[u, new Uint32Array([4294967295, 2])]]), t.array(new Uint32Array([1]), { shape: [] }));
});

test('float32 sums accumulate in a double and round once', () => {
  // 1 + 2^-24 repeated: a float32 accumulator would never move off 1.
  const values = new Float32Array(1025).fill(2 ** -24);
  values[0] = 1;
  const x = t.vector('x');
  assertClose(t.evaluate(t.sum(x), [[x, values]]), t.array(new Float32Array([Math.fround(1 + 1024 * 2 ** -24)]), { shape: [] }), { rtol: 0, atol: 0 });
});

test('max and min propagate NaN; any and all treat NaN as true like numpy and cast', () => {
  const x = t.vector('x');
  const v = [1, NaN, 3];
  for (const fn of [t.max, t.min]) assertClose(t.evaluate(fn(x), [[x, v]]), NaN);
  assertClose(t.evaluate(t.any(x), [[x, [0, NaN]]]), t.array([1], { dtype: 'bool', shape: [] }));
  assertClose(t.evaluate(t.all(x), [[x, [1, NaN]]]), t.array([1], { dtype: 'bool', shape: [] }));
  assertClose(t.evaluate(t.all(x), [[x, [1, 0]]]), t.array([0], { dtype: 'bool', shape: [] }));
});

test('max over a zero-size axis fails: statically, or at run time when the size is unknown', () => {
  expectGraphError(() => t.max(t.tensor('float32', [0, 3]), 0), 'max', 'zero-size array to reduction operation maximum', 'float32[0,3]', 'reduce.test.ts:');
  expectGraphError(() => t.argmin(t.tensor('float32', [2, 0]), 1), 'argmin', 'empty sequence', 'reduce.test.ts:');
  checkOp('max keeps an empty output', (x) => t.min(x, 1), [{ dtype: 'float32', shape: [0, 3] }], () => fromFunction('float32', [0], () => 0));
  const x = t.tensor('float32', [null, 3], 'x');
  const out = t.max(x, 0);
  let message = '';
  try {
    t.evaluate(out, [[x, t.array(new Float32Array(0), { shape: [0, 3] })]]);
  } catch (error) {
    message = String((error as Error).message);
  }
  assert.ok(message.includes('max: zero-size array to reduction operation maximum') && message.includes('reduce.test.ts:'), `wrong run-time failure: ${message}`);
});

/** First index of the extreme along the gathered values; a NaN is the extreme. */
const argFold = (better: (a: number, b: number) => boolean) => (vs: number[]) => {
  const nan = vs.findIndex(Number.isNaN);
  if (nan >= 0) return nan;
  let best = 0;
  vs.forEach((v, i) => { if (better(v, vs[best]!)) best = i; });
  return best;
};

for (const [op, better] of [['argmax', (a: number, b: number) => a > b], ['argmin', (a: number, b: number) => a < b]] as const) {
  test(`${op} along each axis and flattened, first of ties`, () => {
    // int32 values in [-2, 2) tie often; the loop keeps the first.
    for (const dtype of ['int32', 'float64', 'float32'] as const) {
      for (const [shape, axis] of [[[4, 6], 1], [[4, 6], 0], [[4, 6], -1], [[3, 1, 5], 2], [[3, 4, 5], null], [[5], 0], [[], null]] as [number[], number | null][]) {
        for (const keepdims of [false, true]) {
          checkOp(`${op}(${axis}) of ${dtype}[${shape}]`, (x) => t[op](x, axis, keepdims), [{ dtype, shape }], (x) => {
            if (axis !== null) return expectReduce(x, axis, keepdims, 'int32', argFold(better));
            const flat = Array.from(x.data);
            return fromFunction('int32', keepdims ? x.shape.map(() => 1) : [], () => argFold(better)(flat));
          });
        }
      }
    }
  });
}

test('argmax and argmin: ties, NaN and the flattened default', () => {
  const x = t.matrix('x');
  const v = [[1, 3, 3], [2, 2, 1]];
  assertClose(t.evaluate(t.argmax(x, 1), [[x, v]]), t.array(new Int32Array([1, 0])));
  assertClose(t.evaluate(t.argmin(x, 1), [[x, v]]), t.array(new Int32Array([0, 2])));
  assertClose(t.evaluate(t.argmax(x), [[x, v]]), t.array(new Int32Array([1]), { shape: [] }));
  const withNaN = [[1, NaN, 5, NaN]];
  assertClose(t.evaluate(t.argmax(x, 1), [[x, withNaN]]), t.array(new Int32Array([1])));
  assertClose(t.evaluate(t.argmin(x, -1), [[x, withNaN]]), t.array(new Int32Array([1])));
  const kept = t.argmax(t.tensor('float32', [2, 3, 4]), null, true);
  assert.ok(kept.shape.join(',') === '1,1,1' && kept.dtype === 'int32', `argmax keepdims with axis null: ${kept.type}`);
});

const meanOf = (vs: number[]) => vs.reduce((a, v) => a + v, 0) / vs.length;
const varianceOf = (ddof: number) => (vs: number[]) => {
  const m = meanOf(vs);
  return vs.reduce((a, v) => a + (v - m) ** 2, 0) / Math.max(vs.length - ddof, 0);
};

test('mean over every axis choice; ints give float32', () => {
  for (const [shape, axis] of axisCases) {
    for (const keepdims of [false, true]) {
      checkOp(`mean float64 ${axis}`, (x) => t.mean(x, axis, keepdims), [{ dtype: 'float64', shape }], (x) => expectReduce(x, axis, keepdims, 'float64', meanOf), { rtol: 1e-13 });
      checkOp(`mean int32 ${axis}`, (x) => t.mean(x, axis, keepdims), [{ dtype: 'int32', shape, low: -50, high: 50 }], (x) => expectReduce(x, axis, keepdims, 'float32', meanOf), { rtol: 1e-6 });
    }
  }
  checkOp('mean of nothing is NaN', (x) => t.mean(x, 0), [{ dtype: 'float32', shape: [0, 2] }], () => fromFunction('float32', [2], () => NaN));
});

test('mean, variance and std over a dimension known only at run time', () => {
  const x = t.tensor('float32', [null, 4, null], 'x');
  const value = randomArray('float32', [5, 4, 3], { seed: 7 });
  const run = (out: t.Variable) => t.evaluate(out, [[x, value]]);
  assertClose(run(t.mean(x, 0)), expectReduce(value, 0, false, 'float32', meanOf), { rtol: 1e-6 });
  assertClose(run(t.mean(x, [0, 2], true)), expectReduce(value, [0, 2], true, 'float32', meanOf), { rtol: 1e-6 });
  assertClose(run(t.mean(x)), expectReduce(value, undefined, false, 'float32', meanOf), { rtol: 1e-6 });
  assertClose(run(t.variance(x, [0, 2], { ddof: 1 })), expectReduce(value, [0, 2], false, 'float32', varianceOf(1)), { rtol: 1e-5 });
  assertClose(run(t.std(x, 0, { keepdims: true })), expectReduce(value, 0, true, 'float32', (vs) => Math.sqrt(varianceOf(0)(vs))), { rtol: 1e-5 });
  const rowMean = t.mean(x, 1);
  assert.is(rowMean.shape.join(','), ',', `mean static shape: ${rowMean.type}`);
});

test('variance and std with ddof, keepdims, ints', () => {
  for (const [shape, axis] of [[[3, 4, 5], 1], [[3, 4, 5], [0, 2]], [[6], undefined], [[2, 3], -1]] as [number[], Axis][]) {
    for (const ddof of [0, 1]) {
      for (const keepdims of [false, true]) {
        checkOp('variance', (x) => t.variance(x, axis, { ddof, keepdims }), [{ dtype: 'float64', shape }], (x) => expectReduce(x, axis, keepdims, 'float64', varianceOf(ddof)), { rtol: 1e-12 });
        checkOp('std', (x) => t.std(x, axis, { ddof, keepdims }), [{ dtype: 'float64', shape }], (x) => expectReduce(x, axis, keepdims, 'float64', (vs) => Math.sqrt(varianceOf(ddof)(vs))), { rtol: 1e-12 });
      }
    }
  }
  checkOp('variance int32', (x) => t.variance(x, 0), [{ dtype: 'int32', shape: [7, 2], low: -9, high: 9 }], (x) => expectReduce(x, 0, false, 'float32', varianceOf(0)), { rtol: 1e-5 });
  checkOp('variance with ddof ≥ n is infinite, as numpy', (x) => t.variance(x, 0, { ddof: 2 }), [{ dtype: 'float64', shape: [2, 3] }], () => fromFunction('float64', [3], () => Infinity));
});

const logsumexpOf = (vs: number[]) => Math.log(vs.reduce((a, v) => a + Math.exp(v), 0));

test('logsumexp over every axis choice', () => {
  for (const [shape, axis] of axisCases.filter(([shape]) => shape.length > 0)) {
    for (const keepdims of [false, true]) {
      checkOp(`logsumexp ${axis}`, (x) => t.logsumexp(x, axis, keepdims), [{ dtype: 'float64', shape }], (x) => expectReduce(x, axis, keepdims, 'float64', logsumexpOf), { rtol: 1e-13 });
    }
  }
  checkOp('logsumexp float32', (x) => t.logsumexp(x, 1), [{ dtype: 'float32', shape: [3, 8] }], (x) => expectReduce(x, 1, false, 'float32', logsumexpOf), { rtol: 1e-6 });
});

test('logsumexp is stable for large values and gives -Infinity for an all -Infinity row', () => {
  const x = t.dmatrix('x');
  const v = [[1000, 1000, -Infinity], [-Infinity, -Infinity, -Infinity], [-1000, -1001, -1002], [Infinity, 0, 1]];
  const want = [1000 + Math.log(2), -Infinity, -1000 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), Infinity];
  assertClose(t.evaluate(t.logsumexp(x, 1), [[x, v]]), t.array(new Float64Array(want)), { rtol: 1e-14 });
  assertClose(t.evaluate(t.logsumexp(x, 1, true), [[x, v]]), t.array(new Float64Array(want), { shape: [4, 1] }), { rtol: 1e-14 });
});

test('bad axes name the function, the axis and the type', () => {
  const x = t.tensor('float32', [3, 4], 'x');
  expectGraphError(() => t.sum(x, 2), 'sum: axis 2 is out of range for float32[3,4]', 'reduce.test.ts:');
  expectGraphError(() => t.max(x, -3), 'max: axis -3 is out of range for float32[3,4]');
  expectGraphError(() => t.prod(x, [1, -1]), 'prod: axis -1 is repeated in [1, -1] for float32[3,4]', 'reduce.test.ts:');
  expectGraphError(() => t.argmax(x, 5), 'argmax: axis 5 is out of range', 'float32[3,4]');
  expectGraphError(() => t.mean(x, [0, 0]), 'mean: axis 0 is repeated', 'reduce.test.ts:');
  expectGraphError(() => t.variance(x, 7), 'variance: axis 7 is out of range');
  expectGraphError(() => t.logsumexp(x, 1.5), 'logsumexp: axis 1.5 is not an integer');
  expectGraphError(() => t.sum(t.scalar(), 0), 'sum: axis 0 is out of range for float32[]');
});

test.run();
