// Onset, tempo and beat evaluation with mir_eval's definitions (onset, tempo and beat
// modules), times in seconds:
//   onsetScores: F-measure, precision, recall of a maximum matching within 50 ms.
//   tempoPScore: the reference holds two tempi and the salience of the first; each
//     reference tempo is hit when some estimated tempo is within 8% of it; the P-score is
//     salience·hit₁ + (1 − salience)·hit₂. A method that gives one tempo passes it twice.
//   beatFMeasure: as onsets, with a 70 ms window.
//   cemgil: Σ over reference beats of exp(−d²/2σ²), d the distance to the nearest
//     estimate, σ = 40 ms, over the mean of the two counts; also the best over the
//     reference's metrical variations (below).
//   continuity: CMLc, CMLt, AMLc, AMLt (Hainsworth, Klapuri): estimate m is correct when
//     its nearest unused reference beat is within 17.5% of the reference interval in phase
//     and its own interval is within 17.5% of that interval (looking forward at the first
//     beat); c is the longest correct run, t all correct beats, over the longer list; CML
//     against the reference, AML the best over its variations.
//   Variations: the reference, the off-beats (midpoints), double tempo (both), half tempo
//     on the odd beats and on the even beats.
// beatScores trims beats before 5 s from both lists first, as mir_eval.beat.evaluate does;
// the single metrics do not. Left out: P-score's and Goto's and information gain.

import { checkEvents, eventScores, type EventScores } from './events.ts';

export const onsetWindow = 0.05;
export const beatWindow = 0.07;

/** mir_eval.onset.f_measure: a maximum matching within `window` seconds (default 50 ms). */
export function onsetScores(reference: ArrayLike<number>, estimate: ArrayLike<number>, window = onsetWindow): EventScores {
  return eventScores('onsetScores', reference, estimate, window);
}

export interface TempoScores {
  pScore: number;
  /** Some reference tempo was hit. */
  oneCorrect: boolean;
  /** Both were. */
  bothCorrect: boolean;
}

/** mir_eval.tempo.detection: `reference` two tempi (one may be 0), `salience` the weight of the first, `estimate` two tempi. */
export function tempoPScore(reference: readonly [number, number], salience: number, estimate: readonly [number, number], tolerance = 0.08): TempoScores {
  if (reference.length !== 2 || estimate.length !== 2) throw new Error(`tempoPScore: needs two reference and two estimated tempi, but got ${reference.length} and ${estimate.length}`);
  if (!reference.every((t) => Number.isFinite(t) && t >= 0) || !reference.some((t) => t > 0)) throw new Error(`tempoPScore: the reference tempi [${reference.join(', ')}] must be non-negative with one above 0`);
  if (!estimate.every((t) => Number.isFinite(t) && t >= 0)) throw new Error(`tempoPScore: the estimated tempi [${estimate.join(', ')}] must be non-negative`);
  if (!(salience >= 0 && salience <= 1)) throw new Error(`tempoPScore: salience ${salience} must lie in [0, 1]`);
  if (!(tolerance >= 0 && tolerance <= 1)) throw new Error(`tempoPScore: tolerance ${tolerance} must lie in [0, 1]`);
  const hits = reference.map((t) => t > 0 && Math.min(...estimate.map((e) => Math.abs(t - e) / t)) <= tolerance);
  return { pScore: salience * Number(hits[0]) + (1 - salience) * Number(hits[1]), oneCorrect: hits[0]! || hits[1]!, bothCorrect: hits[0]! && hits[1]! };
}

/** Beats at or after `minBeatTime` seconds (mir_eval.beat.trim_beats; default 5 s). */
export function trimBeats(beats: ArrayLike<number>, minBeatTime = 5): Float64Array {
  return Float64Array.from(beats).filter((t) => t >= minBeatTime);
}

/** mir_eval.beat.f_measure: a maximum matching within `window` seconds (default 70 ms). */
export function beatFMeasure(reference: ArrayLike<number>, estimate: ArrayLike<number>, window = beatWindow): number {
  return eventScores('beatFMeasure', reference, estimate, window).fMeasure;
}

/** The reference and its metrical variations: off-beat, double, half (odd beats), half (even beats). */
export function beatVariations(reference: ArrayLike<number>): Float64Array[] {
  const beats = Float64Array.from(reference);
  const n = beats.length;
  const double = Float64Array.from({ length: Math.max(0, 2 * n - 1) }, (_, i) => (i % 2 === 0 ? beats[i / 2]! : (beats[(i - 1) / 2]! + beats[(i + 1) / 2]!) / 2));
  return [beats, double.filter((_, i) => i % 2 === 1), double, beats.filter((_, i) => i % 2 === 0), beats.filter((_, i) => i % 2 === 1)];
}

