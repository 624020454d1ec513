// The CNN chord model: CQT patches are each frame's neighbours with the clip's edges
// repeated, stacked in stackFrames' row order; the model has the shapes its config says,
// gives the reference evaluator's values on the WebGPU device, lowers its loss in a few
// training steps, and saved, reloaded by the registry, gives the same outputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '@theorbo/graph';
import { compile, releaseDevices } from '@theorbo/codegen';
import { randomArray } from '@theorbo/graph/testing';
import {
  buildModel, clipInput, cnnDefaults, cnnTraining, featureDefaults, framePatches, loadChromaModel, stackFrames, stackPatches,
  type ClipFeatures, type CnnShape, type ModelConfig,
} from '../src/model/index.ts';
import { saveModel, train } from '../src/train/index.ts';
import { maxDifference, webGpuDevice } from './signal-fixtures.ts';

test.after(async () => {
  await releaseDevices();
});

const bins = 12;
const feature = { ...featureDefaults, nBins: bins };
// Two layers (one pooling over time) so that every part of the builder runs; small enough for the reference evaluator.
const shape: CnnShape = { radius: 2, convolutions: [{ filters: 4, kernel: [3, 3], pool: [3, 1] }, { filters: 3, kernel: [1, 5] }], hidden: [8] };
const config: ModelConfig = { kind: 'cnn', feature, cnn: shape, seed: 3, loss: 'softmax-distance', dropout: 0.2 };

/** Frame f, bin b of a clip holds 100·f + b, so every patch entry names its source. */
const rampFrames = (frames: number, offset = 0): T.NDArray =>
  T.array(Float32Array.from({ length: frames * bins }, (_, i) => offset + 100 * Math.floor(i / bins) + (i % bins)), { shape: [frames, bins] });

test('patches hold each frame\'s neighbours, the clip\'s first and last frames repeated at its edges', () => {
  const patches = framePatches(rampFrames(4), 2);
  assert.equal(patches.shape, [4, 5, bins]);
  const sourceFrames = (f: number) => Array.from({ length: 5 }, (_, c) => patches.data[(f * 5 + c) * bins]! / 100);
  assert.equal(sourceFrames(0), [0, 0, 0, 1, 2]);
  assert.equal(sourceFrames(2), [0, 1, 2, 3, 3]);
  assert.equal(sourceFrames(3), [1, 2, 3, 3, 3]);
  assert.is(patches.data[(1 * 5 + 2) * bins + 7], 107, 'the centre row is the frame itself');
  assert.throws(() => framePatches(rampFrames(4), -1), /radius is a whole number/);
});

test('stacked patches follow stackFrames\' rows, never reaching across clips', () => {
  const clips = [rampFrames(5), rampFrames(4, 10000)].map((cqt) => ({ cqt, dft: cqt, labels: new Int32Array(cqt.shape[0]!), times: new Float64Array(cqt.shape[0]!) }) satisfies ClipFeatures);
  const stacked = stackPatches(clips.map((clip) => clip.cqt), 1, 2);
  const frames = stackFrames(clips, 2).cqt;
  assert.equal(stacked.shape, [frames.shape[0]!, 3, bins]);
  for (let r = 0; r < frames.shape[0]!; r++) assert.is(stacked.data[(r * 3 + 1) * bins], frames.data[r * bins], `row ${r}'s centre`);
  // Row 3 is the second clip's frame 0: its left neighbour repeats that frame, not the first clip's last.
  assert.is(stacked.data[3 * 3 * bins], 10000);
  assert.equal(clipInput(config, clips[1]!).shape, [4, 5, bins]);
});

test('the CNN has the shapes its config says, and the defaults fit the demo\'s CQT', () => {
  const model = buildModel(config);
  assert.equal(model.params.map((p) => `${p.name}:${p.shape.join('x')}`), [
    'conv0_filters:4x1x3x3', 'conv0_bias:4', 'conv1_filters:3x4x1x5', 'conv1_bias:3', 'dense0_weights:36x8', 'dense0_bias:8', 'dense1_weights:8x12', 'dense1_bias:12',
  ]);
  assert.is(model.chroma.type.toString(), 'float32[?,12]');
  const demo = buildModel({ kind: 'cnn', feature: featureDefaults, seed: 0 });
  assert.equal(demo.features.shape, [null, 2 * cnnDefaults.radius + 1, featureDefaults.nBins]);
  assert.throws(() => buildModel({ ...config, cnn: { ...shape, radius: 0 } }), /kernel spans 3 frames but only 1 remain/);
});

test('the device gives the reference evaluator\'s chroma and template matches', async () => {
  const model = buildModel(config);
  const patches = randomArray('float32', [40, 5, bins], { low: 0, high: 2, seed: 4 });
  // The reference first: the compiled function advances the dropout's random state on the device.
  const [referenceChroma, referenceMatched] = T.evaluate([model.chroma, model.predictions!], [[model.features, patches]]) as T.NDArray[];
  const device = await webGpuDevice();
  const [chroma, matched] = (await compile({ inputs: [model.features], outputs: [model.chroma, model.predictions!], device })(patches)) as T.NDArray[];
  assert.ok(maxDifference(chroma!, referenceChroma!) < 1e-4, `chroma differs by ${maxDifference(chroma!, referenceChroma!)}`);
  // Near-ties between templates may flip with float rounding; nearly all must agree.
  const agree = Array.from(matched!.data).filter((v, i) => v === referenceMatched!.data[i]).length;
  assert.ok(agree >= 38, `${agree}/40 template matches agree`);
});

test('a few training steps with the demo\'s recipe lower the loss; saved and reloaded, the outputs are identical', async () => {
  const model = buildModel(config);
  const patches = randomArray('float32', [96, 5, bins], { low: 0, high: 1, seed: 5 });
  const labels = T.array(Int32Array.from({ length: 96 }, (_, i) => i % 25));
  const device = await webGpuDevice();
  const result = await train({ model, device, data: { train: [patches, labels] }, epochs: 5, batchSize: 32, rule: 'adam', ...cnnTraining(feature), progress: false });
  const losses = result.history.map((epoch) => epoch.train.loss!);
  assert.ok(losses[losses.length - 1]! < losses[0]!, `losses ${losses.join(', ')}`);

  const dir = mkdtempSync(join(tmpdir(), 'theorbo-cnn-'));
  await saveModel(dir, model.params, config);
  const loaded = loadChromaModel(dir);
  assert.equal(loaded.config, config);
  const run = (m: typeof model) => compile({ inputs: [m.features], outputs: [m.chroma], device })(patches) as Promise<T.NDArray[]>;
  const [before] = await run(model);
  const [after] = await run(loaded.model);
  assert.equal(Array.from(after!.data), Array.from(before!.data));
});

test.run();
