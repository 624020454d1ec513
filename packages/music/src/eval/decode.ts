// From per-frame outputs to chord segments. Two smoothers, as chord recognizers use them:
//   medianFilterFrames — over labels, the majority label in a centred window (what a
//     median filter of one-hot label vectors followed by argmax gives); over a frames ×
//     classes score matrix, each class's running median.
//   viterbiDecode — the most likely label path of an HMM whose states are the classes,
//     with per-frame class scores as emissions and one self-transition probability p
//     (every change of chord costs the same: (1 − p)/(K − 1)); in the log domain, and in
//     O(frames · classes) since the best "other" predecessor is the best or second best.
//     Or, given a full log transition matrix (learned, chord-transitions.ts), the general
//     recursion in O(frames · classes²).
// Then framesToSegments / segmentsToFrames convert between frame labels and segments:
// frame i covers [i·hop/sr, (i+1)·hop/sr) + offset. Shape legend: frames × classes.

import type { NDArray } from '@theorbo/graph';
import { chordIndex, chordLabel } from '../chords/vocabulary.ts';
import type { Segment } from '../chords/lab.ts';

/** Per-frame class scores: one row per frame (arrays), or a 2-D NDArray [frames, classes]. */
export type FrameScores = readonly ArrayLike<number>[] | NDArray;

/** The rows of a score matrix, checked to be rectangular. */
export function scoreRows(operation: string, scores: FrameScores): ArrayLike<number>[] {
  if (isNDArray(scores)) {
    const array = scores;
    if (array.shape.length !== 2) throw new Error(`${operation}: scores must be 2-D [frames, classes], not shape [${array.shape.join(', ')}].`);
    const [frames, classes] = array.shape as [number, number];
    return Array.from({ length: frames }, (_, t) => array.data.subarray(t * classes, (t + 1) * classes));
  }
  const rows = scores as readonly ArrayLike<number>[];
  rows.forEach((row, t) => {
    if (row.length !== rows[0]!.length) throw new Error(`${operation}: frame ${t} has ${row.length} class scores but frame 0 has ${rows[0]!.length}.`);
  });
  return [...rows];
}

function isNDArray(value: unknown): value is NDArray {
  return typeof value === 'object' && value !== null && 'shape' in value && 'data' in value;
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width % 2 === 0) {
    throw new Error(`medianFilterFrames: the window must be an odd whole number of frames, not ${width}.`);
  }
}

/**
 * Smooths frame labels (majority in each window of `width` frames; ties keep the centre
 * label if it is among the most frequent, else the smallest) or a score matrix (running
 * median per class). Windows shrink at the ends rather than padding.
 */
export function medianFilterFrames(labels: ArrayLike<number>, width: number): number[];
export function medianFilterFrames(scores: FrameScores, width: number): number[][];
export function medianFilterFrames(input: ArrayLike<number> | FrameScores, width: number): number[] | number[][] {
  checkWidth(width);
  if (isNDArray(input)) {
    if (input.shape.length === 1) return majorityFilter(input.data, width);
  } else if (!Array.isArray(input) || input.length === 0 || typeof input[0] === 'number') {
    return majorityFilter(input as ArrayLike<number>, width);
  }
  const rows = scoreRows('medianFilterFrames', input as FrameScores);
  const half = (width - 1) / 2;
  const classes = rows[0]?.length ?? 0;
  return rows.map((_, t) => {
    const from = Math.max(0, t - half);
    const to = Math.min(rows.length, t + half + 1);
    return Array.from({ length: classes }, (_, k) => {
      const window: number[] = [];
      for (let s = from; s < to; s++) window.push(rows[s]![k]!);
      window.sort((a, b) => a - b);
      const middle = window.length >> 1;
      return window.length % 2 === 1 ? window[middle]! : (window[middle - 1]! + window[middle]!) / 2;
    });
  });
}

