// The mel filterbank and mel spectrogram, with librosa's names and defaults (128 bands,
// fmin 0, fmax sr/2, the Slaney scale and Slaney's area normalization). The scale maps Hz
// to mels, nMels + 2 mel-spaced edges are mapped back to Hz, and band m is the triangle
// rising from edge m to edge m + 1 and falling to edge m + 2, evaluated at each FFT bin's
// centre frequency k·sr/nFft. Scales:
//   Slaney (htk false): linear below 1 kHz (3 mels per 200 Hz), logarithmic above it
//     (27 mels per factor 6.4);
//   HTK (htk true): 2595·log10(1 + f/700).
// Normalization: 'slaney' divides each triangle by half its width in Hz (2/(f[m+2] − f[m])),
// so every band holds about the same energy of white noise; a number p divides each band
// by its p-norm (Infinity: its peak); null keeps peaks of 1. The weights are float32 as
// librosa's are, rounded once before the Slaney scaling and once after it, as librosa's
// in-place float32 arithmetic rounds them.
// As a graph the filterbank is one matmul on the power spectrum, the talk's "a feature
// is a matrix": melFromStft(power) = power · M. melSpectrogramHost is the CPU peer
// (fft.js, float64 sums). Left out: mel bands from magnitude spectra other than |X|^p.
//
// Shapes: power [batch, nFrames, nFft/2 + 1] · M [nFft/2 + 1, nMels] → [batch, nFrames, nMels];
// host [samples] → [nFrames, nMels].

import * as T from '@theorbo/graph';
import { binCount, spectrumMagnitude, stftComplex, type StftOptions } from './dft.ts';
import { stftHostComplex, type HostSignal } from './fft-host.ts';
import { graphError, signalDefaults } from './framing.ts';

export type MelNorm = 'slaney' | number | null;

export interface MelOptions {
  sampleRate?: number;
  nFft?: number;
  /** Number of mel bands (default 128). */
  nMels?: number;
  /** Lowest edge in Hz (default 0). */
  fmin?: number;
  /** Highest edge in Hz (default sampleRate / 2). */
  fmax?: number;
  /** The HTK formula instead of Slaney's (default false). */
  htk?: boolean;
  /** 'slaney' (default), a p-norm, or null. */
  norm?: MelNorm;
}

export const melDefaults = { nMels: 128, fmin: 0 } as const;

// Slaney's scale: linear up to 1 kHz at 200/3 Hz per mel, then log-spaced at 27 mels per factor 6.4.
const slaneyStep = 200 / 3;
const slaneyBreakHz = 1000;
const slaneyBreakMel = slaneyBreakHz / slaneyStep;
const slaneyLogStep = Math.log(6.4) / 27;

/** Hz → mels on the Slaney scale, or HTK's with `htk`. */
export function hzToMel(frequency: number, htk = false): number {
  if (htk) return 2595 * Math.log10(1 + frequency / 700);
  return frequency >= slaneyBreakHz ? slaneyBreakMel + Math.log(frequency / slaneyBreakHz) / slaneyLogStep : frequency / slaneyStep;
}

/** Mels → Hz, the inverse of hzToMel. */
export function melToHz(mel: number, htk = false): number {
  if (htk) return 700 * (10 ** (mel / 2595) - 1);
  return mel >= slaneyBreakMel ? slaneyBreakHz * Math.exp(slaneyLogStep * (mel - slaneyBreakMel)) : slaneyStep * mel;
}

/** `count` frequencies in Hz evenly spaced in mels from fmin to fmax (numpy's linspace in mels, the last exactly fmax's mel). */
export function melFrequencies(count: number, options: { fmin?: number; fmax?: number; htk?: boolean } = {}): Float64Array {
  const htk = options.htk ?? false;
  const low = hzToMel(options.fmin ?? melDefaults.fmin, htk);
  const high = hzToMel(options.fmax ?? signalDefaults.sampleRate / 2, htk);
  const step = count > 1 ? (high - low) / (count - 1) : 0;
  return Float64Array.from({ length: count }, (_, i) => melToHz(i === count - 1 && count > 1 ? high : low + i * step, htk));
}

