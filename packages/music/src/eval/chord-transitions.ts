// Learned chord transitions for Viterbi: how often each class follows each other one from
// frame to frame, counted over labelled chord sequences (.lab files, or a data set's
// segments) at the frame rate the decoder reads, and turned into the HMM's transition
// matrix (log of (count + 1) / row total: the maximum-likelihood estimate with add-one
// smoothing, as transitionsFromLabels gives viterbiGraph). A decoder over triad families
// (chord-decoding.ts) reads the counts summed over each family's members.
// The counts keep the frame rate they were taken at (hop, sample rate) and their
// vocabulary; a decoder at another rate or over another vocabulary refuses them, since a
// stay probability per frame means another thing at another rate.
// File format (JSON): { "format": "theorbo-chord-transitions", "version": 1, "vocabulary",
// "hop", "sampleRate", "frames", "counts": [[...], ...] } with counts[from][to].

import type { Segment } from '../chords/lab-format.ts';
import type { ChordVocabulary, VocabularyName } from '../chords/vocabularies.ts';
import { vocabularyNames } from '../chords/vocabularies.ts';
import { segmentsToFrames } from './decode.ts';
import type { ChordDecoding } from './chord-decoding.ts';

export const chordTransitionsFormat = 'theorbo-chord-transitions';

export interface ChordTransitions {
  vocabulary: VocabularyName;
  hop: number;
  sampleRate: number;
  /** Frames counted (transitions are frames − sequences, less the frames left out). */
  frames: number;
  /** counts[from][to]: frame-to-frame transitions between the vocabulary's classes. */
  counts: number[][];
}

/**
 * Transition counts over label sequences of class indices (−1: a frame the vocabulary
 * cannot say, which breaks the sequence there).
 */
export function countTransitions(sequences: readonly ArrayLike<number>[], classes: number): Float64Array {
  const counts = new Float64Array(classes * classes);
  sequences.forEach((labels, s) => {
    for (let t = 0; t < labels.length; t++) {
      const label = labels[t]!;
      if (!Number.isInteger(label) || label < -1 || label >= classes) throw new Error(`countTransitions: sequence ${s} frame ${t} has the label ${label}, outside 0–${classes - 1} (or −1 for a frame left out).`);
      const previous = t > 0 ? labels[t - 1]! : -1;
      if (label >= 0 && previous >= 0) counts[previous * classes + label]!++;
    }
  });
  return counts;
}

/**
 * Counts from chord segments (each a .lab file's or a clip's, Harte labels; a bass is set
 * aside), framed as the decoder frames audio: frame f centred at f·hop.
 */
export function chordTransitionsFromSegments(sequences: readonly (readonly Segment[])[], vocabulary: ChordVocabulary, hop: number, sampleRate: number): ChordTransitions {
  if (!(hop > 0 && sampleRate > 0)) throw new Error(`chordTransitionsFromSegments: hop ${hop} and sample rate ${sampleRate} must be positive.`);
  let frames = 0;
  const labels = sequences.map((segments) => {
    const end = segments.reduce((last, segment) => Math.max(last, segment.end), 0);
    const count = Math.floor((end * sampleRate) / hop) + 1;
    frames += count;
    return segmentsToFrames(segments, count, hop, sampleRate, { offset: -hop / 2 / sampleRate, fill: -1, indexOf: (label) => vocabulary.indexOf(label.split('/')[0]!) });
  });
  const classes = vocabulary.labels.length;
  const flat = countTransitions(labels, classes);
  const counts = Array.from({ length: classes }, (_, j) => Array.from(flat.subarray(j * classes, (j + 1) * classes)));
  return { vocabulary: vocabulary.name, hop, sampleRate, frames, counts };
}

/**
 * The log transition matrix [from · classes + to] for a decoder over `vocabulary`'s
 * classes, or over their families when `families` is given (family counts are the sums of
 * their members'); add-one smoothing. Counts of another vocabulary or frame rate are refused.
 */