function majorityFilter(labels: ArrayLike<number>, width: number): number[] {
  const half = (width - 1) / 2;
  const out: number[] = [];
  for (let t = 0; t < labels.length; t++) {
    const counts = new Map<number, number>();
    for (let s = Math.max(0, t - half); s < Math.min(labels.length, t + half + 1); s++) {
      counts.set(labels[s]!, (counts.get(labels[s]!) ?? 0) + 1);
    }
    const most = Math.max(...counts.values());
    const centre = labels[t]!;
    out.push(counts.get(centre) === most ? centre : Math.min(...[...counts].filter(([, n]) => n === most).map(([label]) => label)));
  }
  return out;
}

export interface ViterbiOptions {
  /** Probability of staying on the same class from one frame to the next, in (0, 1); default 0.9. */
  selfTransition?: number;
  /** 'probabilities' (default; e.g. softmax outputs, logged here) or 'logProbabilities'. */
  scores?: 'probabilities' | 'logProbabilities';
  /** Log transition probabilities [from · classes + to] (learned ones, chord-transitions.ts) in place of the sticky matrix; selfTransition is then unused. */
  transitions?: ArrayLike<number>;
}

/** The most likely class per frame under a sticky HMM (uniform start, uniform changes), or under the HMM of `options.transitions`. */
export function viterbiDecode(scores: FrameScores, options: ViterbiOptions = {}): number[] {
  if (options.transitions !== undefined) return viterbiWithTransitions(scores, options.transitions, options.scores === 'logProbabilities');
  const selfTransition = options.selfTransition ?? 0.9;
  if (!(selfTransition > 0 && selfTransition < 1)) {
    throw new Error(`viterbiDecode: the self-transition probability must lie strictly between 0 and 1, not ${selfTransition}.`);
  }
  const rows = scoreRows('viterbiDecode', scores);
  const frames = rows.length;
  if (frames === 0) return [];
  const classes = rows[0]!.length;
  if (classes === 0) throw new Error('viterbiDecode: the scores have no classes.');
  const emission = emissionOf(rows, options.scores === 'logProbabilities');
  const stay = Math.log(selfTransition);
  const move = classes > 1 ? Math.log((1 - selfTransition) / (classes - 1)) : -Infinity;

  let delta = Float64Array.from({ length: classes }, (_, k) => emission(0, k));
  const backpointers = new Int32Array(frames * classes);
  for (let t = 1; t < frames; t++) {
    let best = 0;
    let second = -1;
    for (let k = 1; k < classes; k++) {
      if (delta[k]! > delta[best]!) { second = best; best = k; } else if (second < 0 || delta[k]! > delta[second]!) second = k;
    }
    const next = new Float64Array(classes);
    for (let k = 0; k < classes; k++) {
      const other = k === best ? second : best;
      const fromOther = other >= 0 ? delta[other]! + move : -Infinity;
      const fromSelf = delta[k]! + stay;
      const fromSelfWins = fromSelf >= fromOther;
      backpointers[t * classes + k] = fromSelfWins ? k : other;
      next[k] = (fromSelfWins ? fromSelf : fromOther) + emission(t, k);
    }
    delta = next;
  }
  return backtrace(delta, backpointers, frames, classes);
}

/** Log emission of class k at frame t; a zero probability would make every path through it −∞, so a floor keeps paths comparable. */
function emissionOf(rows: readonly ArrayLike<number>[], inLogDomain: boolean): (t: number, k: number) => number {
  return (t, k) => (inLogDomain ? rows[t]![k]! : Math.log(Math.max(rows[t]![k]!, 1e-30)));
}

/** The best final state's path, read back through the backpointers [frames · classes]. */
function backtrace(delta: Float64Array, backpointers: Int32Array, frames: number, classes: number): number[] {
  const path = new Array<number>(frames);
  let state = 0;
  for (let k = 1; k < classes; k++) if (delta[k]! > delta[state]!) state = k;
  for (let t = frames - 1; t >= 0; t--) {
    path[t] = state;
    state = backpointers[t * classes + state]!;
  }
  return path;
}

