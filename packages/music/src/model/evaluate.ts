// Evaluating chord predictions the way MIR does: frame labels are median-filtered (or,
// given per-frame log scores and a decoding, decoded by it: Viterbi, median, none),
// merged into segments and scored against the reference segments with weighted chord
// symbol recall (every mir_eval rule, segmentation quality, and the recall of N on its
// own), aggregated over clips weighted by duration (MIREX's convention); frame accuracy and
// the confusion matrix come from the frames. Classes are the 25 major/minor ones unless a
// vocabulary (chords/vocabularies.ts) is given.

import { medianFilterFrames, framesToSegments, segmentsToFrames, weightedChordSymbolRecall, frameAccuracy, confusionMatrix, chordScores, chordRules, compareChordLabels, type ChordRule, type ChordScores } from '../eval/index.ts';
import type { ChordVocabulary, Segment, VocabularyName } from '../chords/index.ts';
import { estimateBass, type BassOptions } from '../chords/bass.ts';
import type { NDArray } from '@theorbo/graph';
import { decodeChordFrames, decodingForVocabulary, type ChordDecoding } from '../eval/chord-decoding.ts';
import { withLearnedTransitions, type ChordTransitions } from '../eval/chord-transitions.ts';

export interface ClipPrediction {
  /** Reference segments of the clip. */
  reference: readonly Segment[];
  /** Reference label of each frame. */
  frameLabels: ArrayLike<number>;
  /** Predicted class of each frame. */
  predicted: ArrayLike<number>;
  /** Per-frame class log scores [frames, classes], for a decoding other than the median filter. */
  logScores?: NDArray;
  /** The clip's CQT [frames, bins], where the bass is estimated (scorePredictions' `bass`). */
  cqt?: NDArray;
  duration: number;
}

export interface Scores {
  majmin: number;
  root: number;
  frameAccuracy: number;
  confusion: number[][];
  /** Every mir_eval recall rule and the segmentation scores, duration-weighted over clips. */
  rules: ChordScores;
  /** The share of the reference's N time labelled N (null when the clips have no N). */
  noChordRecall: number | null;
  /**
   * With a vocabulary: per quality of the reference ('maj', '7', 'sus4', …, and 'N'), the
   * share of its frames labelled with exactly its class; qualities the clips lack are absent.
   */
  qualityRecall?: Record<string, number>;
}

/** Frame recall of the exact class per reference quality (frames the vocabulary leaves out, −1, are skipped). */
export function qualityRecall(reference: readonly number[], estimate: readonly number[], vocabulary: ChordVocabulary): Record<string, number> {
  const counts = new Map<string, [number, number]>();
  reference.forEach((label, t) => {
    if (label < 0) return;
    const quality = label === vocabulary.noChord ? 'N' : vocabulary.labels[label]!.split(':')[1]!;
    const entry = counts.get(quality) ?? [0, 0];
    counts.set(quality, [entry[0] + (estimate[t] === label ? 1 : 0), entry[1] + 1]);
  });
  return Object.fromEntries([...counts].map(([quality, [hits, frames]]) => [quality, hits / frames]));
}

/** The share of the reference's 'N' time that the estimate labels 'N'; null when the reference has none. */
export function noChordRecall(reference: readonly Segment[], estimate: readonly Segment[]): { recall: number; seconds: number } | null {
  const silences = reference.filter((segment) => segment.label === 'N' && segment.end > segment.start);
  if (silences.length === 0) return null;
  const seconds = silences.reduce((sum, segment) => sum + segment.end - segment.start, 0);
  return { recall: weightedChordSymbolRecall(silences, estimate, 'majmin'), seconds };
}

/**
 * With `bass`, each decoded chord names its bass note estimated from the clip's CQT
 * (chords/bass.ts), for references whose labels name theirs (the '_inv' rules); frames
 * are counted by the chord without its bass (after the bass chose between twins where
 * `bass.vocabulary` is given).
 */
