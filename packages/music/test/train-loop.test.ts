// The training loop on the acquired device (llvmpipe here): a softmax classifier learns
// separable synthetic data; every update rule and regularizer runs, and the ones with a
// visible effect show it (max-norm bounds the column norms, l1 zeroes weights, step and
// cosine schedules give the hand-computed rates); early stopping stops and restores the
// best epoch's parameters bit for bit; bad options are refused with sentences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { readShared, releaseDevices, type AcquiredDevice } from '@theorbo/codegen';
import { train, type TrainOptions, type UpdateRule } from '../src/train/index.ts';
import { bitsOf, classifier, separableData, testDevice } from './train-model.ts';

let device: AcquiredDevice;
test.before(async () => {
  device = await testDevice();
});
test.after(async () => {
  await releaseDevices();
});

const [trainX, trainY] = separableData(200, 4, 3, 11);
const [validX, validY] = separableData(60, 4, 3, 12);
const base = (): Pick<TrainOptions, 'data' | 'device' | 'progress' | 'batchSize'> => ({
  data: { train: [trainX, trainY], validation: [validX, validY] }, device, progress: false, batchSize: 32,
});

/** Accuracy of logits = x·W + b on the validation set, computed here on the host. */
function hostAccuracy(w: Float32Array, b: Float32Array): number {
  let correct = 0;
  for (let i = 0; i < 60; i++) {
    const logits = [0, 1, 2].map((k) => b[k]! + [0, 1, 2, 3].reduce((sum, f) => sum + validX.data[i * 4 + f]! * w[f * 3 + k]!, 0));
    if (logits.indexOf(Math.max(...logits)) === validY.data[i]) correct++;
  }
  return correct / 60;
}

test('a softmax classifier reaches high validation accuracy in a few epochs (partial last batch kept)', async () => {
  const model = classifier({ features: 4, classes: 3 });
  const before = hostAccuracy(model.params[0]!.get().data as Float32Array, model.params[1]!.get().data as Float32Array);
  const result = await train({ ...base(), model, epochs: 4, rule: 'adam', learningRate: 0.1 });
  console.log(`\n  device ${result.device.kind}; validation accuracy ${before.toFixed(3)} before, by epoch: ${result.history.map((h) => h.validation!.accuracy!.toFixed(3)).join(' ')}`);
  assert.ok(before < 0.6, `the untrained model is near chance (${before})`);
  assert.is(result.epochsDone, 4);
  assert.is(result.history.length, 4);
  const accuracy = result.history[3]!.validation!.accuracy!;
  assert.ok(accuracy >= 0.95, `accuracy ${accuracy}`);
  assert.ok(result.history[3]!.train.loss! < result.history[0]!.train.loss!, 'the training loss fell');
  // train()'s validation figure agrees with the accuracy recomputed on the host from the weights.
  const after = hostAccuracy(model.params[0]!.get().data as Float32Array, model.params[1]!.get().data as Float32Array);
  assert.ok(Math.abs(after - accuracy) < 1e-6, `host accuracy ${after}`);
});

test('each update rule runs and lowers the loss; regularizers and schedules have their effect', async () => {
  for (const rule of ['sgd', 'momentum', 'adam', 'adamw'] as UpdateRule[]) {
    const model = classifier({ features: 4, classes: 3 });
    const result = await train({
      ...base(), model, epochs: 2, rule, learningRate: rule.startsWith('adam') ? 0.05 : 0.2, weightDecay: 1e-3,
      clipGlobalNorm: 5, schedule: { kind: 'step', every: 1, factor: 0.5 },
    });
    const [first, last] = [result.history[0]!, result.history[1]!];
    assert.ok(last.train.loss! < first.train.loss!, `${rule}: loss ${first.train.loss} → ${last.train.loss}`);
    assert.is(first.learningRate, rule.startsWith('adam') ? 0.05 : 0.2, `${rule}: epoch 1 rate`);
    assert.is(last.learningRate, (rule.startsWith('adam') ? 0.05 : 0.2) / 2, `${rule}: step decay halves the rate in epoch 2`);
  }
  // max-norm: each output unit's incoming weights (a column of W [in, out]) ends at norm ≤ 0.3.
  const constrained = classifier({ features: 4, classes: 3 });
  await train({ ...base(), model: constrained, epochs: 2, rule: 'sgd', learningRate: 1, maxNorm: { limit: 0.3 }, schedule: { kind: 'cosine', minimum: 0.1 } });
  const w = (await readShared(constrained.params[0]!)).data;
  for (let k = 0; k < 3; k++) {
    const norm = Math.hypot(w[k]!, w[3 + k]!, w[6 + k]!, w[9 + k]!);
    assert.ok(norm <= 0.3 * (1 + 1e-5), `column ${k} norm ${norm}`);
  }
  // l1: a strong sparsity penalty zeroes the weights the classes do not need (all but the
  // diagonal of W, class k being centred on feature k); without it, rows 0–2 are used in full.
  const trained = async (l1: number): Promise<Float32Array> => {
    const model = classifier({ features: 4, classes: 3 });
    await train({ ...base(), model, epochs: 4, rule: 'sgd', learningRate: 0.05, l1: { weight: l1 } });
    return (await readShared(model.params[0]!)).data as Float32Array;
  };
  const [sparse, dense] = [await trained(0.3), await trained(0)];
  const offDiagonal = (weights: Float32Array, rows: number): number[] => [...weights.slice(0, rows * 3)].filter((_, i) => Math.floor(i / 3) !== i % 3);
  assert.ok(offDiagonal(sparse, 4).every((value) => Math.abs(value) < 0.03), `with l1: ${[...sparse].map((v) => v.toFixed(3))}`);
  assert.ok([0, 4, 8].every((i) => sparse[i]! > 0.1), 'with l1 the diagonal stays');
  assert.ok(offDiagonal(dense, 3).every((value) => Math.abs(value) > 0.1), `without l1: ${[...dense].map((v) => v.toFixed(3))}`);
});

