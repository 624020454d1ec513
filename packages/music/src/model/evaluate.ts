// Evaluating chord predictions the way MIR does: frame labels are median-filtered (or,
// given per-frame log scores and a decoding, decoded by it: Viterbi, median, none),
// merged into segments and scored against the reference segments with weighted chord
// symbol recall (root and majmin rules), aggregated over clips weighted by duration
// (MIREX's convention); frame accuracy and the confusion matrix come from the frames.

import { medianFilterFrames, framesToSegments, weightedChordSymbolRecall, frameAccuracy, confusionMatrix } from '../eval/index.ts';
import type { Segment } from '../chords/index.ts';
import type { NDArray } from '@theorbo/graph';
import { decodeChordFrames, type ChordDecoding } from '../eval/chord-decoding.ts';

export interface ClipPrediction {
  /** Reference segments of the clip. */
  reference: readonly Segment[];
  /** Reference label of each frame. */
  frameLabels: ArrayLike<number>;
  /** Predicted class of each frame. */
  predicted: ArrayLike<number>;
  /** Per-frame class log scores [frames, classes], for a decoding other than the median filter. */
  logScores?: NDArray;
  duration: number;
}

export interface Scores {
  majmin: number;
  root: number;
  frameAccuracy: number;
  confusion: number[][];
}

export function scorePredictions(clips: readonly ClipPrediction[], options: { hop: number; sampleRate: number; medianWidth: number; decoding?: ChordDecoding }): Scores {
  let total = 0;
  let majmin = 0;
  let root = 0;
  const allReference: number[] = [];
  const allEstimate: number[] = [];
  for (const clip of clips) {
    if (options.decoding !== undefined && clip.logScores === undefined) throw new Error('scorePredictions: a decoding was asked for but a clip has no per-frame log scores to decode.');
    const smoothed = options.decoding !== undefined ? decodeChordFrames(clip.logScores!, options.decoding) : medianFilterFrames(clip.predicted, options.medianWidth);
    const estimate = framesToSegments(smoothed, options.hop, options.sampleRate, { offset: -options.hop / 2 / options.sampleRate, duration: clip.duration });
    majmin += clip.duration * weightedChordSymbolRecall(clip.reference, estimate, 'majmin');
    root += clip.duration * weightedChordSymbolRecall(clip.reference, estimate, 'root');
    total += clip.duration;
    allReference.push(...Array.from(clip.frameLabels));
    allEstimate.push(...smoothed);
  }
  const confusion = confusionMatrix(allReference, allEstimate);
  return { majmin: majmin / total, root: root / total, frameAccuracy: frameAccuracy(allReference, allEstimate), confusion: confusion.counts as number[][] };
}