/** Centre frequency in Hz of each FFT bin 0 … nFft/2 (numpy's rfftfreq). */
export function fftFrequencies(sampleRate: number, nFft: number): Float64Array {
  const spacing = 1 / (nFft * (1 / sampleRate));
  return Float64Array.from({ length: binCount(nFft) }, (_, k) => k * spacing);
}

interface ResolvedMel { sampleRate: number; nFft: number; nMels: number; fmin: number; fmax: number; htk: boolean; norm: MelNorm }

function resolveMel(op: string, options: MelOptions): ResolvedMel {
  const sampleRate = options.sampleRate ?? signalDefaults.sampleRate;
  const resolved = {
    sampleRate,
    nFft: options.nFft ?? signalDefaults.nFft,
    nMels: options.nMels ?? melDefaults.nMels,
    fmin: options.fmin ?? melDefaults.fmin,
    fmax: options.fmax ?? sampleRate / 2,
    htk: options.htk ?? false,
    norm: options.norm === undefined ? 'slaney' : options.norm,
  };
  const { nFft, nMels, fmin, fmax, norm } = resolved;
  if (!(sampleRate > 0)) throw new Error(`${op}: sampleRate ${sampleRate} must be positive`);
  if (!(Number.isInteger(nFft) && nFft >= 2)) throw new Error(`${op}: nFft ${nFft} must be an integer of at least 2`);
  if (!(Number.isInteger(nMels) && nMels >= 1)) throw new Error(`${op}: nMels ${nMels} must be a positive integer`);
  if (!(fmin >= 0 && fmax > fmin)) throw new Error(`${op}: the band edges need 0 ≤ fmin < fmax, but fmin is ${fmin} and fmax ${fmax}`);
  if (!(norm === null || norm === 'slaney' || (typeof norm === 'number' && norm > 0))) {
    throw new Error(`${op}: norm ${String(norm)} is not 'slaney', a positive number (a p-norm) or null`);
  }
  return resolved;
}

/** librosa.filters.mel transposed: [nFft/2 + 1, nMels] float32 (see the file comment). */
export function melFilterbank(options: MelOptions = {}): T.NDArray {
  const { sampleRate, nFft, nMels, fmin, fmax, htk, norm } = resolveMel('melFilterbank', options);
  const bins = binCount(nFft);
  const frequencies = fftFrequencies(sampleRate, nFft);
  const edges = melFrequencies(nMels + 2, { fmin, fmax, htk });
  const bands = new Float32Array(nMels * bins); // [nMels, bins] while building
  for (let m = 0; m < nMels; m++) {
    const rise = edges[m + 1]! - edges[m]!;
    const fall = edges[m + 2]! - edges[m + 1]!;
    const slaney = 2 / (edges[m + 2]! - edges[m]!);
    for (let k = 0; k < bins; k++) {
      const lower = (frequencies[k]! - edges[m]!) / rise;
      const upper = (edges[m + 2]! - frequencies[k]!) / fall;
      const weight = Math.fround(Math.max(0, Math.min(lower, upper)));
      bands[m * bins + k] = norm === 'slaney' ? weight * slaney : weight;
    }
    if (typeof norm === 'number') {
      const row = bands.subarray(m * bins, (m + 1) * bins);
      let size = 0;
      for (const value of row) size = norm === Infinity ? Math.max(size, Math.abs(value)) : size + Math.abs(value) ** norm;
      if (norm !== Infinity) size **= 1 / norm;
      if (size > 0) for (let k = 0; k < bins; k++) row[k] = row[k]! / size;
    }
  }
  const out = new Float32Array(bins * nMels);
  for (let m = 0; m < nMels; m++) for (let k = 0; k < bins; k++) out[k * nMels + m] = bands[m * bins + k]!;
  return T.array(out, { shape: [bins, nMels], dtype: 'float32' });
}

