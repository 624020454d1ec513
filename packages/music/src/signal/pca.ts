// PCA as a graph (the talk's "PCA is a shallow network"): whitening a feature matrix is one
// linear layer, whiten(x) = (x − μ) · W with W = V·diag(λ + ε)^(−1/2), V the covariance's
// leading eigenvectors and λ their eigenvalues. Two ways to get V:
//   pcaClosedForm: the covariance as a graph (centred Xᵀ·X / (n − 1)), then its symmetric
//     eigendecomposition on the host (ml-matrix), leading components first, each signed so
//     that its largest entry is positive;
//   pcaGradientDescent: V as a shared variable trained with the engine's autodiff on the
//     ordered reconstruction loss Σ_j ‖Xc − Xc·V[:, :j]·V[:, :j]ᵀ‖² / n over j = 1 … k (each
//     prefix of components must reconstruct alone, which breaks the rotation symmetry of a
//     plain linear autoencoder and orders them as the eigendecomposition does); λ are then
//     the variances of the projections. It converges to the same V up to sign when the
//     leading eigenvalues are distinct.
// Left out: incremental / batched PCA, kernel PCA, ZCA (W·Vᵀ) whitening.
//
// Shapes: features [n, d]; mean [d]; components V [d, k]; variances [k]; whitened [n, k].

import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import * as T from '@theorbo/graph';
import { compile, readShared, type AcquiredDevice } from '@theorbo/codegen';
import { train } from '../train/index.ts';
import { graphError } from './framing.ts';

export interface Pca {
  mean: T.NDArray;
  components: T.NDArray;
  variances: T.NDArray;
  /** Added to the variances before the inverse square root (default 1e-8). */
  epsilon: number;
}

/** The whitening layer of a fitted PCA as a graph: [n, d] → [n, k], zero mean and unit covariance on the data it was fitted to. */
export function pcaWhiten(x: T.Variable, pca: Pca): T.Variable {
  const [d, k] = pca.components.shape as [number, number];
  if (x.ndim !== 2 || x.shape[1] !== d) throw graphError('pcaWhiten', `expects features [n, ${d}], but got ${x.type}`);
  const scale = Float32Array.from(pca.variances.data, (variance) => 1 / Math.sqrt(Number(variance) + pca.epsilon));
  const weights = T.mul(T.constant(pca.components.astype('float32'), { name: 'pca_components' }), T.constant(T.array(scale, { shape: [1, k] }), { name: 'pca_scale' }));
  return T.matmul(T.sub(x, T.constant(pca.mean.astype('float32'), { name: 'pca_mean' })), weights);
}

function checkFeatures(op: string, features: T.NDArray, components: number): [number, number] {
  if (features.ndim !== 2) throw new Error(`${op}: features must be a matrix [n, d], but have shape [${features.shape.join(', ')}]`);
  const [n, d] = features.shape as [number, number];
  if (n < 2) throw new Error(`${op}: needs at least 2 rows to estimate a covariance, but got ${n}`);
  if (!(Number.isInteger(components) && components >= 1 && components <= d)) throw new Error(`${op}: components ${components} must be an integer in 1 … ${d} (the feature width)`);
  return [n, d];
}

/** The column means [d] and the covariance [d, d] of features [n, d], computed as a graph (on the device in float32, else on the reference evaluator). */
export async function covariance(features: T.NDArray, device?: AcquiredDevice): Promise<{ mean: T.NDArray; covariance: T.NDArray }> {
  const [n] = checkFeatures('covariance', features, 1);
  // Devices run float32; the reference evaluator keeps float64 data in float64.
  const values = device ? features.astype('float32') : features;
  const x = T.tensor(values.dtype, features.shape as number[], 'features');
  const mean = T.mean(x, 0);
  const centred = T.sub(x, mean);
  const outputs = [mean, T.div(T.matmul(T.transpose(centred), centred), n - 1)];
  const [m, c] = device ? ((await compile({ inputs: [x], outputs, device })(values)) as T.NDArray[]) : T.evaluate(outputs, [[x, values]]);
  return { mean: m!, covariance: c! };
}

/** Signs each column so that its largest-magnitude entry is positive. */
function fixSigns(columns: Float64Array, d: number, k: number): void {
  for (let j = 0; j < k; j++) {
    let largest = 0;
    for (let i = 0; i < d; i++) if (Math.abs(columns[i * k + j]!) > Math.abs(largest)) largest = columns[i * k + j]!;
    if (largest < 0) for (let i = 0; i < d; i++) columns[i * k + j] = -columns[i * k + j]!;
  }
}

