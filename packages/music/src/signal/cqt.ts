// The constant-Q transform as a graph, and its CPU peer. Per level of the kernel
// (cqt-kernel.ts) the graph frames that level's signal — the input, or the input
// decimated d times inside the graph (decimate.ts) — with the level's hop (hop/2^d) so
// that every level's frame f is centred on the same instant, and applies the level's
// kernel; the levels' bins are then joined in frequency order. Two ways to apply it:
//   kernelDomain 'spectrum': the Brown–Puckette form, CQT = |K·X|, X the rectangular-
//     window complex STFT of the frames (the filters carry their own windows, as in
//     Brown–Puckette and librosa), K [nFft/2+1, bins] as real and imaginary constants;
//   kernelDomain 'time' (default): the same linear map with the DFT folded into the
//     kernel, |frames·M|, M = F·K [nFft, bins]: one small matmul per level instead of an
//     [nFft, nFft+2] DFT and then K. signal-cqt.test.ts checks the two agree.
// The magnitude is amplitude-calibrated (a sinusoid of amplitude A at a bin's centre
// gives about A/2 there), unlike librosa's default √length scaling.
// cqtHost computes the non-recursive CQT of one clip on the host: frames as long as the
// longest filter, a real FFT of each (PFFFT in WebAssembly SIMD, or fft.js), and the sparse
// kernel applied entry by entry. Shorter frames per octave would not give the same values:
// the sparsified kernel's time-domain form spreads over the whole frame (2–3% of its L1
// mass lies outside the filter's own support), so only the FFT itself is made cheaper.
// Left out: phase output (the complex CQT), and hops not divisible by 2^(levels−1).
//
// Shapes: signal [batch, samples] → [batch, nFrames, nBins]; host [samples] → [nFrames, nBins].

import * as T from '@theorbo/graph';
import { dftOfFrames, type ComplexSpectrum } from './dft.ts';
import { cqtKernel, type CqtKernelOptions, type CqtLevel, type DenseComplex, type SparseKernel } from './cqt-kernel.ts';
import { decimateByTwo } from './decimate.ts';
import { fftPlan, paddedSample, type HostFft, type HostSignal } from './fft-host.ts';
import { wasmFftUnavailable, wasmRealFft } from './fft-wasm.ts';
import { wasmCqtFrames } from './cqt-wasm.ts';
import { frameCount, framesAt, graphError, signalSamples, type FramingMethod, type PadMode } from './framing.ts';

export type KernelDomain = 'time' | 'spectrum';

export interface CqtOptions extends CqtKernelOptions {
  /** Centre frame f on sample f·hop (default true), as the STFT does. */
  center?: boolean;
  padMode?: PadMode;
  kernelDomain?: KernelDomain;
  method?: FramingMethod;
}

/** Longest frame the 'spectrum' domain accepts: its DFT matrix is [nFft, nFft + 2]. */
const maxSpectralFrame = 8192;

type FloatDType = 'float32' | 'float64';

const store = (dtype: FloatDType, size: number): Float32Array | Float64Array => (dtype === 'float32' ? new Float32Array(size) : new Float64Array(size));

/** [real | imag] of a dense complex matrix side by side: [rows, 2·columns]. */
function sideBySide(matrix: DenseComplex, dtype: FloatDType): T.NDArray {
  const { rows, columns, real, imag } = matrix;
  const data = store(dtype, rows * 2 * columns);
  for (let r = 0; r < rows; r++) {
    data.set(real.subarray(r * columns, (r + 1) * columns), r * 2 * columns);
    data.set(imag.subarray(r * columns, (r + 1) * columns), r * 2 * columns + columns);
  }
  return T.array(data, { shape: [rows, 2 * columns], dtype });
}

