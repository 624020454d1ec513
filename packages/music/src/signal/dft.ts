// The STFT as a graph: frames (a view, see framing.ts) times one constant matrix. The
// talk's "the DFT is a general affine transformation": X = (frames ⊙ w) · F, and since
// the window is a diagonal matrix, (frames ⊙ w)·F = frames·(diag(w)·F), so the window
// is folded into the DFT matrix's rows and the whole STFT is one matmul. The real and
// imaginary DFT matrices, w[n]·cos(2πnk/N) and −w[n]·sin(2πnk/N) for k = 0 … N/2, sit
// side by side in one [nFft, 2·nBins] constant (one pass over the frames, not two); the
// angle uses (n·k mod N), exact in integers, so float32 entries are correctly rounded
// even where n·k is in the millions. Then magnitude √(re² + im²), power, and log
// compression: log1p(C·|X|) or decibels as librosa's amplitude_to_db/power_to_db.
// Left out: the inverse STFT, and an FFT in the graph (fft-host.ts is the FFT path).
//
// Shapes: signal [batch, samples] → real, imag, magnitude [batch, nFrames, nFft/2 + 1].

import * as T from '@theorbo/graph';
import { framesAt, frameCount, graphError, resolveFrames, signalSamples, type FrameSignalOptions } from './framing.ts';
import { window, type WindowName } from './windows.ts';
import { amplitudeToDb, powerToDb } from './decibels.ts';

export interface StftOptions extends FrameSignalOptions {
  /** The analysis window (default 'hann', periodic as librosa's). */
  window?: WindowName;
}

export const binCount = (nFft: number): number => Math.floor(nFft / 2) + 1;

export interface DftMatrices {
  nFft: number;
  nBins: number;
  /** [nFft, nBins] row-major: w[n]·cos(2πnk/N). */
  real: Float64Array;
  /** [nFft, nBins] row-major: −w[n]·sin(2πnk/N). */
  imag: Float64Array;
}

/** The half-spectrum DFT matrices with the window folded into their rows (no window: rectangular). */
export function dftMatrices(nFft: number, windowValues?: Float64Array): DftMatrices {
  if (windowValues && windowValues.length !== nFft) throw new Error(`dftMatrices: the window has ${windowValues.length} samples but nFft is ${nFft}`);
  const nBins = binCount(nFft);
  const real = new Float64Array(nFft * nBins);
  const imag = new Float64Array(nFft * nBins);
  for (let n = 0; n < nFft; n++) {
    const w = windowValues ? windowValues[n]! : 1;
    for (let k = 0; k < nBins; k++) {
      const angle = (2 * Math.PI * ((n * k) % nFft)) / nFft;
      real[n * nBins + k] = w * Math.cos(angle);
      imag[n * nBins + k] = -w * Math.sin(angle);
    }
  }
  return { nFft, nBins, real, imag };
}

const stackedCache = new Map<string, T.NDArray>();

/** [real | imag] as one [nFft, 2·nBins] array of the graph's dtype, kept for reuse across graphs. */
function stackedDft(nFft: number, windowName: WindowName, dtype: 'float32' | 'float64'): T.NDArray {
  const key = `${nFft}:${windowName}:${dtype}`;
  const cached = stackedCache.get(key);
  if (cached) return cached;
  const { nBins, real, imag } = dftMatrices(nFft, window(windowName, nFft));
  const data = dtype === 'float32' ? new Float32Array(nFft * 2 * nBins) : new Float64Array(nFft * 2 * nBins);
  for (let n = 0; n < nFft; n++) {
    data.set(real.subarray(n * nBins, (n + 1) * nBins), n * 2 * nBins);
    data.set(imag.subarray(n * nBins, (n + 1) * nBins), n * 2 * nBins + nBins);
  }
  const value = T.array(data, { shape: [nFft, 2 * nBins], dtype });
  if (stackedCache.size >= 4) stackedCache.delete(stackedCache.keys().next().value!);
  stackedCache.set(key, value);
  return value;
}

export interface ComplexSpectrum {
  real: T.Variable;
  imag: T.Variable;
}

