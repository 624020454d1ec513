// Convolution and pooling in the reference evaluator, against independent definitions
// and closed forms: conv1d with a delta kernel is a shift, a separable 2-D kernel equals
// two 1-D convolutions, a strided dilated grouped conv against a direct numpy-style
// loop written here, the transposed conv as the exact adjoint of conv (<conv(x), y> =
// <x, convT(y)>), PyTorch's pooling sizes and divisors; and each bad input's sentence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import type { NDArray } from '../src/index.ts';
import { assertClose, expectGraphError, fromFunction, randomArray } from '../src/testing.ts';

const r = (shape: number[], seed: number) => randomArray('float64', shape, { seed });
const evaluate = (build: (...v: t.Variable[]) => t.Variable, values: NDArray[]): NDArray => {
  const inputs = values.map((value, i) => t.tensor(value.dtype, value.shape, `in${i}`));
  return t.evaluate(build(...inputs), inputs.map((input, i) => [input, values[i]!] as const));
};
const dot = (a: NDArray, b: NDArray): number => Array.from(a.data).reduce((sum, v, i) => sum + v * b.data[i]!, 0);

test('conv1d with a delta kernel is a shift (zero-padded at the edges)', () => {
  const x = r([2, 1, 9], 1);
  const delta = fromFunction('float64', [1, 1, 5], ([, , k]) => (k === 3 ? 1 : 0));
  const y = evaluate((a, w) => t.conv1d(a, w, { padding: 2 }), [x, delta]);
  assertClose(y, fromFunction('float64', [2, 1, 9], ([n, , i]) => (i! + 1 < 9 ? x.at(n!, 0, i! + 1) : 0)));
});

test('a separable 2-D kernel equals a conv over rows, then one over columns', () => {
  const x = r([1, 1, 6, 7], 2);
  const [u, v] = [[0.5, -1, 2], [1, 0.25]];
  const kernel = fromFunction('float64', [1, 1, 3, 2], ([, , i, j]) => u[i!]! * v[j!]!);
  const both = evaluate((a, w) => t.conv2d(a, w), [x, kernel]);
  const rows = evaluate((a, w) => t.conv2d(a, w), [x, t.array(new Float64Array(u), { shape: [1, 1, 3, 1] })]);
  const separable = evaluate((a, w) => t.conv2d(a, w), [rows, t.array(new Float64Array(v), { shape: [1, 1, 1, 2] })]);
  assertClose(both, separable);
});

test('strided, dilated, grouped, padded conv1d against a direct loop', () => {
  const [N, C, L, F, K, G, s, d, pb, pa] = [2, 4, 13, 6, 3, 2, 2, 2, 1, 3];
  const x = r([N, C, L], 3);
  const w = r([F, C / G, K], 4);
  const got = evaluate((a, b) => t.conv1d(a, b, { stride: s, dilation: d, groups: G, padding: [pb, pa] }), [x, w]);
  const Lo = Math.floor((L + pb + pa - d * (K - 1) - 1) / s) + 1;
  const want = fromFunction('float64', [N, F, Lo], ([n, f, o]) => {
    let total = 0;
    const group = Math.floor(f! / (F / G));
    for (let c = 0; c < C / G; c++) {
      for (let k = 0; k < K; k++) {
        const i = o! * s + k * d - pb;
        if (i >= 0 && i < L) total += x.at(n!, group * (C / G) + c, i) * w.at(f!, c, k);
      }
    }
    return total;
  });
  assertClose(got, want);
});

test('the transposed convolution and the weight gradient are conv\'s adjoints', () => {
  const attrs = { stride: [2, 3], padding: [[1, 0], [2, 1]] as [number, number][], dilation: [1, 2], groups: 2 };
  const x = r([2, 4, 7, 9], 5);
  const w = r([6, 2, 3, 2], 6);
  const y = evaluate((a, b) => t.applyOp('conv', [a, b], attrs), [x, w]);
  const g = r([...y.shape], 7);
  const xBack = evaluate((a, b) => t.convAdjoint('conv_transpose', a, b, attrs, [7, 9]), [g, w]);
  const wBack = evaluate((a, b) => t.convAdjoint('conv_weight_grad', a, b, attrs, [3, 2]), [x, g]);
  assert.ok(Math.abs(dot(y, g) - dot(x, xBack)) < 1e-10 * Math.abs(dot(y, g)), `<conv(x), g> = ${dot(y, g)}, <x, convT(g)> = ${dot(x, xBack)}`);
  assert.ok(Math.abs(dot(y, g) - dot(w, wBack)) < 1e-10 * Math.abs(dot(y, g)), `<conv(x), g> = ${dot(y, g)}, <w, dW> = ${dot(w, wBack)}`);
});

