// Onset strength as librosa's onset_strength computes it: spectral flux of the log-power
// mel spectrogram. With S the spectrogram in decibels ([frames, channels] per clip) and
// R its reference (S itself, or S max-filtered across `maxSize` neighbouring channels,
// which suppresses vibrato), frame t's flux is the aggregate over channels of
// max(0, S[t] − R[t − lag]). The flux starts `lag` frames late, and with centred frames
// the onset of a sound reaches a frame's centre about nFft/(2·hop) frames after the frame
// first hears it, so the envelope is shifted right by lag + ⌊nFft/(2·hop)⌋ frames (zeros
// in front) and cut to the spectrogram's length. Aggregates: 'mean' (librosa's default),
// 'sum', 'max'. The max filter reflects at the edge channels as scipy's maximum_filter1d
// ('reflect': the edge value repeated).
// onsetStrength(signal) is librosa's onset_strength(y=…): the power mel spectrogram (128
// bands, fmax sr/2), powerToDb (ref 1, topDb 80), then the flux. The host versions are the
// CPU peers, in float64. Everything here is a graph with a gradient (the ReLU's and
// max's), so the mel weights upstream can learn from an onset loss.
// The graph takes optional per-channel weights on the flux before the aggregation (a
// learnable front end's band weights; none gives librosa's envelope).
// Left out: 'median' aggregation (librosa's beat_track(y=…) uses it; pass an envelope),
// channel groups (onset_strength_multi's `channels`) and detrend.
//
// Shapes: spectrogram [batch, nFrames, nChannels] → envelope [batch, nFrames];
// host [nFrames, nChannels] → [nFrames].

import * as T from '@theorbo/graph';
import { graphError, signalDefaults } from '../signal/framing.ts';
import { melSpectrogram, melSpectrogramHost, type MelSpectrogramOptions } from '../signal/mel.ts';
import { powerToDb, powerToDbHost, type DbOptions } from '../signal/decibels.ts';
import type { HostSignal } from '../signal/fft-host.ts';

export type OnsetAggregate = 'mean' | 'sum' | 'max';

export interface OnsetStrengthOptions {
  /** Frames between the compared spectra (default 1). */
  lag?: number;
  /** Channels in the reference's max filter (default 1: no filter). */
  maxSize?: number;
  aggregate?: OnsetAggregate;
  /** The spectrogram's frames are centred (default true): shift by ⌊nFft/(2·hop)⌋ more. */
  center?: boolean;
  nFft?: number;
  hop?: number;
}

export const onsetDefaults = { lag: 1, maxSize: 1, aggregate: 'mean' } as const;

interface ResolvedOnset { lag: number; maxSize: number; aggregate: OnsetAggregate; shift: number }

function resolveOnset(options: OnsetStrengthOptions, fail: (detail: string) => never): ResolvedOnset {
  const lag = options.lag ?? onsetDefaults.lag;
  const maxSize = options.maxSize ?? onsetDefaults.maxSize;
  const aggregate = options.aggregate ?? onsetDefaults.aggregate;
  const nFft = options.nFft ?? signalDefaults.nFft;
  const hop = options.hop ?? signalDefaults.hop;
  if (!(Number.isInteger(lag) && lag >= 1)) fail(`lag ${lag} must be a positive integer`);
  if (!(Number.isInteger(maxSize) && maxSize >= 1)) fail(`maxSize ${maxSize} must be a positive integer`);
  if (!['mean', 'sum', 'max'].includes(aggregate)) fail(`aggregate '${String(aggregate)}' is not one of 'mean', 'sum', 'max'`);
  if (!(Number.isInteger(nFft) && nFft >= 1 && Number.isInteger(hop) && hop >= 1)) fail(`nFft ${nFft} and hop ${hop} must be positive integers`);
  return { lag, maxSize, aggregate, shift: lag + ((options.center ?? true) ? Math.floor(nFft / (2 * hop)) : 0) };
}

/** scipy's maximum_filter1d across the last axis with mode 'reflect' (edge repeated), window centred on each channel. */
function channelMaxFilter(x: T.Variable, size: number, channels: number): T.Variable {
  const before = Math.floor(size / 2);
  const after = size - 1 - before;
  const part = (start: number, stop: number): T.Variable => T.get(x, '...', T.slice(start, stop));
  const pieces = [
    ...(before > 0 ? [T.flip(part(0, before), x.ndim - 1)] : []),
    x,
    ...(after > 0 ? [T.flip(part(channels - after, channels), x.ndim - 1)] : []),
  ];
  const padded = pieces.length === 1 ? x : T.concat(pieces, x.ndim - 1);
  let out = T.get(padded, '...', T.slice(0, channels));
  for (let i = 1; i < size; i++) out = T.maximum(out, T.get(padded, '...', T.slice(i, i + channels)));
  return out;
}

