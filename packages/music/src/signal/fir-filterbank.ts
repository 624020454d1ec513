// A learnable FIR filterbank on raw audio: one strided conv1d whose filters start as the
// constant-Q transform's time-domain kernels, then a magnitude. The non-recursive CQT
// (cqtHost, and cqt() with recursive: false) takes frames of N samples centred every hop
// samples and applies M = F·K [N, bins] (cqt-kernel.ts, `temporal`): bin b of frame f is
// |Σ_n x[f·hop − N/2 + n]·M[n, b]|. That is cross-correlation with stride hop and N/2 of
// zero padding on each side, with the real and imaginary parts of M's columns as 2·bins
// real filters of N taps — exactly T.conv1d. Initialized from M, the bank reproduces the
// designed CQT; its filters can then be trained like any other weights.
// The magnitude is √(re² + im² + ε): ε (default 1e-14) keeps the gradient finite where a
// bin is exactly zero (silence, padding) and moves |X| by at most √ε = 1e-7.
// Left out: the octave-recursive CQT (its decimator is not one conv; the bank is always
// the single-level form, with N the next power of two above the longest filter), phase
// output, and filters shorter than the frame (the sparsified kernel's time-domain form
// spreads over the whole frame; cutting it would break the reproduction).
//
// Shapes: filters [2·bins, 1, N] (real parts, then imaginary parts, bin order);
// signal [batch, samples] → [batch, frames, bins], frames = ⌊samples/hop⌋ + 1 with
// padding 'center', ⌊(samples − N)/hop⌋ + 1 with 'valid'.

import * as T from '@theorbo/graph';
import { cqtKernel, type CqtKernel, type CqtKernelOptions } from './cqt-kernel.ts';
import { graphError } from './framing.ts';

/** 'center': frame f centred on sample f·hop (zero padding N/2 each side), as cqtHost; 'valid': frames wholly inside the signal. */
export type FirPadding = 'center' | 'valid';

export interface FirFilterbankOptions {
  hop: number;
  padding?: FirPadding;
  /** Added under the square root of the magnitude (default 1e-14). */
  epsilon?: number;
}

export interface CqtFilterbank {
  /** The designed filters [2·nBins, 1, taps]: real parts of each bin's kernel, then imaginary parts. */
  filters: T.NDArray;
  taps: number;
  hop: number;
  nBins: number;
  /** The non-recursive CQT kernel the filters come from. */
  kernel: CqtKernel;
}

type FloatDType = 'float32' | 'float64';

/** The non-recursive CQT's time-domain kernels as conv1d filters (see the file comment). */
export function cqtFilterbank(options: Omit<CqtKernelOptions, 'recursive'> = {}, dtype: FloatDType = 'float32'): CqtFilterbank {
  const kernel = cqtKernel({ ...options, recursive: false });
  const level = kernel.levels[0]!;
  const { rows: taps, columns: nBins, real, imag } = level.temporal();
  const data = dtype === 'float32' ? new Float32Array(2 * nBins * taps) : new Float64Array(2 * nBins * taps);
  for (let b = 0; b < nBins; b++) {
    for (let n = 0; n < taps; n++) {
      data[b * taps + n] = real[n * nBins + b]!;
      data[(nBins + b) * taps + n] = imag[n * nBins + b]!;
    }
  }
  return { filters: T.array(data, { shape: [2 * nBins, 1, taps], dtype }), taps, hop: kernel.options.hop, nBins, kernel };
}

/** The filterbank's magnitude: signal [batch, samples], filters [2·bins, 1, taps] → [batch, frames, bins]. */
export function firFilterbank(signal: T.Variable, filters: T.TensorLike, options: FirFilterbankOptions): T.Variable {
  const op = 'firFilterbank';
  if (signal.ndim !== 2) throw graphError(op, `expects a batch of signals [batch, samples], but got ${signal.type}; add a batch axis with T.dimshuffle(x, 'x', 0)`);
  const weights = T.asVariable(filters, signal.dtype);
  const [count, channels, taps] = weights.shape;
  if (weights.ndim !== 3 || channels !== 1 || count === null || taps === null || count! % 2 !== 0) {
    throw graphError(op, `expects filters [2·bins, 1, taps] with static sizes (real parts, then imaginary parts), but got ${weights.type}`);
  }
  const { hop, padding = 'center', epsilon = 1e-14 } = options;
  if (!Number.isInteger(hop) || hop < 1) throw graphError(op, `hop ${hop} must be a positive integer`);
  if (padding !== 'center' && padding !== 'valid') throw graphError(op, `padding '${String(padding)}' is not one of 'center', 'valid'`);
  if (padding === 'center' && taps! % 2 !== 0) throw graphError(op, `padding 'center' puts the frame's centre at tap N/2, so it needs an even number of taps, not ${taps}`);
  if (!(epsilon >= 0)) throw graphError(op, `epsilon ${epsilon} must be non-negative`);
  const samples = signal.shape[1];
  if (padding === 'valid' && samples !== null && samples! < taps!) throw graphError(op, `a signal of ${samples} samples holds no whole frame of ${taps} taps; pass at least ${taps} samples or padding 'center'`);
  const bins = count! / 2;
  return T.composite(op, () => {
    const responses = T.conv1d(signal.dimshuffle(0, 'x', 1), weights, { stride: hop, padding: padding === 'center' ? taps! / 2 : 0 });
    const framesFirst = responses.dimshuffle(0, 2, 1);
    const real = T.get(framesFirst, '...', T.slice(0, bins));
    const imag = T.get(framesFirst, '...', T.slice(bins, 2 * bins));
    const power = T.add(T.mul(real, real), T.mul(imag, imag));
    return T.sqrt(epsilon > 0 ? T.add(power, epsilon) : power);
  });
}
