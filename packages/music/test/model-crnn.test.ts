// The CRNN chord model (CNN trunk → GRU over frames via T.scan → dense): clips cut into
// chunks of consecutive frames with their labels; the model has the shapes its config
// says; its GRU links frames (a later frame moves earlier outputs only when it also reads
// backwards) and each clip of a batch runs on its own; the WebGPU device gives the
// reference evaluator's outputs and gradients (backpropagation through time); a few
// training steps lower the loss; saved and reloaded by the registry, the outputs are the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { compile, releaseDevices } from '@theorbo/codegen';
import { randomArray } from '@theorbo/graph/testing';
import {
  buildModel, chunkPatches, clipInput, clipSequence, cnnTraining, crnnDefaults, describeCrnn, featureDefaults, framePatches, loadChromaModel,
  type ClipFeatures, type CrnnShape, type ModelConfig,
} from '../src/model/index.ts';
import { saveModel, train } from '../src/train/index.ts';
import { maxDifference, webGpuDevice } from './signal-fixtures.ts';

test.after(async () => {
  await releaseDevices();
});

const bins = 12;
const feature = { ...featureDefaults, nBins: bins };
const shape: CrnnShape = { cnn: { radius: 1, convolutions: [{ filters: 3, kernel: [3, 3] }], hidden: [6] }, gru: 4, bidirectional: true, chunk: 6, hop: 6 };
const config: ModelConfig = { kind: 'crnn', feature, crnn: shape, seed: 3, loss: 'softmax-distance', dropout: 0.2 };

/** Frame f, bin b of a clip holds 100·f + b, so every patch entry names its source. */
const rampFrames = (frames: number, offset = 0): T.NDArray =>
  T.array(Float32Array.from({ length: frames * bins }, (_, i) => offset + 100 * Math.floor(i / bins) + (i % bins)), { shape: [frames, bins] });

test('chunks are consecutive frames\' patches with their labels; the last ends at the clip\'s end; short clips give none', () => {
  const clip = (frames: number, offset: number) => ({ cqt: rampFrames(frames, offset), labels: Int32Array.from({ length: frames }, (_, f) => offset + f) });
  const { patches, labels } = chunkPatches([clip(14, 0), clip(3, 10000), clip(6, 20000)], 1, 6);
  assert.equal(patches.shape, [4, 6, 3, bins]);
  assert.equal(Array.from(labels.data), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11, 12, 13, 20000, 20001, 20002, 20003, 20004, 20005]);
  // Chunk 1's first patch centres on frame 6 and reads frame 5 before it: patches reach across chunks, not clips.
  assert.is(patches.data[(1 * 6 * 3 + 0) * bins], 500);
  assert.is(patches.data[(1 * 6 * 3 + 1) * bins], 600);
  // The last chunk of the first clip repeats its last frame after it, as the clip's edge.
  assert.is(patches.data[((2 * 6 + 5) * 3 + 2) * bins], 1300);
  const features: ClipFeatures = { cqt: rampFrames(5), dft: rampFrames(5), labels: new Int32Array(5), times: new Float64Array(5) };
  assert.equal(clipInput(config, features).shape, [1, 5, 3, bins]);
  assert.equal(Array.from(clipSequence(features.cqt, 1).data), Array.from(framePatches(features.cqt, 1).data));
  // Sparser chunks: every 5 frames of 14 give starts 0, 5 and the clip's end, 10.
  assert.equal(Array.from(chunkPatches([clip(14, 0)], 1, 4, 5).labels.data), [0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13]);
  assert.equal(Array.from(chunkPatches([clip(16, 0)], 1, 4, 6).labels.data), [0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15]);
  assert.throws(() => chunkPatches([clip(8, 0)], 1, 0), /positive whole numbers/);
});

