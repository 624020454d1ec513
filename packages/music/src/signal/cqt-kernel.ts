// The Brown–Puckette constant-Q spectral kernel, built on the host in float64.
// Bin b has centre f_b = fmin·2^(b/B)·2^(tuning/1200) and a Hann-windowed complex
// exponential filter h_b[t] = w(t)·e^{2πi f_b t/sr} / Σw of length Q·sr/f_b with
// Q = filterScale/(2^(1/B) − 1), centred on the frame centre and L1-normalized, so a
// sinusoid of amplitude A at f_b gives |CQT| ≈ A/2 in bin b at every level. Its spectral
// kernel is K[k, b] = conj(H_b[k])/N, H_b = FFT_N(h_b), kept for k = 0 … N/2 (as librosa
// does), so that Σ_k X[k]·K[k, b] = Σ_n x[n]·conj(h_b[n]) by Parseval. Each filter's
// kernel column is then sparsified: the smallest entries whose magnitudes add up to less
// than `sparsity` (default 1%) of the column's L1 norm are dropped (librosa's
// sparsify_rows); the kernel is built as a sparse COO list and only made dense on demand.
//
// Long low filters: a filter longer than the frame (nFft) cannot be applied to it. With
// `recursive` (the default) bin b goes to the first level d whose rate sr/2^d makes its
// length Q·sr/(f_b·2^d) fit in nFft; the graph computes level d from the signal
// decimated d times (decimate.ts), with hop/2^d. At the defaults (84 bins from C1, 12
// per octave, nFft 2048) that is 4 levels: bins 30–83 at 22050 Hz, 18–29 at 11025, 6–17
// at 5512.5 and 0–5 at 2756.25. With `recursive: false` there is one level whose frame
// is the next power of two above the longest filter (16384 at the defaults).
//
// `temporal` is the kernel composed with the half-spectrum DFT: M[n, b] = Σ_k
// e^{−2πink/N}·K[k, b], so that frames·M equals the spectral kernel applied to the
// rectangular-window STFT — the same linear map (y = B(Ax) = (BA)x), with an [N, bins]
// matrix instead of [N, N/2+1] and [N/2+1, bins].
// Left out: librosa's √length scaling, variable-Q (gamma), and any window but the four
// cosine-sum ones.

import FFT from 'fft.js';
import { centredWindow, type WindowName } from './windows.ts';

export const cqtDefaults = {
  sampleRate: 22050,
  hop: 512,
  nFft: 2048,
  /** C1. */
  fmin: 32.70319566257483,
  nBins: 84,
  binsPerOctave: 12,
  filterScale: 1,
  window: 'hann' as WindowName,
  sparsity: 0.01,
  tuningCents: 0,
  recursive: true,
};

export type CqtKernelOptions = Partial<typeof cqtDefaults>;
export type ResolvedCqtKernelOptions = typeof cqtDefaults;

/** Q = filterScale / (2^(1/B) − 1). */
export const cqtQ = (binsPerOctave: number, filterScale = 1): number => filterScale / (2 ** (1 / binsPerOctave) - 1);

export function cqtFrequencies(options: Pick<CqtKernelOptions, 'fmin' | 'nBins' | 'binsPerOctave' | 'tuningCents'> = {}): Float64Array {
  const { fmin, nBins, binsPerOctave, tuningCents } = { ...cqtDefaults, ...options };
  const base = fmin * 2 ** (tuningCents / 1200);
  return Float64Array.from({ length: nBins }, (_, b) => base * 2 ** (b / binsPerOctave));
}

/** Nonzero entries of a spectral kernel [nFft/2 + 1, binCount], in filter order. */
export interface SparseKernel {
  fftBin: Int32Array;
  filter: Int32Array;
  real: Float64Array;
  imag: Float64Array;
}

export interface DenseComplex {
  rows: number;
  columns: number;
  /** [rows, columns] row-major. */
  real: Float64Array;
  imag: Float64Array;
}

/** The bins one sample rate serves: CQT bins firstBin … firstBin + binCount − 1. */
export interface CqtLevel {
  /** 2^d: the level's signal is the input decimated d times. */
  decimation: number;
  sampleRate: number;
  /** The frame length at this level's rate. */
  nFft: number;
  firstBin: number;
  binCount: number;
  sparse: SparseKernel;
  /** K as a dense [nFft/2 + 1, binCount] matrix. */
  spectral(): DenseComplex;
  /** M = F_half·K as a dense [nFft, binCount] matrix (see the file comment). */
  temporal(): DenseComplex;
}

