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
// longest filter, fft.js, and the sparse kernel applied entry by entry.
// Left out: phase output (the complex CQT), and hops not divisible by 2^(levels−1).
//
// Shapes: signal [batch, samples] → [batch, nFrames, nBins]; host [samples] → [nFrames, nBins].

import * as T from '@theorbo/graph';
import { dftOfFrames, type ComplexSpectrum } from './dft.ts';
import { cqtKernel, type CqtKernelOptions, type CqtLevel, type DenseComplex } from './cqt-kernel.ts';
import { decimateByTwo } from './decimate.ts';
import { fftPlan, paddedSample, type HostSignal } from './fft-host.ts';
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
 * The CQT magnitude of one clip on the host: one level with frames as long as the
 * longest filter (recursive: false), fft.js, and the sparse kernel. Float32 [nFrames, nBins].
 */
export function cqtHost(signal: HostSignal, options: Omit<CqtOptions, 'kernelDomain' | 'method' | 'recursive'> & { onProgress?: (frames: number, total: number) => void } = {}): T.NDArray {
  const kernel = cqtKernel({ ...options, recursive: false });
  const level = kernel.levels[0]!;
  const { hop, nFft, nBins } = kernel.options;
  const center = options.center ?? true;
  const padMode = options.padMode ?? 'constant';
  const count = frameCount(signal.length, { nFft, hop, center });
  const frameLength = level.nFft;
  const plan = fftPlan('cqtHost', frameLength);
  const frame = new Float64Array(frameLength);
  const spectrum = plan.createComplexArray() as number[];
  const out = new Float32Array(count * nBins);
  const { fftBin, filter, real, imag } = level.sparse;
  // The sparse entries come filter by filter (cqt-kernel.ts's makeLevel), so each bin sums
  // one contiguous run in registers: the same sums in the same order as scattering them.
  const runStart = new Int32Array(nBins + 1);
  for (let i = 0; i < filter.length; i++) {
    if (i > 0 && filter[i]! < filter[i - 1]!) throw new Error('cqtHost: the sparse kernel is not ordered by filter');
    runStart[filter[i]! + 1] = i + 1;
  }
  for (let b = 1; b <= nBins; b++) runStart[b] = Math.max(runStart[b]!, runStart[b - 1]!);
  for (let f = 0; f < count; f++) {
    if (options.onProgress && f % 512 === 0) options.onProgress(f, count);
    const start = (center ? 0 : nFft / 2) + f * hop - frameLength / 2;
    // Frames inside the signal are one typed-array copy; only the edges need padding.
    if (ArrayBuffer.isView(signal) && start >= 0 && start + frameLength <= signal.length) frame.set(signal.subarray(start, start + frameLength));
    else for (let n = 0; n < frameLength; n++) frame[n] = paddedSample(signal, start + n, padMode);
    plan.realTransform(spectrum, frame);
    for (let b = 0; b < nBins; b++) {
      let sumReal = 0;
      let sumImag = 0;
      for (let i = runStart[b]!; i < runStart[b + 1]!; i++) {
        const xr = spectrum[2 * fftBin[i]!]!;
        const xi = spectrum[2 * fftBin[i]! + 1]!;
        sumReal = sumReal + xr * real[i]! - xi * imag[i]!;
        sumImag = sumImag + xr * imag[i]! + xi * real[i]!;
      }
      out[f * nBins + b] = Math.hypot(sumReal, sumImag);
    }
  }
  options.onProgress?.(count, count);
  return T.array(out, { shape: [count, nBins], dtype: 'float32' });
}