test('cosine schedule: the recorded rates follow η_min + (η − η_min)(1 + cos(π·step/total))/2', async () => {
  const model = classifier({ features: 4, classes: 3 });
  const result = await train({ ...base(), model, epochs: 3, rule: 'sgd', learningRate: 0.4, schedule: { kind: 'cosine', minimum: 0.1 }, lastBatch: 'drop' });
  // 200 examples in batches of 32, last partial batch dropped: 6 batches an epoch, 18 in all;
  // an epoch records the rate of its last batch, steps 5, 11 and 17.
  const expected = [5, 11, 17].map((step) => 0.1 + (0.3 * (1 + Math.cos((Math.PI * step) / 18))) / 2);
  result.history.forEach((entry, i) => assert.ok(Math.abs(entry.learningRate - expected[i]!) < 1e-12, `epoch ${i + 1}: ${entry.learningRate} vs ${expected[i]}`));
});

test('early stopping stops after `patience` epochs without improvement and restores the best epoch bit for bit', async () => {
  // Validation labels rotated by one class: fitting the training data makes the
  // validation loss worse after the first epochs, so the best epoch comes early.
  const wrongY = T.array(Int32Array.from(validY.data, (label) => (label + 1) % 3), { shape: [60], dtype: 'int32' });
  const model = classifier({ features: 4, classes: 3 });
  const snapshots: number[][][] = [];
  const result = await train({
    ...base(), data: { train: [trainX, trainY], validation: [validX, wrongY] }, model, epochs: 30, rule: 'adam', learningRate: 0.05,
    earlyStopping: { monitor: 'loss', patience: 2 },
    onEpoch: async () => {
      for (const param of model.params) await readShared(param);
      snapshots.push(bitsOf(model.params));
    },
  });
  const losses = result.history.map((entry) => entry.validation!.loss!);
  const bestIndex = losses.indexOf(Math.min(...losses));
  assert.ok(result.stoppedEarly, `stopped early (ran ${result.epochsDone} epochs)`);
  assert.is(result.epochsDone, bestIndex + 1 + 2, 'stopped exactly `patience` epochs after the best');
  assert.equal(result.best, { epoch: bestIndex + 1, monitor: 'loss', value: losses[bestIndex]! });
  assert.equal(bitsOf(model.params), snapshots[bestIndex], 'the final parameters are the best epoch\'s');
  assert.not.equal(snapshots[bestIndex], snapshots[snapshots.length - 2], 'and differ from a later epoch\'s');
  // Monitoring a metric maximizes it.
  const byAccuracy = await train({ ...base(), model: classifier({ features: 4, classes: 3 }), epochs: 3, learningRate: 0.05, earlyStopping: { monitor: 'accuracy', patience: 5 } });
  const accuracies = byAccuracy.history.map((entry) => entry.validation!.accuracy!);
  assert.is(byAccuracy.best!.value, Math.max(...accuracies));
});

test('bad options are refused with sentences', async () => {
  const model = classifier({ features: 4, classes: 3 });
  const attempt = (options: Partial<TrainOptions>, pattern: RegExp): Promise<void> =>
    train({ ...base(), model, epochs: 1, ...options } as TrainOptions).then(() => assert.unreachable(`accepted ${JSON.stringify(Object.keys(options))}`), (error: Error) => assert.match(error.message, pattern));
  await attempt({ data: { train: [trainX] } }, /training data has 1 arrays but the model has 2 inputs/);
  await attempt({ data: { train: [trainX, T.array(new Int32Array(5), { shape: [5], dtype: 'int32' })] } }, /array 1 has 5 examples along axis 0 but array 0 has 200/);
  await attempt({ earlyStopping: { monitor: 'f1', patience: 2 } }, /monitors 'f1', which is neither 'loss' nor one of the metrics \(accuracy\)/);
  await attempt({ rule: 'lion' as UpdateRule }, /unknown update rule 'lion'/);
  await attempt({ batchSize: 0 }, /batchSize must be a positive whole number/);
  await attempt({ resume: true }, /resume needs checkpointDir/);
  await attempt({ augment: (batch) => batch.slice(1) }, /augment hook must return 2 arrays/);
  const poisoned = T.array(Float32Array.from(trainX.data, (value, i) => (i === 7 ? NaN : value)), { shape: [200, 4] });
  await attempt({ data: { train: [poisoned, trainY] }, shuffle: false }, /training loss became NaN in epoch 1, batch 1/);
});

test.run();