/** The real form of complex multiplication by K: [[Kr, Ki], [−Ki, Kr]], [2·rows, 2·columns]. */
function complexBlock(matrix: DenseComplex, dtype: FloatDType): T.NDArray {
  const { rows, columns, real, imag } = matrix;
  const width = 2 * columns;
  const data = store(dtype, 2 * rows * width);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const kr = real[r * columns + c]!;
      const ki = imag[r * columns + c]!;
      data[r * width + c] = kr;
      data[r * width + columns + c] = ki;
      data[(rows + r) * width + c] = -ki;
      data[(rows + r) * width + columns + c] = kr;
    }
  }
  return T.array(data, { shape: [2 * rows, width], dtype });
}

/** |first half + i·second half| of the last axis of a [… , 2·n] product. */
function halvesMagnitude(product: T.Variable, n: number): T.Variable {
  const real = T.get(product, '...', T.slice(0, n));
  const imag = T.get(product, '...', T.slice(n, 2 * n));
  return T.sqrt(T.add(T.mul(real, real), T.mul(imag, imag)));
}

/**
 * One level's CQT magnitude from a complex spectrum [batch, nFrames, nFft/2 + 1] of that
 * level's rectangular-window frames: |K·X| → [batch, nFrames, level.binCount].
 */
export function cqtFromSpectrum(spectrum: ComplexSpectrum, level: CqtLevel): T.Variable {
  const kernel = level.spectral();
  if (spectrum.real.shape[spectrum.real.ndim - 1] !== kernel.rows) {
    throw graphError('cqtFromSpectrum', `the spectrum has ${spectrum.real.shape[spectrum.real.ndim - 1]} bins but the level's kernel expects ${kernel.rows} (nFft ${level.nFft})`);
  }
  return T.composite('cqtFromSpectrum', () => {
    const stacked = T.concat([spectrum.real, spectrum.imag], spectrum.real.ndim - 1);
    const block = T.constant(complexBlock(kernel, spectrum.real.dtype as FloatDType), { name: `cqt_spectral_kernel_${level.firstBin}` });
    return halvesMagnitude(T.matmul(stacked, block), level.binCount);
  });
}

/** The CQT magnitude of a batch of signals: [batch, samples] → [batch, nFrames, nBins] (see the file comment). */
export function cqt(signal: T.Variable, options: CqtOptions = {}): T.Variable {
  const samples = signalSamples('cqt', signal);
  const kernel = cqtKernel(options);
  const { hop, nFft } = kernel.options;
  const center = options.center ?? true;
  const domain = options.kernelDomain ?? 'time';
  if (domain !== 'time' && domain !== 'spectrum') throw graphError('cqt', `kernelDomain '${String(domain)}' is not one of 'time', 'spectrum'`);
  const count = frameCount(samples, { nFft, hop, center });
  if (count < 1) throw graphError('cqt', `a signal of ${samples} samples holds no frame of ${nFft} samples; pass a longer signal or center: true`);
  const firstCentre = center ? 0 : nFft / 2;
  for (const level of kernel.levels) {
    if (hop % level.decimation !== 0 || firstCentre % level.decimation !== 0) {
      throw graphError('cqt', `the octave-recursive CQT computes bins ${level.firstBin}–${level.firstBin + level.binCount - 1} at ${level.sampleRate} Hz, which needs the hop (${hop})${center ? '' : ' and nFft/2'} divisible by ${level.decimation}; choose such a hop or recursive: false`);
    }
    if (domain === 'spectrum' && level.nFft > maxSpectralFrame) {
      throw graphError('cqt', `kernelDomain 'spectrum' with ${level.nFft}-sample frames needs a ${level.nFft}×${level.nFft + 2} DFT matrix; use kernelDomain 'time' or the recursive CQT`);
    }
  }
  const dtype = signal.dtype as FloatDType;
  return T.composite('cqt', () => {
    const signals = [signal];
    const parts = kernel.levels.map((level) => {
      const depth = Math.round(Math.log2(level.decimation));
      while (signals.length <= depth) signals.push(decimateByTwo(signals[signals.length - 1]!));
      const frames = framesAt('cqt', signals[depth]!, {
        firstStart: firstCentre / level.decimation - level.nFft / 2,
        hop: hop / level.decimation, count, nFft: level.nFft, padMode: options.padMode ?? 'constant',
      }, options.method);
      const magnitude = domain === 'spectrum'
        ? cqtFromSpectrum(dftOfFrames(frames, 'rectangular'), level)
        : halvesMagnitude(T.matmul(frames, T.constant(sideBySide(level.temporal(), dtype), { name: `cqt_kernel_${level.firstBin}` })), level.binCount);
      return { firstBin: level.firstBin, magnitude };
    });
    parts.sort((a, b) => a.firstBin - b.firstBin);
    return parts.length === 1 ? parts[0]!.magnitude : T.concat(parts.map((part) => part.magnitude), 2);
  });
}