/** Viterbi over a full log transition matrix (uniform start): O(frames · classes²). */
function viterbiWithTransitions(scores: FrameScores, transitions: ArrayLike<number>, inLogDomain: boolean): number[] {
  const rows = scoreRows('viterbiDecode', scores);
  const frames = rows.length;
  if (frames === 0) return [];
  const classes = rows[0]!.length;
  if (transitions.length !== classes * classes) throw new Error(`viterbiDecode: a transition matrix of ${transitions.length} entries for scores of ${classes} classes (${classes * classes} expected).`);
  const emission = emissionOf(rows, inLogDomain);
  let delta = Float64Array.from({ length: classes }, (_, k) => emission(0, k));
  const backpointers = new Int32Array(frames * classes);
  for (let t = 1; t < frames; t++) {
    const next = new Float64Array(classes);
    for (let k = 0; k < classes; k++) {
      let best = 0, bestScore = -Infinity;
      for (let j = 0; j < classes; j++) {
        const score = delta[j]! + transitions[j * classes + k]!;
        if (score > bestScore) { bestScore = score; best = j; }
      }
      backpointers[t * classes + k] = best;
      next[k] = bestScore + emission(t, k);
    }
    delta = next;
  }
  return backtrace(delta, backpointers, frames, classes);
}

export interface FrameTiming {
  /** Seconds added to every frame time (e.g. −hop/2/sr for centred frames); times are clipped at 0. */
  offset?: number;
  /** The audio's length in seconds: the last segment ends here rather than at the last frame's end. */
  duration?: number;
  /** Class labels (a vocabulary's, e.g. chordVocabulary('sevenths').labels); default the 25-class majmin vocabulary. */
  labels?: readonly string[];
}

/** Merges runs of equal frame labels (vocabulary indices) into segments labelled with chordLabel. */
export function framesToSegments(labels: ArrayLike<number>, hop: number, sampleRate: number, timing: FrameTiming = {}): Segment[] {
  checkTiming('framesToSegments', hop, sampleRate);
  const offset = timing.offset ?? 0;
  const time = (frame: number): number => Math.max(0, (frame * hop) / sampleRate + offset);
  const labelOf = (index: number): string => {
    if (timing.labels === undefined) return chordLabel(index);
    if (index === -1) return 'X';
    const label = timing.labels[index];
    if (label === undefined) throw new Error(`framesToSegments: frame class ${index} is not one of the ${timing.labels.length} labels given.`);
    return label;
  };
  const segments: Segment[] = [];
  let runStart = 0;
  for (let t = 1; t <= labels.length; t++) {
    if (t < labels.length && labels[t] === labels[runStart]) continue;
    segments.push({ start: time(runStart), end: time(t), label: labelOf(labels[runStart]!) });
    runStart = t;
  }
  if (timing.duration !== undefined) {
    const kept = segments.filter((segment) => segment.start < timing.duration!);
    const last = kept[kept.length - 1];
    if (last !== undefined) last.end = timing.duration;
    return kept;
  }
  return segments;
}

/** The vocabulary index of each of `frameCount` frames: the label at the frame's middle, else `fill`. */
export function segmentsToFrames(segments: readonly Segment[], frameCount: number, hop: number, sampleRate: number, timing: FrameTiming & { fill?: number; indexOf?: (label: string) => number } = {}): number[] {
  checkTiming('segmentsToFrames', hop, sampleRate);
  const offset = timing.offset ?? 0;
  const fill = timing.fill ?? -1;
  const out = new Array<number>(frameCount).fill(fill);
  let cursor = 0;
  for (let t = 0; t < frameCount; t++) {
    const middle = ((t + 0.5) * hop) / sampleRate + offset;
    while (cursor < segments.length && segments[cursor]!.end <= middle) cursor++;
    const segment = segments[cursor];
    if (segment !== undefined && segment.start <= middle) out[t] = (timing.indexOf ?? chordIndex)(segment.label);
  }
  return out;
}

function checkTiming(operation: string, hop: number, sampleRate: number): void {
  if (!(hop > 0) || !(sampleRate > 0)) throw new Error(`${operation}: hop (${hop}) and sample rate (${sampleRate}) must be positive.`);
}