export function scorePredictions(clips: readonly ClipPrediction[], options: { hop: number; sampleRate: number; medianWidth: number; decoding?: ChordDecoding; vocabulary?: ChordVocabulary; trained?: VocabularyName; bass?: BassOptions; transitions?: ChordTransitions }): Scores {
  const timing = { offset: -options.hop / 2 / options.sampleRate };
  const vocabulary = options.vocabulary;
  // As `theorbo chords` decodes: by triad families in a vocabulary beyond majmin that the model (`trained`: its vocabulary) learned.
  const forVocabulary = options.decoding !== undefined && vocabulary !== undefined ? decodingForVocabulary(options.decoding, vocabulary, options.trained ?? 'majmin') : options.decoding;
  if (options.transitions !== undefined && (forVocabulary === undefined || vocabulary === undefined)) throw new Error('scorePredictions: learned transitions need a Viterbi decoding and a vocabulary.');
  // Learned transitions over what the decoder runs on (classes, or triad families).
  const decoding = options.transitions === undefined ? forVocabulary : withLearnedTransitions(forVocabulary!, options.transitions, vocabulary!, options);
  // Each clip's score under a rule weighs by the reference time that rule scores (a clip
  // with no scorable chord adds nothing, rather than a zero).
  const weighted = new Map<keyof ChordScores, { sum: number; weight: number }>();
  const add = (key: keyof ChordScores, value: number, weight: number): void => {
    const entry = weighted.get(key) ?? { sum: 0, weight: 0 };
    weighted.set(key, { sum: entry.sum + value * weight, weight: entry.weight + weight });
  };
  // A segment's class in the vocabulary, its bass set aside (read only where there is a vocabulary).
  const classOf = (label: string): number => vocabulary!.indexOf(label.split('/')[0]!);
  let silence = { recalled: 0, seconds: 0 };
  const allReference: number[] = [];
  const allEstimate: number[] = [];
  for (const clip of clips) {
    if (decoding !== undefined && clip.logScores === undefined) throw new Error('scorePredictions: a decoding was asked for but a clip has no per-frame log scores to decode.');
    const smoothed = decoding !== undefined ? decodeChordFrames(clip.logScores!, decoding) : medianFilterFrames(clip.predicted, options.medianWidth);
    const chords = framesToSegments(smoothed, options.hop, options.sampleRate, { ...timing, duration: clip.duration, labels: vocabulary?.labels });
    if (options.bass !== undefined && clip.cqt === undefined) throw new Error('scorePredictions: the bass was asked for but a clip has no CQT to estimate it from.');
    const estimate = options.bass !== undefined ? estimateBass(clip.cqt!, chords, options.hop, options.sampleRate, options.bass) : chords;
    const scores = chordScores(clip.reference, estimate);
    for (const rule of chordRules) add(rule, scores[rule], scoredSeconds(clip.reference, rule));
    for (const key of ['overSegmentation', 'underSegmentation', 'segmentation'] as const) add(key, scores[key], clip.duration);
    const silent = noChordRecall(clip.reference, estimate);
    if (silent !== null) silence = { recalled: silence.recalled + silent.recall * silent.seconds, seconds: silence.seconds + silent.seconds };
    allReference.push(...(vocabulary === undefined ? Array.from(clip.frameLabels) : segmentsToFrames(clip.reference, smoothed.length, options.hop, options.sampleRate, { ...timing, indexOf: classOf })));
    // Where the bass chose between twins, frames count the chord it chose (a frame past the
    // last segment keeps its decoded class).
    const chosen = options.bass?.vocabulary === undefined || vocabulary === undefined ? smoothed
      : segmentsToFrames(estimate, smoothed.length, options.hop, options.sampleRate, { ...timing, indexOf: classOf }).map((label, t) => (label >= 0 ? label : smoothed[t]!));
    allEstimate.push(...chosen);
  }
  const mean = (key: keyof ChordScores): number => {
    const entry = weighted.get(key);
    return entry !== undefined && entry.weight > 0 ? entry.sum / entry.weight : 0;
  };
  const rules = Object.fromEntries([...chordRules, 'overSegmentation', 'underSegmentation', 'segmentation'].map((key) => [key, mean(key as keyof ChordScores)])) as unknown as ChordScores;
  const confusion = confusionMatrix(allReference, allEstimate, vocabulary?.labels.length);
  return {
    majmin: rules.majmin, root: rules.root, frameAccuracy: frameAccuracy(allReference, allEstimate), confusion: confusion.counts as number[][],
    rules, noChordRecall: silence.seconds > 0 ? silence.recalled / silence.seconds : null,
    ...(vocabulary === undefined ? {} : { qualityRecall: qualityRecall(allReference, allEstimate, vocabulary) }),
  };
}

/** The reference's seconds that `rule` scores (not left out). */
function scoredSeconds(reference: readonly Segment[], rule: ChordRule): number {
  return reference.reduce((sum, segment) => sum + (compareChordLabels(segment.label, segment.label, rule) >= 0 ? segment.end - segment.start : 0), 0);
}
