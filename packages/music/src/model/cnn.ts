// A small convolutional chord model on CQT patches: each frame's neighbourhood in time
// (patches.ts) is a one-channel image, convolved and pooled, then dense layers map it to
// the same 12-dimensional chroma-like output as the talk's network, trained with the
// same template loss, so template matching and the classifier evaluate it unchanged.
//   patches [N, context, bins] → [N, 1, context, bins]
//   → per conv layer: conv2d (kernel, bias; 'valid' in time, 'same' in frequency)
//     → relu → maxPool2d (optional)
//   → flatten → dense layers (relu, dropout before each) → 12 (linear)
// Convolving along frequency shares each filter across pitches, as pitch shifts are
// shifts along the CQT's bins. The defaults are what the demo measured best among the
// shapes that train in its time (see cnnDefaults). The output is linear, not half-wave
// rectified as the network's: a rectified output unit that dies leaves a pitch class at
// zero for every frame, and template matching then misses every chord that holds it.
// Left out: batch normalization, residual connections (recurrent smoothing over frames: crnn.ts).

import * as T from '@theorbo/graph';
import { transposeChord } from '../chords/vocabulary.ts';
import { composeAugmentations, noiseAugmentation, pitchShiftAugmentation } from '../train/augment.ts';
import { dropout, trainingFlag } from '../train/dropout.ts';
import type { AugmentHook } from '../train/train.ts';
import type { FeatureOptions } from './features.ts';
import { gaussian, withLoss, type ChromaModel, type TemplateLoss } from './models.ts';
import type { VocabularyName } from '../chords/vocabularies.ts';

export interface ConvLayer {
  filters: number;
  /** The kernel [time, frequency]: 'valid' along time (each layer narrows the context), 'same' along frequency. */
  kernel: [number, number];
  /** The max-pooling window [time, frequency] after the layer (default none). */
  pool?: [number, number];
}

export interface CnnShape {
  /** Frames on each side of the centre frame: patches are 2·radius + 1 frames long. */
  radius: number;
  convolutions: ConvLayer[];
  /** Sizes of the dense layers between the convolutions and the 12 outputs. */
  hidden: number[];
}

/**
 * Three frames (±1), eight 3×3 filters, 64 hidden units. On the demo's data (seed 7) this
 * scored 92–93 majmin with both evaluations; ±2 and ±4 frames pooled over time, a second
 * conv layer, 16 filters or pooling over frequency scored no better (pooling over
 * frequency 2 points worse) and took 1.5 to 7 times as long to train.
 */
export const cnnDefaults: CnnShape = { radius: 1, convolutions: [{ filters: 8, kernel: [3, 3] }], hidden: [64] };

/**
 * How the demo and `theorbo train --model cnn` train it: Adam at this rate, with the
 * learned chroma's augmentation (pitch shifts up to ±6 semitones, which rotate every
 * frame of a patch, and noise); without the pitch shifts it scored 3.5 points lower.
 */
export function cnnTraining(feature: Pick<FeatureOptions, 'binsPerOctave'>): { learningRate: number; augment: AugmentHook } {
  return {
    learningRate: 0.003,
    augment: composeAugmentations(
      pitchShiftAugmentation({ maxSemitones: 6, binsPerSemitone: feature.binsPerOctave / 12, transposeLabel: transposeChord }),
      noiseAugmentation({ std: 0.02 }),
    ),
  };
}

/** The shape in a few words, for logs and the report: "3 frames → conv 8 × 3×3 → 64 → 12". */
export function describeCnn(shape: CnnShape): string {
  const layers = shape.convolutions.map(({ filters, kernel, pool }) => `conv ${filters} × ${kernel.join('×')}${pool ? `, max-pool ${pool.join('×')}` : ''}`);
  return [`${2 * shape.radius + 1} frames`, ...layers, ...shape.hidden, 12].join(' → ');
}

