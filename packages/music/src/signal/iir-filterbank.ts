// A learnable IIR filterbank: a bank of biquads run as one T.scan over time, with
// parameters that keep every filter stable, initialized from designed band-pass filters.
// Biquad: y[n] = b0·x[n] + b1·x[n−1] + b2·x[n−2] − a1·y[n−1] − a2·y[n−2], zero state.
// The feed-forward half has no recursion, so it runs over all samples at once as a causal
// conv1d of 3 taps (one filter per band); only the all-pole half is the scan, whose step
// reads y at taps −2 and −1 for every signal and band together.
// Stability: the trainable parameters are not a1 and a2 but the poles r·e^{±iθ}, with
// r = maxRadius·sigmoid(ρ) and θ free, a1 = −2r·cosθ, a2 = r². Every (ρ, θ) gives |pole| <
// maxRadius < 1; b0, b1, b2 are free. stableParameters is the inverse map, for
// initializing from designed filters. The scan runs the denominator as offsets from the
// double pole at z = 1, a1 + 2 and 1 − a2 (stableOffsets computes them from 1 − r and
// sin²(θ/2)): in float32 that follows the float64 filters 10–40× more closely than a1 and
// a2 rounded to float32 (measured 7e-6 against 8e-5 of the peak from C3, 2e-5 against
// 7e-4 from C1), since a narrow band's poles sit within 1e-4 of z = 1.
// Designed filters: RBJ's audio-EQ-cookbook band-pass with constant 0 dB peak gain,
// b = [α, 0, −α]/a0, a = [1, −2cosω, 1 − α]/a0, α = sinω/(2Q), a0 = 1 + α, ω = 2πf/fs.
// Left out: real poles (a1² ≥ 4a2; the pole-angle form cannot hold them, and no band-pass
// with Q > 1/2 has them), higher-order sections, initial state other than zero.
//
// Shapes: signal [N, L] or [N, 1, L]; numerator [B, 3] (b0, b1, b2); denominator [B, 2]
// (a1, a2); radiusLogit, angle [B]; responses [N, B, L]; band energies [N, B, frames],
// frames = ⌊(L − frame)/hop⌋ + 1.

import * as T from '@theorbo/graph';
import { cqtFrequencies, cqtQ, cqtDefaults, type CqtKernelOptions } from './cqt-kernel.ts';
import { graphError } from './framing.ts';

export interface Biquad { b0: number; b1: number; b2: number; a1: number; a2: number }

type FloatDType = 'float32' | 'float64';

/** The default bound on pole radii: above a CQT band-pass's at 36 bins per octave from C1 (0.99991). */
export const defaultMaxRadius = 0.99999;

/** RBJ's constant-peak-gain band-pass at `frequency` Hz with quality factor q. */
export function bandPassBiquad(frequency: number, q: number, sampleRate: number): Biquad {
  if (!(frequency > 0 && frequency < sampleRate / 2)) throw new Error(`bandPassBiquad: the centre frequency ${frequency} Hz must lie strictly between 0 and Nyquist (${sampleRate / 2} Hz)`);
  if (!(q > 0)) throw new Error(`bandPassBiquad: Q ${q} must be positive`);
  const omega = (2 * Math.PI * frequency) / sampleRate;
  const alpha = Math.sin(omega) / (2 * q);
  const a0 = 1 + alpha;
  return { b0: alpha / a0, b1: 0, b2: -alpha / a0, a1: (-2 * Math.cos(omega)) / a0, a2: (1 - alpha) / a0 };
}

export interface CqtBandPassBank { biquads: Biquad[]; frequencies: Float64Array; q: number }

/** Band-passes at the CQT's centre frequencies, with the CQT's Q (1/(2^(1/bins per octave) − 1)). */
export function cqtBandPassBank(options: Pick<CqtKernelOptions, 'sampleRate' | 'fmin' | 'nBins' | 'binsPerOctave' | 'tuningCents' | 'filterScale'> = {}): CqtBandPassBank {
  const { sampleRate, binsPerOctave, filterScale } = { ...cqtDefaults, ...options };
  const frequencies = cqtFrequencies(options);
  const q = cqtQ(binsPerOctave, filterScale);
  return { biquads: Array.from(frequencies, (f) => bandPassBiquad(f, q, sampleRate)), frequencies, q };
}

/** The reference: direct form I in float64, zero initial state. */
export function biquadFilterHost(signal: ArrayLike<number>, { b0, b1, b2, a1, a2 }: Biquad): Float64Array {
  const out = new Float64Array(signal.length);
  let [x1, x2, y1, y2] = [0, 0, 0, 0];
  for (let n = 0; n < signal.length; n++) {
    const x = signal[n]!;
    const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    [x2, x1, y2, y1] = [x1, x, y1, y];
    out[n] = y;
  }
  return out;
}