test('convTranspose1d upsamples to (L − 1)·s − 2p + d(K − 1) + outputPadding + 1, also with unknown lengths', () => {
  const x = t.tensor('float32', [1, 2, null]);
  const w = t.tensor('float32', [2, 3, 4]);
  const y = t.convTranspose1d(x, w, { stride: 3, padding: 1, outputPadding: 2 });
  assert.equal(y.shape, [1, 3, null]);
  const value = t.evaluate(y, [[x, randomArray('float32', [1, 2, 5])], [w, randomArray('float32', [2, 3, 4])]]);
  assert.equal(value.shape, [1, 3, (5 - 1) * 3 - 2 + 3 + 2 + 1]);
});

test('pooling: PyTorch\'s sizes in floor and ceil mode, first maxima, and average divisors with and without padding', () => {
  const x = t.array(new Float64Array([1, 5, 2, 5, 3, 0, 4]), { shape: [1, 1, 7] });
  assert.equal([...evaluate((a) => t.maxPool1d(a, 2), [x]).data], [5, 5, 3]);
  assert.equal([...evaluate((a) => t.maxPool1d(a, 2, { ceilMode: true }), [x]).data], [5, 5, 3, 4]);
  assert.equal([...evaluate((a) => t.avgPool1d(a, 3, { stride: 2, padding: 1 }), [x]).data], [2, 4, 8 / 3, 4 / 3]);
  assert.equal([...evaluate((a) => t.avgPool1d(a, 3, { stride: 2, padding: 1, countIncludePad: false }), [x]).data], [3, 4, 8 / 3, 2]);
  // The gradient goes to the first maximum of each window only.
  const grad = evaluate((a, g) => t.applyOp('pool_grad', [a, g], { mode: 'max', size: [4], stride: [3], padding: [[0, 0]], ceilMode: false, countIncludePad: true }), [x, t.array(new Float64Array([10, 20]), { shape: [1, 1, 2] })]);
  assert.equal([...grad.data], [0, 10, 0, 20, 0, 0, 0]);
});

test('bad convolutions and pools name the op, the shapes and the fix', () => {
  const x = t.tensor('float32', [2, 6, 10]);
  expectGraphError(() => t.conv1d(x, t.tensor('float32', [4, 4, 3]), { groups: 2 }), 'conv1d', '6 channels', 'expect 4 per group × 2 groups = 8');
  expectGraphError(() => t.conv1d(x, t.tensor('float32', [5, 3, 3]), { groups: 2 }), 'conv1d', '5 filters do not divide into 2 groups');
  expectGraphError(() => t.conv1d(x, t.tensor('float32', [4, 3, 3]), { groups: 4 }), '6 channels do not divide into 4 groups');
  expectGraphError(() => t.conv1d(x, t.tensor('float32', [4, 6, 8]), { dilation: 2 }), 'kernel spans 15 positions', 'padded input (10 + 0 + 0)');
  expectGraphError(() => t.conv1d(x, t.tensor('float32', [4, 6, 3, 3])), 'conv1d', 'filters', '3 axes');
  expectGraphError(() => t.conv2d(x, t.tensor('float32', [4, 6, 3, 3])), 'conv2d', 'expects the input [batch, channels, height, width]');
  expectGraphError(() => t.conv1d(t.tensor('int32', [2, 6, 10]), t.tensor('int32', [4, 6, 3])), 'needs float inputs');
  expectGraphError(() => t.conv1d(x, t.tensor('float32', [4, 6, 3]), { stride: 0 }), 'stride and dilation must be at least 1');
  expectGraphError(() => t.maxPool1d(x, 4, { padding: 3 }), 'maxPool1d', 'exceeds half the window');
  expectGraphError(() => t.avgPool1d(x, 12), 'avgPool1d', 'window of 12 is longer than the padded input');
  expectGraphError(() => t.convTranspose1d(x, t.tensor('float32', [6, 2, 3]), { stride: 2, outputPadding: 2 }), 'outputPadding [2] must be smaller than the stride');
});

test.run();
