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
// each frame of the onset envelope between consecutive beats is placed at its beat phase,
// weighted by its value, and the swing is the s in [0.5, 0.68] whose comb (Gaussians of
// σ 0.015 at phases s/2, s and (1 + s)/2: the swung sixteenths and eighth) holds most of
// that mass; 0.5 when under a tenth of the mass lies between phases 0.15 and 0.85 (no
// off-beat events to be swung). An envelope peaks a little after its sound starts, and
// more so after a quiet beat than a loud one, so straight tracks read 0.5 to 0.55 (click
// tracks; the learned threshold is in these units). A rule of two thresholds, learned by
// a grid search on labelled training tracks (fitSecondTempoRule, the best mean
// P-score): the half when the first tempo is at or above splitBpm or the swing above
// swingThreshold, else the double. The training tracks' envelopes come from a network
// trained on those tracks, so their swing may read cleaner than an unheard track's; the
// validation tracks, never heard in training, measured the rule. A front end without a rule
// keeps the designed choice.
// Left out: metres other than 4/4 and triplet feels (the comb would read them as swing).

import { tempoPScore } from '../eval/rhythm.ts';
import { beatTrack } from './beat.ts';

/** The swing comb's width and search, and the least share of the envelope's mass between phases 0.15 and 0.85 that says there are off-beat events at all (see the file comment). */
export const swingDefaults = { sigma: 0.015, min: 0.5, max: 0.68, step: 0.0025, offBeatShare: 0.1 } as const;

/** The onset envelope [nFrames] folded over beat phase: each frame t between beats b_k and b_k+1 at phase (t − b_k)/(b_k+1 − b_k), weighted by its value, the weights summing to 1 (none with fewer than two beats or no mass; frames past the envelope's end are left out). */
export function beatPhases(envelope: ArrayLike<number>, beatFrames: ArrayLike<number>): { phase: Float64Array; weight: Float64Array } {
  const phase: number[] = [], weight: number[] = [];
  for (let k = 0; k + 1 < beatFrames.length; k++) {
    const start = beatFrames[k]!, period = beatFrames[k + 1]! - start;
    for (let t = Math.max(0, start); t < Math.min(beatFrames[k + 1]!, envelope.length); t++) {
      if (envelope[t]! > 0) [phase[phase.length], weight[weight.length]] = [(t - start) / period, envelope[t]!];
    }
  }
  const total = weight.reduce((sum, value) => sum + value, 0);
  return { phase: Float64Array.from(phase), weight: Float64Array.from(weight, (value) => value / total) };
}

/**
 * The swing of an envelope folded over beat phase (beatPhases): the phase of the off-beat eighth in [0.5, 0.68] whose
 * comb fits best, to 4 decimals; 0.5 (straight) when under offBeatShare of the mass lies off the beat (a track of
 * quarter notes has no eighth to be swung) or there is none. Ties keep the straighter.
 */
export function estimateSwing(folded: { phase: ArrayLike<number>; weight: ArrayLike<number> }): number {
  const { sigma, min, max, step, offBeatShare } = swingDefaults;
  const { phase, weight } = folded;
  let offBeat = 0;
  for (let i = 0; i < phase.length; i++) if (phase[i]! >= 0.15 && phase[i]! < 0.85) offBeat += weight[i]!;
  if (!(offBeat >= offBeatShare)) return min;
  let best: number = min, bestFit = 0;
  for (let j = 0; min + j * step <= max + 1e-9; j++) {
    const swing = min + j * step;
    let fit = 0;
    for (let i = 0; i < phase.length; i++) {
      for (const peak of [swing / 2, swing, (1 + swing) / 2]) fit += weight[i]! * Math.exp(-0.5 * ((phase[i]! - peak) / sigma) ** 2);
    }
    if (fit > bestFit) [best, bestFit] = [swing, fit];
  }
  return Math.round(best * 1e4) / 1e4;
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

/**
 * The rule with the best mean tempo P-score on labelled examples, returned with it: of the best splits the one
 * nearest 120 BPM (then the lower), and of that split's best swing thresholds the middle one (the lower of two
 * middles), so the boundary sits between the examples it separates rather than on one of them.
 */
export function fitSecondTempoRule(examples: readonly SecondTempoExample[]): { rule: SecondTempoRule; pScore: number } {
  if (examples.length === 0) throw new Error('fitSecondTempoRule: needs at least one labelled example');
  const mean = (rule: SecondTempoRule): number => examples.reduce((sum, e) => sum + tempoPScore(e.tempi, e.salience, [e.first, secondTempo(e.first, e.swing, rule)]).pScore, 0) / examples.length;
  const splits = [...secondTempoGrid.splitBpm].sort((a, b) => Math.abs(a - 120) - Math.abs(b - 120) || a - b);
  let best = { splitBpm: 120, thresholds: [] as number[], score: -1 };
  for (const splitBpm of splits) {
    const scores = secondTempoGrid.swingThreshold.map((swingThreshold) => mean({ splitBpm, swingThreshold }));
    const top = Math.max(...scores);
    if (top > best.score + 1e-12) best = { splitBpm, thresholds: secondTempoGrid.swingThreshold.filter((_, i) => scores[i]! >= top - 1e-12), score: top };
  }
  const swingThreshold = best.thresholds[(best.thresholds.length - 1) >> 1]!;
  return { rule: { splitBpm: best.splitBpm, swingThreshold }, pScore: best.score };
}

/** The swing of one track: its beats tracked on `beatEnvelope` [nFrames] at `bpm`, then `onsetEnvelope` [nFrames] folded over their phase (0.5 with fewer than two beats). */
export function trackSwing(onsetEnvelope: ArrayLike<number>, beatEnvelope: ArrayLike<number>, bpm: number): number {
  const beats = bpm > 0 ? beatTrack(beatEnvelope, { bpm }).frames : new Int32Array(0);
  return estimateSwing(beatPhases(onsetEnvelope, beats));
}
