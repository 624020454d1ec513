// The FFT path on the host: the STFT of one clip with fft.js (radix-4, any power-of-two
// frame length), in float64, or for the magnitude with PFFFT in WebAssembly SIMD (float32,
// fft-wasm.ts) when asked. It is the CPU peer of the graph STFT (tests compare the two)
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
import { wasmFftUnavailable, wasmRealFft } from './fft-wasm.ts';

export type HostSignal = Float32Array | Float64Array | readonly number[];

/** The host FFT: 'wasm' (PFFFT, WebAssembly SIMD, float32; fft-wasm.ts), 'fftjs' (fft.js, float64) or 'auto' (wasm where it loads, else fft.js). */
export type HostFft = 'auto' | 'wasm' | 'fftjs';

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

/** Fills `frame` with the windowed samples start … start + nFft − 1 of the signal (padded past its ends). */
function windowedFrame(signal: HostSignal, start: number, weights: Float64Array, padMode: PadMode, frame: Float32Array | Float64Array): void {
  const nFft = weights.length;
  // Frames inside the signal skip paddedSample's checks: the same products.
  if (start >= 0 && start + nFft <= signal.length) for (let n = 0; n < nFft; n++) frame[n] = weights[n]! * signal[start + n]!;
  else for (let n = 0; n < nFft; n++) frame[n] = weights[n]! * paddedSample(signal, start + n, padMode);
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
    windowedFrame(signal, firstStart + f * hop, weights, padMode, frame);
    plan.realTransform(out, frame);
    for (let k = 0; k < nBins; k++) {
      real[f * nBins + k] = out[2 * k]!;
      imag[f * nBins + k] = out[2 * k + 1]!;
    }
  }
  return { nFrames, nBins, real, imag };
}

/**
 * The STFT magnitude (or power) of one clip as a float32 NDArray [nFrames, nFft/2 + 1], or
 * with `frames` only those frames' rows, in that order (the same values as their rows of the
 * whole). `fft`: 'fftjs' (default: float64, what stftHostComplex computes), 'wasm' (PFFFT in
 * WebAssembly SIMD, float32 frames: about 5× faster for 2048 samples, within float32
 * rounding of fft.js) or 'auto' (wasm where it loads and nFft is a multiple of 32, else fft.js).
 */
export function stftHost(signal: HostSignal, options: StftOptions & { scale?: SpectrumScale; fft?: HostFft; frames?: readonly number[] } = {}): T.NDArray {
  const choice = options.fft ?? 'fftjs';
  if (choice !== 'auto' && choice !== 'wasm' && choice !== 'fftjs') throw new Error(`stftHost: fft '${String(choice)}' is not one of 'auto', 'wasm', 'fftjs'`);
  const power = options.scale === 'power';
  const { nFft, hop, center, padMode } = resolveFrames('stftHost', options);
  const wasm = choice === 'fftjs' || (choice === 'auto' && nFft % 32 !== 0) ? undefined : wasmRealFft('stftHost', nFft);
  if (choice === 'wasm' && !wasm) throw new Error(`stftHost: fft 'wasm' cannot run here: ${wasmFftUnavailable()}; pass fft: 'fftjs' or 'auto'`);
  const nFrames = frameCount(signal.length, { nFft, hop, center });
  const nBins = binCount(nFft);
  const rows = options.frames;
  if (rows) {
    for (const f of rows) if (!(Number.isInteger(f) && f >= 0 && f < nFrames)) throw new Error(`stftHost: frame ${f} is not one of the clip's ${nFrames} frames (nFft ${nFft}, hop ${hop})`);
  } else if (!wasm) {
    const { real, imag } = stftHostComplex(signal, options);
    const out = new Float32Array(nFrames * nBins);
    for (let i = 0; i < out.length; i++) {
      const p = real[i]! * real[i]! + imag[i]! * imag[i]!;
      out[i] = power ? p : Math.sqrt(p);
    }
    return T.array(out, { shape: [nFrames, nBins], dtype: 'float32' });
  }
  const count = rows ? rows.length : nFrames;
  const weights = window(options.window ?? 'hann', nFft);
  const out = new Float32Array(count * nBins);
  const firstStart = center ? -Math.floor(nFft / 2) : 0;
  // The frames one by one, each as stftHostComplex (fft.js) or the whole-clip loop (PFFFT) computes it.
  const plan = wasm ? undefined : fftPlan('stftHost', nFft);
  const frame = wasm ? wasm.input : new Float64Array(nFft);
  const complex = plan ? plan.createComplexArray() as number[] : undefined;
  // Views after the plan is made (nothing allocates in the module in the loop).
  const output = wasm?.output;
  for (let r = 0; r < count; r++) {
    const f = rows ? rows[r]! : r;
    windowedFrame(signal, firstStart + f * hop, weights, padMode, frame);
    const at = r * nBins;
    if (wasm) {
      wasm.transform();
      const { realIndex, imagIndex } = wasm;
      for (let k = 0; k < nBins; k++) {
        const re = output![realIndex[k]!]!;
        const im = output![imagIndex[k]!]!;
        const p = re * re + im * im;
        out[at + k] = power ? p : Math.sqrt(p);
      }
    } else {
      plan!.realTransform(complex!, frame);
      for (let k = 0; k < nBins; k++) {
        const re = complex![2 * k]!;
        const im = complex![2 * k + 1]!;
        const p = re * re + im * im;
        out[at + k] = power ? p : Math.sqrt(p);
      }
    }
  }
  return T.array(out, { shape: [count, nBins], dtype: 'float32' });
}
