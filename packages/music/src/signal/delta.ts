// Delta features as librosa.feature.delta computes them: a Savitzky–Golay derivative of
// order `order` along time, from a polynomial of degree `order` fitted by least squares to
// `width` frames (scipy's savgol_filter with polyorder = deriv = order, mode 'interp').
// Away from the edges output n is Σ_i c_i·x[n − h + i] (h = ⌊width/2⌋), the fit's
// derivative at the window's centre; for the first and last h frames, 'interp' fits one
// polynomial to the first (last) `width` frames and evaluates its derivative at each of
// them. The fit is solved here from the normal equations in float64, and the same
// coefficients serve the graph (width shifted slices, plus a small [h, width] matmul at
// each end) and the host. With polyorder = order the derivative is a constant, so the edge
// frames repeat the nearest full window's value; the edge matrices are kept general.
// Left out: mode other than 'interp', axes other than time, deriv < polyorder from the API.
//
// Shapes: x [..., nFrames, nFeatures] → the same shape (time is the second-to-last axis).

import * as T from '@theorbo/graph';
import { graphError } from './framing.ts';

export interface DeltaOptions {
  /** Frames in each fit, odd and at least 3 (default 9). */
  width?: number;
  /** Derivative order, and degree of the fitted polynomial (default 1). */
  order?: number;
}

export const deltaDefaults = { width: 9, order: 1 } as const;

export interface SavitzkyGolay {
  width: number;
  /** Weights of the centred window, c_0 … c_{width−1}. */
  centre: Float64Array;
  /** [h, width] row-major: weights of the first `width` frames for output frames 0 … h − 1. */
  head: Float64Array;
  /** [h, width] row-major: weights of the last `width` frames for output frames nFrames − h … nFrames − 1. */
  tail: Float64Array;
}

function resolveDelta(options: DeltaOptions, fail: (detail: string) => never): Required<DeltaOptions> {
  const width = options.width ?? deltaDefaults.width;
  const order = options.order ?? deltaDefaults.order;
  if (!(Number.isInteger(width) && width >= 3 && width % 2 === 1)) fail(`width ${width} must be an odd integer of at least 3`);
  if (!(Number.isInteger(order) && order >= 1 && order < width)) fail(`order ${order} must be a positive integer below the width (${width})`);
  return { width, order };
}

/** Solves A·X = B for square A [n, n] and B [n, m] by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[][]): number[][] {
  const n = a.length;
  const rows = a.map((row, i) => [...row, ...b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(rows[r]![col]!) > Math.abs(rows[pivot]![col]!)) pivot = r;
    [rows[col], rows[pivot]] = [rows[pivot]!, rows[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = rows[r]![col]! / rows[col]![col]!;
      for (let c = col; c < rows[r]!.length; c++) rows[r]![c]! -= factor * rows[col]![c]!;
    }
  }
  return rows.map((row, i) => row.slice(n).map((value) => value / row[i]!));
}

/** The Savitzky–Golay weights of the `order`-th derivative of a degree-`order` fit over `width` frames. */
export function savitzkyGolay(options: DeltaOptions = {}): SavitzkyGolay {
  const { width, order } = resolveDelta(options, (detail) => { throw new Error(`savitzkyGolay: ${detail}`); });
  const half = (width - 1) / 2;
  const positions = Array.from({ length: width }, (_, i) => i - half);
  const degree = order;
  // Least squares: coefficients a = (VᵀV)⁻¹Vᵀy, V[i][j] = t_i^j; `fit` is (VᵀV)⁻¹Vᵀ, [degree + 1, width].
  const gram = Array.from({ length: degree + 1 }, (_, j) => Array.from({ length: degree + 1 }, (_, l) => positions.reduce((sum, t) => sum + t ** (j + l), 0)));
  const transposed = Array.from({ length: degree + 1 }, (_, j) => positions.map((t) => t ** j));
  const fit = solve(gram, transposed);
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  // d^order/dt^order of Σ a_j t^j at t = x: Σ_{j ≥ order} j!/(j − order)!·x^(j − order)·a_j.
  const weightsAt = (x: number): Float64Array => Float64Array.from({ length: width }, (_, i) => {
    let sum = 0;
    for (let j = order; j <= degree; j++) sum += (factorial(j) / factorial(j - order)) * x ** (j - order) * fit[j]![i]!;
    return sum;
  });
  const head = new Float64Array(half * width);
  const tail = new Float64Array(half * width);
  for (let n = 0; n < half; n++) {
    head.set(weightsAt(n - half), n * width);
    tail.set(weightsAt(n + 1), n * width);
  }
  return { width, centre: weightsAt(0), head, tail };
}

/** Delta features along time (the second-to-last axis) of x [..., nFrames, nFeatures]. */
export function delta(x: T.Variable, options: DeltaOptions = {}): T.Variable {
  resolveDelta(options, (detail) => { throw graphError('delta', detail); });
  if (x.ndim < 2) throw graphError('delta', `expects [..., nFrames, nFeatures], but got ${x.type}`);
  const frames = x.shape[x.ndim - 2];
  const { width, centre, head, tail } = savitzkyGolay(options);
  if (frames === null || frames === undefined || frames < width) {
    throw graphError('delta', `needs at least width = ${width} frames, known statically, but ${x.type} has ${frames ?? 'an unknown number'} on its time axis (the second-to-last)`);
  }
  const half = (width - 1) / 2;
  const dtype = x.dtype === 'float64' ? 'float64' : 'float32';
  const time = (start: number, stop: number): T.Variable => T.get(x, '...', T.slice(start, stop), ':');
  return T.composite('delta', () => {
    const count = frames - width + 1;
    let middle: T.Variable | undefined;
    centre.forEach((weight, i) => {
      if (weight === 0) return;
      const term = T.mul(time(i, i + count), weight);
      middle = middle ? T.add(middle, term) : term;
    });
    const edge = (weights: Float64Array, start: number, name: string): T.Variable =>
      T.matmul(T.constant(T.array(weights, { shape: [half, width], dtype: 'float64' }).astype(dtype), { name }), time(start, start + width));
    return T.concat([edge(head, 0, 'savgol_head'), middle!, edge(tail, frames - width, 'savgol_tail')], x.ndim - 2);
  });
}

/** delta of one feature matrix [nFrames, nFeatures] on the host, float64 sums rounded to float32. */
export function deltaHost(x: T.NDArray, options: DeltaOptions = {}): T.NDArray {
  if (x.ndim !== 2) throw new Error(`deltaHost: expects [nFrames, nFeatures], but got shape [${x.shape.join(', ')}]`);
  const [frames, features] = x.shape as [number, number];
  const { width, centre, head, tail } = savitzkyGolay(options);
  if (frames < width) throw new Error(`deltaHost: needs at least width = ${width} frames, but got ${frames}`);
  const half = (width - 1) / 2;
  const out = new Float32Array(frames * features);
  const apply = (n: number, weights: Float64Array, offset: number, start: number): void => {
    for (let c = 0; c < features; c++) {
      let sum = 0;
      for (let i = 0; i < width; i++) sum += weights[offset + i]! * x.data[(start + i) * features + c]!;
      out[n * features + c] = sum;
    }
  };
  for (let n = 0; n < frames; n++) {
    if (n < half) apply(n, head, n * width, 0);
    else if (n >= frames - half) apply(n, tail, (n - frames + half) * width, frames - width);
    else apply(n, centre, 0, n - half);
  }
  return T.array(out, { shape: [frames, features], dtype: 'float32' });
}
