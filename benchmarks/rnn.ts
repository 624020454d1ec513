// The recurrent workloads (issue 14's "RNN of 256 units, batch 32, 1000 steps, forward and
// backward") and their host references. One tanh layer, h0 = 0:
//   h[t] = tanh(x[t]·Wx + b + h[t−1]·Wh),   t = 0 … T−1
// Every implementation computes the input projection x·Wx + b for all steps as one
// product before the loop (as torch.nn.RNN and cuDNN do), so that the loop itself is
// the recurrence: one [B,H]·[H,H] product, an add and a tanh per step.
// 'rnn' returns every step's h ([T,B,H]); 'rnn-train' returns the loss Σ h·g (g [T,B,H]
// a dense cotangent) and its gradients with respect to Wx, Wh and b: backpropagation
// through time over all T steps (∂/∂x is left out: a training step of a single layer
// does not need it).
// The references are float64 loops over everything (≈2.6·10⁹ multiply-adds forward at
// the size, ≈8·10⁹ with the backward pass), computed once, on the first check.
// Wh is drawn small enough that ‖Wh‖₂ < 1 (power iteration prints it into the
// tolerance): with tanh' ≤ 1 the recurrence is a contraction, so per-step float32
// rounding does not compound over the steps, and the tolerances hold at any T.
// Shapes: x[T,B,I], Wx[I,H], Wh[H,H], b[H] (→ h[T,B,H]); rnn-train adds g[T,B,H] and
// returns [Σ h·g, ∂/∂Wx [I,H], ∂/∂Wh [H,H], ∂/∂b [H]].
// Left out: ∂/∂x and ∂/∂h0, LSTM/GRU cells, several layers.
import { compare, uniform, type CaseName, type CheckResult, type HostTensor, type Workload } from './harness.ts';

export type RnnCase = Extract<CaseName, 'rnn' | 'rnn-train'>;
export const rnnCases: readonly RnnCase[] = ['rnn', 'rnn-train'];

/** [T, B, I, H] per device kind: 100 steps first (quick runs, llvmpipe), then the 1000. */
const sizeTable: { cpu: number[][]; gpu: number[][] } = {
  cpu: [[100, 32, 64, 256], [1000, 32, 64, 256]],
  gpu: [[100, 32, 64, 256], [1000, 32, 64, 256]],
};

export interface RnnSizes { T: number; B: number; I: number; H: number }

export function rnnWorkloads(caseName: RnnCase, onGpu: boolean, quick: boolean): Workload[] {
  const sizes = onGpu ? sizeTable.gpu : sizeTable.cpu;
  return sizes.slice(0, quick ? 1 : undefined).map(([T, B, I, H]) => rnnWorkload(caseName, { T: T!, B: B!, I: I!, H: H! }));
}

// Wx ~ U(−0.2, 0.2): pre-activations of std ≈ 0.5 from x ~ U(−1, 1) with I = 64.
// Wh ~ U(−0.05, 0.05): entries of std 0.029, ‖Wh‖₂ ≈ 2·0.029·√256 ≈ 0.92.
const wxScale = 0.2;
const whScale = 0.05;

const tensor = (name: string, shape: number[], data: Float32Array): HostTensor => ({ name, shape, data });

