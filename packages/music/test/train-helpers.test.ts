// The host-side helpers of training: pitch-shift rotation of feature bins with label
// transposition, additive noise at a standard deviation or an SNR, the seeded streams,
// batches, learning-rate schedules, dropout's two modes (reference evaluator) and the
// progress display on a terminal and in a log.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { NDArray } from '@theorbo/graph';
import {
  addNoise, composeAugmentations, dropout, epochBatches, learningRateAt, noiseAugmentation, pitchShiftAugmentation,
  ProgressReporter, rotateBins, takeRows, trainingFlag, transposeLabels,
} from '../src/train/index.ts';
import { SeededRandom } from '../src/random/seeded-random.ts';

/** A stand-in for the chord vocabulary's transposeChord: 0–11 major, 12–23 minor, 24 no-chord. */
const transposeChord = (index: number, semitones: number): number =>
  (index === 24 || index < 0 ? index : (index < 12 ? 0 : 12) + ((((index % 12) + semitones) % 12) + 12) % 12);

test('rotateBins moves bin b to b + s·binsPerSemitone, wrapping around', () => {
  const features = T.array(Float32Array.from({ length: 2 * 12 }, (_, i) => i), { shape: [2, 12] });
  const up2 = rotateBins(features, 2);
  assert.equal([...up2.data.slice(0, 12)], [10, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal([...up2.data.slice(12)], [22, 23, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
  const down1 = rotateBins(features, -1);
  assert.equal([...down1.data.slice(0, 12)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0]);
  // 36 bins per octave (3 per semitone): one semitone is three bins; a C peak moves to D.
  const cqt = new Float32Array(36);
  cqt[1] = 1; // the centre bin of C
  const shifted = rotateBins(T.array(cqt, { shape: [1, 36] }), 2, 3);
  assert.is(shifted.data.indexOf(1), 7, 'the centre bin of D');
  assert.equal([...features.data.slice(0, 3)], [0, 1, 2], 'the input is not changed');
  assert.throws(() => rotateBins(features, 0.5), /not a whole number of semitones/);
});

test('a major-triad chroma rotated by s semitones is the chroma of the transposed chord', () => {
  // C major: C, E, G; shifted up 3 semitones it is D# major: D#, G, A#.
  const chroma = new Float32Array(12);
  for (const pitch of [0, 4, 7]) chroma[pitch] = 1;
  const rotated = rotateBins(T.array(chroma, { shape: [1, 12] }), 3);
  assert.equal([...rotated.data].flatMap((value, pitch) => (value ? [pitch] : [])), [3, 7, 10]);
  assert.is(transposeChord(0, 3), 3);
  const labels = T.array(new Int32Array([0, 12 + 9, 24, 11]), { shape: [4], dtype: 'int32' });
  assert.equal([...transposeLabels(labels, [3, 3, 3, 1], transposeChord).data], [3, 12 + 0, 24, 0]);
});

test('pitchShiftAugmentation shifts each example by its own drawn amount, features and labels together', () => {
  const count = 40;
  const features = new Float32Array(count * 12);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const root = i % 12;
    labels[i] = i % 3 === 2 ? 24 : root + (i % 2 ? 12 : 0);
    if (labels[i] !== 24) features[i * 12 + root] = 1; // a marker on the root's bin
  }
  const hook = pitchShiftAugmentation({ maxSemitones: 5, transposeLabel: transposeChord });
  const batch = [T.array(features, { shape: [count, 12] }), T.array(labels, { shape: [count], dtype: 'int32' })];
  const [outFeatures, outLabels] = hook(batch, SeededRandom.derive(1, 'augment', 0, 0));
  const shifts = new Set<number>();
  for (let i = 0; i < count; i++) {
    const label = outLabels!.data[i]!;
    if (labels[i] === 24) {
      assert.is(label, 24, 'no-chord stays no-chord');
      continue;
    }
    assert.is(label >= 12, labels[i]! >= 12, 'the quality is kept');
    const marker = [...outFeatures!.data.slice(i * 12, i * 12 + 12)].indexOf(1);
    assert.is(marker, label % 12, `example ${i}: the root's bin moved with its label`);
    shifts.add((((label % 12) - (labels[i]! % 12)) % 12 + 12) % 12);
  }
  assert.ok(shifts.size >= 5, `the shifts vary per example (${[...shifts]})`);
  const [again] = hook(batch, SeededRandom.derive(1, 'augment', 0, 0));
  assert.equal([...again!.data], [...outFeatures!.data], 'the same stream gives the same shifts');
});

test('addNoise: a fixed standard deviation, or an SNR per example; noiseAugmentation touches only the features', () => {
  const n = 4000;
  const quiet = T.array(new Float32Array(2 * n).fill(0), { shape: [2, n] });
  const noisy = addNoise(quiet, { std: 0.5 }, SeededRandom.derive(3));
  const std = Math.sqrt([...noisy.data].reduce((sum, value) => sum + value * value, 0) / (2 * n));
  assert.ok(Math.abs(std - 0.5) < 0.02, `std ${std}`);
  // Example 0 at amplitude 1, example 1 at amplitude 10: 20 dB SNR is noise power 1 % of each one's power.
  const signal = T.array(Float32Array.from({ length: 2 * n }, (_, i) => (i < n ? 1 : 10) * Math.sin(i)), { shape: [2, n] });
  const withNoise = addNoise(signal, { snrDb: 20 }, SeededRandom.derive(4));
  for (const [example, amplitude] of [[0, 1], [1, 10]] as const) {
    let noisePower = 0;
    for (let k = example * n; k < (example + 1) * n; k++) noisePower += (withNoise.data[k]! - signal.data[k]!) ** 2;
    const expected = (amplitude * amplitude) / 2 / 100;
    assert.ok(Math.abs(noisePower / n / expected - 1) < 0.1, `example ${example}: noise power ${noisePower / n} vs ${expected}`);
  }
  const labels = T.array(new Int32Array([1, 2]), { shape: [2], dtype: 'int32' });
  const [features, sameLabels] = composeAugmentations(noiseAugmentation({ std: 1 }))([quiet, labels], SeededRandom.derive(5));
  assert.is(sameLabels, labels);
  assert.ok(features!.data.some((value) => value !== 0));
});

test('seeded streams and batches: the same (seed, epoch) gives the same order, other epochs others; partial batches', () => {
  assert.equal([...SeededRandom.derive(1, 'shuffle', 3).permutation(10)], [...SeededRandom.derive(1, 'shuffle', 3).permutation(10)]);
  assert.not.equal([...SeededRandom.derive(1, 'shuffle', 3).permutation(10)], [...SeededRandom.derive(1, 'shuffle', 4).permutation(10)]);
  const kept = epochBatches(10, 4, 'keep', 1, 0, true);
  assert.equal(kept.map((batch) => batch.length), [4, 4, 2]);
  assert.equal([...kept.flatMap((batch) => [...batch])].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(epochBatches(10, 4, 'drop', 1, 0, true).map((batch) => batch.length), [4, 4]);
  assert.equal(epochBatches(5, 2, 'keep', 1, 0, false).map((batch) => [...batch]), [[0, 1], [2, 3], [4]]);
  const rows = takeRows(T.array(new Float32Array([0, 1, 10, 11, 20, 21]), { shape: [3, 2] }), [2, 0]);
  assert.equal(rows.shape, [2, 2]);
  assert.equal([...rows.data], [20, 21, 0, 1]);
});

test('learning-rate schedules: constant, step decay, cosine', () => {
  const at = (epoch: number, step: number): { epoch: number; step: number; totalSteps: number } => ({ epoch, step, totalSteps: 100 });
  assert.is(learningRateAt(0.1, { kind: 'constant' }, at(7, 70)), 0.1);
  assert.is(learningRateAt(0.1, { kind: 'step', every: 3, factor: 0.5 }, at(2, 20)), 0.1);
  assert.is(learningRateAt(0.1, { kind: 'step', every: 3, factor: 0.5 }, at(3, 30)), 0.05);
  assert.is(learningRateAt(0.1, { kind: 'step', every: 3, factor: 0.5 }, at(7, 70)), 0.025);
  assert.is(learningRateAt(0.1, { kind: 'cosine' }, at(0, 0)), 0.1);
  assert.ok(Math.abs(learningRateAt(0.1, { kind: 'cosine' }, at(5, 50)) - 0.05) < 1e-15);
  assert.ok(Math.abs(learningRateAt(0.1, { kind: 'cosine', minimum: 0.02 }, at(9, 100)) - 0.02) < 1e-15);
});

test('dropout: identity while the flag is 0; zeros about `rate` of the elements and scales the rest while it is 1', () => {
  const x = T.matrix('x');
  const flag = trainingFlag();
  const y = dropout(x, 0.25, new T.RandomStreams(7), flag);
  const input = T.array(Float32Array.from({ length: 40 * 50 }, (_, i) => 1 + (i % 7)), { shape: [40, 50] });
  const [evaluation] = T.evaluate([y], [[x, input]]);
  assert.equal([...evaluation!.data], [...input.data]);
  flag.set(NDArray.scalar(1, 'float32'));
  const [training] = T.evaluate([y], [[x, input]]);
  let zeros = 0;
  training!.data.forEach((value, i) => {
    if (value === 0) zeros++;
    else assert.ok(Math.abs(value - input.data[i]! / 0.75) < 1e-5, `element ${i}: ${value}`);
  });
  assert.ok(Math.abs(zeros / 2000 - 0.25) < 0.04, `dropped fraction ${zeros / 2000}`);
  assert.is(dropout(x, 0, new T.RandomStreams(7), flag), x, 'rate 0 is the identity');
  assert.throws(() => dropout(x, 1, new T.RandomStreams(7), flag), /must be in \[0, 1\)/);
});

test('progress: one line rewritten with \\r on a terminal; plain lines in a log; both show epoch, batch, loss, accuracy and eta', () => {
  const terminal: string[] = [];
  const onTerminal = new ProgressReporter(2, 4, { stream: { isTTY: true, write: (text: string) => terminal.push(text) } });
  onTerminal.batch(1, 1, 2, 0.5, 0.25);
  onTerminal.batch(1, 2, 2, 0.4, 0.5);
  onTerminal.epoch('epoch 1/2 done');
  onTerminal.finish();
  assert.ok(terminal[0]!.startsWith('\r') && /epoch 1\/2 batch 1\/2 loss 0\.5000 acc 25\.0% eta \d+s/.test(terminal[0]!), terminal[0]);
  assert.ok(terminal.includes('epoch 1/2 done\n'));
  const log: string[] = [];
  const inLog = new ProgressReporter(2, 4, { stream: { write: (text: string) => log.push(text) }, plainInterval: 0 });
  inLog.batch(1, 1, 2, 0.5, undefined);
  inLog.batch(1, 2, 2, 0.4, undefined);
  inLog.epoch('epoch 1/2 done');
  assert.ok(log.every((line) => !line.includes('\r') && line.endsWith('\n')), JSON.stringify(log));
  assert.match(log[0]!, /^epoch 1\/2 batch 1\/2 loss 0\.5000 eta \d+s\n$/);
  assert.is(log[log.length - 1], 'epoch 1/2 done\n');
});

test.run();
