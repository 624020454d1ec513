// The second tempo's octave, learned (issue 18). A tempo annotation holds two metrical
// levels (mir_eval, MIREX): the beat and the neighbouring level a listener taps. Which
// neighbour (half or double) is not in the tempogram: listeners tap near 120 BPM, so the
// double of a slow beat and the half of a fast one, but a swung beat's eighths are
// uneven and nobody taps them, so its second level is the half whatever the tempo
// (McKinney and Moelants 2006; data/rhythm-tracks.ts annotates its tracks so). The
// designed choice (tempoPair) takes the relative the tempogram scores higher, and on
// validation tracks that is where most of the fine-tuned front end's lost tempo P-score
// lay: a straight beat near 115 BPM given its half, a swung slow one its double.
// Here the choice reads two numbers: the first tempo, and the track's swing, the beat
// phase of its off-beat eighth (0.5 straight, ~0.6 swung) measured after beat tracking:
// the onset envelope between consecutive beats is folded into a histogram of beat phase
// (96 bins), and the swing is the s in [0.5, 0.68] whose comb (Gaussians of σ 0.015 at
// phases s/2, s and (1 + s)/2: the swung sixteenths and eighth) holds most of it. A rule
// of two thresholds, learned (a grid search on labelled training tracks, the one with
// the best mean P-score; ties keep the split nearer 120 BPM and the lower swing): the
// half when the first tempo is at or above splitBpm or the swing above swingThreshold,
// else the double. A front end without them keeps the designed choice.
// Left out: metres other than 4/4 and triplet feels (the comb would read them as swing).

import { tempoPScore } from '../eval/rhythm.ts';
import { beatTrack } from './beat.ts';

/** The beat-phase histogram's bins and the swing comb's search (see the file comment). */
export const swingDefaults = { bins: 96, sigma: 0.015, min: 0.5, max: 0.68, step: 0.0025 } as const;

/** The onset envelope [nFrames] folded over beat phase: each frame between beats b_k and b_k+1 adds its value to bin ⌊bins·(t − b_k)/(b_k+1 − b_k)⌋; normalized to sum 1 (all 0 with fewer than two beats or no mass). */
export function beatPhaseHistogram(envelope: ArrayLike<number>, beatFrames: ArrayLike<number>, bins: number = swingDefaults.bins): Float64Array {
  if (!(Number.isInteger(bins) && bins >= 4)) throw new Error(`beatPhaseHistogram: bins ${bins} must be an integer of at least 4`);
  const histogram = new Float64Array(bins);
  for (let k = 0; k + 1 < beatFrames.length; k++) {
    const start = beatFrames[k]!, end = Math.min(beatFrames[k + 1]!, envelope.length);
    for (let t = start; t < end; t++) histogram[Math.min(bins - 1, Math.floor(((t - start) / (beatFrames[k + 1]! - start)) * bins))]! += envelope[t]!;
  }
  const total = histogram.reduce((sum, value) => sum + value, 0);
  return total > 0 ? histogram.map((value) => value / total) : histogram;
}

/** The swing of a beat-phase histogram: the phase of the off-beat eighth in [0.5, 0.68] whose comb fits best (0.5, straight, when the histogram is empty). */
export function estimateSwing(histogram: ArrayLike<number>): number {
  const { sigma, min, max, step } = swingDefaults;
  const bins = histogram.length;
  let best: number = min, bestFit = 0;
  for (let i = 0; min + i * step <= max + 1e-9; i++) {
    const swing = min + i * step;
    let fit = 0;
    for (let b = 0; b < bins; b++) {
      const phase = (b + 0.5) / bins;
      for (const peak of [swing / 2, swing, (1 + swing) / 2]) fit += histogram[b]! * Math.exp(-0.5 * ((phase - peak) / sigma) ** 2);
    }
    if (fit > bestFit) [best, bestFit] = [swing, fit];
  }
  return best;
}

export interface SecondTempoRule {
  /** From this first tempo up the second is the half. */
  splitBpm: number;
  /** Above this swing the second is the half at any tempo. */
  swingThreshold: number;
}

/** The second tempo by the rule: half of `first` when first ≥ splitBpm or swing > swingThreshold, else double. */
export function secondTempo(first: number, swing: number, rule: SecondTempoRule): number {
  return first >= rule.splitBpm || swing > rule.swingThreshold ? first / 2 : 2 * first;
}

export interface SecondTempoExample {
  first: number;
  swing: number;
  /** The labelled two tempi and the salience of the first (tempoPScore's). */
  tempi: readonly [number, number];
  salience: number;
}

/** The grid the rule is learned on: splits 90 … 150 BPM by 2.5, swing thresholds 0.5 … 0.62 by 0.0025. */
export const secondTempoGrid = {
  splitBpm: Array.from({ length: 25 }, (_, i) => 90 + 2.5 * i),
  swingThreshold: Array.from({ length: 49 }, (_, i) => Math.round((0.5 + 0.0025 * i) * 1e4) / 1e4),
} as const;

/** The rule with the best mean tempo P-score on labelled examples (see the file comment); the mean P-score is returned with it. */
export function fitSecondTempoRule(examples: readonly SecondTempoExample[]): { rule: SecondTempoRule; pScore: number } {
  if (examples.length === 0) throw new Error('fitSecondTempoRule: needs at least one labelled example');
  const splits = [...secondTempoGrid.splitBpm].sort((a, b) => Math.abs(a - 120) - Math.abs(b - 120) || a - b);
  let best: SecondTempoRule = { splitBpm: 120, swingThreshold: 0.5 }, bestScore = -1;
  for (const splitBpm of splits) {
    for (const swingThreshold of secondTempoGrid.swingThreshold) {
      const rule = { splitBpm, swingThreshold };
      const score = examples.reduce((sum, e) => sum + tempoPScore(e.tempi, e.salience, [e.first, secondTempo(e.first, e.swing, rule)]).pScore, 0) / examples.length;
      if (score > bestScore + 1e-12) [best, bestScore] = [rule, score];
    }
  }
  return { rule: best, pScore: bestScore };
}

/** The swing of one track: its beats tracked on `beatEnvelope` [nFrames] at `bpm`, then `onsetEnvelope` [nFrames] folded over their phase (0.5 with fewer than two beats). */
export function trackSwing(onsetEnvelope: ArrayLike<number>, beatEnvelope: ArrayLike<number>, bpm: number): number {
  const beats = bpm > 0 ? beatTrack(beatEnvelope, { bpm }).frames : new Int32Array(0);
  return estimateSwing(beatPhaseHistogram(onsetEnvelope, beats));
}
