// The convolution workloads and their host references: conv2d forward, the gradients of
// one conv2d (input and filters, with the loss, as a training step computes them), and
// conv1d over raw audio. The conv2d is 3.7·10⁹ multiply-adds, too many for a
// float64 host loop on every run, so the checks compare sampled entries against a direct
// float64 computation, as matmul's do; in the training step the cotangent g is a product
// a[n,f]·b[n,oh,ow] (materialized: no implementation can exploit it), which makes the
// loss and every entry of the filter gradient exact on the host at a small cost.
// Left out: dilation, groups and bias (Theorbo's op tests cover them).
// Shapes, in PyTorch's layout (peers that prefer another convert outside the clock):
// conv2d x[N,C,H,W], w[F,C,KH,KW] → y[N,F,OH,OW]; conv2d-train adds g[N,F,OH,OW] and
// returns [Σ y·g, ∂/∂x [N,C,H,W], ∂/∂w [F,C,KH,KW]]; conv1d-audio x[N,1,L], w[F,1,K] →
// y[N,F,OL]. A 1-D convolution is the 2-D one with H = KH = 1.
import { seededRandom } from '@theorbo/graph/testing';
import { compare, sampledClose, uniform, type CaseName, type CheckResult, type HostTensor, type Workload } from './harness.ts';

export type ConvCase = Extract<CaseName, 'conv2d' | 'conv2d-train' | 'conv1d-audio'>;
export const convCases: readonly ConvCase[] = ['conv2d', 'conv2d-train', 'conv1d-audio'];

/** [N, C, H or L, W, F, K] per device kind: the shapes, and at batch 2 / 1 first for quick runs. */
const sizeTable: Record<ConvCase, { cpu: number[][]; gpu: number[][] }> = {
  'conv2d': { cpu: [[2, 64, 56, 56, 64, 3], [32, 64, 56, 56, 64, 3]], gpu: [[32, 64, 56, 56, 64, 3]] },
  'conv2d-train': { cpu: [[2, 64, 56, 56, 64, 3], [32, 64, 56, 56, 64, 3]], gpu: [[32, 64, 56, 56, 64, 3]] },
  'conv1d-audio': { cpu: [[1, 1, 220500, 1, 64, 1024], [8, 1, 220500, 1, 64, 1024]], gpu: [[8, 1, 220500, 1, 64, 1024]] },
};

/** The workloads of one case; `quick` keeps the first size only. */
export function convWorkloads(caseName: ConvCase, onGpu: boolean, quick: boolean): Workload[] {
  const sizes = onGpu ? sizeTable[caseName].gpu : sizeTable[caseName].cpu;
  return sizes.slice(0, quick ? 1 : undefined).map(([N, C, H, W, F, K]) => {
    if (caseName === 'conv1d-audio') return conv1dAudioWorkload(geometry(N!, C!, 1, H!, F!, 1, K!, 1, 256, 0, 0));
    const shape = geometry(N!, C!, H!, W!, F!, K!, K!, 1, 1, 1, 1);
    return caseName === 'conv2d' ? conv2dWorkload(shape) : conv2dTrainWorkload(shape);
  });
}

/** Sizes, strides and paddings of one convolution; OH and OW follow. */
export interface Geometry {
  N: number; C: number; H: number; W: number; F: number; KH: number; KW: number;
  strideH: number; strideW: number; padH: number; padW: number; OH: number; OW: number;
}

function geometry(N: number, C: number, H: number, W: number, F: number, KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number): Geometry {
  const OH = Math.floor((H + 2 * padH - KH) / strideH) + 1;
  const OW = Math.floor((W + 2 * padW - KW) / strideW) + 1;
  return { N, C, H, W, F, KH, KW, strideH, strideW, padH, padW, OH, OW };
}

const tensor = (name: string, shape: number[], data: Float32Array): HostTensor => ({ name, shape, data });
const flopsOf = (g: Geometry) => 2 * g.N * g.F * g.OH * g.OW * g.C * g.KH * g.KW;
const describe = (g: Geometry) => `x[${g.N},${g.C},${g.H},${g.W}] ⊛ w[${g.F},${g.C},${g.KH},${g.KW}], stride ${g.strideH}, padding ${g.padH} → [${g.N},${g.F},${g.OH},${g.OW}]`;

