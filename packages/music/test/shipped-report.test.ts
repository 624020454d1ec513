// The demo report's section on the shipped chord model (model/shipped-report.ts) on a tiny
// held-out set, and the one-call forward it relies on (model/clip-outputs.ts): stacked
// clips give each clip's own outputs; the section's four tables have their rows (the
// estimated bass scoring above root position under the rules with the bass), its
// robustness rows are robustness.ts's scores for the same clips, a scored row is the same
// as the robustness table's clean row where both score the same thing, and a condition
// it does not know is an error naming the known ones. Nothing is trained here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { acquireDevice, compile, releaseDevices, type AcquiredDevice } from '@theorbo/codegen';
import { synthesizeDataset, type DatasetClip } from '../src/data/index.ts';
import { defaultModelDir } from '../src/model/default-model.ts';
import { clipFeatures, featureDefaults, type ClipFeatures } from '../src/model/features.ts';
import { loadChromaModel } from '../src/model/load.ts';
import { clipInput } from '../src/model/registry.ts';
import { clipOutputs } from '../src/model/clip-outputs.ts';
import { robustnessConditions, scoreUnder } from '../src/model/robustness.ts';
import { shippedModelSection } from '../src/model/shipped-report.ts';

let device: AcquiredDevice;
let clips: DatasetClip[];
let features: Map<DatasetClip, ClipFeatures>;

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`resolved; expected an error matching ${pattern}`);
}

test.before(async () => {
  device = await acquireDevice({ prefer: 'cpu' });
  clips = (await synthesizeDataset({ seed: 7, clips: { test: 1 }, source: 'both' })).clips;
  features = new Map(clips.map((clip) => [clip, clipFeatures(clip.audio, clip.segments, featureDefaults)]));
});

test.after(async () => {
  await releaseDevices();
});

test('clipOutputs: the clips stacked along frames give each clip\'s outputs of a call of its own; rows that differ are an error', async () => {
  const { model, config } = loadChromaModel(defaultModelDir);
  const forward = compile({ inputs: [model.features], outputs: [model.chroma, T.argmax(model.chroma, 1)], device });
  const inputs = clips.map((clip) => clipInput(config, features.get(clip)!));
  const stacked = await clipOutputs(forward, inputs, true);
  const alone = await clipOutputs(forward, inputs, false);
  assert.is(stacked.length, 2);
  stacked.forEach((outputs, clip) => {
    assert.equal(outputs.map((output) => output.shape), alone[clip]!.map((output) => output.shape));
    assert.is(outputs[1]!.dtype, 'int32');
    const [a, b] = [outputs[0]!.data, alone[clip]![0]!.data];
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5, `clip ${clip}, value ${i}: ${a[i]} vs ${b[i]}`);
  });
  await rejects(clipOutputs(forward, [inputs[0]!, T.array(new Float32Array(3 * 2 * 84), { shape: [3, 2, 84] })], true), /clip 1's input has shape \[3, 2, 84\]; every clip's rows must be \[3, 84\]/);
});

test('the section: vocabulary, decoding and robustness tables; its robustness rows are robustness.ts\'s scores', async () => {
  const data = { seed: 7, source: 'both' as const, testClips: clips, features: (clip: DatasetClip) => features.get(clip)!, featureOptions: featureDefaults, device };
  const conditions = ['clean', 'noise 10 dB SNR'];
  const lines = await shippedModelSection(data, { seventhClips: 1, robustnessClips: 1, conditions });
  const text = lines.join('\n');
  for (const heading of ['## The shipped chord model', '### Vocabularies', '### Inversions', '### Decoding', '### Robustness']) assert.ok(lines.includes(heading), `no '${heading}'`);
  const rowsAfter = (header: string): string[] => {
    const start = lines.findIndex((line) => line.startsWith(header));
    assert.ok(start >= 0, `no table '${header}'`);
    const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
    return lines.slice(start + 2, end < 0 ? undefined : end);
  };
  const vocabularyRows = rowsAfter('| model | test clips hold');
  assert.is(vocabularyRows.length, 7);
  assert.match(vocabularyRows[0]!, /^\| shipped model \| maj, min \(2\) \| sevenths \| \d+\.\d \|/);
  assert.match(vocabularyRows[2]!, /^\| shipped model \| \+ 7, maj7, min7 \(2\) \| sevenths \|/);
  assert.is(rowsAfter('| decoder |').length, 3);
  // Inversions: the rule without the bass, then with it in root position and estimated;
  // scoring the bass can only lower a root-position reading, and here the estimate wins it back.
  const inversions = rowsAfter('| test clips hold (clips) | vocabulary | chords (no bass)');
  assert.is(inversions.length, 2);
  for (const row of inversions) {
    const [plain, rootPosition, estimated] = row.split('|').slice(3, 6).map(Number);
    assert.ok(rootPosition! <= plain!, row);
    assert.ok(estimated! > rootPosition!, row);
  }
  const robustness = rowsAfter('| condition |');
  assert.equal(robustness.map((row) => row.split(' | ')[0]), ['| clean', '| noise 10 dB SNR']);
  // The same clips scored by robustness.ts directly: the section's row is that one.
  const models = [{ name: 'shipped model', loaded: loadChromaModel(defaultModelDir) }, { name: 'templates', loaded: loadChromaModel(undefined) }];
  const decoding = { decoder: 'viterbi' as const, selfTransition: 0.9 };
  const noisy = await scoreUnder(models, clips, robustnessConditions.find((c) => c.name === 'noise 10 dB SNR')!, device, { decoding, tuning: false });
  assert.ok(robustness[1]!.startsWith(`| noise 10 dB SNR | ${(100 * noisy[0]!.majmin).toFixed(1)} (`), robustness[1]);
  // Clean, without the tuning estimate, is what the vocabulary table scores for the shipped model in its own vocabulary.
  const [clean] = await scoreUnder(models.slice(0, 1), clips, robustnessConditions[0]!, device, { decoding, tuning: false });
  assert.ok(vocabularyRows[0]!.includes(` | sevenths | ${(100 * clean!.majmin).toFixed(1)} | ${(100 * clean!.rules.sevenths).toFixed(1)} |`), `${vocabularyRows[0]} against ${clean!.majmin}`);
  assert.match(text, /This section took \d+\.\d s\./);
  await rejects(shippedModelSection(data, { seventhClips: 1, robustnessClips: 1, conditions: ['noise 5 dB SNR'] }), /no robustness condition 'noise 5 dB SNR'; the conditions are 'clean', 'noise 20 dB SNR'/);
});

test.run();
