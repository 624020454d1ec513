// Fine-tuning the FIR filterbank for chords, against the designed CQT with the same
// downstream model. On the demo's data pipeline (synthesized clips split by instrument
// and voicing, frames every `stride`, the same scoring) it trains the learned chroma on
// the designed log-CQT (experiment.ts's recipe), starts the FIR model from the designed
// filters and that W — checking on the test clips that it reproduces the designed
// log-CQT, chroma and predictions — then trains the filters (by default with W frozen,
// so that any change in the scores is the front end's) on raw audio windows with the
// same objective. Each model is scored with template matching and with a softmax
// classifier trained on its own training-frame chroma: hand-designed chroma, learned
// chroma on the designed CQT, the FIR model before and after fine-tuning.
// Left out: a report folder with pictures (runExperiment's), augmentation of raw audio.

import * as T from '@theorbo/graph';
import { acquireDevice, compile, readShared, type AcquiredDevice, type CompiledFunction } from '@theorbo/codegen';
import { transposeChord } from '../chords/index.ts';
import { synthesizeDataset, type DataSource, type DatasetClip } from '../data/index.ts';
import { composeAugmentations, noiseAugmentation, pitchShiftAugmentation, train, type TrainResult } from '../train/index.ts';
import { clipFeatures, stackFrames, type ClipFeatures, type FeatureOptions } from './features.ts';
import { chordClassifier, fitChromaGain, type ChromaModel, type TemplateLoss } from './models.ts';
import { buildModel } from './registry.ts';
import { featureFilterbank, firChroma, firClipFunction, firFeatureDefaults, stackWindows, type FirChromaModel } from './fir.ts';
import { standardization } from './experiment.ts';
import { scorePredictions, type ClipPrediction, type Scores } from './evaluate.ts';

export interface FirExperimentOptions {
  seed: number;
  /** Clips per source (split 70/15/15 by instrument and voicing). */
  clips: number;
  source: DataSource | 'both';
  cacheDir?: string;
  feature: FeatureOptions;
  /** Training frames: every stride-th frame of the training clips. */
  stride: number;
  epochs: { chroma: number; fir: number; classifier: number };
  /** Adam's rate for fine-tuning (filters in units of their designed peak, and W). */
  learningRate: number;
  /** Fine-tune W with the filters, or (default) the filters alone: then any change in the scores is the front end's. */
  trainChroma: boolean;
  batchSize: number;
  loss: TemplateLoss;
  device?: AcquiredDevice;
  log: (line: string) => void;
  progress: boolean;
}

export const firExperimentDefaults: Omit<FirExperimentOptions, 'log'> = {
  seed: 7, clips: 96, source: 'additive', feature: firFeatureDefaults, stride: 4,
  epochs: { chroma: 16, fir: 8, classifier: 16 }, learningRate: 1e-3, trainChroma: false, batchSize: 128, loss: 'softmax-distance', progress: false,
};

export interface FirEvaluated {
  name: string;
  template: Scores;
  classifier: Scores;
}

export interface FirReproduction {
  /** Largest |FIR − designed| over the test clips' frames: log1p(cqtGain·|CQT|), and the chroma of the learned W on each. */
  logCqt: number;
  chroma: number;
  /** The fraction of test frames whose template match is the same. */
  samePredictions: number;
  frames: number;
}

export interface FirExperimentResult {
  results: FirEvaluated[];
  reproduction: FirReproduction;
  fineTuning: TrainResult;
  trainFrames: number;
  taps: number;
  seconds: { data: number; designed: number; fineTuning: number; total: number };
  device: AcquiredDevice;
}

/** How to get a model's chroma: on the stacked training and validation frames, and per test clip. */
interface ChromaSource {
  name: string;
  frames: (split: 'train' | 'validation') => Promise<T.NDArray>;
  clip: (clip: DatasetClip, features: ClipFeatures) => Promise<{ chroma: T.NDArray; predicted: Int32Array }>;
}

/** Rows of a one-input, one-output function in chunks (windows are 16 kB a row), joined. */
async function byChunks(fn: CompiledFunction, values: T.NDArray, rows = 512): Promise<T.NDArray> {
  const count = values.shape[0]!;
  const width = values.size / count;
  const parts: T.NDArray[] = [];
  for (let start = 0; start < count; start += rows) {
    const end = Math.min(count, start + rows);
    const chunk = T.array((values.data as Float32Array).subarray(start * width, end * width), { shape: [end - start, ...values.shape.slice(1)] });
    parts.push(((await fn(chunk)) as T.NDArray[])[0]!);
  }
  const out = new Float32Array(parts.reduce((n, part) => n + part.size, 0));
  let at = 0;
  for (const part of parts) { out.set(part.data as Float32Array, at); at += part.size; }
  return T.array(out, { shape: [count, ...parts[0]!.shape.slice(1)] });
}

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