export interface MelFromStftOptions extends MelOptions {
  /** Weights to use instead of the designed filterbank, e.g. a trainable copy of melFilterbank(options): [nFft/2 + 1, nMels]. */
  weights?: T.Variable;
}

/** The mel spectrogram of a power (or magnitude) spectrum [batch, nFrames, nFft/2 + 1] → [batch, nFrames, nMels]. */
export function melFromStft(spectrum: T.Variable, options: MelFromStftOptions = {}): T.Variable {
  const bins = spectrum.shape[spectrum.ndim - 1];
  const nFft = options.nFft ?? signalDefaults.nFft;
  if (bins !== binCount(nFft)) {
    throw graphError('melFromStft', `the spectrum has ${bins ?? 'an unknown number of'} bins on its last axis but nFft ${nFft} gives ${binCount(nFft)}; pass the nFft the spectrum was made with`);
  }
  if (options.weights) {
    const rows = options.weights.shape[0];
    if (options.weights.ndim !== 2 || rows !== bins) throw graphError('melFromStft', `weights ${options.weights.type} must be [${bins}, nMels] for a spectrum of ${bins} bins`);
    return T.matmul(spectrum, options.weights);
  }
  const weights = melFilterbank(options);
  return T.composite('melFromStft', () => T.matmul(spectrum, T.constant(spectrum.dtype === 'float64' ? weights.astype('float64') : weights, { name: 'mel_filterbank' })));
}

export interface MelSpectrogramOptions extends StftOptions, MelFromStftOptions {
  /** Exponent of the magnitude: 2 (default) for power, 1 for magnitude. */
  power?: number;
}

/** |STFT|^power of each clip [batch, samples], then the mel filterbank → [batch, nFrames, nMels] (librosa's melspectrogram). */
export function melSpectrogram(signal: T.Variable, options: MelSpectrogramOptions = {}): T.Variable {
  const power = options.power ?? 2;
  if (!(power > 0)) throw graphError('melSpectrogram', `power ${power} must be positive (2 for power, 1 for magnitude)`);
  return T.composite('melSpectrogram', () => {
    const spectrum = stftComplex(signal, options);
    const squared = spectrumMagnitude(spectrum, 'power');
    const scaled = power === 2 ? squared : power === 1 ? T.sqrt(squared) : T.pow(squared, power / 2);
    return melFromStft(scaled, options);
  });
}

/** The mel spectrogram of one clip on the host: fft.js and float64 sums, rounded to float32 [nFrames, nMels]. */
export function melSpectrogramHost(signal: HostSignal, options: Omit<MelSpectrogramOptions, 'method'> = {}): T.NDArray {
  const power = options.power ?? 2;
  if (!(power > 0)) throw new Error(`melSpectrogramHost: power ${power} must be positive (2 for power, 1 for magnitude)`);
  const { nFrames, nBins, real, imag } = stftHostComplex(signal, options);
  const weights = melFilterbank(options);
  const nMels = weights.shape[1]!;
  const out = new Float32Array(nFrames * nMels);
  const sums = new Float64Array(nMels);
  for (let f = 0; f < nFrames; f++) {
    sums.fill(0);
    for (let k = 0; k < nBins; k++) {
      const squared = real[f * nBins + k]! ** 2 + imag[f * nBins + k]! ** 2;
      const value = power === 2 ? squared : squared ** (power / 2);
      if (value === 0) continue;
      for (let m = 0; m < nMels; m++) sums[m] = sums[m]! + value * weights.data[k * nMels + m]!;
    }
    out.set(sums, f * nMels);
  }
  return T.array(out, { shape: [nFrames, nMels], dtype: 'float32' });
}
