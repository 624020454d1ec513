// Framing a batch of signals [batch, samples] into [batch, nFrames, nFft] as index
// arithmetic, never a copy made by us. The view path: with g = gcd(nFft, hop) the padded
// signal is reshaped into blocks of g samples, and frame f is the concatenation of the
// nFft/g blocks f·hop/g + q, so the frames are nFft/g strided slices joined along the
// last axis — pad, slice, reshape and concat, all movement ops, which a consuming matmul
// reads through (the codegen folds them into its operand loads). At the defaults
// (2048, 512) that is 4 slices. When nFft/g exceeds `maxViewPieces` (a hop that shares
// few factors with nFft), the gather path indexes the signal with an int32 matrix
// start_f + n built from arange arithmetic; the codegen then materializes the frames
// once before a matmul, since a gather is not a view.
//
// Centring follows librosa (center=True): frame f is centred on sample f·hop, the signal
// padded by nFft/2 on each side, nFrames = 1 + ⌊samples/hop⌋; padMode 'constant' (zeros,
// librosa ≥ 0.10's default) or 'reflect' (numpy's reflect, without repeating the edge).
// Without centring, frame f starts at f·hop and nFrames = 1 + ⌊(samples − nFft)/hop⌋.
// Left out: unknown sample counts (the frame count must be static), and 'edge' padding.
//
// Shapes: signal [batch, samples] → frames [batch, nFrames, nFft].

import * as T from '@theorbo/graph';
import { captureLocation, GraphError } from '@theorbo/graph';

export const signalDefaults = { sampleRate: 22050, nFft: 2048, hop: 512 } as const;

export type PadMode = 'constant' | 'reflect';

export interface FrameOptions {
  nFft?: number;
  hop?: number;
  /** Centre frame f on sample f·hop (librosa's center=True; default true). */
  center?: boolean;
  /** How the centred signal is padded (default 'constant', zeros). */
  padMode?: PadMode;
}

export type FramingMethod = 'auto' | 'view' | 'gather';

/** Above this many slices per frame, framing gathers instead (a long select chain per load costs more than one copy). */
export const maxViewPieces = 64;

export const graphError = (op: string, detail: string): GraphError => new GraphError(op, detail, captureLocation());

export interface ResolvedFrames { nFft: number; hop: number; center: boolean; padMode: PadMode }

export function resolveFrames(op: string, options: FrameOptions): ResolvedFrames {
  const nFft = options.nFft ?? signalDefaults.nFft;
  const hop = options.hop ?? signalDefaults.hop;
  if (!Number.isInteger(nFft) || nFft < 2) throw graphError(op, `nFft ${nFft} must be an integer of at least 2`);
  if (!Number.isInteger(hop) || hop < 1) throw graphError(op, `hop ${hop} must be a positive integer`);
  const padMode = options.padMode ?? 'constant';
  if (padMode !== 'constant' && padMode !== 'reflect') throw graphError(op, `padMode '${String(padMode)}' is not supported; use 'constant' or 'reflect'`);
  return { nFft, hop, center: options.center ?? true, padMode };
}

/** How many frames `samples` give: 1 + ⌊samples/hop⌋ centred, 1 + ⌊(samples − nFft)/hop⌋ otherwise (0 if too short). */
export function frameCount(samples: number, options: FrameOptions = {}): number {
  const { nFft, hop, center } = resolveFrames('frameCount', options);
  return center ? 1 + Math.floor(samples / hop) : samples < nFft ? 0 : 1 + Math.floor((samples - nFft) / hop);
}

/** A float32 signal input for graphs: [batch, samples], the batch size left to run time by default. */
export function signalInput(samples: number, name = 'signal', batch: number | null = null): T.Variable {
  return T.tensor('float32', [batch, samples], name);
}

/** Checks a signal is [batch, samples] of a float dtype with a static sample count, and returns that count. */
export function signalSamples(op: string, signal: T.Variable): number {
  if (signal.ndim !== 2) throw graphError(op, `expects a batch of signals [batch, samples], but got ${signal.type}; add a batch axis with T.dimshuffle(x, 'x', 0)`);
  if (signal.dtype !== 'float32' && signal.dtype !== 'float64') throw graphError(op, `expects a float32 (or float64) signal, but got ${signal.type}`);
  const samples = signal.shape[1];
  if (samples === null || samples === undefined) throw graphError(op, `needs the sample count of ${signal.type} statically (the frame count depends on it); declare the input as T.tensor('float32', [null, samples])`);
  return samples;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Where frames lie, in samples of the signal they are cut from: frame f starts at firstStart + f·hop. */
export interface FramePlacement {
  firstStart: number;
  hop: number;
  count: number;
  nFft: number;
  padMode: PadMode;
}

/**
 * The frames of `placement` as a view of `signal`, padding where frames reach past
 * either end (with zeros or by reflection). See the file comment for the two methods.
 */
export function framesAt(op: string, signal: T.Variable, placement: FramePlacement, method: FramingMethod = 'auto'): T.Variable {
  const samples = signalSamples(op, signal);
  const { firstStart, hop, count, nFft, padMode } = placement;
  if (count < 1) throw graphError(op, `a signal of ${samples} samples holds no frame of ${nFft} samples; pass a longer signal or center: true`);
  const end = firstStart + (count - 1) * hop + nFft;
  const left = Math.max(0, -firstStart);
  const right = Math.max(0, end - samples);
  if (padMode === 'reflect' && Math.max(left, right) >= samples) {
    throw graphError(op, `reflect padding by ${Math.max(left, right)} samples needs a signal longer than that, but it has ${samples}; use padMode 'constant'`);
  }
  return T.composite(op, () => {
    const padded = left > 0 || right > 0 ? T.pad(signal, [[0, 0], [left, right]], { mode: padMode }) : signal;
    const offset = firstStart + left;
    const span = end - firstStart;
    const window = offset === 0 && span === padded.shape[1] ? padded : T.get(padded, ':', T.slice(offset, offset + span));
    const blockSize = gcd(nFft, hop);
    const pieces = nFft / blockSize;
    const useView = method === 'view' || (method === 'auto' && pieces <= maxViewPieces);
    if (!useView) {
      const starts = T.dimshuffle(T.mul(T.arange(count), hop), 0, 'x');
      return T.get(window, ':', T.add(starts, T.dimshuffle(T.arange(nFft), 'x', 0)));
    }
    const blocks = T.reshape(window, [-1, span / blockSize, blockSize]);
    const stride = hop / blockSize;
    const parts = Array.from({ length: pieces }, (_, q) => T.get(blocks, ':', T.slice(q, q + (count - 1) * stride + 1, stride)));
    return parts.length === 1 ? parts[0]! : T.concat(parts, 2);
  });
}

export interface FrameSignalOptions extends FrameOptions {
  method?: FramingMethod;
}

/** Frames of a batch of signals: [batch, samples] → [batch, nFrames, nFft] (see the file comment). */
export function frameSignal(signal: T.Variable, options: FrameSignalOptions = {}): T.Variable {
  const { nFft, hop, center, padMode } = resolveFrames('frameSignal', options);
  const samples = signalSamples('frameSignal', signal);
  const count = frameCount(samples, { nFft, hop, center });
  return framesAt('frameSignal', signal, { firstStart: center ? -Math.floor(nFft / 2) : 0, hop, count, nFft, padMode }, options.method);
}
