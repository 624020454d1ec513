// Chroma as the talk's "CQT · Weights": an octave-folding matrix [nBins, 12] maps CQT
// magnitudes to the 12 pitch classes, C, C#, …, B (index 0 = C), and each frame is then
// normalized. Bin b's pitch is midi(fmin) + 12b/B semitones; it goes to the pitch class
// of its nearest semitone, weighted by `spread`:
//   'boxcar' (default): weight 1 for every bin, i.e. with 36 bins per octave each chroma
//     bin sums the bin on the semitone and its neighbours ±1/3 semitone — librosa's
//     cq_to_chroma, and robust to detuning up to half a semitone;
//   'centre': only the bin on the semitone (nearest to it) counts;
//   'gaussian': weight exp(−d²/2σ²) for a bin d semitones from its semitone (σ = 1/3).
// With 12 bins per octave and fmin on a semitone all three are the same 0/1 matrix.
// Chroma from the STFT uses librosa.filters.chroma's Gaussian bumps (each FFT bin spread
// over the pitch classes near its log-frequency, bump width the bin's spacing, columns
// L2-normalized, then a Gaussian over octaves centred on octave 5 with width 2), applied
// to the power spectrum as chroma_stft does. Normalization per frame: 'max' (librosa's
// default), 'l1', 'l2' or 'none'; frames whose norm is below 1e-10 stay near zero.
// Left out: other numbers of chroma bins than 12, and CENS-style smoothing.
//
// Shapes: cqt [batch, nFrames, nBins] · [nBins, 12] → [batch, nFrames, 12].

import * as T from '@theorbo/graph';
import { cqtDefaults } from './cqt-kernel.ts';
import { binCount } from './dft.ts';
import { graphError, signalDefaults } from './framing.ts';

export const chromaBins = 12;
export type ChromaSpread = 'boxcar' | 'centre' | 'gaussian';
export type ChromaNorm = 'max' | 'l1' | 'l2' | 'none';

export interface ChromaMatrixOptions {
  fmin?: number;
  nBins?: number;
  binsPerOctave?: number;
  spread?: ChromaSpread;
  /** Width of the 'gaussian' spread in semitones (default 1/3). */
  sigma?: number;
}

const midiOf = (frequency: number): number => 69 + 12 * Math.log2(frequency / 440);
const pitchClassOf = (semitone: number): number => ((Math.round(semitone) % 12) + 12) % 12;

/** The octave-folding weights [nBins, 12] as float32 (see the file comment). */
export function chromaMatrix(options: ChromaMatrixOptions = {}): T.NDArray {
  const fmin = options.fmin ?? cqtDefaults.fmin;
  const nBins = options.nBins ?? cqtDefaults.nBins;
  const binsPerOctave = options.binsPerOctave ?? cqtDefaults.binsPerOctave;
  const spread = options.spread ?? 'boxcar';
  const sigma = options.sigma ?? 1 / 3;
  if (!(Number.isInteger(nBins) && nBins > 0 && Number.isInteger(binsPerOctave) && binsPerOctave > 0)) {
    throw new Error(`chromaMatrix: nBins ${nBins} and binsPerOctave ${binsPerOctave} must be positive integers`);
  }
  if (!['boxcar', 'centre', 'gaussian'].includes(spread)) throw new Error(`chromaMatrix: spread '${String(spread)}' is not one of 'boxcar', 'centre', 'gaussian'`);
  if (!(sigma > 0)) throw new Error(`chromaMatrix: sigma ${sigma} must be positive`);
  const start = midiOf(fmin);
  const binWidth = 12 / binsPerOctave;
  const out = new Float32Array(nBins * chromaBins);
  for (let b = 0; b < nBins; b++) {
    const semitone = start + b * binWidth;
    const offset = semitone - Math.round(semitone);
    // 'centre': the one bin nearest each semitone (ties go to the lower bin).
    const weight = spread === 'boxcar' ? 1
      : spread === 'centre' ? (offset > -binWidth / 2 && offset <= binWidth / 2 + 1e-9 ? 1 : 0)
        : Math.exp(-(offset * offset) / (2 * sigma * sigma));
    out[b * chromaBins + pitchClassOf(semitone)] = weight;
  }
  return T.array(out, { shape: [nBins, chromaBins], dtype: 'float32' });
}

export interface StftChromaOptions {
  sampleRate?: number;
  nFft?: number;
  /** Tuning offset in cents (librosa's `tuning` is this / 100). */
  tuningCents?: number;
  /** Centre of the octave weighting, in octaves above A0 = 27.5 Hz (default 5). */
  centreOctave?: number;
  /** Width of the octave weighting in octaves (default 2; null for none). */
  octaveWidth?: number | null;
}

