// The FFT path on the host: the STFT of one clip with fft.js (radix-4, any power-of-two
// frame length), in float64. It is the CPU peer of the graph STFT (tests compare the two)
// and the path for frames too long for a DFT matrix (cqtHost's 16384-sample frames).
// Framing, centring, padding and windows follow framing.ts exactly, so frame f here is
// frame f there. Left out: batches (loop over clips) and non-power-of-two lengths.
//
// Shapes: signal [samples] → [nFrames, nFft/2 + 1], row-major.

import * as T from '@theorbo/graph';
import FFT from 'fft.js';
import { binCount, type SpectrumScale, type StftOptions } from './dft.ts';
import { frameCount, resolveFrames, type PadMode } from './framing.ts';
import { window } from './windows.ts';

export type HostSignal = Float32Array | Float64Array | readonly number[];

/** Sample i of the signal extended past its ends by zeros or numpy's reflection. */
export function paddedSample(signal: HostSignal, i: number, padMode: PadMode): number {
  const n = signal.length;
  if (i >= 0 && i < n) return signal[i]!;
  if (padMode === 'constant' || n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return signal[j]!;
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;

const plans = new Map<number, FFT>();
export function fftPlan(op: string, size: number): FFT {
  if (!isPowerOfTwo(size)) throw new Error(`${op}: fft.js needs a power-of-two frame length, but nFft is ${size}; use the graph STFT for other lengths`);
  let plan = plans.get(size);
  if (!plan) plans.set(size, (plan = new FFT(size)));
  return plan;
}

export interface HostSpectrum {
  nFrames: number;
  nBins: number;
  /** [nFrames, nBins] row-major. */
  real: Float64Array;
  imag: Float64Array;
}

/** The complex STFT of one clip, computed with fft.js in float64. */
export function stftHostComplex(signal: HostSignal, options: StftOptions = {}): HostSpectrum {
  const { nFft, hop, center, padMode } = resolveFrames('stftHost', options);
  const plan = fftPlan('stftHost', nFft);
  const weights = window(options.window ?? 'hann', nFft);
  const nFrames = frameCount(signal.length, { nFft, hop, center });
  const nBins = binCount(nFft);
  const real = new Float64Array(nFrames * nBins);
  const imag = new Float64Array(nFrames * nBins);
  const frame = new Float64Array(nFft);
  const out = plan.createComplexArray() as number[];
  const firstStart = center ? -Math.floor(nFft / 2) : 0;
  for (let f = 0; f < nFrames; f++) {
    const start = firstStart + f * hop;
    for (let n = 0; n < nFft; n++) frame[n] = weights[n]! * paddedSample(signal, start + n, padMode);
    plan.realTransform(out, frame);
    for (let k = 0; k < nBins; k++) {
      real[f * nBins + k] = out[2 * k]!;
      imag[f * nBins + k] = out[2 * k + 1]!;
    }
  }
  return { nFrames, nBins, real, imag };
}

/** The STFT magnitude (or power) of one clip as a float32 NDArray [nFrames, nFft/2 + 1]. */
export function stftHost(signal: HostSignal, options: StftOptions & { scale?: SpectrumScale } = {}): T.NDArray {
  const { nFrames, nBins, real, imag } = stftHostComplex(signal, options);
  const out = new Float32Array(nFrames * nBins);
  const power = options.scale === 'power';
  for (let i = 0; i < out.length; i++) {
    const p = real[i]! * real[i]! + imag[i]! * imag[i]!;
    out[i] = power ? p : Math.sqrt(p);
  }
  return T.array(out, { shape: [nFrames, nBins], dtype: 'float32' });
}