export function conv2dWorkload(g: Geometry): Workload {
  const x = uniform(g.N * g.C * g.H * g.W, -1, 1, 61);
  const w = uniform(g.F * g.C * g.KH * g.KW, -1, 1, 62);
  return {
    caseName: 'conv2d', label: `conv2d ${describe(g)}`, sizes: { N: g.N, C: g.C, H: g.H, W: g.W, F: g.F, K: g.KH },
    inputs: [tensor('x', [g.N, g.C, g.H, g.W], x), tensor('w', [g.F, g.C, g.KH, g.KW], w)],
    params: { stride: g.strideH, padding: g.padH },
    flops: flopsOf(g),
    tolerance: `${samples} sampled outputs and the corners: |Δ| ≤ 1e-6 + 5e-6·Σ|w·x| (as matmul), against float64`,
    check: forwardCheck(g, x, w),
  };
}

export function conv1dAudioWorkload(g: Geometry): Workload {
  const x = uniform(g.N * g.W, -1, 1, 71);
  const w = uniform(g.F * g.KW, -1, 1, 72);
  return {
    caseName: 'conv1d-audio',
    label: `conv1d x[${g.N},1,${g.W}] ⊛ w[${g.F},1,${g.KW}], stride ${g.strideW}, no padding → [${g.N},${g.F},${g.OW}]`,
    sizes: { N: g.N, L: g.W, F: g.F, K: g.KW, stride: g.strideW },
    inputs: [tensor('x', [g.N, 1, g.W], x), tensor('w', [g.F, 1, g.KW], w)],
    params: { stride: g.strideW, padding: g.padW },
    flops: flopsOf(g),
    tolerance: `${samples} sampled outputs and the corners: |Δ| ≤ 1e-6 + 5e-6·Σ|w·x|, against float64`,
    check: forwardCheck(g, x, w),
  };
}

const samples = 256;

/** Flat indices into [N, F, OH, OW]: the corners of the first and last planes, then seeded picks. */
function sampleIndices(g: Geometry, count: number, seed: number): number[] {
  const plane = g.OH * g.OW;
  const corners = [0, g.OW - 1, (g.OH - 1) * g.OW, plane - 1];
  const last = (g.N * g.F - 1) * plane;
  const indices = [...corners, ...corners.map((c) => last + c)];
  const random = seededRandom(seed);
  while (indices.length < count + 8) indices.push(Math.floor(random() * g.N * g.F * plane));
  return indices;
}

/** y[n,f,oh,ow] in float64 and Σ|terms|, straight from the definition. */
function outputAt(g: Geometry, x: Float32Array, w: Float32Array, index: number): [number, number] {
  const ow = index % g.OW, oh = Math.floor(index / g.OW) % g.OH;
  const f = Math.floor(index / (g.OW * g.OH)) % g.F, n = Math.floor(index / (g.OW * g.OH * g.F));
  let sum = 0, abs = 0;
  for (let c = 0; c < g.C; c++) {
    for (let kh = 0; kh < g.KH; kh++) {
      const ih = oh * g.strideH + kh - g.padH;
      if (ih < 0 || ih >= g.H) continue;
      for (let kw = 0; kw < g.KW; kw++) {
        const iw = ow * g.strideW + kw - g.padW;
        if (iw < 0 || iw >= g.W) continue;
        const term = x[((n * g.C + c) * g.H + ih) * g.W + iw]! * w[((f * g.C + c) * g.KH + kh) * g.KW + kw]!;
        sum += term;
        abs += Math.abs(term);
      }
    }
  }
  return [sum, abs];
}

function forwardCheck(g: Geometry, x: Float32Array, w: Float32Array): (outputs: Float32Array[]) => CheckResult {
  const indices = sampleIndices(g, samples, 63);
  const [reference, magnitude] = unzip(indices.map((index) => outputAt(g, x, w, index)));
  return sampledClose(indices, reference, magnitude, 5e-6, 1e-6, g.N * g.F * g.OH * g.OW);
}

const unzip = (pairs: [number, number][]): [number[], number[]] => [pairs.map((p) => p[0]), pairs.map((p) => p[1])];