export async function runFirExperiment(options: FirExperimentOptions): Promise<FirExperimentResult> {
  const { log, feature } = options;
  const device = options.device ?? (await acquireDevice());
  log(`device: ${device.describe().split('\n')[0]}`);
  const started = performance.now();
  const dataset = await synthesizeDataset({ seed: options.seed, clips: options.clips, source: options.source, cacheDir: options.cacheDir });
  const byClip = new Map<DatasetClip, ClipFeatures>(dataset.clips.map((clip) => [clip, clipFeatures(clip.audio, clip.segments, feature)]));
  const split = (name: string) => dataset.clips.filter((clip) => clip.split === name);
  const [trainClips, validationClips, testClips] = [split('train'), split('validation'), split('test')];
  const sets = {
    train: stackFrames(trainClips.map((clip) => byClip.get(clip)!), options.stride),
    validation: stackFrames(validationClips.map((clip) => byClip.get(clip)!), options.stride),
  };
  const gain = fitChromaGain(sets.train.cqt, sets.train.labels, feature);
  const { taps } = featureFilterbank(feature);
  const windowsOf = (clips: DatasetClip[]) => stackWindows(clips.map((clip) => ({ audio: clip.audio, frames: byClip.get(clip)!.labels.length })), options.stride, taps, feature.hop);
  const windows = { train: windowsOf(trainClips), validation: windowsOf(validationClips) };
  const dataSeconds = (performance.now() - started) / 1000;
  log(`data: ${dataset.clips.length} clips (${trainClips.length} train, ${validationClips.length} validation, ${testClips.length} test), CQT ${feature.nBins} bins from ${feature.fmin.toFixed(2)} Hz, hop ${feature.hop}, ${taps}-tap filters; ${sets.train.labels.size} training frames (${dataSeconds.toFixed(1)} s)`);

  const common = { batchSize: options.batchSize, device, progress: options.progress, seed: options.seed };
  const designedStart = performance.now();
  const hand = buildModel({ kind: 'hand-chroma', feature, gain });
  const learned = buildModel({ kind: 'learned-chroma', feature, gain, loss: options.loss });
  const augment = composeAugmentations(
    pitchShiftAugmentation({ maxSemitones: 6, binsPerSemitone: feature.binsPerOctave / 12, transposeLabel: transposeChord }),
    noiseAugmentation({ std: 0.02 }),
  );
  log('training the learned chroma on the designed CQT (CQT · W)');
  await train({ ...common, model: learned, data: { train: [sets.train.cqt, sets.train.labels], validation: [sets.validation.cqt, sets.validation.labels] }, epochs: options.epochs.chroma, rule: 'adam', learningRate: 0.01, augment, earlyStopping: { monitor: 'loss', patience: 3 } });
  const designedSeconds = (performance.now() - designedStart) / 1000;

  const fir = firChroma(feature, { gain, chromaWeights: await readShared(learned.weights), trainChroma: options.trainChroma }, options.loss);
  const designedSource = (name: string, model: ChromaModel): ChromaSource => {
    const forward = compile({ inputs: [model.features], outputs: [model.chroma, model.predictions!], device });
    return {
      name,
      frames: async (which) => ((await forward(sets[which].cqt)) as T.NDArray[])[0]!,
      clip: async (_clip, features) => {
        const [chroma, predicted] = (await forward(features.cqt)) as T.NDArray[];
        return { chroma: chroma!, predicted: predicted!.data as Int32Array };
      },
    };
  };
  const firSource = (name: string, model: FirChromaModel): ChromaSource => {
    const forward = compile({ inputs: [model.features], outputs: [model.chroma], device });
    const clipForward = firClipFunction(model, device);
    return { name, frames: (which) => byChunks(forward, windows[which]), clip: (clip) => clipForward(clip.audio) };
  };

  const evaluate = async (source: ChromaSource): Promise<FirEvaluated> => {
    const trainChroma = await source.frames('train');
    const validationChroma = await source.frames('validation');
    const { mean, scale } = standardization(trainChroma);
    const classifier = chordClassifier(mean, scale, options.seed + 17);
    await train({ ...common, model: classifier, data: { train: [trainChroma, sets.train.labels], validation: [validationChroma, sets.validation.labels] }, epochs: options.epochs.classifier, rule: 'adam', learningRate: 0.01, earlyStopping: { monitor: 'loss', patience: 3 } });
    const classify = compile({ inputs: [classifier.features], outputs: classifier.predictions!, device });
    const template: ClipPrediction[] = [];
    const classified: ClipPrediction[] = [];
    for (const clip of testClips) {
      const features = byClip.get(clip)!;
      const { chroma, predicted } = await source.clip(clip, features);
      const [classes] = (await classify(chroma)) as T.NDArray[];
      const base = { reference: clip.segments, frameLabels: features.labels, duration: clip.duration };
      template.push({ ...base, predicted });
      classified.push({ ...base, predicted: classes!.data as Int32Array });
    }
    const scoring = { hop: feature.hop, sampleRate: feature.sampleRate, medianWidth: 9 };
    const result = { name: source.name, template: scorePredictions(template, scoring), classifier: scorePredictions(classified, scoring) };
    log(`${result.name}: majmin ${percent(result.template.majmin)} (templates), ${percent(result.classifier.majmin)} (classifier)`);
    return result;
  };

  // Before fine-tuning the FIR model is the learned chroma on the designed CQT.
  const reproduction: FirReproduction = { logCqt: 0, chroma: 0, samePredictions: 0, frames: 0 };
  {
    const designed = compile({ inputs: [learned.features], outputs: [learned.chroma, learned.predictions!], device });
    const front = firClipFunction(fir, device);
    let same = 0;
    for (const clip of testClips) {
      const features = byClip.get(clip)!;
      const [chroma, predicted] = (await designed(features.cqt)) as T.NDArray[];
      const firOutputs = await front(clip.audio);
      reproduction.logCqt = Math.max(reproduction.logCqt, maxDifference(firOutputs.logCqt.data, features.cqt.data));
      reproduction.chroma = Math.max(reproduction.chroma, maxDifference(firOutputs.chroma.data, chroma!.data));
      for (let f = 0; f < predicted!.size; f++) same += predicted!.data[f] === firOutputs.predicted[f] ? 1 : 0;
      reproduction.frames += predicted!.size;
    }
    reproduction.samePredictions = same / reproduction.frames;
    log(`reproduction before fine-tuning, ${reproduction.frames} test frames: max |Δ log-CQT| ${reproduction.logCqt.toExponential(2)}, max |Δ chroma| ${reproduction.chroma.toExponential(2)}, same template match on ${percent(reproduction.samePredictions)}`);
  }

  const results = [
    await evaluate(designedSource('hand-designed chroma (designed CQT · octave folding)', hand)),
    await evaluate(designedSource('learned chroma (designed CQT · W)', learned)),
    await evaluate(firSource('FIR front end before fine-tuning', fir)),
  ];
  const tuneStart = performance.now();
  log(`fine-tuning the FIR front end${options.trainChroma ? ' and W' : ''} on ${windows.train.shape[0]} raw-audio windows (Adam ${options.learningRate}, ${options.epochs.fir} epochs at most)`);
  const fineTuning = await train({ ...common, model: fir, data: { train: [windows.train, sets.train.labels], validation: [windows.validation, sets.validation.labels] }, epochs: options.epochs.fir, rule: 'adam', learningRate: options.learningRate, earlyStopping: { monitor: 'loss', patience: 2 } });
  const fineTuningSeconds = (performance.now() - tuneStart) / 1000;
  for (const entry of fineTuning.history) log(`  epoch ${entry.epoch}: train loss ${entry.train.loss!.toFixed(4)}, validation loss ${entry.validation?.loss?.toFixed(4)} accuracy ${entry.validation?.accuracy?.toFixed(4)} (${entry.seconds.toFixed(1)} s)`);
  results.push(await evaluate(firSource('FIR front end fine-tuned', fir)));
  return {
    results, reproduction, fineTuning, trainFrames: sets.train.labels.size, taps: fir.bank.taps, device,
    seconds: { data: dataSeconds, designed: designedSeconds, fineTuning: fineTuningSeconds, total: (performance.now() - started) / 1000 },
  };
}

const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;
