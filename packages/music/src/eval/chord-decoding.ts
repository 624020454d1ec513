// Frame scores → frame labels, the three decoders the CLI offers:
//   'viterbi' — the sticky HMM's most likely path (viterbiDecode; self-transition p), or
//               with learned transitions (chord-transitions.ts) that HMM's,
//   'median'  — each frame's best class, then the majority in a centred window,
//   'none'    — each frame's best class.
// Scores are log-likelihood-like per class ([frames, classes], e.g. log-softmax of the
// negative template distances); the best class of a frame is the first largest score,
// as argmax picks it on the device. Viterbi here runs on the host (O(frames · classes),
// 20–45 ms for a 3-minute song; O(frames · classes²) with learned transitions);
// viterbiGraph is the same decoder as a graph.
// Family decoding (a vocabulary beyond majmin that the model was trained on): the decoder runs over triad families (C:maj,
// C:7 and C:maj7 are one), each frame's family score the log of its members' summed
// probabilities, and each run of one family then takes the member whose probability summed
// over the run is largest. On the held-out triad clips this read 93.1% majmin against 92.4%
// for Viterbi over the 61 sevenths classes, which splits a chord's probability among its
// variants and so loses frames to a neighbour whose probability is not split.

import type { NDArray } from '@theorbo/graph';
import { medianFilterFrames, scoreRows, viterbiDecode, type FrameScores } from './decode.ts';
import { vocabularyFamilies, type ChordVocabulary, type VocabularyName } from '../chords/vocabularies.ts';

export const chordDecoders = ['viterbi', 'median', 'none'] as const;
export type ChordDecoder = (typeof chordDecoders)[number];

export interface ChordDecoding {
  decoder: ChordDecoder;
  /** Viterbi's probability of staying on a class from one frame to the next (default 0.9). */
  selfTransition?: number;
  /** The median filter's odd window in frames (default 9). */
  medianWidth?: number;
  /** Each class's family (vocabularyFamilies): the decoder runs over families, then picks each run's member. */
  families?: ArrayLike<number>;
  /** Viterbi's log transition matrix over the decoded classes (or families), from chord-transitions.ts's transitionLogMatrix; default sticky (selfTransition). */
  transitions?: ArrayLike<number>;
}

export const chordDecodingDefaults = { selfTransition: 0.9, medianWidth: 9 } as const;

/** The best class of each frame (first largest score). */
export function frameArgmax(scores: FrameScores | NDArray): number[] {
  return scoreRows('frameArgmax', scores).map((row) => {
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
    return best;
  });
}

/**
 * The decoding used with a vocabulary by a model trained on `trained`: by triad families
 * where the vocabulary has classes beyond majmin and the model learned them, else as given.
 * Binary templates on a hand-designed chroma are left flat: their scores of a chord's
 * variants are no learned probabilities, and family decoding cost them 6 points of sevenths
 * on the held-out seventh-chord clips (28.9 → 22.6).
 */
export function decodingForVocabulary(decoding: ChordDecoding, vocabulary: ChordVocabulary, trained: VocabularyName): ChordDecoding {
  return vocabulary.name === 'majmin' || trained !== vocabulary.name ? decoding : { ...decoding, families: vocabularyFamilies(vocabulary) };
}

/** Frame labels from log scores [frames, classes] by the chosen decoder (over families when the decoding names them). */
export function decodeChordFrames(logScores: FrameScores, decoding: ChordDecoding): number[] {
  if (decoding.families !== undefined) return decodeByFamilies(logScores, decoding, decoding.families);
  switch (decoding.decoder) {
    case 'viterbi': return viterbiDecode(logScores, { selfTransition: decoding.selfTransition ?? chordDecodingDefaults.selfTransition, scores: 'logProbabilities', ...(decoding.transitions === undefined ? {} : { transitions: decoding.transitions }) });
    case 'median': return medianFilterFrames(frameArgmax(logScores), decoding.medianWidth ?? chordDecodingDefaults.medianWidth);
    case 'none': return frameArgmax(logScores);
    default: throw new Error(`decodeChordFrames: the decoder must be one of ${chordDecoders.join(', ')}, not '${String(decoding.decoder)}'.`);
  }
}

function decodeByFamilies(logScores: FrameScores, decoding: ChordDecoding, families: ArrayLike<number>): number[] {
  const rows = scoreRows('decodeChordFrames', logScores);
  if (rows.length === 0) return [];
  const classes = rows[0]!.length;
  if (families.length !== classes) throw new Error(`decodeChordFrames: ${families.length} class families were given for scores of ${classes} classes.`);
  let count = 0;
  for (let k = 0; k < classes; k++) {
    const family = families[k]!;
    if (!Number.isInteger(family) || family < 0) throw new Error(`decodeChordFrames: class ${k}'s family is ${family}; families are whole numbers ≥ 0.`);
    count = Math.max(count, family + 1);
  }
  const probabilities = rows.map((row) => Float64Array.from(row, Math.exp));
  // A family without members (or whose members all underflow) gets the floor viterbiDecode gives a zero probability.
  const familyScores = probabilities.map((row) => {
    const sums = new Float64Array(count);
    for (let k = 0; k < classes; k++) sums[families[k]!]! += row[k]!;
    return sums.map((sum) => Math.log(Math.max(sum, 1e-30)));
  });
  return familyMembers(decodeChordFrames(familyScores, { ...decoding, families: undefined }), rows, families);
}

/**
 * Classes from a path of families: each run of one family takes its member whose
 * probability summed over the run is largest (`logScores` [frames, classes]; the path may
 * come from elsewhere, e.g. a device's Viterbi over the family scores).
 */
export function familyMembers(path: ArrayLike<number>, logScores: FrameScores, families: ArrayLike<number>): number[] {
  const probabilities = scoreRows('familyMembers', logScores).map((row) => Float64Array.from(row, Math.exp));
  if (probabilities.length !== path.length) throw new Error(`familyMembers: a path of ${path.length} frames and scores of ${probabilities.length} frames.`);
  const out = new Array<number>(path.length);
  for (let start = 0, end = 1; start < path.length; start = end, end = start + 1) {
    while (end < path.length && path[end] === path[start]) end++;
    let best = -1, bestSum = -Infinity;
    for (let k = 0; k < families.length; k++) {
      if (families[k] !== path[start]) continue;
      let sum = 0;
      for (let t = start; t < end; t++) sum += probabilities[t]![k]!;
      if (sum > bestSum) { best = k; bestSum = sum; }
    }
    out.fill(best, start, end);
  }
  return out;
}