/** mir_eval.beat.cemgil: [accuracy against the reference, best over its variations]. */
export function cemgil(reference: ArrayLike<number>, estimate: ArrayLike<number>, sigma = 0.04): [number, number] {
  checkEvents('cemgil', 'reference', reference);
  checkEvents('cemgil', 'estimated', estimate);
  if (reference.length === 0 || estimate.length === 0) return [0, 0];
  const accuracies = beatVariations(reference).map((beats) => {
    let sum = 0;
    for (const beat of beats) {
      let nearest = Infinity;
      for (let i = 0; i < estimate.length; i++) nearest = Math.min(nearest, Math.abs(beat - estimate[i]!));
      sum += Math.exp(-(nearest ** 2) / (2 * sigma ** 2));
    }
    return sum / (0.5 * (estimate.length + beats.length));
  });
  return [accuracies[0]!, Math.max(...accuracies)];
}

export interface ContinuityScores {
  cmlc: number;
  cmlt: number;
  amlc: number;
  amlt: number;
}

/** The longest run of correct beats and the count of correct beats, each over max(reference, estimate) beats. */
function continuityAgainst(reference: Float64Array, estimate: ArrayLike<number>, phaseThreshold: number, periodThreshold: number): [number, number] {
  const size = Math.max(reference.length, estimate.length);
  const used = new Uint8Array(reference.length);
  const correct = new Uint8Array(size);
  for (let m = 0; m < estimate.length; m++) {
    let nearest = 0;
    for (let r = 1; r < reference.length; r++) if (Math.abs(estimate[m]! - reference[r]!) < Math.abs(estimate[m]! - reference[nearest]!)) nearest = r;
    if (used[nearest]) continue;
    const distance = Math.abs(estimate[m]! - reference[nearest]!);
    let referenceInterval: number;
    let estimateInterval: number;
    if (m === 0 || nearest === 0) {
      // At the start, look forward (backward when there is nothing after).
      // (A variation of one beat has no interval: numpy's index −1 is that beat itself, giving 0.)
      referenceInterval = nearest + 1 < reference.length ? reference[nearest + 1]! - reference[nearest]! : reference[nearest]! - reference.at(nearest - 1)!;
      estimateInterval = m + 1 < estimate.length ? estimate[m + 1]! - estimate[m]! : estimate[m]! - estimate[m - 1]!;
    } else {
      referenceInterval = reference[nearest]! - reference[nearest - 1]!;
      estimateInterval = estimate[m]! - estimate[m - 1]!;
    }
    // Repeated beats (a zero interval) match only exactly, as in mir_eval.
    const phase = referenceInterval === 0 ? (distance === 0 ? 1 : Infinity) : Math.abs(distance / referenceInterval);
    const period = referenceInterval === 0 ? (estimateInterval === 0 ? 0 : Infinity) : Math.abs(1 - estimateInterval / referenceInterval);
    if (phase < phaseThreshold && period < periodThreshold) {
      used[nearest] = 1;
      correct[m] = 1;
    }
  }
  let longest = 0;
  let run = 0;
  let total = 0;
  for (const value of correct) {
    run = value ? run + 1 : 0;
    longest = Math.max(longest, run);
    total += value;
  }
  return [longest / size, total / size];
}

/** mir_eval.beat.continuity: CMLc, CMLt, AMLc, AMLt (0 when either list has fewer than two beats). */
export function continuity(reference: ArrayLike<number>, estimate: ArrayLike<number>, phaseThreshold = 0.175, periodThreshold = 0.175): ContinuityScores {
  checkEvents('continuity', 'reference', reference);
  checkEvents('continuity', 'estimated', estimate);
  if (reference.length <= 1 || estimate.length <= 1) return { cmlc: 0, cmlt: 0, amlc: 0, amlt: 0 };
  const scores = beatVariations(reference).map((beats) => continuityAgainst(beats, estimate, phaseThreshold, periodThreshold));
  return { cmlc: scores[0]![0], cmlt: scores[0]![1], amlc: Math.max(...scores.map((s) => s[0])), amlt: Math.max(...scores.map((s) => s[1])) };
}

export interface BeatScores extends ContinuityScores {
  fMeasure: number;
  cemgil: number;
  cemgilBestVariation: number;
}

/** mir_eval.beat.evaluate's F-measure, Cemgil and continuity scores, after trimming beats before `minBeatTime` (5 s). */
export function beatScores(reference: ArrayLike<number>, estimate: ArrayLike<number>, minBeatTime = 5): BeatScores {
  const [trimmedReference, trimmedEstimate] = [trimBeats(reference, minBeatTime), trimBeats(estimate, minBeatTime)];
  const [cemgilScore, cemgilBestVariation] = cemgil(trimmedReference, trimmedEstimate);
  return { fMeasure: beatFMeasure(trimmedReference, trimmedEstimate), cemgil: cemgilScore, cemgilBestVariation, ...continuity(trimmedReference, trimmedEstimate) };
}
