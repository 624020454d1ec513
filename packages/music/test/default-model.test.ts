// The shipped chord model (packages/music/models/default), loaded as `theorbo chords`
// loads it, on a tiny held-out set: the first test-split clips of the recipe's data set
// (instruments and voicings its training never heard; cached after the first run).
// It must fit the 2 MB, and beat the hand-designed CQT chroma with templates
// clearly, clean and at 10 dB SNR, Viterbi-decoded as the CLI decodes. Nothing is trained
// here: `pnpm train:default` makes the model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { acquireDevice, releaseDevices, type AcquiredDevice } from '@theorbo/codegen';
import { synthesizeDataset, type DatasetClip } from '../src/data/index.ts';
import { chordVocabulary } from '../src/chords/index.ts';
import { defaultModelDir, defaultModelRecipe, transposeInVocabulary, vocabularyLabels } from '../src/model/default-model.ts';
import { loadChromaModel } from '../src/model/load.ts';
import { robustnessConditions, scoreUnder } from '../src/model/robustness.ts';

let device: AcquiredDevice;
let clips: DatasetClip[];

test.before(async () => {
  device = await acquireDevice({ prefer: 'cpu' });
  const dataset = await synthesizeDataset({ seed: defaultModelRecipe.seed, clips: { test: 4 }, source: 'both' });
  clips = dataset.clips;
});

test.after(async () => {
  await releaseDevices();
});

test('training labels: each time\'s class in a vocabulary (N outside segments); transposition keeps the quality and N', () => {
  const sevenths = chordVocabulary('sevenths');
  const segments = [{ start: 0, end: 1, label: 'C:7' }, { start: 1, end: 2, label: 'A:min7/b3' }, { start: 2, end: 3, label: 'N' }];
  const labels = vocabularyLabels(segments, [0.5, 1.5, 2.5, 3.5], sevenths);
  assert.equal(Array.from(labels, (index) => sevenths.labels[index]), ['C:7', 'A:min7', 'N', 'N']);
  assert.throws(() => vocabularyLabels([{ start: 0, end: 1, label: 'C:dim' }], [0.5], sevenths), /no class for 'C:dim'/);
  const transpose = transposeInVocabulary(sevenths);
  assert.is(sevenths.labels[transpose(sevenths.indexOf('A:min7'), 5)], 'D:min7');
  assert.is(sevenths.labels[transpose(sevenths.indexOf('C:maj7'), -1)], 'B:maj7');
  assert.is(transpose(sevenths.noChord, 3), sevenths.noChord);
});

test('the shipped model is at most 2 MB and loads as a CNN on CQT patches', () => {
  const bytes = ['weights.npz', 'config.json'].reduce((sum, file) => sum + statSync(join(defaultModelDir, file)).size, 0);
  assert.ok(bytes <= 2 * 1024 * 1024, `${bytes} bytes`);
  assert.is(loadChromaModel(defaultModelDir).config.kind, 'cnn');
});

test('the shipped model beats CQT chroma with templates on held-out clips, clean and at 10 dB SNR', async () => {
  assert.is(clips.length, 8);
  assert.ok(clips.every((clip) => clip.split === 'test'));
  const models = [{ name: 'shipped', loaded: loadChromaModel(defaultModelDir) }, { name: 'templates', loaded: loadChromaModel(undefined) }];
  for (const name of ['clean', 'noise 10 dB SNR']) {
    const condition = robustnessConditions.find((c) => c.name === name)!;
    const [shipped, templates] = await scoreUnder(models, clips, condition, device, { decoding: { decoder: 'viterbi', selfTransition: 0.9 } });
    assert.ok(shipped!.majmin >= templates!.majmin + 0.08, `${name}: shipped ${shipped!.majmin.toFixed(3)}, templates ${templates!.majmin.toFixed(3)}`);
    assert.ok(shipped!.majmin >= 0.85, `${name}: shipped ${shipped!.majmin.toFixed(3)}`);
  }
});

test.run();