function rnnWorkload(caseName: RnnCase, s: RnnSizes): Workload {
  const { T, B, I, H } = s;
  const x = uniform(T * B * I, -1, 1, 91);
  const wx = uniform(I * H, -wxScale, wxScale, 92);
  const wh = uniform(H * H, -whScale, whScale, 93);
  const b = uniform(H, -0.1, 0.1, 94);
  const inputs = [tensor('x', [T, B, I], x), tensor('wx', [I, H], wx), tensor('wh', [H, H], wh), tensor('b', [H], b)];
  const norm = spectralNorm(wh, H);
  const describe = `x[${T},${B},${I}], Wx[${I},${H}], Wh[${H},${H}] (‖Wh‖₂ ${norm.toFixed(2)}), b[${H}], h0 = 0`;
  // Per step: the recurrent product (2·B·H·H) and, amortized, the input projection (2·B·I·H).
  const forwardFlops = 2 * T * B * H * (H + I);
  let forward: Forward | undefined;
  const forwardOnce = () => (forward ??= referenceForward(s, x, wx, wh, b));
  if (caseName === 'rnn') {
    return {
      caseName, label: `h[t] = tanh(x[t]·Wx + b + h[t−1]·Wh), every h: ${describe} → h[${T},${B},${H}]`,
      sizes: { T, B, I, H }, inputs, flops: forwardFlops,
      tolerance: `every h[t,n,j]: |Δ| ≤ ${hAtol.toExponential(0)} against a float64 loop (|h| < 1; each step's float32 rounding, ~1e-6, is damped by the contraction ‖Wh‖₂ < 1, not compounded)`,
      check: (outputs) => compare(outputs[0], forwardOnce().h, () => hAtol),
    };
  }
  const g = uniform(T * B * H, -1, 1, 95);
  let backward: Backward | undefined;
  const backwardOnce = () => (backward ??= referenceBackward(s, x, wh, forwardOnce().h, g));
  return {
    caseName, label: `Σ h·g and ∂/∂Wx, ∂/∂Wh, ∂/∂b by backpropagation through time: ${describe}, g[${T},${B},${H}]`,
    sizes: { T, B, I, H }, inputs: [...inputs, tensor('g', [T, B, H], g)],
    // The forward, then per step the carry δ·Whᵀ (2·B·H·H), ∂/∂Wh (2·B·H·H) and ∂/∂Wx (2·B·I·H).
    flops: forwardFlops + 2 * T * B * H * (2 * H + I),
    tolerance: `loss |Δ| ≤ ${lossRtol.toExponential(0)}·Σ|h·g|; every entry of ∂/∂Wx, ∂/∂Wh, ∂/∂b |Δ| ≤ 1e-6 + ${gradRtol.toExponential(0)}·Σ|terms| (sums of ${T * B} terms: x·δ, h·δ, δ, with δ = ∂loss/∂(pre-activation)); against float64`,
    check: (outputs) => trainCheck(outputs, backwardOnce()),
  };
}

// Measured on llvmpipe: every implementation's worst h was 4–8·10⁻⁷ off at 100 steps and
// at 1000 (no growth with T: the contraction at work), so 1e-5 leaves over 10×. The
// gradients came within 3·10⁻⁷·Σ|terms| at 100 steps (sums of 3200 terms) and the loss
// within 2·10⁻⁹·Σ|h·g|; the bounds below leave 30× and 500× for longer, reordered sums.
const hAtol = 1e-5;
const lossRtol = 1e-6;
const gradRtol = 1e-5;

function trainCheck(outputs: Float32Array[], expected: Backward): CheckResult {
  if (outputs.length !== 4) return { ok: false, detail: `expected 4 outputs (loss, ∂/∂Wx, ∂/∂Wh, ∂/∂b), got ${outputs.length}` };
  const loss = compare(outputs[0], [expected.loss], () => lossRtol * expected.lossMagnitude);
  if (!loss.ok) return { ok: false, detail: `loss: ${loss.detail}` };
  const parts: string[] = [`loss ${outputs[0]![0]!.toPrecision(7)} (${loss.detail})`];
  const grads: [string, Float64Array, Float64Array][] = [['∂/∂Wx', expected.dwx, expected.dwxMagnitude], ['∂/∂Wh', expected.dwh, expected.dwhMagnitude], ['∂/∂b', expected.db, expected.dbMagnitude]];
  for (let i = 0; i < grads.length; i++) {
    const [name, reference, magnitude] = grads[i]!;
    const result = compare(outputs[i + 1], reference, (j) => 1e-6 + gradRtol * magnitude[j]!);
    if (!result.ok) return { ok: false, detail: `${name}: ${result.detail}` };
    parts.push(`${name} ${result.detail}`);
  }
  return { ok: true, detail: parts.join('; ') };
}

/** ‖W‖₂ of an n×n matrix by power iteration on WᵀW (to a few digits). */
function spectralNorm(w: Float32Array, n: number): number {
  let v = new Float64Array(n).fill(1 / Math.sqrt(n));
  let sigma = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    const u = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) u[i]! += w[i * n + j]! * v[j]!;
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) next[j]! += w[i * n + j]! * u[i]!;
    const length = Math.hypot(...next);
    sigma = Math.sqrt(length);
    v = next.map((value) => value / length);
  }
  return sigma;
}

