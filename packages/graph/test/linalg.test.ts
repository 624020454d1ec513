// matmul, dot, outer and tensordot against plain loops: vector and matrix cases, odd
// sizes, batches with broadcasting, empty dims, int32 and float32/float64, unknown dims.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import { assertClose, checkOp, expectGraphError, fromFunction, randomArray } from '../src/testing.ts';
import type { DType, NDArray } from '../src/index.ts';

const spec = (dtype: DType, shape: number[]) => ({ dtype, shape, low: dtype === 'int32' ? -50 : -2, high: dtype === 'int32' ? 50 : 2 });
const sizeOfShape = (shape: readonly number[]) => shape.reduce((a, d) => a * d, 1);

/** Sum over k of term(k), accumulated as the dtype does (int32 wraps). */
function accumulate(count: number, dtype: DType, term: (k: number) => number): number {
  let acc = 0;
  for (let k = 0; k < count; k++) acc = dtype === 'int32' ? (acc + term(k)) | 0 : acc + term(k);
  return acc;
}

/** numpy matmul by its definition: vectors promoted, batch broadcast, added axes removed. */
function expectMatmul(a: NDArray, b: NDArray, dtype: DType): NDArray {
  const A = a.ndim === 1 ? a.reshape([1, a.shape[0]!]) : a;
  const B = b.ndim === 1 ? b.reshape([b.shape[0]!, 1]) : b;
  const [batchA, batchB] = [A.shape.slice(0, -2), B.shape.slice(0, -2)];
  const nb = Math.max(batchA.length, batchB.length);
  const padded = (s: readonly number[]) => [...new Array<number>(nb - s.length).fill(1), ...s];
  const batch = padded(batchA).map((d, i) => Math.max(d, padded(batchB)[i]!));
  const [n, k, m] = [A.shape[A.ndim - 2]!, A.shape[A.ndim - 1]!, B.shape[B.ndim - 1]!];
  const pick = (index: number[], own: readonly number[]) => index.slice(nb - own.length).map((v, axis) => (own[axis] === 1 ? 0 : v));
  const full = fromFunction(dtype, [...batch, n, m], (index) => {
    const [bi, i, j] = [index.slice(0, nb), index[nb]!, index[nb + 1]!];
    const intProduct = (x: number, y: number) => (dtype === 'int32' ? Math.imul(x, y) : x * y);
    return accumulate(k, dtype, (p) => intProduct(A.at(...pick(bi, batchA), i, p), B.at(...pick(bi, batchB), p, j)));
  });
  return full.reshape([...batch, ...(a.ndim > 1 ? [n] : []), ...(b.ndim > 1 ? [m] : [])]);
}

const matmulCases: [number[], number[]][] = [
  [[5], [5]], [[5], [5, 3]], [[7, 5], [5]], [[7, 5], [5, 3]], [[1, 1], [1, 1]], [[2, 7, 5], [5, 3]],
  [[2, 1, 3, 4], [5, 4, 2]], [[3, 4], [2, 4, 6]], [[4], [2, 4, 3]], [[2, 3, 4], [4]], [[3, 1, 2, 3], [1, 4, 3, 2]],
  [[0, 5], [5, 3]], [[3, 0], [0, 4]], [[2, 0, 3], [3, 4]], [[0], [0]],
];

for (const dtype of ['float64', 'float32', 'int32'] as const) {
  test(`matmul ${dtype}: vectors, matrices, batches and broadcast batches`, () => {
    const tolerance = dtype === 'float32' ? { rtol: 1e-6, atol: 1e-6 } : { rtol: 1e-13 };
    for (const [sa, sb] of matmulCases) {
      checkOp(`matmul ${dtype}[${sa}] @ [${sb}]`, (a, b) => t.matmul(a, b), [spec(dtype, sa), spec(dtype, sb)], (a, b) => expectMatmul(a, b, dtype), tolerance);
    }
  });
}

test('matmul of mixed dtypes promotes; int32 wraps', () => {
  checkOp('int32 @ float32', (a, b) => t.matmul(a, b), [spec('int32', [3, 4]), spec('float32', [4, 2])], (a, b) => expectMatmul(a, b, 'float32'), { rtol: 1e-6 });
  checkOp('bool @ float64', (a, b) => t.matmul(a, b), [spec('bool', [3, 4]), spec('float64', [4])], (a, b) => expectMatmul(a, b, 'float64'));
  const a = t.imatrix('a');
  assertClose(t.evaluate(t.matmul(a, a), [[a, t.array(new Int32Array([65536]), { shape: [1, 1] })]]), t.array(new Int32Array([0]), { shape: [1, 1] }));
});