export function transitionLogMatrix(transitions: ChordTransitions, vocabulary: ChordVocabulary, frame: { hop: number; sampleRate: number }, families?: ArrayLike<number>): Float64Array {
  if (transitions.vocabulary !== vocabulary.name) throw new Error(`chord transitions: the counts are over the ${transitions.vocabulary} vocabulary, the decoder's is ${vocabulary.name}; count them again with --vocab ${vocabulary.name}.`);
  if (transitions.hop / transitions.sampleRate !== frame.hop / frame.sampleRate) {
    throw new Error(`chord transitions: the counts are per frame of ${transitions.hop} samples at ${transitions.sampleRate} Hz, the model's frames are ${frame.hop} samples at ${frame.sampleRate} Hz; count them again at the model's rate.`);
  }
  const classes = vocabulary.labels.length;
  if (transitions.counts.length !== classes) throw new Error(`chord transitions: ${transitions.counts.length} classes counted, the ${vocabulary.name} vocabulary has ${classes}.`);
  const group = families === undefined ? Int32Array.from({ length: classes }, (_, k) => k) : Int32Array.from(families);
  const size = Math.max(...group) + 1;
  const summed = new Float64Array(size * size);
  for (let j = 0; j < classes; j++) for (let k = 0; k < classes; k++) summed[group[j]! * size + group[k]!]! += transitions.counts[j]![k]!;
  return logTransitionRows(summed, size, 1);
}

/**
 * Counts [from · size + to] as log transition probabilities: each row's (count + smoothing)
 * over the row's total, in place (a row with nothing in it is uniform). The
 * maximum-likelihood HMM transition matrix.
 */
export function logTransitionRows(counts: Float64Array, size: number, smoothing: number): Float64Array {
  for (let j = 0; j < size; j++) {
    let total = 0;
    for (let k = 0; k < size; k++) total += counts[j * size + k]! + smoothing;
    for (let k = 0; k < size; k++) counts[j * size + k] = total > 0 ? Math.log((counts[j * size + k]! + smoothing) / total) : Math.log(1 / size);
  }
  return counts;
}

/** The JSON text of `transitions`. */
export function formatChordTransitions(transitions: ChordTransitions): string {
  return `${JSON.stringify({ format: chordTransitionsFormat, version: 1, ...transitions })}\n`;
}

/** Transitions from their JSON text; `source` names the file in errors. */
export function parseChordTransitions(text: string, source: string): ChordTransitions {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not chord transitions: ${(error as Error).message}`);
  }
  const object = value as Partial<ChordTransitions> & { format?: unknown; version?: unknown };
  if (typeof object !== 'object' || object === null || object.format !== chordTransitionsFormat) throw new Error(`${source}: not chord transitions (no "format": "${chordTransitionsFormat}").`);
  if (object.version !== 1) throw new Error(`${source}: chord transitions of version ${String(object.version)}; this Theorbo reads version 1.`);
  if (!(vocabularyNames as readonly unknown[]).includes(object.vocabulary)) throw new Error(`${source}: the vocabulary must be one of ${vocabularyNames.join(', ')}, not ${JSON.stringify(object.vocabulary)}.`);
  if (!(typeof object.hop === 'number' && object.hop > 0 && typeof object.sampleRate === 'number' && object.sampleRate > 0)) throw new Error(`${source}: hop and sampleRate must be positive numbers.`);
  const counts = object.counts;
  const square = Array.isArray(counts) && counts.every((row) => Array.isArray(row) && row.length === counts.length && row.every((count) => typeof count === 'number' && count >= 0 && Number.isFinite(count)));
  if (!square) throw new Error(`${source}: counts must be a square table of numbers ≥ 0.`);
  return { vocabulary: object.vocabulary!, hop: object.hop, sampleRate: object.sampleRate, frames: typeof object.frames === 'number' ? object.frames : 0, counts: counts! };
}

/** `decoding` (Viterbi, after decodingForVocabulary) with the learned transitions in the space it decodes: classes, or their families. */
export function withLearnedTransitions(decoding: ChordDecoding, transitions: ChordTransitions, vocabulary: ChordVocabulary, frame: { hop: number; sampleRate: number }): ChordDecoding {
  if (decoding.decoder !== 'viterbi') throw new Error(`chord transitions are Viterbi's; they mean nothing with the ${decoding.decoder} decoder.`);
  return { ...decoding, transitions: transitionLogMatrix(transitions, vocabulary, frame, decoding.families) };
}
