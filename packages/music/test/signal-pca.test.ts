// PCA as a graph (signal/pca.ts) on data whose eigendecomposition is known by
// construction: X = Z·diag(σ)·Qᵀ with Z's columns orthogonal, zero-mean cosines of norm
// √(n − 1) and Q the orthonormal DCT-II matrix, so cov(X) = Q·diag(σ²)·Qᵀ exactly. The
// closed form must return Q's columns (up to sign) and σ²; the whitening layer must give
// unit covariance; gradient descent must find the same components (|cos| ≥ 0.999) and
// variances within 1%. Reference evaluator and the cpu device (~3 s).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { acquireDevice, releaseDevices } from '@theorbo/codegen';
import { orderedReconstructionLoss, pcaClosedForm, pcaGradientDescent, pcaWhiten } from '../src/signal/pca.ts';
import { verifyGrad } from '@theorbo/autodiff';

const n = 64, d = 6;
const sigma = [5, 4, 3, 2, 1.5, 1];
const q = (i: number, j: number): number => Math.sqrt((j === 0 ? 1 : 2) / d) * Math.cos((Math.PI * (2 * i + 1) * j) / (2 * d)); // column j is a basis vector
const zColumn = (j: number): Float64Array => {
  const column = Float64Array.from({ length: n }, (_, r) => Math.cos((Math.PI * (2 * r + 1) * (j + 1)) / (2 * n)));
  const norm = Math.sqrt(column.reduce((s, v) => s + v * v, 0));
  return column.map((v) => (v / norm) * Math.sqrt(n - 1));
};
const z = Array.from({ length: d }, (_, j) => zColumn(j));
const data = new Float64Array(n * d);
for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) for (let j = 0; j < d; j++) data[r * d + c] = data[r * d + c]! + z[j]![r]! * sigma[j]! * q(c, j) + (j === 0 ? 0.25 : 0) / d; // + a constant offset (the mean)
const features = T.array(data, { shape: [n, d] });

const cosine = (a: T.NDArray, b: (i: number) => number, j: number, k: number): number => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < d; i++) { const x = Number(a.data[i * k + j]); dot += x * b(i); na += x * x; nb += b(i) ** 2; }
  return Math.abs(dot) / Math.sqrt(na * nb);
};

test('closed form: the known eigenvectors and eigenvalues; whitening gives unit covariance', async () => {
  const pca = await pcaClosedForm(features, 3);
  for (let j = 0; j < 3; j++) {
    assert.ok(cosine(pca.components, (i) => q(i, j), j, 3) > 1 - 1e-9, `component ${j}`);
    assert.ok(Math.abs(Number(pca.variances.data[j]) - sigma[j]! ** 2) < 1e-9 * sigma[0]! ** 2, `variance ${j}: ${pca.variances.data[j]} vs ${sigma[j]! ** 2}`);
  }
  const full = await pcaClosedForm(features, d);
  const x = T.tensor('float64', [n, d]);
  const whitened = T.evaluate(pcaWhiten(x, full), [[x, features]]);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let sum = 0;
      for (let r = 0; r < n; r++) sum += Number(whitened.data[r * d + a]) * Number(whitened.data[r * d + b]);
      assert.ok(Math.abs(sum / (n - 1) - (a === b ? 1 : 0)) < 1e-4, `whitened covariance [${a}, ${b}] = ${sum / (n - 1)}`);
    }
  }
  assert.throws(() => pcaWhiten(T.tensor('float32', [n, d + 1]), full), /pcaWhiten: expects features \[n, 6\]/);
  let refused = '';
  await pcaClosedForm(features, 7).catch((error: Error) => { refused = error.message; });
  assert.match(refused, /pcaClosedForm: components 7 must be an integer in 1 … 6/);
});

test('the ordered reconstruction loss\'s gradient matches finite differences', () => {
  const centred = T.array(Float64Array.from({ length: 20 }, (_, i) => Math.sin(i * 1.7)), { shape: [5, 4] });
  const components = T.array(Float64Array.from({ length: 8 }, (_, i) => Math.cos(i * 0.9) / 2), { shape: [4, 2] });
  const report = verifyGrad((x, v) => orderedReconstructionLoss(x!, v!), [centred, components], { rtol: 1e-5, atol: 1e-7 });
  assert.ok(report.worstRatio <= 1, `worst ratio ${report.worstRatio}`);
});

test('gradient descent finds the same components and variances', async () => {
  const device = await acquireDevice({ prefer: 'cpu' });
  try {
    const pca = await pcaGradientDescent(features, 3, { device, epochs: 600 });
    for (let j = 0; j < 3; j++) {
      assert.ok(cosine(pca.components, (i) => q(i, j), j, 3) >= 0.999, `component ${j}: |cos| ${cosine(pca.components, (i) => q(i, j), j, 3)}`);
      assert.ok(Math.abs(Number(pca.variances.data[j]) / sigma[j]! ** 2 - 1) < 0.01, `variance ${j}: ${pca.variances.data[j]} vs ${sigma[j]! ** 2}`);
    }
  } finally {
    await releaseDevices();
  }
});

test.run();