/** Seeded values on a grid of 2^-bits, so that products of two stay exact in float32. */
function gridded(length: number, bits: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const scale = 2 ** bits;
  return Float64Array.from({ length }, () => Math.round((2 * random() - 1) * scale) / scale);
}

/**
 * The gradients of loss = Σ conv2d(x, w)·g with respect to x and w, and the loss: what a
 * training step's backward pass through one convolution layer computes (the forward
 * included, for the loss). g = a[n,f]·b[n,oh,ow] exactly (7 and 11 bits), so that
 * S[n,c,kh,kw] = Σ_{oh,ow} b·x at the tap gives ∂/∂w = Σ_n a·S and the loss = Σ a·w·S.
 */
export function conv2dTrainWorkload(g: Geometry): Workload {
  const x = uniform(g.N * g.C * g.H * g.W, -1, 1, 81);
  const w = uniform(g.F * g.C * g.KH * g.KW, -1, 1, 82);
  const a = gridded(g.N * g.F, 7, 83);
  const b = gridded(g.N * g.OH * g.OW, 11, 84);
  const plane = g.OH * g.OW;
  const cotangent = new Float32Array(g.N * g.F * plane);
  for (let nf = 0; nf < g.N * g.F; nf++) {
    const n = Math.floor(nf / g.F);
    for (let p = 0; p < plane; p++) cotangent[nf * plane + p] = a[nf]! * b[n * plane + p]!;
  }
  const expected = trainReference(g, x, w, a, b);
  const dxIndices = sampleIndices({ ...g, F: g.C, OH: g.H, OW: g.W }, samples, 85);
  const [dxReference, dxMagnitude] = unzip(dxIndices.map((index) => inputGradientAt(g, cotangent, w, index)));
  const dxCheck = sampledClose(dxIndices, dxReference, dxMagnitude, 5e-6, 1e-6, x.length);
  const dwTerms = g.N * g.OH * g.OW;
  return {
    caseName: 'conv2d-train', label: `∂/∂x, ∂/∂w and the loss of Σ conv2d(x, w)·g: ${describe(g)}`,
    sizes: { N: g.N, C: g.C, H: g.H, W: g.W, F: g.F, K: g.KH },
    inputs: [tensor('x', [g.N, g.C, g.H, g.W], x), tensor('w', [g.F, g.C, g.KH, g.KW], w), tensor('g', [g.N, g.F, g.OH, g.OW], cotangent)],
    params: { stride: g.strideH, padding: g.padH },
    // The forward, the input gradient and the filter gradient: three products of one size.
    flops: 3 * flopsOf(g),
    tolerance: `loss |Δ| ≤ ${lossRtol.toExponential(0)}·Σ|g·w·x|; every ∂/∂w entry |Δ| ≤ 1e-6 + ${dwRtol.toExponential(0)}·Σ|g·x| (sums of ${dwTerms} terms); ${samples} sampled ∂/∂x entries and corners |Δ| ≤ 1e-6 + 5e-6·Σ|g·w|; against float64`,
    check: (outputs) => {
      if (outputs.length !== 3) return { ok: false, detail: `expected 3 outputs (loss, ∂/∂x, ∂/∂w), got ${outputs.length}` };
      const loss = compare(outputs[0], [expected.loss], () => lossRtol * expected.lossMagnitude);
      if (!loss.ok) return { ok: false, detail: `loss: ${loss.detail}` };
      const dx = dxCheck([outputs[1]!]);
      if (!dx.ok) return { ok: false, detail: `∂/∂x: ${dx.detail}` };
      const dw = compare(outputs[2], expected.dw, (i) => 1e-6 + dwRtol * expected.dwMagnitude[i]!);
      if (!dw.ok) return { ok: false, detail: `∂/∂w: ${dw.detail}` };
      return { ok: true, detail: `loss ${outputs[0]![0]!.toPrecision(7)} (${loss.detail}); ∂/∂x ${dx.detail}; ∂/∂w ${dw.detail}` };
    },
  };
}

// float32 sums of this many terms stay far inside these (the loss: 3.7·10⁹ terms at the
// issue's size, whose magnitudes mostly cancel; ∂/∂w: 10⁵ terms per entry).
const lossRtol = 1e-6;
const dwRtol = 2e-5;