test('matmul with dims known only at run time', () => {
  const a = t.tensor('float64', [null, null, 5], 'a');
  const b = t.tensor('float64', [5, null], 'b');
  const out = t.matmul(a, b);
  assert.is(out.shape.join(','), ',,', `static shape ${out.type}`);
  const [va, vb] = [randomArray('float64', [2, 3, 5], { seed: 1 }), randomArray('float64', [5, 4], { seed: 2 })];
  assertClose(t.evaluate(out, [[a, va], [b, vb]]), expectMatmul(va, vb, 'float64'), { rtol: 1e-13 });
  const c = t.tensor('float32', [3, null], 'c');
  const d = t.tensor('float32', [null, 2], 'd');
  let message = '';
  try {
    t.evaluate(t.matmul(c, d), [[c, randomArray('float32', [3, 4])], [d, randomArray('float32', [5, 2])]]);
  } catch (error) {
    message = (error as Error).message;
  }
  assert.ok(message.includes('matmul: inner dimensions differ: float32[3,4] @ float32[5,2] (4 vs 5)') && message.includes('linalg.test.ts:'), `wrong run-time failure: ${message}`);
});

/** numpy dot by its definition: sum over a's last axis and b's second-to-last (or only) axis. */
function expectDot(a: NDArray, b: NDArray, dtype: DType): NDArray {
  if (a.ndim === 0 || b.ndim === 0) {
    const [s, x] = a.ndim === 0 ? [a.data[0]!, b] : [b.data[0]!, a];
    return fromFunction(dtype, x.shape, (i) => s * x.at(...i));
  }
  const k = a.shape[a.ndim - 1]!;
  const axisB = Math.max(b.ndim - 2, 0);
  const freeB = b.shape.filter((_, i) => i !== axisB);
  return fromFunction(dtype, [...a.shape.slice(0, -1), ...freeB], (index) => {
    const ia = index.slice(0, a.ndim - 1);
    const ib = index.slice(a.ndim - 1);
    return accumulate(k, dtype, (p) => a.at(...ia, p) * b.at(...ib.slice(0, axisB), p, ...ib.slice(axisB)));
  });
}

test('dot: scalars, vectors, matrices and numpy semantics beyond two dimensions', () => {
  const cases: [number[], number[]][] = [
    [[5], [5]], [[3, 5], [5]], [[5], [5, 2]], [[3, 5], [5, 2]], [[], [3, 4]], [[3], []],
    [[2, 3, 4], [4]], [[4], [2, 4, 3]], [[2, 3, 4], [5, 4, 6]], [[2, 3, 4], [4, 6]], [[3, 4], [2, 4, 5]],
  ];
  for (const [sa, sb] of cases) {
    checkOp(`dot [${sa}]·[${sb}]`, (a, b) => t.dot(a, b), [spec('float64', sa), spec('float64', sb)], (a, b) => expectDot(a, b, 'float64'), { rtol: 1e-13 });
  }
  checkOp('dot int32 3-D', (a, b) => t.dot(a, b), [spec('int32', [2, 3, 4]), spec('int32', [2, 4, 3])], (a, b) => expectDot(a, b, 'int32'));
});

test('outer flattens both operands', () => {
  for (const [sa, sb] of [[[3], [4]], [[2, 3], [4]], [[3], []], [[0], [3]], [[2, 2], [1, 3]]] as number[][][]) {
    checkOp(`outer [${sa}] [${sb}]`, (a, b) => t.outer(a, b), [spec('float64', sa!), spec('float64', sb!)], (a, b) =>
      fromFunction('float64', [a.size, b.size], ([i, j]) => a.data[i!]! * b.data[j!]!));
  }
  const a = t.tensor('float32', [null, 2], 'a');
  const b = t.vector('b');
  const [va, vb] = [randomArray('float32', [3, 2]), randomArray('float32', [4], { seed: 5 })];
  assertClose(t.evaluate(t.outer(a, b), [[a, va], [b, vb]]), fromFunction('float32', [6, 4], ([i, j]) => va.data[i!]! * vb.data[j!]!));
});

/** numpy tensordot by its definition: free axes of a, then of b; sum over the paired axes. */
function expectTensordot(a: NDArray, b: NDArray, axesA: number[], axesB: number[], dtype: DType): NDArray {
  axesA = axesA.map((x) => (x < 0 ? x + a.ndim : x));
  axesB = axesB.map((x) => (x < 0 ? x + b.ndim : x));
  const freeA = a.shape.map((_, i) => i).filter((i) => !axesA.includes(i));
  const freeB = b.shape.map((_, i) => i).filter((i) => !axesB.includes(i));
  const contracted = axesA.map((axis) => a.shape[axis]!);
  return fromFunction(dtype, [...freeA.map((i) => a.shape[i]!), ...freeB.map((i) => b.shape[i]!)], (index) => {
    let acc = 0;
    for (let flat = 0; flat < sizeOfShape(contracted); flat++) {
      const c: number[] = [];
      let rest = flat;
      for (let i = contracted.length - 1; i >= 0; i--) {
        c[i] = rest % contracted[i]!;
        rest = Math.floor(rest / contracted[i]!);
      }
      const ia = new Array<number>(a.ndim);
      const ib = new Array<number>(b.ndim);
      freeA.forEach((axis, i) => (ia[axis] = index[i]!));
      freeB.forEach((axis, i) => (ib[axis] = index[freeA.length + i]!));
      axesA.forEach((axis, i) => (ia[axis] = c[i]!));
      axesB.forEach((axis, i) => (ib[axis] = c[i]!));
      acc += a.at(...ia) * b.at(...ib);
    }
    return acc;
  });
}

