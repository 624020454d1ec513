// Beat tracking by dynamic programming (Ellis 2007, "Beat tracking by dynamic
// programming"), with librosa 0.11's choices, on the host:
//  1. the tempo (tempo.ts) unless given, as P = round(60·sr/(hop·bpm)) frames per beat;
//  2. the local score: the envelope divided by its standard deviation (ddof 1), smoothed
//     by a Gaussian of σ = P/32 frames spanning ±P ('same' convolution);
//  3. the DP: C[i] = L[i] + max over p in [i − 2P, i − round(P/2)] of
//     C[p] − tightness·(log(i − p) − log P)², remembering the best p (the nearest on ties);
//     until the first frame whose local score reaches 1% of the largest, frames start
//     new paths (no back-link);
//  4. the last beat: the last local maximum of C (C[i] > C[i − 1] and ≥ C[i + 1]; the final
//     frame counts if it rose) holding at least half the median of C over local maxima;
//     the path is followed back from it;
//  5. trim: beats in the leading and trailing frames whose local score is at most half the
//     RMS of the beats' local scores smoothed by a 5-point Hann window [0, ½, 1, ½, 0] are
//     dropped (librosa's RMS runs over the smoothed sequence plus two trailing values, ½ of
//     the last beat's score and 0, and so does this one); with trim false, the threshold
//     is 0 and only frames with no score at all are dropped.
// A per-frame tempo (an array of BPM, one per frame) varies P along the envelope.
// The DP's max and back-links are data-dependent control flow, so this is host code; the
// envelope and tempo it reads can come from graphs. Two deliberate differences from
// librosa, neither of which changes a result on a librosa onset envelope: the smoothing is
// a true 'same' convolution (librosa's loop leaves out envelope frame 0, which centred
// envelopes hold at 0), and all sums are float64 (librosa keeps float32 envelopes in float32).
// Left out: beat_track(y=…)'s median-aggregated envelope (pass an envelope), PLP.
//
// Shapes: envelope [nFrames] → beat frames [nBeats], increasing.

import { signalDefaults } from '../signal/framing.ts';
import { framesToTime } from './onset-detect.ts';
import { tempoHost, type TempoOptions } from './tempo.ts';

export interface BeatTrackOptions extends Omit<TempoOptions, 'aggregate'> {
  /** How strongly beats keep to the tempo (default 100). */
  tightness?: number;
  /** Drop weak leading and trailing beats (default true). */
  trim?: boolean;
  /** The tempo to follow (BPM, or one per frame) instead of estimating it. */
  bpm?: number | ArrayLike<number>;
}

export interface BeatTrack {
  /** The tempo followed, in BPM (0 for an envelope with no onsets; the first frame's for a per-frame tempo). */
  tempo: number;
  frames: Int32Array;
  /** The beats in seconds (frame · hop / sampleRate). */
  times: Float64Array;
}

export const beatDefaults = { tightness: 100, trim: true } as const;

/** numpy's round: halves go to the even neighbour. */
const roundHalfEven = (x: number): number => {
  const floor = Math.floor(x);
  const rest = x - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
};

function localScore(envelope: Float64Array, period: (i: number) => number): Float64Array {
  const n = envelope.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = period(i);
    let sum = 0;
    for (let j = Math.max(-p, i - n + 1); j <= Math.min(p, i); j++) sum += Math.exp(-0.5 * ((j * 32) / p) ** 2) * envelope[i - j]!;
    out[i] = sum;
  }
  return out;
}