/** The complex STFT of a batch of signals: { real, imag }, each [batch, nFrames, nFft/2 + 1]. */
export function stftComplex(signal: T.Variable, options: StftOptions = {}): ComplexSpectrum {
  const resolved = resolveFrames('stft', options);
  const samples = signalSamples('stft', signal);
  const windowName = options.window ?? 'hann';
  const count = frameCount(samples, resolved);
  const { nFft, hop, center, padMode } = resolved;
  return T.composite('stft', () => {
    const frames = framesAt('stft', signal, { firstStart: center ? -Math.floor(nFft / 2) : 0, hop, count, nFft, padMode }, options.method);
    return dftOfFrames(frames, windowName);
  });
}

/** The half-spectrum DFT of frames [batch, nFrames, nFft] (windowed by `windowName`): one matmul. */
export function dftOfFrames(frames: T.Variable, windowName: WindowName = 'hann'): ComplexSpectrum {
  const nFft = frames.shape[frames.ndim - 1];
  if (nFft === null || nFft === undefined) throw graphError('dftOfFrames', `needs the frame length of ${frames.type} statically`);
  const dft = T.constant(stackedDft(nFft, windowName, frames.dtype as 'float32' | 'float64'), { name: `dft_${windowName}_${nFft}` });
  const product = T.matmul(frames, dft);
  const nBins = binCount(nFft);
  return { real: T.get(product, '...', T.slice(0, nBins)), imag: T.get(product, '...', T.slice(nBins, 2 * nBins)) };
}

export type SpectrumScale = 'magnitude' | 'power';

/** |X| = √(re² + im²), or |X|² with scale 'power'. */
export function spectrumMagnitude(spectrum: ComplexSpectrum, scale: SpectrumScale = 'magnitude'): T.Variable {
  const power = T.add(T.mul(spectrum.real, spectrum.real), T.mul(spectrum.imag, spectrum.imag));
  if (scale === 'power') return power;
  if (scale !== 'magnitude') throw graphError('spectrumMagnitude', `scale '${String(scale)}' is not one of 'magnitude', 'power'`);
  return T.sqrt(power);
}

/** The STFT magnitude (or power) of a batch of signals: [batch, samples] → [batch, nFrames, nFft/2 + 1]. */
export function stft(signal: T.Variable, options: StftOptions & { scale?: SpectrumScale } = {}): T.Variable {
  return spectrumMagnitude(stftComplex(signal, options), options.scale ?? 'magnitude');
}

export interface LogOptions {
  /** 'log1p': log(1 + factor·x); 'db-amplitude': 20·log10; 'db-power': 10·log10 (default 'log1p'). */
  method?: 'log1p' | 'db-amplitude' | 'db-power';
  /** C of log1p(C·x) (default 1). */
  factor?: number;
  /** dB reference value (default 1). */
  ref?: number;
  /** dB floor on x (default 1e-5 for amplitude, 1e-10 for power, librosa's). */
  amin?: number;
  /** dB: clip each clip to its maximum minus topDb (default 80; null keeps all). */
  topDb?: number | null;
}

/**
 * Log compression of a non-negative spectrum [batch, …]. The dB forms are powerToDb and
 * amplitudeToDb (decibels.ts), librosa's: 10·log10(max(amin, x)) − 10·log10(max(amin, ref))
 * for power (20·… for amplitude), then each clip (leading axis) clipped from below at its
 * maximum minus topDb.
 */
export function logCompress(x: T.Variable, options: LogOptions = {}): T.Variable {
  const method = options.method ?? 'log1p';
  if (method === 'log1p') {
    const factor = options.factor ?? 1;
    if (!(factor > 0)) throw graphError('logCompress', `factor ${factor} must be positive`);
    return T.log1p(factor === 1 ? x : T.mul(x, factor));
  }
  if (method !== 'db-amplitude' && method !== 'db-power') throw graphError('logCompress', `method '${String(method)}' is not one of 'log1p', 'db-amplitude', 'db-power'`);
  const db = { ref: options.ref ?? 1, amin: options.amin, topDb: options.topDb };
  return T.composite('logCompress', () => (method === 'db-power' ? powerToDb(x, db) : amplitudeToDb(x, db)));
}
