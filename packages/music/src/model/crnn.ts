// The CNN chord model with recurrent smoothing over frames (a CRNN): the CNN's trunk
// (cnn.ts: CQT patch → conv → dense hidden layer) runs on every frame of a sequence of
// consecutive frames, a GRU written with T.scan reads the trunk's features along time
// (forwards, and backwards too when bidirectional), and a dense layer maps the trunk's
// features and the GRU's states together to the same 12-dimensional chroma-like output
// as the other models, trained with the same template loss. Feeding the trunk's features
// to the output as well as the GRU's keeps the CNN's per-frame evidence one layer away.
// Shapes (time-major inside, as T.scan iterates its sequences' first axis):
//   sequences [clips, frames, 2·radius + 1, bins] → rows [clips·frames, context, bins]
//   → trunk [clips·frames, hidden] → gate inputs [frames, clips, 3·gru]
//   → GRU states [frames, clips, gru] (per direction) → [clips·frames, hidden + directions·gru]
//   → dense → chroma [clips·frames, 12]; labels [clips, frames] flatten in the same order.
// Training reads clips cut into chunks of a fixed number of frames (patches.ts,
// chunkPatches); evaluation runs a whole clip as one sequence ([1, frames, …]).
// The GRU is PyTorch's: r = σ(x·W_r + h·U_r + b_r), z = σ(x·W_z + h·U_z + b_z),
// n = tanh(x·W_n + b_n + r ⊙ (h·U_n + c_n)), h' = (1 − z) ⊙ n + z ⊙ h, from h = 0.
// Left out: stacked recurrent layers, LSTMs, a CRF or HMM decoder over the outputs.

import * as T from '@theorbo/graph';
import { dropout } from '../train/dropout.ts';
import type { AugmentHook } from '../train/train.ts';
import { cnnDefaults, cnnTraining, cnnTrunk, describeCnn, type CnnShape } from './cnn.ts';
import type { FeatureOptions } from './features.ts';
import { gaussian, withLoss, type ChromaModel, type TemplateLoss } from './models.ts';

export interface CrnnShape {
  /** The per-frame trunk: the CNN's patches, convolutions and hidden layers. */
  cnn: CnnShape;
  /** The GRU's state size per direction. */
  gru: number;
  /** A second GRU reading the frames backwards, its states concatenated to the first's. */
  bidirectional: boolean;
  /** Training chunks: this many consecutive frames of a clip per example… */
  chunk: number;
  /** …starting every this many frames of the clip (chunkPatches). */
  hop: number;
}

/**
 * The CNN's defaults as the trunk, a bidirectional GRU of 32 units, chunks of 32 frames
 * (0.74 s) every 96 frames: as many training frames as the CNN's every third frame. On
 * the demo's data (seed 7, 16 epochs, early stopping) it did not beat the CNN: 88.4
 * against 89.9 majmin on the validation split, 90.4 / 91.3 against 93.4 / 93.0 on the
 * test split (templates / classifier), training 3.4 times as long; started from the
 * trained CNN's weights (GRU rows of the output at zero) it reached 90.0 on validation.
 * The 9-frame median filter of the evaluation already smooths over frames.
 */
export const crnnDefaults: CrnnShape = { cnn: cnnDefaults, gru: 32, bidirectional: true, chunk: 32, hop: 96 };

/**
 * How the demo and `theorbo train --model crnn` train it: the CNN's recipe (Adam, pitch
 * shifts that transpose a whole chunk and its labels, noise), in batches of as many
 * chunks as make 256 frames, the CNN's batch.
 */
export function crnnTraining(feature: Pick<FeatureOptions, 'binsPerOctave'>, shape: CrnnShape): { learningRate: number; augment: AugmentHook; batchSize: number } {
  return { ...cnnTraining(feature), batchSize: Math.max(1, Math.round(256 / shape.chunk)) };
}

/** The shape in a few words, for logs and the report: "3 frames → conv 8 × 3×3 → 64 → bi-GRU 32 → 12". */
export function describeCrnn(shape: CrnnShape): string {
  return describeCnn(shape.cnn).replace(/ → 12$/, ` → ${shape.bidirectional ? 'bi-GRU' : 'GRU'} ${shape.gru} → 12`);
}