/**
 * The sparse kernel as one run of consecutive FFT bins per CQT bin: bin b reads spectrum
 * bins first[b] … first[b] + (width[b+1] − width[b]) − 1 with the complex weights
 * weights[2·(width[b] + j) …] ([re, im] pairs), zeros where sparsification dropped an entry
 * inside the run. Adding x·0 leaves a float sum as it was, so each bin's sum is the same as
 * over the nonzero entries alone, in the same (ascending) order, and the loop reads memory
 * in order instead of through two index arrays. `top` is the highest bin any run reads.
 */
interface KernelRuns { first: Int32Array; width: Int32Array; weights: Float64Array; top: number }

const runsCache = new WeakMap<SparseKernel, KernelRuns>();

function kernelRuns(sparse: SparseKernel, nBins: number): KernelRuns {
  const cached = runsCache.get(sparse);
  if (cached) return cached;
  const runs = buildKernelRuns(sparse, nBins);
  runsCache.set(sparse, runs);
  return runs;
}

function buildKernelRuns(sparse: SparseKernel, nBins: number): KernelRuns {
  const { fftBin, filter, real, imag } = sparse;
  const first = new Int32Array(nBins);
  const last = new Int32Array(nBins).fill(-1);
  for (let i = 0; i < filter.length; i++) {
    const b = filter[i]!;
    if ((i > 0 && b < filter[i - 1]!) || (i > 0 && b === filter[i - 1] && fftBin[i]! <= fftBin[i - 1]!)) throw new Error('cqtHost: the sparse kernel is not ordered by filter and then by FFT bin');
    if (last[b] === -1) first[b] = fftBin[i]!;
    last[b] = fftBin[i]!;
  }
  // width is cumulative: bin b's run is width[b] … width[b+1] − 1 in `weights`.
  const width = new Int32Array(nBins + 1);
  for (let b = 0; b < nBins; b++) width[b + 1] = width[b]! + (last[b]! - first[b]! + 1);
  const weights = new Float64Array(2 * width[nBins]!);
  let top = 0;
  for (let i = 0; i < filter.length; i++) {
    const b = filter[i]!;
    const at = width[b]! + fftBin[i]! - first[b]!;
    weights[2 * at] = real[i]!;
    weights[2 * at + 1] = imag[i]!;
    top = Math.max(top, fftBin[i]!);
  }
  return { first, width, weights, top };
}

/** Each bin's magnitude |Σ_j X[first + j]·K[j]| over its run (kernelRuns), into out[at …]. */
function applyRuns(runs: KernelRuns, spectrum: Float64Array, out: Float32Array, at: number): void {
  const { first, width, weights } = runs;
  const nBins = first.length;
  for (let b = 0; b < nBins; b++) {
    let sumReal = 0;
    let sumImag = 0;
    const x0 = 2 * first[b]!;
    const w0 = 2 * width[b]!;
    const length = width[b + 1]! - width[b]!;
    for (let j = 0; j < length; j++) {
      const xr = spectrum[x0 + 2 * j]!;
      const xi = spectrum[x0 + 2 * j + 1]!;
      const kr = weights[w0 + 2 * j]!;
      const ki = weights[w0 + 2 * j + 1]!;
      sumReal = sumReal + xr * kr - xi * ki;
      sumImag = sumImag + xr * ki + xi * kr;
    }
    out[at + b] = Math.hypot(sumReal, sumImag);
  }
}

