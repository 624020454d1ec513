// The kernel workloads: inputs (seeded), per-iteration work, and each one's host
// reference with its tolerance. Sizes depend on the device kind: llvmpipe runs WGSL on
// two CPU cores, so its defaults stay small and the large sizes wait for --big.
// Left out: the training step and compile latency (training.ts), the convolutions
// (convolution.ts), the recurrent network (rnn.ts), any implementation.
// Shapes: elementwise and affine x[M,N], a[N], b[1,N] → y[M,N]; sum-last x[M,N] → [M];
// sum-all x[M,N] → []; softmax x[M,N] → [M,N] over N; matmul a[M,K] @ b[K,N] → [M,N].
import { seededRandom } from '@theorbo/graph/testing';
import { convCases, convWorkloads, type ConvCase } from './convolution.ts';
import { rnnCases, rnnWorkloads, type RnnCase } from './rnn.ts';
import { allClose, sampledClose, scaledClose, uniform, type CaseName, type HostTensor, type Workload } from './harness.ts';
import { trainStepWorkload } from './training.ts';

export interface SizeOptions {
  /** Which device the WebGPU rows run on; 'reference' means no WebGPU device. */
  kind: 'gpu' | 'cpu' | 'cpu-webgpu' | 'reference';
  big: boolean;
  /** Only each case's first (smallest) size, for a quick run. */
  quick?: boolean;
}

type Pair = [number, number];
/** [M, N] pairs (matmul: cube edges) per device kind; --big appends the third list. */
const sizeTable: Record<Exclude<CaseName, ConvCase | RnnCase | 'train-step' | 'compile-latency'>, { cpu: number[][]; gpu: number[][]; big: { cpu: number[][]; gpu: number[][] } }> = {
  'elementwise': { cpu: [[512, 1024], [1024, 2048]], gpu: [[1024, 1024], [4096, 4096], [8192, 8192]], big: { cpu: [[4096, 4096]], gpu: [[16384, 16384]] } },
  'affine': { cpu: [[512, 1024], [1024, 2048]], gpu: [[1024, 1024], [4096, 4096], [8192, 8192]], big: { cpu: [[4096, 4096]], gpu: [[16384, 16384]] } },
  'sum-last': { cpu: [[1024, 1024], [256, 16384]], gpu: [[4096, 4096], [8192, 8192]], big: { cpu: [[4096, 4096]], gpu: [[16384, 16384]] } },
  'sum-all': { cpu: [[1024, 1024]], gpu: [[4096, 4096], [8192, 8192]], big: { cpu: [[4096, 4096]], gpu: [[16384, 16384]] } },
  'softmax': { cpu: [[1024, 1024], [256, 4096]], gpu: [[16384, 1024], [4096, 4096]], big: { cpu: [[4096, 4096]], gpu: [[8192, 8192]] } },
  'matmul': { cpu: [[256], [1024]], gpu: [[256], [1024], [4096]], big: { cpu: [[4096]], gpu: [[8192]] } },
};

export function workloadsFor(caseName: CaseName, options: SizeOptions): Workload[] {
  if (caseName === 'train-step' || caseName === 'compile-latency') return [trainStepWorkload(caseName)];
  const onGpu = options.kind === 'gpu';
  if ((convCases as readonly CaseName[]).includes(caseName)) return convWorkloads(caseName as ConvCase, onGpu, options.quick ?? false);
  if ((rnnCases as readonly CaseName[]).includes(caseName)) return rnnWorkloads(caseName as RnnCase, onGpu, options.quick ?? false);
  const kernelCase = caseName as keyof typeof sizeTable;
  const entry = sizeTable[kernelCase];
  const sizes = [...(onGpu ? entry.gpu : entry.cpu), ...(options.big ? (onGpu ? entry.big.gpu : entry.big.cpu) : [])].slice(0, options.quick ? 1 : undefined);
  return sizes.map((size) => {
    switch (kernelCase) {
      case 'elementwise': return elementwiseWorkload(size as Pair);
      case 'affine': return affineWorkload(size as Pair);
      case 'sum-last': return sumLastWorkload(size as Pair);
      case 'sum-all': return sumAllWorkload(size as Pair);
      case 'softmax': return softmaxWorkload(size as Pair);
      case 'matmul': return matmulWorkload(size[0]!);
    }
  });
}

const tensor = (name: string, shape: number[], data: Float32Array | Int32Array): HostTensor => ({ name, shape, data });
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * y = tanh(x·a + b) · sigmoid(x) − exp(−x²): nine elementwise ops (mul, add, tanh,
 * sigmoid, mul, square, neg, exp, sub) over a[N] and b[1,N] broadcast against x[M,N].
 * A fused kernel moves x and y once; an unfused one moves each intermediate too.
 */
export function elementwiseWorkload([M, N]: Pair): Workload {
  const x = uniform(M * N, -2, 2, 11);
  const a = uniform(N, -1, 1, 12);
  const b = uniform(N, -1, 1, 13);
  const reference = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const v = x[i * N + j]!;
      reference[i * N + j] = Math.tanh(v * a[j]! + b[j]!) * sigmoid(v) - Math.exp(-v * v);
    }
  }
  return {
    caseName: 'elementwise', label: `y = tanh(x·a + b)·sigmoid(x) − exp(−x²), x[${M},${N}] a[${N}] b[1,${N}]`, sizes: { M, N },
    inputs: [tensor('x', [M, N], x), tensor('a', [N], a), tensor('b', [1, N], b)],
    bytes: 4 * (2 * M * N + 2 * N),
    // float32 rounding alone stays near 1e-7 here; PyTorch's vectorized CPU tanh/sigmoid
    // was measured 4.4e-5 off where the two terms cancel, hence the absolute 1e-4.
    tolerance: '|Δ| ≤ 1e-4 + 1e-4·|ref| per element, against a float64 host loop',
    check: allClose(reference, 1e-4, 1e-4),
  };
}

