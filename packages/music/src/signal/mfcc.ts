// MFCCs as librosa computes them: the orthonormal DCT-II of each frame's log-mel spectrum
// (decibels), keeping the first nMfcc coefficients, optionally liftered. Coefficient k of
// N mel bands is s_k·Σ_n x_n·cos(πk(2n + 1)/2N), s_0 = √(1/N), s_k = √(2/N), so the full
// matrix is orthogonal; liftering multiplies coefficient k (counting from 0) by
// 1 + (L/2)·sin(π(k + 1)/L). Both are folded into one constant [nMels, nMfcc], so MFCCs
// are one matmul on the log-mel spectrum (the lifter is a diagonal matrix, like the STFT's
// window). The angle uses k(2n + 1) mod 4N, exact in integers, as dft.ts does.
// mfcc(signal) follows librosa's mfcc(y=…): power mel spectrogram, powerToDb (ref 1,
// topDb 80), DCT. mfccHost is the CPU peer. Left out: DCT types I and III, norm=None.
//
// Shapes: logMel [batch, nFrames, nMels] · D [nMels, nMfcc] → [batch, nFrames, nMfcc];
// host [samples] → [nFrames, nMfcc].

import * as T from '@theorbo/graph';
import { powerToDb, powerToDbHost, type DbOptions } from './decibels.ts';
import { graphError } from './framing.ts';
import { melSpectrogram, melSpectrogramHost, type MelSpectrogramOptions } from './mel.ts';
import type { HostSignal } from './fft-host.ts';

export interface DctOptions {
  /** Number of coefficients kept (default 20). */
  nMfcc?: number;
  /** Lifter parameter L (default 0: none). */
  lifter?: number;
}

export const mfccDefaults = { nMfcc: 20, lifter: 0 } as const;

function resolveDct(nMels: number, options: DctOptions, fail: (detail: string) => never): Required<DctOptions> {
  const nMfcc = options.nMfcc ?? mfccDefaults.nMfcc;
  const lifter = options.lifter ?? mfccDefaults.lifter;
  if (!(Number.isInteger(nMels) && nMels >= 1)) fail(`nMels ${nMels} must be a positive integer`);
  if (!(Number.isInteger(nMfcc) && nMfcc >= 1 && nMfcc <= nMels)) fail(`nMfcc ${nMfcc} must be an integer from 1 to the number of mel bands (${nMels})`);
  if (!(lifter >= 0)) fail(`lifter ${lifter} must be non-negative`);
  return { nMfcc, lifter };
}

/** The orthonormal DCT-II of nMels inputs, first nMfcc outputs, liftered: [nMels, nMfcc] float64. */
export function dctMatrix(nMels: number, options: DctOptions = {}): T.NDArray {
  const { nMfcc, lifter } = resolveDct(nMels, options, (detail) => { throw new Error(`dctMatrix: ${detail}`); });
  const out = new Float64Array(nMels * nMfcc);
  for (let k = 0; k < nMfcc; k++) {
    const scale = Math.sqrt((k === 0 ? 1 : 2) / nMels) * (lifter > 0 ? 1 + (lifter / 2) * Math.sin((Math.PI * (k + 1)) / lifter) : 1);
    for (let n = 0; n < nMels; n++) {
      out[n * nMfcc + k] = scale * Math.cos((Math.PI * ((k * (2 * n + 1)) % (4 * nMels))) / (2 * nMels));
    }
  }
  return T.array(out, { shape: [nMels, nMfcc], dtype: 'float64' });
}

export interface MfccFromLogMelOptions extends DctOptions {
  /** A matrix to use instead of the designed DCT, e.g. a trainable copy of dctMatrix: [nMels, nMfcc]. */
  weights?: T.Variable;
}

/** MFCCs of a log-mel spectrum [batch, nFrames, nMels] (decibels) → [batch, nFrames, nMfcc]. */
export function mfccFromLogMel(logMel: T.Variable, options: MfccFromLogMelOptions = {}): T.Variable {
  const nMels = logMel.shape[logMel.ndim - 1];
  if (nMels === null || nMels === undefined) throw graphError('mfccFromLogMel', `needs the number of mel bands of ${logMel.type} statically`);
  if (options.weights) {
    if (options.weights.ndim !== 2 || options.weights.shape[0] !== nMels) throw graphError('mfccFromLogMel', `weights ${options.weights.type} must be [${nMels}, nMfcc] for ${nMels} mel bands`);
    return T.matmul(logMel, options.weights);
  }
  resolveDct(nMels, options, (detail) => { throw graphError('mfccFromLogMel', detail); });
  const matrix = dctMatrix(nMels, options);
  return T.composite('mfccFromLogMel', () => T.matmul(logMel, T.constant(matrix.astype(logMel.dtype === 'float64' ? 'float64' : 'float32'), { name: 'dct_ii' })));
}

export interface MfccOptions extends MelSpectrogramOptions, DctOptions {
  /** The decibel conversion of the mel spectrogram (default librosa's: ref 1, amin 1e-10, topDb 80). */
  db?: DbOptions;
}

/** MFCCs of a batch of clips [batch, samples] → [batch, nFrames, nMfcc] (librosa's mfcc(y=…)). */
export function mfcc(signal: T.Variable, options: MfccOptions = {}): T.Variable {
  return T.composite('mfcc', () => mfccFromLogMel(powerToDb(melSpectrogram(signal, options), options.db), options));
}

/** The MFCCs of a log-mel spectrogram [nFrames, nMels] on the host, float64 sums, rounded to float32. */
export function mfccFromLogMelHost(logMel: T.NDArray, options: DctOptions = {}): T.NDArray {
  if (logMel.ndim !== 2) throw new Error(`mfccFromLogMelHost: expects [nFrames, nMels], but got shape [${logMel.shape.join(', ')}]`);
  const [nFrames, nMels] = logMel.shape as [number, number];
  const matrix = dctMatrix(nMels, options);
  const nMfcc = matrix.shape[1]!;
  const out = new Float32Array(nFrames * nMfcc);
  for (let f = 0; f < nFrames; f++) {
    for (let k = 0; k < nMfcc; k++) {
      let sum = 0;
      for (let n = 0; n < nMels; n++) sum += logMel.data[f * nMels + n]! * matrix.data[n * nMfcc + k]!;
      out[f * nMfcc + k] = sum;
    }
  }
  return T.array(out, { shape: [nFrames, nMfcc], dtype: 'float32' });
}

/** The MFCCs of one clip on the host: melSpectrogramHost, powerToDbHost, the DCT → [nFrames, nMfcc] float32. */
export function mfccHost(signal: HostSignal, options: Omit<MfccOptions, 'method'> = {}): T.NDArray {
  return mfccFromLogMelHost(powerToDbHost(melSpectrogramHost(signal, options), options.db), options);
}