/** The pole radius and angle of a biquad with complex (or double) poles: a2 = r², a1 = −2r·cosθ. */
export function biquadPoles({ a1, a2 }: Biquad): { radius: number; angle: number } {
  if (!(a2 > 0) || a1 * a1 > 4 * a2 * (1 + 1e-12)) {
    throw new Error(`biquadPoles: a1 = ${a1}, a2 = ${a2} has real poles (a1² ≥ 4·a2 or a2 ≤ 0); the pole-angle parameterization holds only complex pairs`);
  }
  const radius = Math.sqrt(a2);
  return { radius, angle: Math.acos(Math.max(-1, Math.min(1, -a1 / (2 * radius)))) };
}

/** Trainable values of a bank: numerator [B, 3], radiusLogit and angle [B]. */
export interface StableParameters<V> { numerator: V; radiusLogit: V; angle: V }

/** The inverse map: designed biquads → (b, ρ, θ) with r = maxRadius·sigmoid(ρ). */
export function stableParameters(biquads: readonly Biquad[], dtype: FloatDType = 'float32', maxRadius = defaultMaxRadius): StableParameters<T.NDArray> {
  checkMaxRadius('stableParameters', maxRadius);
  const count = biquads.length;
  const make = (length: number) => (dtype === 'float32' ? new Float32Array(length) : new Float64Array(length));
  const [numerator, radiusLogit, angle] = [make(3 * count), make(count), make(count)];
  biquads.forEach((biquad, i) => {
    const poles = biquadPoles(biquad);
    if (poles.radius >= maxRadius) throw new Error(`stableParameters: biquad ${i} has poles of radius ${poles.radius}, not below maxRadius ${maxRadius}; raise maxRadius (below 1)`);
    const fraction = poles.radius / maxRadius;
    numerator.set([biquad.b0, biquad.b1, biquad.b2], 3 * i);
    radiusLogit[i] = Math.log(fraction / (1 - fraction));
    angle[i] = poles.angle;
  });
  return {
    numerator: T.array(numerator, { shape: [count, 3], dtype }),
    radiusLogit: T.array(radiusLogit, { shape: [count], dtype }),
    angle: T.array(angle, { shape: [count], dtype }),
  };
}

/** The forward map on the host (float64): trained values → biquads. */
export function biquadsFromParameters(values: StableParameters<T.NDArray>, maxRadius = defaultMaxRadius): Biquad[] {
  return Array.from({ length: values.angle.size }, (_, i) => {
    const radius = maxRadius / (1 + Math.exp(-values.radiusLogit.data[i]!));
    const [b0, b1, b2] = Array.from(values.numerator.data.subarray(3 * i, 3 * i + 3));
    return { b0: b0!, b1: b1!, b2: b2!, a1: -2 * radius * Math.cos(values.angle.data[i]!), a2: radius * radius };
  });
}

/**
 * The forward map as a graph: (ρ, θ) [B] → denominator [B, 2] (a1, a2), poles of radius
 * maxRadius·sigmoid(ρ). For reading: rounded to float32, a narrow band's a1 and a2 can
 * put its poles on the unit circle (θ = 0 and r = 0.99999 give 1 + a1 + a2 = 0), so the
 * bank runs stableOffsets instead.
 */
export function stableDenominator(radiusLogit: T.TensorLike, angle: T.TensorLike, maxRadius = defaultMaxRadius): T.Variable {
  checkMaxRadius('stableDenominator', maxRadius);
  return T.composite('stableDenominator', () => {
    const radius = T.mul(maxRadius, T.sigmoid(T.asVariable(radiusLogit)));
    const a1 = T.mul(-2, T.mul(radius, T.cos(T.asVariable(angle, radius.dtype))));
    return T.stack([a1, T.mul(radius, radius)], 1);
  });
}

/** The biquads' coefficients as constants: numerator [B, 3] and denominator [B, 2]. */
export function biquadArrays(biquads: readonly Biquad[], dtype: FloatDType = 'float32'): { numerator: T.NDArray; denominator: T.NDArray } {
  const numerator = biquads.flatMap(({ b0, b1, b2 }) => [b0, b1, b2]);
  const denominator = biquads.flatMap(({ a1, a2 }) => [a1, a2]);
  const typed = (values: number[]) => (dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values));
  return {
    numerator: T.array(typed(numerator), { shape: [biquads.length, 3], dtype }),
    denominator: T.array(typed(denominator), { shape: [biquads.length, 2], dtype }),
  };
}

/** Every signal through every biquad: signal [N, L] or [N, 1, L] → responses [N, B, L]. */
export function iirFilterbank(signal: T.Variable, numerator: T.TensorLike, denominator: T.TensorLike): T.Variable {
  const op = 'iirFilterbank';
  const a = T.asVariable(denominator, signal.dtype);
  if (a.ndim !== 2 || a.shape[1] !== 2) throw graphError(op, `expects the denominator [bands, 2] (a1, a2), but got ${a.type}`);
  return T.composite(op, () => biquadBank(op, signal, numerator, T.stack([T.add(T.get(a, T.slice(null), 0), 2), T.sub(1, T.get(a, T.slice(null), 1))], 1)));
}