export interface CqtKernel {
  options: ResolvedCqtKernelOptions;
  q: number;
  frequencies: Float64Array;
  /** Filter lengths Q·sr/f_b in samples at the full rate. */
  lengths: Float64Array;
  /** Highest rate first. */
  levels: CqtLevel[];
  nonzeros: number;
  /** Entries of the dense kernels, Σ (nFft/2 + 1)·binCount over levels. */
  denseEntries: number;
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
const nextPowerOfTwo = (n: number): number => 2 ** Math.ceil(Math.log2(n));
/** The samples of a non-recursive kernel's frame: nFft, or the power of two that holds the longest filter (`longest` samples) if that is more. */
export const cqtFrameLength = (nFft: number, longest: number): number => Math.max(nFft, nextPowerOfTwo(Math.ceil(longest)));
/** Where the decimator's passband ends, as a fraction of its input rate (decimate.ts). */
const decimatorPassband = 0.2;

export function resolveCqtOptions(options: CqtKernelOptions): ResolvedCqtKernelOptions {
  // Only the kernel's own options: callers pass their wider option objects (cqt's center,
  // cqtHost's fft …), which would otherwise enter the cache key and rebuild the same kernel.
  const resolved = { ...cqtDefaults, ...Object.fromEntries(Object.entries(options).filter(([key, value]) => value !== undefined && key in cqtDefaults)) } as ResolvedCqtKernelOptions;
  const { sampleRate, hop, nFft, fmin, nBins, binsPerOctave, filterScale, sparsity } = resolved;
  const positive = { sampleRate, fmin, filterScale };
  for (const [name, value] of Object.entries(positive)) if (!(value > 0)) throw new Error(`cqtKernel: ${name} ${value} must be positive`);
  for (const [name, value] of Object.entries({ hop, nBins, binsPerOctave })) if (!(Number.isInteger(value) && value > 0)) throw new Error(`cqtKernel: ${name} ${value} must be a positive integer`);
  if (!isPowerOfTwo(nFft)) throw new Error(`cqtKernel: nFft ${nFft} must be a power of two (the kernel is built with fft.js)`);
  if (!(sparsity >= 0 && sparsity < 1)) throw new Error(`cqtKernel: sparsity ${sparsity} must be in [0, 1): it is the fraction of each filter's L1 mass that may be dropped`);
  return resolved;
}

/** The level index d of each bin (see the file comment). */
function levelOfBins(options: ResolvedCqtKernelOptions, lengths: Float64Array): number[] {
  if (!options.recursive) return Array.from(lengths, () => 0);
  // A hair of slack so that a length of exactly nFft·2^d, up to rounding, stays at d.
  return Array.from(lengths, (length) => Math.max(0, Math.ceil(Math.log2(length / options.nFft) - 1e-9)));
}

interface KernelScratch { data: Float64Array; spectrum: Float64Array; real: Float64Array; imag: Float64Array; magnitude: Float64Array }

const kernelScratch = (n: number): KernelScratch => ({
  data: new Float64Array(2 * n), spectrum: new Float64Array(2 * n),
  real: new Float64Array(n / 2 + 1), imag: new Float64Array(n / 2 + 1), magnitude: new Float64Array(n / 2 + 1),
});

/** One filter's spectral kernel column K[k] = conj(H[k])/N, k = 0 … N/2, sparsified. */
function kernelColumn(plan: FFT, frequency: number, width: number, sampleRate: number, windowName: WindowName, sparsity: number, scratch: KernelScratch): { bins: number[]; real: number[]; imag: number[] } {
  const n = plan.size;
  // Float64Arrays reused from column to column: fft.js's createComplexArray (a plain array of
  // 2N numbers) for each column took half of the kernel's build. The same arithmetic either way.
  const { data, spectrum, real, imag, magnitude } = scratch;
  data.fill(0);
  let norm = 0;
  for (let t = Math.ceil(-width / 2); t < width / 2; t++) {
    const w = centredWindow(windowName, width, t);
    const angle = (2 * Math.PI * frequency * t) / sampleRate;
    data[2 * (n / 2 + t)] = w * Math.cos(angle);
    data[2 * (n / 2 + t) + 1] = w * Math.sin(angle);
    norm += Math.abs(w);
  }
  plan.transform(spectrum, data);
  const half = n / 2 + 1;
  for (let k = 0; k < half; k++) {
    real[k] = spectrum[2 * k]! / (n * norm);
    imag[k] = -spectrum[2 * k + 1]! / (n * norm);
    magnitude[k] = Math.hypot(real[k]!, imag[k]!);
  }
  // librosa's sparsify_rows: keep entries at least as large as the one where the
  // ascending cumulative mass first reaches `sparsity` of the total.
  const sorted = magnitude.slice().sort();
  const total = sorted.reduce((a, b) => a + b, 0);
  let threshold = 0;
  let cumulative = 0;
  for (const value of sorted) {
    cumulative += value;
    if (cumulative >= sparsity * total) {
      threshold = value;
      break;
    }
  }
  const out = { bins: [] as number[], real: [] as number[], imag: [] as number[] };
  for (let k = 0; k < half; k++) {
    if (magnitude[k]! < threshold || magnitude[k] === 0) continue;
    out.bins.push(k);
    out.real.push(real[k]!);
    out.imag.push(imag[k]!);
  }
  return out;
}

function makeLevel(plan: FFT, decimation: number, sampleRate: number, firstBin: number, columns: ReturnType<typeof kernelColumn>[]): CqtLevel {
  const nFft = plan.size;
  const half = nFft / 2 + 1;
  const count = columns.reduce((n, column) => n + column.bins.length, 0);
  const sparse: SparseKernel = { fftBin: new Int32Array(count), filter: new Int32Array(count), real: new Float64Array(count), imag: new Float64Array(count) };
  let at = 0;
  columns.forEach((column, filter) => {
    column.bins.forEach((bin, i) => {
      sparse.fftBin[at] = bin;
      sparse.filter[at] = filter;
      sparse.real[at] = column.real[i]!;
      sparse.imag[at] = column.imag[i]!;
      at++;
    });
  });
  const binCount = columns.length;
  let spectral: DenseComplex | undefined;
  let temporal: DenseComplex | undefined;
  return {
    decimation, sampleRate, nFft, firstBin, binCount, sparse,
    spectral: () => {
      if (spectral) return spectral;
      spectral = { rows: half, columns: binCount, real: new Float64Array(half * binCount), imag: new Float64Array(half * binCount) };
      for (let i = 0; i < count; i++) {
        spectral.real[sparse.fftBin[i]! * binCount + sparse.filter[i]!] = sparse.real[i]!;
        spectral.imag[sparse.fftBin[i]! * binCount + sparse.filter[i]!] = sparse.imag[i]!;
      }
      return spectral;
    },
    temporal: () => {
      if (temporal) return temporal;
      temporal = { rows: nFft, columns: binCount, real: new Float64Array(nFft * binCount), imag: new Float64Array(nFft * binCount) };
      const data = plan.createComplexArray() as number[];
      const out = plan.createComplexArray() as number[];
      columns.forEach((column, filter) => {
        data.fill(0);
        column.bins.forEach((bin, i) => {
          data[2 * bin] = column.real[i]!;
          data[2 * bin + 1] = column.imag[i]!;
        });
        plan.transform(out, data);
        for (let n = 0; n < nFft; n++) {
          temporal!.real[n * binCount + filter] = out[2 * n]!;
          temporal!.imag[n * binCount + filter] = out[2 * n + 1]!;
        }
      });
      return temporal;
    },
  };
}

const kernelCache = new Map<string, CqtKernel>();

/** The CQT kernel for `options` (see the file comment); cached per resolved options. */
export function cqtKernel(options: CqtKernelOptions = {}): CqtKernel {
  const resolved = resolveCqtOptions(options);
  const key = JSON.stringify(resolved);
  const cached = kernelCache.get(key);
  if (cached) return cached;
  const { sampleRate, nBins, binsPerOctave, filterScale, window: windowName, sparsity } = resolved;
  const q = cqtQ(binsPerOctave, filterScale);
  const frequencies = cqtFrequencies(resolved);
  const lengths = frequencies.map((f) => (q * sampleRate) / f);
  // The top filter's main lobe (Hann: ±1.5 bandwidth units, librosa's figure) must stay below Nyquist.
  const cutoff = frequencies[nBins - 1]! * (1 + 0.75 / q);
  if (cutoff > sampleRate / 2) throw new Error(`cqtKernel: the top bin at ${frequencies[nBins - 1]!.toFixed(1)} Hz reaches ${cutoff.toFixed(1)} Hz, above the Nyquist frequency ${sampleRate / 2} Hz; use fewer bins or a lower fmin`);
  const levelOf = levelOfBins(resolved, lengths);
  const depths = [...new Set(levelOf)].sort((a, b) => a - b);
  const frameLength = resolved.recursive ? resolved.nFft : cqtFrameLength(resolved.nFft, lengths[0]!);
  const plan = new FFT(frameLength);
  const scratch = kernelScratch(frameLength);
  const levels = depths.map((depth) => {
    const decimation = 2 ** depth;
    const rate = sampleRate / decimation;
    const bins = levelOf.flatMap((d, b) => (d === depth ? [b] : []));
    const top = frequencies[bins[bins.length - 1]!]!;
    if (depth > 0 && top > decimatorPassband * (2 * rate)) {
      throw new Error(`cqtKernel: bins up to ${top.toFixed(1)} Hz would be computed at ${rate} Hz, past the decimator's passband (${(decimatorPassband * 2 * rate).toFixed(1)} Hz); raise nFft so they fit at a higher rate`);
    }
    const columns = bins.map((b) => kernelColumn(plan, frequencies[b]!, lengths[b]! / decimation, rate, windowName, sparsity, scratch));
    return makeLevel(plan, decimation, rate, bins[0]!, columns);
  });
  const kernel: CqtKernel = {
    options: resolved, q, frequencies, lengths, levels,
    nonzeros: levels.reduce((n, level) => n + level.sparse.real.length, 0),
    denseEntries: levels.reduce((n, level) => n + (level.nFft / 2 + 1) * level.binCount, 0),
  };
  if (kernelCache.size > 16) kernelCache.delete(kernelCache.keys().next().value!);
  kernelCache.set(key, kernel);
  return kernel;
}
