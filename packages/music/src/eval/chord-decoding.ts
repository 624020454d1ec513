// Frame scores → frame labels, the three decoders the CLI offers:
//   'viterbi' — the sticky HMM's most likely path (viterbiDecode; self-transition p),
//   'median'  — each frame's best class, then the majority in a centred window,
//   'none'    — each frame's best class.
// Scores are log-likelihood-like per class ([frames, classes], e.g. log-softmax of the
// negative template distances); the best class of a frame is the first largest score,
// as argmax picks it on the device. Viterbi here runs on the host (O(frames · classes),
// 20–45 ms for a 3-minute song); viterbiGraph is the same decoder as a graph.

import type { NDArray } from '@theorbo/graph';
import { medianFilterFrames, scoreRows, viterbiDecode, type FrameScores } from './decode.ts';

export const chordDecoders = ['viterbi', 'median', 'none'] as const;
export type ChordDecoder = (typeof chordDecoders)[number];

export interface ChordDecoding {
  decoder: ChordDecoder;
  /** Viterbi's probability of staying on a class from one frame to the next (default 0.9). */
  selfTransition?: number;
  /** The median filter's odd window in frames (default 9). */
  medianWidth?: number;
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

/** Frame labels from log scores [frames, classes] by the chosen decoder. */
export function decodeChordFrames(logScores: FrameScores, decoding: ChordDecoding): number[] {
  switch (decoding.decoder) {
    case 'viterbi': return viterbiDecode(logScores, { selfTransition: decoding.selfTransition ?? chordDecodingDefaults.selfTransition, scores: 'logProbabilities' });
    case 'median': return medianFilterFrames(frameArgmax(logScores), decoding.medianWidth ?? chordDecodingDefaults.medianWidth);
    case 'none': return frameArgmax(logScores);
    default: throw new Error(`decodeChordFrames: the decoder must be one of ${chordDecoders.join(', ')}, not '${String(decoding.decoder)}'.`);
  }
}