function dynamicProgram(score: Float64Array, period: (i: number) => number, tightness: number): { cumulative: Float64Array; backlink: Int32Array } {
  const n = score.length;
  const cumulative = new Float64Array(n);
  const backlink = new Int32Array(n).fill(-1);
  let peak = -Infinity;
  for (const value of score) peak = Math.max(peak, value);
  const threshold = 0.01 * peak;
  let firstBeat = true;
  for (let i = 0; i < n; i++) {
    const p = period(i);
    let best = -Infinity;
    let location = -1;
    for (let previous = i - roundHalfEven(p / 2); previous >= i - 2 * p && previous >= 0; previous--) {
      const candidate = cumulative[previous]! - tightness * (Math.log(i - previous) - Math.log(p)) ** 2;
      if (candidate > best) [best, location] = [candidate, previous];
    }
    cumulative[i] = score[i]! + (location >= 0 ? best : 0);
    if (firstBeat && score[i]! < threshold) backlink[i] = -1;
    else {
      backlink[i] = location;
      firstBeat = false;
    }
  }
  return { cumulative, backlink };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function lastBeat(cumulative: Float64Array): number {
  const n = cumulative.length;
  const isPeak = (i: number): boolean => (i === 0 ? false : i === n - 1 ? cumulative[i]! > cumulative[i - 1]! : cumulative[i]! > cumulative[i - 1]! && cumulative[i]! >= cumulative[i + 1]!);
  const peaks = Array.from({ length: n }, (_, i) => i).filter(isPeak);
  if (peaks.length === 0) return n - 1;
  const threshold = 0.5 * median(peaks.map((i) => cumulative[i]!));
  for (let k = peaks.length - 1; k >= 0; k--) if (cumulative[peaks[k]!]! >= threshold) return peaks[k]!;
  return n - 1;
}

function trimBeats(score: Float64Array, beats: Uint8Array, trim: boolean): void {
  let threshold = 0;
  if (trim) {
    const beatScores = Array.from(beats.keys()).filter((i) => beats[i]).map((i) => score[i]!);
    const at = (i: number): number => (i >= 0 && i < beatScores.length ? beatScores[i]! : 0);
    // Full convolution with [0, ½, 1, ½, 0], values 2 … 2 + min(n, count + 2) − 1 (see the file comment).
    const count = Math.min(score.length, beatScores.length + 2);
    let squares = 0;
    for (let j = 2; j < 2 + count; j++) squares += (0.5 * at(j - 1) + at(j - 2) + 0.5 * at(j - 3)) ** 2;
    threshold = 0.5 * Math.sqrt(squares / count);
  }
  for (let i = 0; i < score.length && score[i]! <= threshold; i++) beats[i] = 0;
  for (let i = score.length - 1; i >= 0 && score[i]! <= threshold; i--) beats[i] = 0;
}

/** Beats of an onset envelope (librosa's beat_track with units 'frames'; see the file comment). */
export function beatTrack(envelope: ArrayLike<number>, options: BeatTrackOptions = {}): BeatTrack {
  const sampleRate = options.sampleRate ?? signalDefaults.sampleRate;
  const hop = options.hop ?? signalDefaults.hop;
  const tightness = options.tightness ?? beatDefaults.tightness;
  const n = envelope.length;
  if (!(tightness > 0)) throw new Error(`beatTrack: tightness ${tightness} must be positive`);
  const values = Float64Array.from(envelope);
  if (!values.some((value) => value !== 0)) return { tempo: 0, frames: new Int32Array(0), times: new Float64Array(0) };
  const given = options.bpm;
  const bpm = given === undefined ? tempoHost(values, { ...options, aggregate: 'mean' }) : typeof given === 'number' ? [given] : Float64Array.from(given);
  if (bpm.length !== 1 && bpm.length !== n) throw new Error(`beatTrack: bpm has ${bpm.length} values; give one, or one per frame (${n})`);
  const frameRate = sampleRate / hop;
  const periods = Int32Array.from(bpm, (value) => {
    if (!(value > 0)) throw new Error(`beatTrack: bpm ${value} must be positive`);
    return Math.max(1, roundHalfEven((frameRate * 60) / value));
  });
  const period = periods.length === 1 ? () => periods[0]! : (i: number) => periods[i]!;
  let mean = 0;
  for (const value of values) mean += value / n;
  let variance = 0;
  for (const value of values) variance += (value - mean) ** 2;
  const deviation = n > 1 ? Math.sqrt(variance / (n - 1)) : 0;
  const score = localScore(values.map((value) => value / (deviation + 2.2250738585072014e-308)), period);
  const { cumulative, backlink } = dynamicProgram(score, period, tightness);
  const beats = new Uint8Array(n);
  for (let i = lastBeat(cumulative); i >= 0; i = backlink[i]!) beats[i] = 1;
  trimBeats(score, beats, options.trim ?? beatDefaults.trim);
  const frames = Int32Array.from(Array.from(beats.keys()).filter((i) => beats[i]));
  return { tempo: bpm[0]!, frames, times: framesToTime(frames, { sampleRate, hop }) };
}
