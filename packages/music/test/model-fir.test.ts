// The FIR chord model on the device: untrained, with the learned chroma's W, it is that
// model on the designed CQT (same log-CQT and chroma to 1e-4, same template matches);
// its window graph and clip graph agree; fine-tuning the filters lowers the training
// loss and leaves W alone; `fir` round-trips through the registry; and the small
// experiment reproduces, scores the untrained FIR model exactly as the learned chroma,
// and fine-tunes. Data: the demo's additive clips (seed 7), from the cache.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '@theorbo/graph';
import { compile, readShared, releaseDevices } from '@theorbo/codegen';
import { synthesizeDataset } from '../src/data/index.ts';
import { saveModel, train } from '../src/train/index.ts';
import {
  buildModel, clipFeatures, firChroma, firClipFunction, firExperimentDefaults, firFeatureDefaults, firWindows, fitChromaGain,
  isFirModel, learnedChroma, loadChromaModel, runFirExperiment, stackFrames,
} from '../src/model/index.ts';
import { webGpuDevice } from './signal-fixtures.ts';

test.after(async () => {
  await releaseDevices();
});

const feature = firFeatureDefaults;
let dataset: Awaited<ReturnType<typeof synthesizeDataset>>;
const clips = (split: string) => dataset.clips.filter((clip) => clip.split === split);

test.before(async () => {
  dataset = await synthesizeDataset({ seed: 7, clips: 24, source: 'additive' });
});

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test('untrained, the FIR model with the learned chroma’s W is that model on the designed CQT; windows and clips agree', async () => {
  const device = await webGpuDevice();
  const trainSet = stackFrames(clips('train').map((clip) => clipFeatures(clip.audio, clip.segments, feature)), 4);
  const gain = fitChromaGain(trainSet.cqt, trainSet.labels, feature);
  const learned = learnedChroma(feature, { from: 'octave', gain });
  // Any W will do; a scrambled one makes the chroma comparison less of a coincidence.
  const weights = T.array(Float32Array.from(learned.weights.get().data, (v, i) => v + 0.05 * Math.sin(i)), { shape: [feature.nBins, 12] });
  learned.weights.set(weights);
  const fir = firChroma(feature, { gain, chromaWeights: weights });
  const designed = compile({ inputs: [learned.features], outputs: [learned.chroma, learned.predictions!], device });
  const clipFunction = firClipFunction(fir, device);
  const windowsFunction = compile({ inputs: [fir.features], outputs: [fir.chroma], device });
  for (const clip of clips('test')) {
    const features = clipFeatures(clip.audio, clip.segments, feature);
    const [chroma, predicted] = (await designed(features.cqt)) as T.NDArray[];
    const outputs = await clipFunction(clip.audio);
    assert.ok(maxDifference(outputs.logCqt.data, features.cqt.data) <= 1e-4, `${clip.id}: log-CQT ${maxDifference(outputs.logCqt.data, features.cqt.data)}`);
    assert.ok(maxDifference(outputs.chroma.data, chroma!.data) <= 1e-4, `${clip.id}: chroma ${maxDifference(outputs.chroma.data, chroma!.data)}`);
    assert.equal(Array.from(outputs.predicted), Array.from(predicted!.data), `${clip.id}: template matches`);
    const [windowChroma] = (await windowsFunction(firWindows([clip], feature, 1))) as T.NDArray[];
    assert.ok(maxDifference(windowChroma!.data, outputs.chroma.data) <= 1e-5, `${clip.id}: windows vs clip ${maxDifference(windowChroma!.data, outputs.chroma.data)}`);
  }
});

test('fine-tuning the front end alone lowers the training loss, moves the filters and leaves W as it was', async () => {
  const device = await webGpuDevice();
  const training = clips('train').slice(0, 8);
  const labels = stackFrames(training.map((clip) => clipFeatures(clip.audio, clip.segments, feature)), 4).labels;
  const windows = firWindows(training, feature, 4);
  const model = firChroma(feature, { gain: 0.6, trainChroma: false }, 'softmax-distance');
  assert.is(model.params.length, 1);
  const before = { filters: model.filters.get(), weights: model.weights.get() };
  const lossOf = compile({ inputs: model.inputs, outputs: [model.loss], device });
  const [initial] = (await lossOf(windows, labels)) as T.NDArray[];
  await train({ model, device, epochs: 3, batchSize: 64, rule: 'adam', learningRate: 1e-3, seed: 1, progress: false, data: { train: [windows, labels] } });
  const [final] = (await lossOf(windows, labels)) as T.NDArray[];
  assert.ok(final!.data[0]! < 0.9 * initial!.data[0]!, `training loss ${initial!.data[0]} → ${final!.data[0]}`);
  assert.ok(maxDifference((await readShared(model.filters)).data, before.filters.data) > 1e-3, 'the filters moved');
  assert.is(maxDifference((await readShared(model.weights)).data, before.weights.data), 0, 'W stayed');
});

test('`fir` through the registry: saved and loaded, the model predicts the same', async () => {
  const device = await webGpuDevice();
  const config = { kind: 'fir' as const, feature, gain: 0.6, loss: 'softmax-distance' as const };
  const model = buildModel(config);
  assert.ok(isFirModel(model));
  model.filters.set(T.array(Float32Array.from(model.filters.get().data, (v, i) => v * (1 + 0.01 * Math.cos(i))), { shape: model.filters.get().shape }));
  const dir = mkdtempSync(join(tmpdir(), 'theorbo-fir-'));
  await saveModel(dir, model.params, config);
  const loaded = loadChromaModel(dir);
  assert.is(loaded.config.kind, 'fir');
  const windows = firWindows(clips('test').slice(0, 1), feature, 8);
  const predict = async (m: typeof model) => ((await compile({ inputs: [m.features], outputs: [m.predictions!], device })(windows)) as T.NDArray[])[0]!.data;
  assert.equal(Array.from(await predict(loaded.model as typeof model)), Array.from(await predict(model)));
});

test('the small experiment: reproduction to 1e-4, the untrained FIR model scores as the learned chroma, then fine-tunes', async () => {
  const lines: string[] = [];
  const result = await runFirExperiment({ ...firExperimentDefaults, clips: 24, epochs: { chroma: 8, fir: 2, classifier: 4 }, device: await webGpuDevice(), log: (line) => lines.push(line) });
  assert.ok(result.reproduction.logCqt <= 1e-4 && result.reproduction.chroma <= 1e-4, JSON.stringify(result.reproduction));
  assert.is(result.reproduction.samePredictions, 1);
  const [, learned, untrained, tuned] = result.results;
  assert.match(untrained!.name, /before fine-tuning/);
  assert.is(untrained!.template.majmin, learned!.template.majmin);
  assert.equal(untrained!.template.confusion, learned!.template.confusion);
  assert.ok(tuned!.template.majmin > 0.3 && result.fineTuning.epochsDone >= 1, `${tuned!.template.majmin}`);
  assert.ok(lines.some((line) => line.startsWith('reproduction before fine-tuning')));
});

test.run();