/** The CNN's layers before its output: patches [N, 2·radius + 1, bins] → the last hidden layer [N, width]. */
export interface CnnTrunk {
  hidden: T.Variable;
  width: number;
  params: T.SharedVariable[];
  training?: T.SharedVariable;
  stream: T.RandomStreams;
}

/**
 * The convolutions and the dense hidden layers of the CNN on `patches`; `seed` draws the
 * initial weights. The CRNN (crnn.ts) runs its GRU over this trunk's frames.
 */
export function cnnTrunk(patches: T.Variable, bins: number, shape: CnnShape, seed: number, dropoutRate = 0): CnnTrunk {
  const context = 2 * shape.radius + 1;
  const params: T.SharedVariable[] = [];
  const training = dropoutRate > 0 ? trainingFlag() : undefined;
  const stream = new T.RandomStreams(seed + 1000);
  let layer: T.Variable = patches.dimshuffle(0, 'x', 1, 2);
  let [channels, height, width] = [1, context, bins];
  shape.convolutions.forEach(({ filters: count, kernel: [kernelTime, kernelFrequency], pool: [poolTime, poolFrequency] = [1, 1] }, i) => {
    if (kernelTime > height) throw new Error(`chromaCnn: conv layer ${i}'s kernel spans ${kernelTime} frames but only ${height} remain of the ${context}-frame patch; widen the radius or shorten the kernels`);
    const filters = T.shared(gaussian([count, channels, kernelTime, kernelFrequency], Math.sqrt(2 / (channels * kernelTime * kernelFrequency)), seed + 100 + i), `conv${i}_filters`);
    const bias = T.shared(new Float32Array(count), `conv${i}_bias`);
    params.push(filters, bias);
    const below = Math.floor((kernelFrequency - 1) / 2);
    layer = T.relu(T.conv2d(layer, filters, { padding: [[0, 0], [below, kernelFrequency - 1 - below]], bias }));
    if (poolTime > 1 || poolFrequency > 1) layer = T.maxPool2d(layer, [poolTime, poolFrequency]);
    [channels, height, width] = [count, Math.floor((height - kernelTime + 1) / poolTime), Math.floor(width / poolFrequency)];
  });
  layer = T.flatten(layer, 2);
  const sizes = [channels * height * width, ...shape.hidden];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const weights = T.shared(gaussian([sizes[i]!, sizes[i + 1]!], Math.sqrt(2 / sizes[i]!), seed + i), `dense${i}_weights`);
    const bias = T.shared(new Float32Array(sizes[i + 1]!), `dense${i}_bias`);
    params.push(weights, bias);
    if (training) layer = dropout(layer, dropoutRate, stream, training);
    layer = T.relu(T.dot(layer, weights).add(bias));
  }
  return { hidden: layer, width: sizes[sizes.length - 1]!, params, training, stream };
}

/** The CNN over patches [N, 2·radius + 1, bins]; `seed` draws its initial weights; trained on the classes of `vocabulary`. */
export function chromaCnn(bins: number, shape: CnnShape, seed: number, dropoutRate = 0, loss: TemplateLoss = 'distance', vocabulary: VocabularyName = 'majmin'): ChromaModel {
  const context = 2 * shape.radius + 1;
  const features = T.tensor('float32', [null, context, bins], 'cqt_patches');
  const trunk = cnnTrunk(features, bins, shape, seed, dropoutRate);
  const i = shape.hidden.length;
  const weights = T.shared(gaussian([trunk.width, 12], Math.sqrt(2 / trunk.width), seed + i), `dense${i}_weights`);
  const bias = T.shared(new Float32Array(12), `dense${i}_bias`);
  const hidden = trunk.training ? dropout(trunk.hidden, dropoutRate, trunk.stream, trunk.training) : trunk.hidden;
  // The pictured weights: the output layer's [hidden, 12], which show how the learned
  // features combine into pitch classes (the filters are 4-D and tiny).
  return withLoss(features, T.dot(hidden, weights).add(bias), [...trunk.params, weights, bias], weights, trunk.training, loss, T.ivector('target'), vocabulary);
}