/** Onset strength of a (log-power) spectrogram [batch, nFrames, nChannels] → [batch, nFrames] (see the file comment); `bandWeights` [nChannels] scale each channel's flux. */
export function onsetStrengthFromSpectrogram(spectrogram: T.Variable, options: OnsetStrengthOptions & { bandWeights?: T.Variable } = {}): T.Variable {
  const op = 'onsetStrengthFromSpectrogram';
  const { lag, maxSize, aggregate, shift } = resolveOnset(options, (detail) => { throw graphError(op, detail); });
  if (spectrogram.ndim !== 3) throw graphError(op, `expects a batch of spectrograms [batch, nFrames, nChannels], but got ${spectrogram.type}`);
  const [, frames, channels] = spectrogram.shape;
  if (frames === null || frames === undefined || channels === null || channels === undefined) {
    throw graphError(op, `needs the frame and channel counts of ${spectrogram.type} statically`);
  }
  if (frames <= lag) throw graphError(op, `a spectrogram of ${frames} frames has no flux at lag ${lag}`);
  if (maxSize > 1 && Math.floor(maxSize / 2) > channels) throw graphError(op, `maxSize ${maxSize} reaches past ${channels} channels`);
  const weights = options.bandWeights;
  if (weights && !(weights.ndim === 1 && weights.shape[0] === channels)) throw graphError(op, `bandWeights ${weights.type} must be [${channels}], one per channel of ${spectrogram.type}`);
  return T.composite(op, () => {
    const reference = maxSize > 1 ? channelMaxFilter(spectrogram, maxSize, channels) : spectrogram;
    const rectified = T.relu(T.sub(T.get(spectrogram, ':', T.slice(lag, null)), T.get(reference, ':', T.slice(0, frames - lag))));
    const flux = weights ? T.mul(rectified, weights) : rectified;
    const envelope = aggregate === 'mean' ? T.mean(flux, -1) : aggregate === 'sum' ? T.sum(flux, -1) : T.max(flux, -1);
    const kept = frames - shift;
    if (kept <= 0) return T.mul(T.get(spectrogram, ':', ':', 0), 0); // librosa's zeros, still a function of the input (a constant would leave the compiled input unused)
    const front = T.pad(envelope, [[0, 0], [shift, 0]]);
    return T.get(front, ':', T.slice(0, frames));
  });
}

export interface SignalOnsetOptions extends OnsetStrengthOptions, MelSpectrogramOptions {
  /** The decibel conversion of the mel spectrogram (default librosa's: ref 1, amin 1e-10, topDb 80). */
  db?: DbOptions;
}

/** librosa's onset_strength(y=…) for a batch of clips [batch, samples] → [batch, nFrames]. */
export function onsetStrength(signal: T.Variable, options: SignalOnsetOptions = {}): T.Variable {
  return T.composite('onsetStrength', () => onsetStrengthFromSpectrogram(powerToDb(melSpectrogram(signal, options), options.db), options));
}

/** onsetStrengthFromSpectrogram of one spectrogram [nFrames, nChannels] on the host, float64, rounded to float32 [nFrames]. */
export function onsetStrengthFromSpectrogramHost(spectrogram: T.NDArray, options: OnsetStrengthOptions = {}): T.NDArray {
  const { lag, maxSize, aggregate, shift } = resolveOnset(options, (detail) => { throw new Error(`onsetStrengthFromSpectrogramHost: ${detail}`); });
  if (spectrogram.ndim !== 2) throw new Error(`onsetStrengthFromSpectrogramHost: expects [nFrames, nChannels], but got shape [${spectrogram.shape.join(', ')}]`);
  const [frames, channels] = spectrogram.shape as [number, number];
  const value = (t: number, c: number): number => spectrogram.data[t * channels + c]!;
  const reflect = (c: number): number => (c < 0 ? -c - 1 : c >= channels ? 2 * channels - c - 1 : c);
  const before = Math.floor(maxSize / 2);
  const reference = (t: number, c: number): number => {
    let best = -Infinity;
    for (let i = 0; i < maxSize; i++) best = Math.max(best, value(t, reflect(c - before + i)));
    return best;
  };
  const out = new Float32Array(frames);
  for (let t = lag; t < frames && t - lag + shift < frames; t++) {
    let total = aggregate === 'max' ? -Infinity : 0;
    for (let c = 0; c < channels; c++) {
      const flux = Math.max(0, value(t, c) - reference(t - lag, c));
      total = aggregate === 'max' ? Math.max(total, flux) : total + flux;
    }
    out[t - lag + shift] = aggregate === 'mean' ? total / channels : total;
  }
  return T.array(out, { shape: [frames], dtype: 'float32' });
}

/** librosa's onset_strength(y=…) of one clip on the host → [nFrames] float32. */
export function onsetStrengthHost(signal: HostSignal, options: Omit<SignalOnsetOptions, 'method'> = {}): T.NDArray {
  return onsetStrengthFromSpectrogramHost(powerToDbHost(melSpectrogramHost(signal, options), options.db), options);
}
