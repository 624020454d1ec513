// One SGD step of the talk's network (1025 → 256 → 64 → 12, half-wave rectified, the
// template-distance loss) at batch 256, and its host reference: a plain float64
// forward and backward pass written out by hand, independent of every implementation.
// Each implementation returns [loss, W0, b0, W1, b1, W2, b2] after one step from the
// initial parameters; the check compares the loss and each parameter's change.
// Left out: momentum, regularization, anything the talk's step 3 does not do.
// Shapes: x[B,1025], y int32[B], templates[24,12], W0[1025,256] b0[256]
// W1[256,64] b1[64] W2[64,12] b2[12]; loss = mean over [B,12] of (z − templates[y])².
import { chordTemplates, layerShapes, normalMatrix, syntheticBatch } from '../examples/talk-network.ts';
import { compare, type CaseName, type CheckResult, type HostTensor, type Workload } from './harness.ts';

export const batchSize = 256;
export const learningRate = 0.1;
export const parameterNames = ['W0', 'b0', 'W1', 'b1', 'W2', 'b2'] as const;

/** Inputs are x, y, templates, then the six parameters in parameterNames' order. */
export function trainStepWorkload(caseName: CaseName = 'train-step'): Workload {
  const batch = syntheticBatch(batchSize, 7);
  const templates = Float32Array.from(chordTemplates().flat());
  const inputs: HostTensor[] = [
    { name: 'x', shape: [batchSize, 1025], data: batch.x.data as Float32Array },
    { name: 'y', shape: [batchSize], data: batch.y },
    { name: 'templates', shape: [24, 12], data: templates },
  ];
  // He-scaled weights (not the talk's 0.01) so that every layer has live units and the
  // gradient check below cannot pass vacuously on rectified-away zeros.
  layerShapes.forEach(([nIn, nOut], layer) => {
    inputs.push({ name: `W${layer}`, shape: [nIn, nOut], data: normalMatrix(nIn, nOut, Math.sqrt(2 / nIn), 100 + layer) });
    inputs.push({ name: `b${layer}`, shape: [nOut], data: normalMatrix(1, nOut, 0.05, 200 + layer) });
  });
  const expected = referenceStep(inputs, learningRate);
  const multiplyAdds = layerShapes.reduce((total, [nIn, nOut]) => total + nIn * nOut, 0);
  const label = caseName === 'compile-latency'
    ? `time to the first result of a freshly built training step, batch ${batchSize}, in a fresh process`
    : `one SGD step of 1025→256→64→12 (hwr, template-distance loss), batch ${batchSize}`;
  return {
    caseName, label, sizes: { batch: batchSize }, inputs, params: { learningRate },
    ...(caseName === 'train-step' ? { flops: 6 * batchSize * multiplyAdds } : {}),
    tolerance: 'loss |Δ| ≤ 1e-4·|ref|; each parameter\'s change (new − initial) within 1e-3·max|change| + 1e-7, against a float64 host step',
    check: (outputs) => checkStep(inputs, expected, outputs),
  };
}

interface StepResult { loss: number; params: Float64Array[] }

function checkStep(inputs: HostTensor[], expected: StepResult, outputs: Float32Array[]): CheckResult {
  if (outputs.length !== 7) return { ok: false, detail: `expected 7 outputs (loss and six parameters), got ${outputs.length}` };
  const loss = outputs[0]![0]!;
  const lossCheck = compare(new Float32Array([loss]), [expected.loss], () => 1e-4 * Math.abs(expected.loss));
  if (!lossCheck.ok) return { ok: false, detail: `loss: ${lossCheck.detail}` };
  const details: string[] = [`loss ${loss.toPrecision(6)}`];
  for (let p = 0; p < 6; p++) {
    const initial = inputs[3 + p]!.data as Float32Array;
    const output = outputs[1 + p]!;
    if (output.length !== initial.length) return { ok: false, detail: `${parameterNames[p]}: ${output.length} elements, expected ${initial.length}` };
    const reference = expected.params[p]!;
    const change = new Float32Array(output.length);
    const referenceChange = new Float64Array(output.length);
    let largest = 0;
    for (let i = 0; i < output.length; i++) {
      change[i] = output[i]! - initial[i]!;
      referenceChange[i] = reference[i]! - initial[i]!;
      largest = Math.max(largest, Math.abs(referenceChange[i]!));
    }
    const verdict = compare(change, referenceChange, () => 1e-3 * largest + 1e-7);
    if (!verdict.ok) return { ok: false, detail: `change of ${parameterNames[p]}: ${verdict.detail}` };
    details.push(`${parameterNames[p]} ok`);
  }
  return { ok: true, detail: details.join(', ') };
}

/** The reference step in float64: forward, backward by hand, then p ← p − η·∂loss/∂p. */
export function referenceStep(inputs: HostTensor[], eta: number): StepResult {
  const [xT, yT, templatesT] = inputs as [HostTensor, HostTensor, HostTensor];
  const B = xT.shape[0]!;
  const weights = [0, 1, 2].map((l) => Float64Array.from(inputs[3 + 2 * l]!.data));
  const biases = [0, 1, 2].map((l) => Float64Array.from(inputs[4 + 2 * l]!.data));
  const dims = layerShapes.map(([nIn, nOut]) => [nIn, nOut] as const);
  // Forward: keep each layer's input (activations) and pre-activation.
  const activations: Float64Array[] = [Float64Array.from(xT.data)];
  const preActivations: Float64Array[] = [];
  for (let l = 0; l < 3; l++) {
    const [nIn, nOut] = dims[l]!;
    const pre = matmul(activations[l]!, weights[l]!, B, nIn, nOut);
    for (let i = 0; i < B; i++) for (let j = 0; j < nOut; j++) pre[i * nOut + j]! += biases[l]![j]!;
    preActivations.push(pre);
    activations.push(pre.map((v) => Math.max(v, 0)));
  }
  const z = activations[3]!;
  const y = yT.data as Int32Array;
  const templates = templatesT.data;
  let loss = 0;
  const count = B * 12;
  let upstream: Float64Array = new Float64Array(B * 12);
  for (let i = 0; i < B; i++) {
    for (let k = 0; k < 12; k++) {
      const diff = z[i * 12 + k]! - templates[y[i]! * 12 + k]!;
      loss += (diff * diff) / count;
      upstream[i * 12 + k] = (2 * diff) / count;
    }
  }
  const updated: Float64Array[] = [];
  for (let l = 2; l >= 0; l--) {
    const [nIn, nOut] = dims[l]!;
    const pre = preActivations[l]!;
    const delta = upstream.map((g, i) => (pre[i]! > 0 ? g : 0));
    const gradW = matmul(transpose(activations[l]!, B, nIn), delta, nIn, B, nOut);
    const gradB = new Float64Array(nOut);
    for (let i = 0; i < B; i++) for (let j = 0; j < nOut; j++) gradB[j]! += delta[i * nOut + j]!;
    if (l > 0) upstream = matmul(delta, transpose(weights[l]!, nIn, nOut), B, nOut, nIn);
    updated[2 * l] = weights[l]!.map((w, i) => w - eta * gradW[i]!);
    updated[2 * l + 1] = biases[l]!.map((b, j) => b - eta * gradB[j]!);
  }
  return { loss, params: updated };
}

function matmul(a: Float64Array, b: Float64Array, M: number, K: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const aik = a[i * K + k]!;
      if (aik === 0) continue;
      const row = i * N, col = k * N;
      for (let j = 0; j < N; j++) out[row + j]! += aik * b[col + j]!;
    }
  }
  return out;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]!;
  return out;
}