interface Forward { h: Float64Array }

/** Every h in float64: pre = b + x[t]·Wx + h[t−1]·Wh, h = tanh(pre). */
function referenceForward({ T, B, I, H }: RnnSizes, x: Float32Array, wx: Float32Array, wh: Float32Array, b: Float32Array): Forward {
  const h = new Float64Array(T * B * H);
  const pre = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < B; n++) {
      for (let j = 0; j < H; j++) pre[j] = b[j]!;
      const xRow = (t * B + n) * I;
      for (let i = 0; i < I; i++) {
        const value = x[xRow + i]!;
        const row = i * H;
        for (let j = 0; j < H; j++) pre[j]! += value * wx[row + j]!;
      }
      if (t > 0) {
        const hRow = ((t - 1) * B + n) * H;
        for (let k = 0; k < H; k++) {
          const value = h[hRow + k]!;
          const row = k * H;
          for (let j = 0; j < H; j++) pre[j]! += value * wh[row + j]!;
        }
      }
      const out = (t * B + n) * H;
      for (let j = 0; j < H; j++) h[out + j] = Math.tanh(pre[j]!);
    }
  }
  return { h };
}

interface Backward {
  loss: number; lossMagnitude: number;
  dwx: Float64Array; dwxMagnitude: Float64Array;
  dwh: Float64Array; dwhMagnitude: Float64Array;
  db: Float64Array; dbMagnitude: Float64Array;
}

/**
 * Backpropagation through time in float64, with Σ|terms| of every gradient entry:
 * δ[t] = (g[t] + δ[t+1]·Whᵀ)·(1 − h[t]²); ∂/∂Wh = Σ_t h[t−1]ᵀ·δ[t], ∂/∂Wx = Σ_t x[t]ᵀ·δ[t], ∂/∂b = Σ δ.
 */
function referenceBackward({ T, B, I, H }: RnnSizes, x: Float32Array, wh: Float32Array, h: Float64Array, g: Float32Array): Backward {
  let loss = 0, lossMagnitude = 0;
  for (let i = 0; i < h.length; i++) {
    const term = h[i]! * g[i]!;
    loss += term;
    lossMagnitude += Math.abs(term);
  }
  const dwx = new Float64Array(I * H), dwxMagnitude = new Float64Array(I * H);
  const dwh = new Float64Array(H * H), dwhMagnitude = new Float64Array(H * H);
  const db = new Float64Array(H), dbMagnitude = new Float64Array(H);
  let carry = new Float64Array(B * H); // δ[t+1]·Whᵀ
  let nextCarry = new Float64Array(B * H);
  const delta = new Float64Array(H), deltaAbs = new Float64Array(H);
  for (let t = T - 1; t >= 0; t--) {
    nextCarry.fill(0);
    for (let n = 0; n < B; n++) {
      const row = (t * B + n) * H;
      for (let j = 0; j < H; j++) {
        const value = h[row + j]!;
        delta[j] = (g[row + j]! + carry[n * H + j]!) * (1 - value * value);
        deltaAbs[j] = Math.abs(delta[j]!);
        db[j]! += delta[j]!;
        dbMagnitude[j]! += deltaAbs[j]!;
      }
      const xRow = (t * B + n) * I;
      for (let i = 0; i < I; i++) {
        const value = x[xRow + i]!, abs = Math.abs(value), out = i * H;
        for (let j = 0; j < H; j++) {
          dwx[out + j]! += value * delta[j]!;
          dwxMagnitude[out + j]! += abs * deltaAbs[j]!;
        }
      }
      if (t > 0) {
        const hRow = ((t - 1) * B + n) * H;
        for (let k = 0; k < H; k++) {
          const value = h[hRow + k]!, abs = Math.abs(value), out = k * H;
          let sum = 0;
          for (let j = 0; j < H; j++) {
            dwh[out + j]! += value * delta[j]!;
            dwhMagnitude[out + j]! += abs * deltaAbs[j]!;
            sum += delta[j]! * wh[out + j]!;
          }
          nextCarry[n * H + k] = sum;
        }
      }
    }
    [carry, nextCarry] = [nextCarry, carry];
  }
  return { loss, lossMagnitude, dwx, dwxMagnitude, dwh, dwhMagnitude, db, dbMagnitude };
}