test('the CRNN has the shapes its config says, and the defaults fit the demo\'s CQT', () => {
  const model = buildModel(config);
  assert.equal(model.params.map((p) => `${p.name}:${p.shape.join('x')}`), [
    'conv0_filters:3x1x3x3', 'conv0_bias:3', 'dense0_weights:36x6', 'dense0_bias:6',
    'gru_forward_input_weights:6x12', 'gru_forward_recurrent_weights:4x12', 'gru_forward_input_bias:12', 'gru_forward_recurrent_bias:12',
    'gru_backward_input_weights:6x12', 'gru_backward_recurrent_weights:4x12', 'gru_backward_input_bias:12', 'gru_backward_recurrent_bias:12',
    'output_weights:14x12', 'output_bias:12',
  ]);
  assert.is(model.chroma.type.toString(), 'float32[?,12]');
  assert.equal(model.inputs.map((input) => input.ndim), [4, 2]);
  const demo = buildModel({ kind: 'crnn', feature: featureDefaults, seed: 0 });
  assert.equal(demo.features.shape, [null, null, 2 * crnnDefaults.cnn.radius + 1, featureDefaults.nBins]);
  assert.is(describeCrnn(crnnDefaults), '3 frames → conv 8 × 3×3 → 64 → bi-GRU 32 → 12');
  assert.throws(() => buildModel({ ...config, crnn: { ...shape, gru: 0 } }), /GRU's size must be a positive whole number/);
});

test('the GRU links frames: a late frame moves earlier outputs only when the model also reads backwards; clips of a batch run apart', () => {
  const sequences = randomArray('float32', [2, 8, 3, bins], { low: 0, high: 2, seed: 6 });
  const changed = sequences.data.slice();
  for (let i = 0; i < 3 * bins; i++) changed[(7 * 3) * bins + i]! += 1; // clip 0, frame 7's patch
  const moved = (model: ReturnType<typeof buildModel>) => {
    const run = (data: Float32Array) => (T.evaluate([model.chroma], [[model.features, T.array(data, { shape: [2, 8, 3, bins] })]]) as T.NDArray[])[0]!.data;
    const [before, after] = [run(sequences.data as Float32Array), run(changed as Float32Array)];
    return Array.from({ length: 16 }, (_, row) => Math.max(...Array.from({ length: 12 }, (_, k) => Math.abs(after[row * 12 + k]! - before[row * 12 + k]!))));
  };
  const both = moved(buildModel(config));
  assert.ok(both[0]! > 1e-6, `bidirectional: frame 0 moved by ${both[0]}`);
  assert.ok(both.slice(8).every((d) => d === 0), 'clip 1 is untouched');
  const forward = moved(buildModel({ ...config, crnn: { ...shape, bidirectional: false } }));
  assert.ok(forward.slice(0, 7).every((d) => d === 0), `forward only: frames 0–6 moved by ${forward.slice(0, 7).join(', ')}`);
  assert.ok(forward[7]! > 1e-6);
});

test('the device gives the reference evaluator\'s chroma and gradients through the GRU', async () => {
  const model = buildModel({ ...config, dropout: 0 });
  const sequences = randomArray('float32', [3, 7, 3, bins], { low: 0, high: 2, seed: 4 });
  const labels = T.array(Int32Array.from({ length: 21 }, (_, i) => (5 * i) % 25), { shape: [3, 7] });
  const recurrent = model.params.filter((p) => p.name!.includes('recurrent_weights'));
  const gradients = grad(model.loss, recurrent);
  const outputs = [model.chroma, ...gradients];
  const reference = T.evaluate(outputs, [[model.inputs[0]!, sequences], [model.inputs[1]!, labels]]) as T.NDArray[];
  const device = await webGpuDevice();
  const onDevice = (await compile({ inputs: model.inputs, outputs, device })(sequences, labels)) as T.NDArray[];
  reference.forEach((value, i) => {
    const scale = Math.max(1, ...Array.from(value.data, Math.abs));
    assert.ok(maxDifference(onDevice[i]!, value) < 1e-4 * scale, `output ${i} differs by ${maxDifference(onDevice[i]!, value)}`);
  });
  for (const gradient of reference.slice(1)) assert.ok(Math.max(...Array.from(gradient.data, Math.abs)) > 1e-5, 'the recurrent weights get a gradient');
});

test('a few training steps with the CNN\'s recipe lower the loss; saved and reloaded, the outputs are identical', async () => {
  const model = buildModel(config);
  const sequences = randomArray('float32', [24, 6, 3, bins], { low: 0, high: 1, seed: 5 });
  const labels = T.array(Int32Array.from({ length: 24 * 6 }, (_, i) => Math.floor(i / 6) % 25), { shape: [24, 6] });
  const device = await webGpuDevice();
  const result = await train({ model, device, data: { train: [sequences, labels] }, epochs: 5, batchSize: 8, rule: 'adam', ...cnnTraining(feature), progress: false });
  const losses = result.history.map((epoch) => epoch.train.loss!);
  assert.ok(losses[losses.length - 1]! < losses[0]!, `losses ${losses.join(', ')}`);

  const dir = mkdtempSync(join(tmpdir(), 'theorbo-crnn-'));
  await saveModel(dir, model.params, config);
  const loaded = loadChromaModel(dir);
  assert.equal(loaded.config, config);
  const run = (m: typeof model) => compile({ inputs: [m.features], outputs: [m.chroma], device })(sequences) as Promise<T.NDArray[]>;
  const [before] = await run(model);
  const [after] = await run(loaded.model);
  assert.equal(Array.from(after!.data), Array.from(before!.data));
});

test.run();