/** ∂loss/∂x[n,c,h,w] = Σ_{f,kh,kw} g[n,f,oh,ow]·w[f,c,kh,kw] over the outputs whose window holds (h,w). */
function inputGradientAt(g: Geometry, cotangent: Float32Array, w: Float32Array, index: number): [number, number] {
  const col = index % g.W, row = Math.floor(index / g.W) % g.H;
  const c = Math.floor(index / (g.W * g.H)) % g.C, n = Math.floor(index / (g.W * g.H * g.C));
  let sum = 0, abs = 0;
  for (let kh = 0; kh < g.KH; kh++) {
    const rowSpan = row + g.padH - kh;
    if (rowSpan < 0 || rowSpan % g.strideH !== 0 || rowSpan / g.strideH >= g.OH) continue;
    for (let kw = 0; kw < g.KW; kw++) {
      const colSpan = col + g.padW - kw;
      if (colSpan < 0 || colSpan % g.strideW !== 0 || colSpan / g.strideW >= g.OW) continue;
      const [oh, ow] = [rowSpan / g.strideH, colSpan / g.strideW];
      for (let f = 0; f < g.F; f++) {
        const term = cotangent[((n * g.F + f) * g.OH + oh) * g.OW + ow]! * w[((f * g.C + c) * g.KH + kh) * g.KW + kw]!;
        sum += term;
        abs += Math.abs(term);
      }
    }
  }
  return [sum, abs];
}

interface TrainReference { loss: number; lossMagnitude: number; dw: Float64Array; dwMagnitude: Float64Array }

/** The loss and ∂/∂w through S[n,c,kh,kw] = Σ_{oh,ow} b[n,oh,ow]·x[n,c,ih,iw] (and |·|). */
function trainReference(g: Geometry, x: Float32Array, w: Float32Array, a: Float64Array, b: Float64Array): TrainReference {
  const taps = g.KH * g.KW;
  const dw = new Float64Array(g.F * g.C * taps);
  const dwMagnitude = new Float64Array(g.F * g.C * taps);
  let loss = 0, lossMagnitude = 0;
  const s = new Float64Array(g.C * taps);
  const sAbs = new Float64Array(g.C * taps);
  for (let n = 0; n < g.N; n++) {
    s.fill(0);
    sAbs.fill(0);
    for (let c = 0; c < g.C; c++) {
      for (let kh = 0; kh < g.KH; kh++) {
        for (let kw = 0; kw < g.KW; kw++) {
          let sum = 0, abs = 0;
          for (let oh = 0; oh < g.OH; oh++) {
            const ih = oh * g.strideH + kh - g.padH;
            if (ih < 0 || ih >= g.H) continue;
            const xRow = ((n * g.C + c) * g.H + ih) * g.W, bRow = (n * g.OH + oh) * g.OW;
            for (let ow = 0; ow < g.OW; ow++) {
              const iw = ow * g.strideW + kw - g.padW;
              if (iw < 0 || iw >= g.W) continue;
              const term = b[bRow + ow]! * x[xRow + iw]!;
              sum += term;
              abs += Math.abs(term);
            }
          }
          s[(c * g.KH + kh) * g.KW + kw] = sum;
          sAbs[(c * g.KH + kh) * g.KW + kw] = abs;
        }
      }
    }
    for (let f = 0; f < g.F; f++) {
      const af = a[n * g.F + f]!;
      for (let j = 0; j < g.C * taps; j++) {
        const wj = w[f * g.C * taps + j]!;
        dw[f * g.C * taps + j]! += af * s[j]!;
        dwMagnitude[f * g.C * taps + j]! += Math.abs(af) * sAbs[j]!;
        loss += af * wj * s[j]!;
        lossMagnitude += Math.abs(af * wj) * sAbs[j]!;
      }
    }
  }
  return { loss, lossMagnitude, dw, dwMagnitude };
}

/** `data` of `shape` with its axes reordered (out axis i is in axis order[i]): layouts for peers. */
export function permute(data: Float32Array, shape: readonly number[], order: readonly number[]): Float32Array {
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((p, d) => p * d, 1));
  const outShape = order.map((axis) => shape[axis]!);
  const outStrides = order.map((axis) => strides[axis]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(shape.length).fill(0);
  let source = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[source]!;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      source += outStrides[axis]!;
      if (++index[axis]! < outShape[axis]!) break;
      source -= outStrides[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}