test('tensordot with an integer and with axis lists', () => {
  const cases: [number[], number[], number | [number[], number[]], number[], number[]][] = [
    [[3, 4, 5], [4, 5, 6], 2, [1, 2], [0, 1]],
    [[3, 4], [4, 5], 1, [1], [0]],
    [[3, 4], [4, 5], 0, [], []],
    [[2, 3], [], 0, [], []],
    [[3, 4, 5], [5, 4, 2], [[1, 2], [1, 0]], [1, 2], [1, 0]],
    [[2, 3, 4], [4, 3, 2], [[0, 1, 2], [2, 1, 0]], [0, 1, 2], [2, 1, 0]],
    [[4, 2, 3], [3, 5, 4, 2], [[0, 2], [2, 0]], [0, 2], [2, 0]],
    [[3, 4, 5], [5, 6], [[-1], [0]], [-1], [0]],
    [[5], [5], 1, [0], [0]],
    [[3, 0], [0, 2], 1, [1], [0]],
  ];
  for (const [sa, sb, axes, axesA, axesB] of cases) {
    checkOp(`tensordot [${sa}] [${sb}] ${JSON.stringify(axes)}`, (a, b) => t.tensordot(a, b, axes), [spec('float64', sa), spec('float64', sb)],
      (a, b) => expectTensordot(a, b, axesA, axesB, 'float64'), { rtol: 1e-13 });
  }
  const a = t.tensor('float64', [null, 4, null], 'a');
  const b = t.tensor('float64', [null, 4, 3], 'b');
  const out = t.tensordot(a, b, [[2, 1], [0, 1]]);
  const [va, vb] = [randomArray('float64', [2, 4, 5]), randomArray('float64', [5, 4, 3], { seed: 3 })];
  assertClose(t.evaluate(out, [[a, va], [b, vb]]), expectTensordot(va, vb, [2, 1], [0, 1], 'float64'), { rtol: 1e-13 });
});

test('matmul errors: inner dimensions, batch dims, scalars, bool', () => {
  const a = t.tensor('float32', [8, 3], 'a');
  const b = t.tensor('float32', [4, 5], 'b');
  expectGraphError(() => t.matmul(a, b), 'matmul: inner dimensions differ: float32[8,3] @ float32[4,5] (3 vs 4)', 'linalg.test.ts:');
  expectGraphError(() => t.matmul(t.tensor('float32', [2, 3, 4]), t.tensor('float32', [5, 4, 2])), 'matmul: batch dimensions do not broadcast', 'float32[2,3,4] @ float32[5,4,2]');
  expectGraphError(() => t.matmul(t.scalar(), t.vector()), 'matmul needs at least one dimension on each side', 'float32[] @ float32[?]', 'linalg.test.ts:');
  expectGraphError(() => t.matmul(t.bvector(), t.bvector()), 'bool @ bool is not supported', 'bool[?] @ bool[?]');
  expectGraphError(() => t.dot(t.tensor('float32', [2, 3, 4]), t.tensor('float32', [5, 3, 6])), 'dot', 'contracted dimensions differ', 'float32[2,3,4]', 'linalg.test.ts:');
});

test('tensordot errors: mismatched dims, bad and repeated axes', () => {
  const a = t.tensor('float32', [3, 4], 'a');
  const b = t.tensor('float32', [5, 6], 'b');
  expectGraphError(() => t.tensordot(a, b, 1), 'tensordot: contracted dimensions differ: axis 1 of float32[3,4] has size 4 but axis 0 of float32[5,6] has size 5', 'linalg.test.ts:');
  expectGraphError(() => t.tensordot(a, b, 3), 'tensordot: axes = 3 must be an integer from 0 to 2');
  expectGraphError(() => t.tensordot(a, b, [[0, 1], [0]]), 'tensordot: the axis lists [0, 1] and [0] differ in length');
  expectGraphError(() => t.tensordot(a, b, [[2], [0]]), 'tensordot: axis 2 is out of range for float32[3,4]');
  expectGraphError(() => t.tensordot(a, a, [[1, -1], [0, 1]]), 'tensordot: axis -1 is repeated in [1, -1] for float32[3,4]');
});

test.run();
