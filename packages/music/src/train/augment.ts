// Data augmentation on host batches, for train()'s `augment` hook.
// Pitch shifting of log-frequency features (CQT, chroma) is a rotation along the bin
// axis: shifting up by s semitones moves bin b to bin b + s·binsPerSemitone, and the
// labels are transposed by s through a caller's function (the chord vocabulary's
// transposeChord, which keeps 'no chord' fixed). The rotation wraps around, which is
// exact for chroma (pitch classes are a circle) and an approximation for a CQT, whose top
// bins re-enter at the bottom. Additive noise is gaussian at a fixed standard deviation
// or at a signal-to-noise ratio in dB measured per example.
// Shapes: features [n, ..., bins] (the last axis is rotated; the first counts examples);
// labels [n, ...] (every label of an example is transposed by that example's shift).
// Left out: time stretching, spectral masking, mixing examples.

import { NDArray } from '@theorbo/graph';
import type { AugmentHook } from './train.ts';
import type { SeededRandom } from '../random/seeded-random.ts';

/** Rolls each example's last axis by shifts[i]·binsPerSemitone bins (a positive shift moves energy up). */
function rotateExamples(features: NDArray, shifts: ArrayLike<number>, binsPerSemitone: number): NDArray {
  if (features.ndim < 2) throw new Error(`rotateBins: features must be [examples, ..., bins], not [${features.shape.join(', ')}]`);
  if (!Number.isInteger(binsPerSemitone) || binsPerSemitone < 1) throw new Error(`rotateBins: binsPerSemitone must be a positive whole number, not ${binsPerSemitone}`);
  const bins = features.shape[features.ndim - 1]!;
  const examples = features.shape[0]!;
  const perExample = features.size / Math.max(1, examples);
  const out = features.data.slice();
  for (let i = 0; i < examples; i++) {
    const shift = (((shifts[i]! * binsPerSemitone) % bins) + bins) % bins;
    if (!Number.isInteger(shift)) throw new Error(`rotateBins: the shift of example ${i} (${shifts[i]} semitones) is not a whole number of semitones`);
    if (shift === 0) continue;
    for (let row = i * perExample; row < (i + 1) * perExample; row += bins) {
      for (let b = 0; b < bins; b++) out[row + ((b + shift) % bins)] = features.data[row + b]!;
    }
  }
  return new NDArray(features.dtype, features.shape, out);
}

/** The features with every example pitch-shifted by `semitones` (a rotation along the last axis). */
export function rotateBins(features: NDArray, semitones: number, binsPerSemitone = 1): NDArray {
  return rotateExamples(features, new Array<number>(features.shape[0] ?? 0).fill(semitones), binsPerSemitone);
}

/** The labels with every label of example i mapped through transpose(label, shifts[i]). */
export function transposeLabels(labels: NDArray, shifts: ArrayLike<number>, transpose: (label: number, semitones: number) => number): NDArray {
  const examples = labels.shape[0] ?? 1;
  const perExample = labels.size / Math.max(1, examples);
  const out = labels.data.slice();
  for (let i = 0; i < labels.size; i++) out[i] = transpose(labels.data[i]!, shifts[Math.floor(i / perExample)]!);
  return new NDArray(labels.dtype, labels.shape, out);
}

export interface PitchShiftOptions {
  /** Shifts are drawn uniformly from −maxSemitones..maxSemitones, one per example. */
  maxSemitones: number;
  binsPerSemitone?: number;
  /** Which batch arrays hold the features and the labels (defaults 0 and 1). */
  featureIndex?: number;
  labelIndex?: number;
  /** Maps a label and a shift in semitones to the shifted label (e.g. transposeChord). */
  transposeLabel: (label: number, semitones: number) => number;
}

/** An augment hook that pitch-shifts each example by a random whole number of semitones and transposes its labels. */
export function pitchShiftAugmentation(options: PitchShiftOptions): AugmentHook {
  const { maxSemitones, binsPerSemitone = 1, featureIndex = 0, labelIndex = 1, transposeLabel } = options;
  if (!Number.isInteger(maxSemitones) || maxSemitones < 0) throw new Error(`pitchShiftAugmentation: maxSemitones must be a whole number ≥ 0, not ${maxSemitones}`);
  return (batch, random) => {
    const features = batch[featureIndex];
    const labels = batch[labelIndex];
    if (!features || !labels) throw new Error(`pitchShiftAugmentation: the batch has ${batch.length} arrays, so feature index ${featureIndex} or label index ${labelIndex} is missing`);
    const shifts = Int32Array.from({ length: features.shape[0]! }, () => random.integer(-maxSemitones, maxSemitones));
    const out = [...batch];
    out[featureIndex] = rotateExamples(features, shifts, binsPerSemitone);
    out[labelIndex] = transposeLabels(labels, shifts, transposeLabel);
    return out;
  };
}

export type NoiseLevel = { std: number } | { snrDb: number };

/** The features plus gaussian noise: of a fixed standard deviation, or at an SNR (dB) relative to each example's mean power. */
export function addNoise(features: NDArray, level: NoiseLevel, random: SeededRandom): NDArray {
  if (features.dtype !== 'float32' && features.dtype !== 'float64') throw new Error(`addNoise: features must be float32 or float64, not ${features.dtype}`);
  const examples = features.ndim === 0 ? 1 : features.shape[0]!;
  const perExample = features.size / Math.max(1, examples);
  const out = features.data.slice();
  for (let i = 0; i < examples; i++) {
    const start = i * perExample;
    let std: number;
    if ('std' in level) {
      std = level.std;
    } else {
      let power = 0;
      for (let k = start; k < start + perExample; k++) power += features.data[k]! ** 2;
      std = Math.sqrt(power / perExample / 10 ** (level.snrDb / 10));
    }
    if (!(std >= 0)) throw new Error(`addNoise: the noise's standard deviation must be ≥ 0, not ${std}`);
    for (let k = start; k < start + perExample; k++) out[k] = features.data[k]! + std * random.normal();
  }
  return new NDArray(features.dtype, features.shape, out);
}

/** An augment hook adding noise to one batch array (default the first). */
export function noiseAugmentation(level: NoiseLevel, featureIndex = 0): AugmentHook {
  return (batch, random) => batch.map((array, i) => (i === featureIndex ? addNoise(array, level, random) : array));
}

/** Several augment hooks applied in order, each with the same random stream. */
export function composeAugmentations(...hooks: AugmentHook[]): AugmentHook {
  return (batch, random) => hooks.reduce((current, hook) => hook(current, random), batch);
}