interface Gru {
  states: T.Variable;
  params: T.SharedVariable[];
}

/** One GRU over rows [clips·frames, width] (clip-major), returning states [frames, clips, size] in time order. */
function gru(rows: T.Variable, clips: T.Variable, frames: T.Variable, width: number, size: number, seed: number, name: string, backwards: boolean): Gru {
  const inputWeights = T.shared(gaussian([width, 3 * size], Math.sqrt(1 / width), seed), `${name}_input_weights`);
  const recurrentWeights = T.shared(gaussian([size, 3 * size], Math.sqrt(1 / size), seed + 1), `${name}_recurrent_weights`);
  const inputBias = T.shared(new Float32Array(3 * size), `${name}_input_bias`);
  const recurrentBias = T.shared(new Float32Array(3 * size), `${name}_recurrent_bias`);
  // The input's share of every gate for all frames at once: one matrix product outside the loop.
  const gates = T.reshape(T.dot(rows, inputWeights).add(inputBias), [clips, frames, 3 * size]).dimshuffle(1, 0, 2);
  const part = (x: T.Variable, k: number): T.Variable => T.get(x, ':', T.slice(k * size, (k + 1) * size));
  const { outputs: [states] } = T.scan({
    fn: (input, previous) => {
      const recurrent = T.dot(previous, recurrentWeights).add(recurrentBias);
      const reset = T.sigmoid(T.add(part(input, 0), part(recurrent, 0)));
      const update = T.sigmoid(T.add(part(input, 1), part(recurrent, 1)));
      const candidate = T.tanh(T.add(part(input, 2), T.mul(reset, part(recurrent, 2))));
      return T.add(candidate, T.mul(update, T.sub(previous, candidate)));
    },
    sequences: gates,
    outputsInfo: [T.zeros([clips, size])],
    goBackwards: backwards,
    name,
  });
  // A backwards scan's outputs are in step order (last frame first): flip them back into time order.
  return { states: backwards ? T.flip(states!, 0) : states!, params: [inputWeights, recurrentWeights, inputBias, recurrentBias] };
}

/** The CRNN over sequences [clips, frames, 2·radius + 1, bins] with labels [clips, frames]; `seed` draws its initial weights. */
export function chromaCrnn(bins: number, shape: CrnnShape, seed: number, dropoutRate = 0, loss: TemplateLoss = 'distance'): ChromaModel {
  if (!Number.isInteger(shape.gru) || shape.gru < 1) throw new Error(`chromaCrnn: the GRU's size must be a positive whole number, not ${shape.gru}`);
  const context = 2 * shape.cnn.radius + 1;
  const features = T.tensor('float32', [null, null, context, bins], 'cqt_patch_sequences');
  const labels = T.imatrix('target');
  const [clips, frames] = [features.dim(0), features.dim(1)];
  const trunk = cnnTrunk(T.reshape(features, [T.mul(clips, frames), context, bins]), bins, shape.cnn, seed, dropoutRate);
  const directions = [false, ...(shape.bidirectional ? [true] : [])].map((backwards, d) => gru(trunk.hidden, clips, frames, trunk.width, shape.gru, seed + 200 + 10 * d, backwards ? 'gru_backward' : 'gru_forward', backwards));
  const toRows = (states: T.Variable): T.Variable => T.reshape(states.dimshuffle(1, 0, 2), [T.mul(clips, frames), shape.gru]);
  let joined = T.concat([trunk.hidden, ...directions.map(({ states }) => toRows(states))], 1);
  const width = trunk.width + directions.length * shape.gru;
  if (trunk.training) joined = dropout(joined, dropoutRate, trunk.stream, trunk.training);
  const weights = T.shared(gaussian([width, 12], Math.sqrt(2 / width), seed + 300), 'output_weights');
  const bias = T.shared(new Float32Array(12), 'output_bias');
  const params = [...trunk.params, ...directions.flatMap(({ params }) => params), weights, bias];
  return withLoss(features, T.dot(joined, weights).add(bias), params, weights, trunk.training, loss, labels);
}