/** librosa.filters.chroma transposed: [nFft/2 + 1, 12] float32, pitch class 0 = C. */
export function stftChromaMatrix(options: StftChromaOptions = {}): T.NDArray {
  const sampleRate = options.sampleRate ?? signalDefaults.sampleRate;
  const nFft = options.nFft ?? signalDefaults.nFft;
  const tuning = (options.tuningCents ?? 0) / 100;
  const centreOctave = options.centreOctave ?? 5;
  const octaveWidth = options.octaveWidth === undefined ? 2 : options.octaveWidth;
  if (!(Number.isInteger(nFft) && nFft >= 4)) throw new Error(`stftChromaMatrix: nFft ${nFft} must be an integer of at least 4`);
  const n = chromaBins;
  const a0 = (440 * 2 ** (tuning / n)) / 16;
  // Fractional chroma bins above A0 of FFT bins 1 … nFft − 1; bin 0 is put 1.5 octaves below bin 1.
  const position = new Float64Array(nFft);
  for (let k = 1; k < nFft; k++) position[k] = n * Math.log2((k * sampleRate) / nFft / a0);
  position[0] = position[1]! - 1.5 * n;
  const kept = binCount(nFft);
  const weights = new Float64Array(kept * n);
  for (let k = 0; k < kept; k++) {
    const width = Math.max(position[k + 1]! - position[k]!, 1);
    let norm = 0;
    for (let c = 0; c < n; c++) {
      const distance = ((((position[k]! - c + n / 2 + 10 * n) % n) + n) % n) - n / 2;
      const value = Math.exp(-0.5 * ((2 * distance) / width) ** 2);
      weights[k * n + c] = value;
      norm += value * value;
    }
    const octave = octaveWidth === null ? 1 : Math.exp(-0.5 * ((position[k]! / n - centreOctave) / octaveWidth) ** 2);
    for (let c = 0; c < n; c++) weights[k * n + c] = (weights[k * n + c]! / Math.sqrt(norm)) * octave;
  }
  // Rows so far count from A; pitch class c (from C) is A-relative class c + 3.
  const out = new Float32Array(kept * n);
  for (let k = 0; k < kept; k++) for (let c = 0; c < n; c++) out[k * n + c] = weights[k * n + ((c + 3) % n)]!;
  return T.array(out, { shape: [kept, n], dtype: 'float32' });
}

/** Each vector along `axis` (default the last) divided by its max, L1 or L2 norm (floored at 1e-10). */
export function normalizeFrames(x: T.Variable, norm: ChromaNorm = 'max', axis = -1): T.Variable {
  if (norm === 'none') return x;
  const floor = 1e-10;
  return T.composite('normalizeFrames', () => {
    const size = norm === 'max' ? T.max(T.abs(x), axis, true)
      : norm === 'l1' ? T.sum(T.abs(x), axis, true)
        : norm === 'l2' ? T.sqrt(T.sum(T.mul(x, x), axis, true))
          : undefined;
    if (!size) throw graphError('normalizeFrames', `norm '${String(norm)}' is not one of 'max', 'l1', 'l2', 'none'`);
    return T.div(x, T.maximum(size, floor));
  });
}

function foldWith(op: string, spectrum: T.Variable, weights: T.NDArray, norm: ChromaNorm): T.Variable {
  const bins = spectrum.shape[spectrum.ndim - 1];
  if (bins !== weights.shape[0]) throw graphError(op, `the input has ${bins ?? 'an unknown number of'} bins on its last axis but the chroma weights expect ${weights.shape[0]}; pass the options the spectrum was made with`);
  return T.composite(op, () => {
    const matrix = T.constant(spectrum.dtype === 'float64' ? weights.astype('float64') : weights, { name: `${op}_weights` });
    return normalizeFrames(T.matmul(spectrum, matrix), norm);
  });
}

/** Chroma from CQT magnitudes [batch, nFrames, nBins] → [batch, nFrames, 12]; nBins is read from the input. */
export function chroma(cqtMagnitude: T.Variable, options: Omit<ChromaMatrixOptions, 'nBins'> & { norm?: ChromaNorm } = {}): T.Variable {
  const nBins = cqtMagnitude.shape[cqtMagnitude.ndim - 1];
  if (nBins === null || nBins === undefined) throw graphError('chroma', `needs the number of CQT bins of ${cqtMagnitude.type} statically`);
  return foldWith('chroma', cqtMagnitude, chromaMatrix({ ...options, nBins }), options.norm ?? 'max');
}

/** Chroma from an STFT power spectrum [batch, nFrames, nFft/2 + 1] → [batch, nFrames, 12]. */
export function chromaFromStft(power: T.Variable, options: StftChromaOptions & { norm?: ChromaNorm } = {}): T.Variable {
  return foldWith('chromaFromStft', power, stftChromaMatrix(options), options.norm ?? 'max');
}
