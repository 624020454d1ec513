// Learnable front ends: before training, the mel spectrogram, MFCCs, onset envelope and
// tempo built on shared weights equal the designed graphs exactly (same values from the
// reference evaluator), and a gradient of a loss reaches every shared weight.
// Reference evaluator only, on a short cut of a librosa fixture.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { melSpectrogram, mfcc, signalInput } from '../src/signal/index.ts';
import { learnableMel, learnableMfcc, learnableTempo, onsetStrength, tempo, tempoScores } from '../src/rhythm/index.ts';
import { librosaFixture } from './librosa-fixtures.ts';

const samples = 8192;
const clip = T.array(librosaFixture('drums_96bpm').y.slice(0, samples), { shape: [1, samples], dtype: 'float32' });
const x = signalInput(samples);
const run = (outputs: T.Variable[]): T.NDArray[] => T.evaluate(outputs, [[x, clip]]);
const same = (actual: T.NDArray, expected: T.NDArray, what: string): void => {
  assert.equal([...actual.shape], [...expected.shape], `${what}: shape`);
  assert.ok(actual.data.every((value, i) => value === expected.data[i]), `${what}: values differ from the designed graph's`);
};
const nonzero = (gradient: T.NDArray): boolean => gradient.data.some((value) => value !== 0 && Number.isFinite(value));

test('learnableMel and learnableMfcc equal the designed mel spectrogram, MFCCs and onset envelope before training', () => {
  const mel = learnableMel({ nMels: 40 });
  const coefficients = learnableMfcc({ nMfcc: 13, lifter: 22 });
  const [learnedMel, designedMel, learnedMfcc, designedMfcc, learnedOnset, designedOnset] = run([
    mel.melSpectrogram(x), melSpectrogram(x, { nMels: 40 }),
    coefficients.mfcc(x), mfcc(x, { nMfcc: 13, lifter: 22 }),
    onsetStrength(x, { weights: coefficients.melWeights }), onsetStrength(x),
  ]);
  same(learnedMel!, designedMel!, 'mel');
  same(learnedMfcc!, designedMfcc!, 'mfcc');
  same(learnedOnset!, designedOnset!, 'onset strength');
  assert.equal([...mel.weights.type.shape], [1025, 40]);
  assert.equal([...coefficients.dctWeights.type.shape], [128, 13]);
});

test('gradients reach the mel and DCT weights', () => {
  const coefficients = learnableMfcc({ nMfcc: 13 });
  const loss = T.mean(T.square(coefficients.mfcc(x)));
  const [melGradient, dctGradient] = run(grad(loss, [coefficients.melWeights, coefficients.dctWeights]));
  assert.equal([...melGradient!.shape], [1025, 128]);
  assert.ok(nonzero(melGradient!) && nonzero(dctGradient!));
});

test('learnableTempo equals the designed tempo and scores before training, and its prior gets a gradient', () => {
  const envelope = T.tensor('float32', [null, 173], 'envelope');
  const values = T.array(librosaFixture('drums_96bpm').onsetStrength.slice(0, 173), { shape: [1, 173], dtype: 'float32' });
  const learned = learnableTempo();
  const scores = learned.scores(envelope);
  const outputs = [scores, tempoScores(envelope).scores, learned.tempo(envelope), tempo(envelope)];
  const [learnedScores, designedScores, learnedTempo, designedTempo] = T.evaluate(outputs, [[envelope, values]]);
  same(learnedScores!, designedScores!, 'tempo scores');
  same(learnedTempo!, designedTempo!, 'tempo');
  assert.is(learned.logPrior.type.shape[0], learned.candidates.bpm.length);
  // A softmax cross-entropy towards one lag: the prior's gradient is nonzero.
  const logProbabilities = T.logSoftmax(T.reshape(scores, [-1, learned.candidates.bpm.length]), -1);
  const loss = T.neg(T.sum(T.get(logProbabilities, ':', 10)));
  const [priorGradient] = T.evaluate(grad(loss, [learned.logPrior]), [[envelope, values]]);
  assert.ok(nonzero(priorGradient!));
});

test.run();