export type { HostFft } from './fft-host.ts';

export interface CqtHostOptions extends Omit<CqtOptions, 'kernelDomain' | 'method' | 'recursive'> {
  onProgress?: (frames: number, total: number) => void;
  fft?: HostFft;
}

/**
 * The CQT magnitude of one clip on the host: one level with frames as long as the
 * longest filter (recursive: false), a real FFT of each frame, and the sparse kernel.
 * Float32 [nFrames, nBins]. The FFT is PFFFT in WebAssembly SIMD where it loads (fft-wasm.ts;
 * float32, about 6× faster than fft.js for 16384 samples), else fft.js in float64; the
 * two agree to about 1e-6 of the largest magnitude (signal-cqt.test.ts). The kernel's sums
 * are float64 either way.
 */
export function cqtHost(signal: HostSignal, options: CqtHostOptions = {}): T.NDArray {
  const kernel = cqtKernel({ ...options, recursive: false });
  const level = kernel.levels[0]!;
  const { hop, nFft, nBins } = kernel.options;
  const center = options.center ?? true;
  const padMode = options.padMode ?? 'constant';
  const count = frameCount(signal.length, { nFft, hop, center });
  const frameLength = level.nFft;
  const choice = options.fft ?? 'auto';
  if (choice !== 'auto' && choice !== 'wasm' && choice !== 'fftjs') throw new Error(`cqtHost: fft '${String(choice)}' is not one of 'auto', 'wasm', 'fftjs'`);
  // PFFFT's real transform needs a multiple of 32 samples: 'auto' keeps fft.js for shorter frames.
  const wasm = choice === 'fftjs' || (choice === 'auto' && frameLength % 32 !== 0) ? undefined : wasmRealFft('cqtHost', frameLength);
  if (choice === 'wasm' && !wasm) throw new Error(`cqtHost: fft 'wasm' cannot run here: ${wasmFftUnavailable()}; pass fft: 'fftjs' or 'auto'`);
  const out = new Float32Array(count * nBins);
  const runs = kernelRuns(level.sparse, nBins);
  const firstStart = (center ? 0 : nFft / 2) - frameLength / 2;
  if (count > 0 && wasm) {
    wasmCqtFrames(signal, { frameLength, hop, firstStart, count, padMode }, wasm, { ...runs, bins: runs.top + 1 }, out, options.onProgress);
  } else {
    // Bins 0 … top of each frame's spectrum as [re, im] pairs, in float64.
    const spectrum = new Float64Array(2 * (runs.top + 1));
    const plan = fftPlan('cqtHost', frameLength);
    const frame = new Float64Array(frameLength);
    const complex = plan.createComplexArray() as number[];
    for (let f = 0; f < count; f++) {
      if (options.onProgress && f % 512 === 0) options.onProgress(f, count);
      const start = firstStart + f * hop;
      // Frames inside the signal are one typed-array copy; only the edges need padding.
      if (ArrayBuffer.isView(signal) && start >= 0 && start + frameLength <= signal.length) frame.set(signal.subarray(start, start + frameLength));
      else for (let n = 0; n < frameLength; n++) frame[n] = paddedSample(signal, start + n, padMode);
      plan.realTransform(complex, frame);
      for (let i = 0; i < spectrum.length; i++) spectrum[i] = complex[i]!;
      applyRuns(runs, spectrum, out, f * nBins);
    }
  }
  options.onProgress?.(count, count);
  return T.array(out, { shape: [count, nBins], dtype: 'float32' });
}