/**
 * y = x·a + b over the elementwise case's inputs: two ops and no transcendental, so a
 * fused kernel is bound by memory (x in, y out) and the "% of copy" columns measure it.
 */
export function affineWorkload([M, N]: Pair): Workload {
  const x = uniform(M * N, -2, 2, 11);
  const a = uniform(N, -1, 1, 12);
  const b = uniform(N, -1, 1, 13);
  const reference = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) reference[i * N + j] = x[i * N + j]! * a[j]! + b[j]!;
  return {
    caseName: 'affine', label: `y = x·a + b, x[${M},${N}] a[${N}] b[1,${N}]`, sizes: { M, N },
    inputs: [tensor('x', [M, N], x), tensor('a', [N], a), tensor('b', [1, N], b)],
    bytes: 4 * (2 * M * N + 2 * N),
    tolerance: '|Δ| ≤ 1e-6 + 1e-6·|ref| per element (a fused multiply-add rounds once), against a float64 host loop',
    check: allClose(reference, 1e-6, 1e-6),
  };
}

export function sumLastWorkload([M, N]: Pair): Workload {
  const x = uniform(M * N, -1, 1, 21);
  const reference = new Float64Array(M);
  const magnitude = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    let sum = 0, abs = 0;
    for (let j = 0; j < N; j++) {
      sum += x[i * N + j]!;
      abs += Math.abs(x[i * N + j]!);
    }
    reference[i] = sum;
    magnitude[i] = abs;
  }
  return {
    caseName: 'sum-last', label: `sum(x, axis=-1), x[${M},${N}] → [${M}]`, sizes: { M, N },
    inputs: [tensor('x', [M, N], x)],
    bytes: 4 * (M * N + M),
    tolerance: '|Δ| ≤ 1e-6 + 1e-6·Σ|x| per row (about 20× a sequential float32 sum\'s rounding), against float64',
    check: scaledClose(reference, magnitude, 1e-6),
  };
}

export function sumAllWorkload([M, N]: Pair): Workload {
  const x = uniform(M * N, -1, 1, 31);
  let sum = 0, abs = 0;
  for (let i = 0; i < x.length; i++) {
    sum += x[i]!;
    abs += Math.abs(x[i]!);
  }
  return {
    caseName: 'sum-all', label: `sum(x), x[${M},${N}] → []`, sizes: { M, N },
    inputs: [tensor('x', [M, N], x)],
    bytes: 4 * (M * N + 1),
    tolerance: '|Δ| ≤ 1e-6 + 1e-6·Σ|x| (about 20× a sequential float32 sum\'s rounding), against float64',
    check: scaledClose([sum], [abs], 1e-6),
  };
}

export function softmaxWorkload([M, N]: Pair): Workload {
  const x = uniform(M * N, -4, 4, 41);
  const reference = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    let max = -Infinity;
    for (let j = 0; j < N; j++) max = Math.max(max, x[i * N + j]!);
    let total = 0;
    for (let j = 0; j < N; j++) total += (reference[i * N + j] = Math.exp(x[i * N + j]! - max));
    for (let j = 0; j < N; j++) reference[i * N + j]! /= total;
  }
  return {
    caseName: 'softmax', label: `softmax(x, axis=-1), x[${M},${N}]`, sizes: { M, N },
    inputs: [tensor('x', [M, N], x)],
    bytes: 4 * 2 * M * N,
    tolerance: '|Δ| ≤ 1e-9 + 1e-4·|ref| per element, against float64',
    check: allClose(reference, 1e-9, 1e-4),
  };
}

/**
 * Square f32 matmul. The host checks 256 sampled entries (and the corners) in float64
 * with |Δ| ≤ 5e-6·Σ|a·b|: float32 accumulation stays near 1e-7 of that, while TF32
 * or half-precision inputs land near 1e-5 and fail, since the peers are meant to be f32.
 */
export function matmulWorkload(size: number): Workload {
  const [M, K, N] = [size, size, size];
  const a = uniform(M * K, -1, 1, 51);
  const b = uniform(K * N, -1, 1, 52);
  const random = seededRandom(53);
  const indices = [0, N - 1, (M - 1) * N, M * N - 1];
  while (indices.length < 260) indices.push(Math.floor(random() * M * N));
  const reference: number[] = [];
  const magnitude: number[] = [];
  for (const index of indices) {
    const [i, j] = [Math.floor(index / N), index % N];
    let sum = 0, abs = 0;
    for (let k = 0; k < K; k++) {
      const term = a[i * K + k]! * b[k * N + j]!;
      sum += term;
      abs += Math.abs(term);
    }
    reference.push(sum);
    magnitude.push(abs);
  }
  return {
    caseName: 'matmul', label: `a[${M},${K}] @ b[${K},${N}] f32`, sizes: { M, K, N },
    inputs: [tensor('a', [M, K], a), tensor('b', [K, N], b)],
    flops: 2 * M * N * K,
    tolerance: '260 sampled entries: |Δ| ≤ 1e-6 + 5e-6·Σ|a_ik·b_kj| (f32 passes, TF32 would not), against float64',
    check: sampledClose(indices, reference, magnitude, 5e-6, 1e-6, M * N),
  };
}