/** PCA of features [n, d] by the covariance's eigendecomposition (see the file comment). */
export async function pcaClosedForm(features: T.NDArray, components: number, options: { device?: AcquiredDevice; epsilon?: number } = {}): Promise<Pca> {
  const [, d] = checkFeatures('pcaClosedForm', features, components);
  const { mean, covariance: c } = await covariance(features, options.device);
  const rows = Array.from({ length: d }, (_, i) => Array.from(c.data.subarray(i * d, (i + 1) * d), Number));
  const eigen = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const order = eigen.realEigenvalues.map((value, i) => [value, i] as const).sort((a, b) => b[0] - a[0]).slice(0, components);
  const vectors = eigen.eigenvectorMatrix;
  const out = new Float64Array(d * components);
  order.forEach(([, column], j) => { for (let i = 0; i < d; i++) out[i * components + j] = vectors.get(i, column); });
  fixSigns(out, d, components);
  return {
    mean: mean.astype('float64'), components: T.array(out, { shape: [d, components] }),
    variances: T.array(Float64Array.from(order, ([value]) => Math.max(0, value))), epsilon: options.epsilon ?? 1e-8,
  };
}

export interface PcaDescentOptions {
  device: AcquiredDevice;
  epochs?: number;
  learningRate?: number;
  seed?: number;
  epsilon?: number;
}

/** The ordered reconstruction loss of centred features [n, d] and components [d, k] (see the file comment). */
export function orderedReconstructionLoss(centred: T.Variable, components: T.Variable): T.Variable {
  const k = components.shape[1]!;
  return T.composite('orderedReconstructionLoss', () => {
    let total: T.Variable | undefined;
    for (let j = 1; j <= k; j++) {
      const prefix = T.get(components, ':', T.slice(0, j));
      const residual = T.sub(centred, T.matmul(T.matmul(centred, prefix), T.transpose(prefix)));
      const term = T.mean(T.sum(T.square(residual), 1));
      total = total ? T.add(total, term) : term;
    }
    return total!;
  });
}

/** PCA of features [n, d] by gradient descent on the ordered reconstruction loss (see the file comment). */
export async function pcaGradientDescent(features: T.NDArray, components: number, options: PcaDescentOptions): Promise<Pca> {
  const [n, d] = checkFeatures('pcaGradientDescent', features, components);
  const { mean } = await covariance(features, options.device);
  const centredValues = T.array(Float32Array.from(features.data, (value, i) => Number(value) - Number(mean.data[i % d])), { shape: [n, d], dtype: 'float32' });
  // A small random start: the loss is flat at V = 0 and symmetric under rotations of a whole basis.
  let state = (options.seed ?? 1) >>> 0;
  const next = (): number => { state = (Math.imul(state, 1664525) + 1013904223) >>> 0; return state / 4294967296 - 0.5; };
  const start = T.array(Float32Array.from({ length: d * components }, () => 0.1 * next()), { shape: [d, components], dtype: 'float32' });
  const weights = T.shared(start, 'pca_components');
  const centred = T.tensor('float32', [null, d], 'centred');
  await train({
    model: { params: [weights], inputs: [centred], loss: orderedReconstructionLoss(centred, weights) },
    data: { train: [centredValues] }, epochs: options.epochs ?? 400, batchSize: n, shuffle: false,
    rule: 'adam', learningRate: options.learningRate ?? 0.02, device: options.device, progress: false,
  });
  const learned = await readShared(weights);
  // Unit columns, signed as pcaClosedForm signs them; variances of the projections.
  const out = Float64Array.from(learned.data, Number);
  for (let j = 0; j < components; j++) {
    let norm = 0;
    for (let i = 0; i < d; i++) norm += out[i * components + j]! ** 2;
    for (let i = 0; i < d; i++) out[i * components + j] = out[i * components + j]! / Math.sqrt(norm);
  }
  fixSigns(out, d, components);
  const variances = new Float64Array(components);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < components; j++) {
      let projection = 0;
      for (let i = 0; i < d; i++) projection += Number(centredValues.data[r * d + i]) * out[i * components + j]!;
      variances[j] = variances[j]! + (projection * projection) / (n - 1);
    }
  }
  return { mean: mean.astype('float64'), components: T.array(out, { shape: [d, components] }), variances: T.array(variances), epsilon: options.epsilon ?? 1e-8 };
}