/** The bank with stable parameters: signal → responses [N, B, L]. */
export function stableIirFilterbank(signal: T.Variable, parameters: StableParameters<T.TensorLike>, maxRadius = defaultMaxRadius): T.Variable {
  const op = 'stableIirFilterbank';
  return T.composite(op, () => biquadBank(op, signal, parameters.numerator, stableOffsets(T.asVariable(parameters.radiusLogit, signal.dtype), parameters.angle, maxRadius)));
}

/**
 * The denominator the stable bank runs, as offsets from the double pole at z = 1:
 * (ρ, θ) [B] → [B, 2] holding c1 = a1 + 2 = 2(1 − r) + 4r·sin²(θ/2) and c2 = 1 − a2 =
 * (1 − r)(1 + r), with 1 − r = (1 − maxRadius) + maxRadius·sigmoid(−ρ). Computed this
 * way, never as differences of numbers near 2 and 1, they keep float32's relative
 * precision: rounding a1 and a2 themselves to float32 moves a narrow band's poles.
 */
export function stableOffsets(radiusLogit: T.TensorLike, angle: T.TensorLike, maxRadius = defaultMaxRadius): T.Variable {
  checkMaxRadius('stableOffsets', maxRadius);
  return T.composite('stableOffsets', () => {
    const logit = T.asVariable(radiusLogit);
    const radius = T.mul(maxRadius, T.sigmoid(logit));
    const gap = T.add(1 - maxRadius, T.mul(maxRadius, T.sigmoid(T.neg(logit))));
    const halfSine = T.sin(T.mul(0.5, T.asVariable(angle, logit.dtype)));
    return T.stack([T.add(T.mul(2, gap), T.mul(4, T.mul(radius, T.mul(halfSine, halfSine)))), T.mul(gap, T.add(1, radius))], 1);
  });
}

/** The bank with offsets c1 = a1 + 2, c2 = 1 − a2 [B, 2]: y[n] = v[n] + 2y[n−1] − y[n−2] − c1·y[n−1] + c2·y[n−2]. */
function biquadBank(op: string, signal: T.Variable, numerator: T.TensorLike, offsets: T.Variable): T.Variable {
  if (signal.ndim === 3 && signal.shape[1] !== 1) throw graphError(op, `expects one channel [batch, 1, samples], but got ${signal.type}`);
  if (signal.ndim !== 2 && signal.ndim !== 3) throw graphError(op, `expects a batch of signals [batch, samples] or [batch, 1, samples], but got ${signal.type}; add a batch axis with T.dimshuffle(x, 'x', 0)`);
  const b = T.asVariable(numerator, signal.dtype);
  const bands = b.shape[0];
  if (b.ndim !== 2 || b.shape[1] !== 3 || typeof bands !== 'number') throw graphError(op, `expects the numerator [bands, 3] (b0, b1, b2) with a static number of bands, but got ${b.type}`);
  if (offsets.shape[0] !== null && offsets.shape[0] !== bands) throw graphError(op, `has ${bands} numerators but ${offsets.shape[0]} denominators`);
  const x = signal.ndim === 2 ? signal.dimshuffle(0, 'x', 1) : signal;
  // Causal: b0·x[n] + b1·x[n−1] + b2·x[n−2] is true convolution with two zeros before.
  const feedForward = T.conv1d(x, b.dimshuffle(0, 'x', 1), { padding: [[2, 0]], filterFlip: true });
  const c1 = T.get(offsets, T.slice(null), 0);
  const c2 = T.get(offsets, T.slice(null), 1);
  const { outputs: [y] } = T.scan({
    // The small terms first, y[n−1] last: one rounding at the size of y.
    fn: (v, y2, y1) => T.add(y1, T.add(T.sub(y1, y2), T.add(v, T.sub(T.mul(c2, y2), T.mul(c1, y1))))),
    sequences: feedForward.dimshuffle(2, 0, 1),
    outputsInfo: [{ initial: T.zeros([2, T.dim(x, 0), bands], signal.dtype), taps: [-2, -1] }],
    name: 'biquads',
  });
  return y!.dimshuffle(1, 2, 0);
}

export interface BandEnergyOptions {
  hop: number;
  /** Samples averaged per frame (default hop). */
  frame?: number;
}

/** Mean of y² over frames of `frame` samples every `hop`: responses [N, B, L] → [N, B, frames]. */
export function bandEnergies(responses: T.Variable, options: BandEnergyOptions): T.Variable {
  const op = 'bandEnergies';
  const { hop, frame = hop } = options;
  if (responses.ndim !== 3) throw graphError(op, `expects responses [batch, bands, samples], but got ${responses.type}`);
  if (!Number.isInteger(hop) || hop < 1) throw graphError(op, `hop ${hop} must be a positive integer`);
  if (!Number.isInteger(frame) || frame < 1) throw graphError(op, `frame ${frame} must be a positive integer`);
  return T.composite(op, () => T.avgPool1d(T.mul(responses, responses), frame, { stride: hop }));
}

function checkMaxRadius(op: string, maxRadius: number): void {
  if (!(maxRadius > 0 && maxRadius < 1)) throw new Error(`${op}: maxRadius ${maxRadius} must lie strictly between 0 and 1 for every pole to stay inside the unit circle`);
}
