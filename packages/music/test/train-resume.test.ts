// Checkpoints and resuming: a run stopped after epoch k (as if killed) and resumed ends
// with exactly the bits of an uninterrupted run — with shuffling, dropout from a device
// random stream, noise augmentation, Adam's state and a partial last batch all in play.
// A crash while a checkpoint is being written leaves the previous one whole, and resuming
// from it still ends on the same bits. The checkpoint is readable with our npz reader
// (and so by numpy); resuming with different options is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readShared, releaseDevices, type AcquiredDevice } from '@theorbo/codegen';
import { loadNpz, noiseAugmentation, readCheckpoint, train, type TrainOptions } from '../src/train/index.ts';
import { bitsOf, classifier, separableData, testDevice } from './train-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'theorbo-train-resume-'));
let device: AcquiredDevice;
test.before(async () => {
  device = await testDevice();
});
test.after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await releaseDevices();
});

const [trainX, trainY] = separableData(90, 6, 3, 21, 1.2);
const [validX, validY] = separableData(30, 6, 3, 22, 1.2);
const epochs = 4;
/** A fresh model and options, as a new process would build them. */
function run(extra: Partial<TrainOptions> = {}): { model: ReturnType<typeof classifier>; options: TrainOptions } {
  const model = classifier({ features: 6, classes: 3, hidden: 8, dropoutRate: 0.3, seed: 5 });
  return {
    model,
    options: {
      model, data: { train: [trainX, trainY], validation: [validX, validY] }, device, progress: false,
      epochs, batchSize: 16, seed: 9, rule: 'adam', learningRate: 0.02, weightDecay: 1e-3,
      augment: noiseAugmentation({ std: 0.05 }), earlyStopping: { monitor: 'accuracy', patience: 10 }, restoreBest: false, ...extra,
    },
  };
}

const stateBits = async (model: ReturnType<typeof classifier>): Promise<number[][]> => {
  for (const param of model.params) await readShared(param);
  return bitsOf(model.params);
};

let straightBits: number[][];
let straightHistory: unknown;

test('an uninterrupted run (the reference for the resumed ones)', async () => {
  const { model, options } = run();
  const result = await train(options);
  assert.is(result.epochsDone, epochs);
  straightBits = await stateBits(model);
  straightHistory = result.history.map(({ seconds: _, ...rest }) => rest);
  // Dropout was active: the training loss differs from a run without it.
  const plain = run();
  const noDropout = classifier({ features: 6, classes: 3, hidden: 8, dropoutRate: 0, seed: 5 });
  const other = await train({ ...plain.options, model: noDropout, epochs: 1 });
  assert.not.equal(other.history[0]!.train.loss, result.history[0]!.train.loss);
});

test('stopped after epoch 2 and resumed: the same bits as the uninterrupted run', async () => {
  const checkpointDir = join(dir, 'killed');
  const first = run({ checkpointDir, stopAfterEpochs: 2 });
  const stopped = await train(first.options);
  assert.ok(stopped.interrupted);
  assert.is(stopped.epochsDone, 2);
  assert.equal(readdirSync(checkpointDir).sort(), ['checkpoint.json', 'checkpoint.npz']);
  const saved = readCheckpoint(checkpointDir)!;
  assert.is(saved.record.epochsDone, 2);
  assert.ok(saved.record.state.some((entry) => entry.name === 'random_state'), 'the dropout stream\'s state is saved');
  assert.ok(saved.record.state.some((entry) => entry.name === 'weights0.m'), 'Adam\'s moments are saved');
  assert.ok(saved.record.state.some((entry) => entry.name === 'adam.t'), 'Adam\'s step counter is saved');
  // The mirror JSON says the same as the record inside the npz, and numpy-style loading sees the arrays.
  assert.equal(JSON.parse(readFileSync(join(checkpointDir, 'checkpoint.json'), 'utf8')), JSON.parse(JSON.stringify(saved.record)));
  assert.ok('state_0_weights0' in loadNpz(join(checkpointDir, 'checkpoint.npz')));

  const second = run({ checkpointDir, resume: true });
  const resumed = await train(second.options);
  assert.is(resumed.epochsRunNow, 2);
  assert.is(resumed.epochsDone, epochs);
  assert.equal(await stateBits(second.model), straightBits);
  assert.equal(resumed.history.map(({ seconds: _, ...rest }) => rest), straightHistory);
  // Resuming a finished run changes nothing.
  const third = run({ checkpointDir, resume: true });
  const again = await train(third.options);
  assert.is(again.epochsRunNow, 0);
  assert.equal(bitsOf(third.model.params), straightBits);
});

test('a crash while writing the epoch-3 checkpoint keeps epoch 2\'s, and resuming from it gives the same bits', async () => {
  const checkpointDir = join(dir, 'crashed');
  let renames = 0;
  const crashing = run({
    checkpointDir,
    checkpointHooks: {
      rename: (from, to) => {
        // Each epoch renames checkpoint.npz then checkpoint.json: the 5th rename is epoch 3's npz.
        if (++renames === 5) throw new Error('simulated power cut');
        renameSync(from, to);
      },
    },
  });
  await train(crashing.options).then(() => assert.unreachable('the crash was not reported'), (error: Error) => assert.match(error.message, /simulated power cut/));
  assert.equal(readdirSync(checkpointDir).sort(), ['checkpoint.json', 'checkpoint.npz'], 'no temporary file is left');
  assert.is(readCheckpoint(checkpointDir)!.record.epochsDone, 2);
  const resumed = run({ checkpointDir, resume: true });
  await train(resumed.options);
  assert.equal(await stateBits(resumed.model), straightBits);
});

test('resuming with options that change the computation is refused, naming them', async () => {
  const checkpointDir = join(dir, 'killed');
  const changed = run({ checkpointDir, resume: true, batchSize: 8, learningRate: 0.05 });
  await train(changed.options).then(() => assert.unreachable(), (error: Error) => {
    assert.match(error.message, /checkpoint\.npz/);
    assert.match(error.message, /learningRate \(was 0\.02, now 0\.05\)/);
    assert.match(error.message, /batchSize \(was 16, now 8\)/);
  });
  const otherModel = classifier({ features: 6, classes: 3, hidden: 5, dropoutRate: 0.3, seed: 5 });
  await train({ ...run().options, model: otherModel, checkpointDir, resume: true }).then(() => assert.unreachable(), (error: Error) => assert.match(error.message, /weights0 float32\[6,8\] but this run has weights0 float32\[6,5\]/));
});

test.run();
