// The `theorbo` command line: synth (make a data set), train (one model, with
// checkpoints and resume), eval (a saved model on held-out clips), chroma <audio>
// (chromagram as CSV and PNG), chords <audio> (a .lab file), mel and mfcc <audio> (CSV),
// onsets, tempo and beats <audio> (times or BPM; rhythm-commands.ts computes them), plot
// (heatmaps of saved weights) and demo (the main job: the whole experiment and its
// report). Every command prints the device it runs on (to stderr where stdout carries
// data); --device picks one (gpu, cpu, cpu-webgpu, reference).

import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, CommanderError } from 'commander';
import * as T from '@theorbo/graph';
import { acquireDevice, compile, deviceKinds, type AcquiredDevice, type DeviceKind } from '@theorbo/codegen';
import { loadMono, wavFormatNames, wavFormats, writeWav, type WavFormatName } from '../audio/index.ts';
import { exportClips } from './dataset-export.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { bassEstimable, bassOptionsFor, chordVocabulary, estimateBass, labelWithLowestNote, readLab, vocabularyHasTwins, vocabularyNames, vocabularyQualities, writeLab, type ChordVocabulary, type VocabularyName } from '../chords/index.ts';
import { datasetSummary, defaultPlanSettings, defaultTextures, formatDatasetSummary, synthesizeDataset, type ChordQuality, type DataSource, type PlanSettings } from '../data/index.ts';
import { chordTransitionsFromSegments, formatChordTransitions, framesToSegments, parseChordTransitions, stickyTransitions, transitionLogMatrix, viterbiGraph, type ChordTransitions } from '../eval/index.ts';
import { chordDecoders, chordDecodingDefaults, decodeChordFrames, decodingForVocabulary, familyMembers, type ChordDecoding, type ChordDecoder } from '../eval/chord-decoding.ts';
import { heatmapSvg, melFigureSvg, onsetFigureSvg, pitchClassTicks, timeTicks, writeFigure } from '../plot/index.ts';
import { arrayFigure, lossCurveFigure } from '../model/report-figures.ts';
import { loadNpz, saveModel, StepProgress, train } from '../train/index.ts';
import { audioTuning, clipFeatures, featureDefaults, stackFrames, type ClipFeatures } from '../model/features.ts';
import { buildModel, clipInput, modelKinds, type ModelConfig, type ModelKind } from '../model/registry.ts';
import { loadChromaModel } from '../model/load.ts';
import { defaultModelDir } from '../model/default-model.ts';
import { addRobustnessCommand } from './robustness-command.ts';
import { cnnDefaults, cnnTraining } from '../model/cnn.ts';
import { crnnDefaults, crnnTraining } from '../model/crnn.ts';
import { chunkPatches, stackPatches } from '../model/patches.ts';
import { experimentDefaults, runExperiment } from '../model/experiment.ts';
import { firFeatureDefaults, firWindows } from '../model/fir.ts';
import { scorePredictions } from '../model/evaluate.ts';
import { fitChromaGain, groupLogScores, vocabularyLogScores } from '../model/models.ts';
import { clipsFlag, epochsFlag, hiddenFlag, melBandsFlag, mfccCountFlag, oddFrames, oneOf, openProbability, probability, seedFlag, sourceFlag, synthClipsFlag, UsageError } from './flags.ts';
import { analysisHop, analysisRate, beatsOf, matrixCsv, melOf, mfccOf, mixClicks, onsetTimesOf, tempoCurveOf, tempoOf, tempoPairOf } from './rhythm-commands.ts';
import { loadFrontEnd, type RhythmFrontEnd } from '../rhythm/index.ts';
import { lockRunFolder, prepareFreshRun } from './run-folder.ts';
import { dataOutputPaths, expandInputs, forEachInput, outputPaths } from './input-files.ts';
import { adoptParentTerminal, progressWanted } from './terminal.ts';
import { chromaNorms, defaultChromaNorm, frameFileFormats, normalizeRows, pitchClassColumns, writeFrameFile, type ChromaNormName, type FrameFileFormat } from './frame-files.ts';
import { addExportGraphCommand } from './export-graph-command.ts';

async function device(kind: DeviceKind | undefined, log: (line: string) => void = console.log): Promise<AcquiredDevice> {
  const acquired = await acquireDevice(kind ? { prefer: kind } : {});
  log(`device: ${acquired.describe().split('\n')[0]}`);
  return acquired;
}

// Flags are checked as commander reads them (flags.ts), so every action starts with valid
// flags; each action then reads its input files before it acquires the device.
adoptParentTerminal();
const program = new Command('theorbo').description('Learned chroma and chord recognition on the Theorbo engine').exitOverride()
  .configureOutput({ outputError: (message, write) => write(message.replace(/^error: /, 'theorbo: ')) })
  .configureHelp({ showGlobalOptions: true }); // each subcommand's --help lists --device, --quiet, --verbose
program.option('--device <kind>', 'gpu, cpu, cpu-webgpu or reference (default: the best this machine has)', oneOf(deviceKinds))
  .option('--quiet', 'no progress display on stderr (it is drawn only when stderr is a terminal)')
  .option('--verbose', 'let the WebGPU driver\'s own warnings through to stderr (hidden by default)');
const quietOption = (): boolean => program.opts<{ quiet?: boolean }>().quiet === true;
/** The synthesis step's progress line (on a terminal, without --quiet), cleared when the last clip is done. */
const synthesisProgress = (): ((done: number, total: number) => void) => {
  const progress = new StepProgress('synthesizing', 'clips', { enabled: !quietOption() });
  return (done, total) => {
    progress.update(done, total);
    if (done === total) progress.finish();
  };
};
const deviceOption = (): DeviceKind | undefined => program.opts<{ device?: DeviceKind }>().device;
const trainableKinds = modelKinds.filter((kind) => kind !== 'hand-chroma');
const wavFormatHelp = 'the WAV files\' samples: pcm16 (default), pcm24 (PCM, format tag 1) or float (32-bit IEEE float, format tag 3)';

program.command('synth').description('synthesize (or load from the cache) a chord data set and summarize it')
  .option('--clips <n>', 'clips per source', synthClipsFlag, experimentDefaults.clips)
  .option('--source <source>', 'additive, fluidsynth or both', sourceFlag, experimentDefaults.source)
  .option('--seed <n>', 'seed', seedFlag, experimentDefaults.seed)
  .option('--cache <dir>', 'cache folder')
  .option('--qualities <vocab>', 'the chord qualities clips hold: majmin (default), sevenths (+ 7, maj7, min7) or full (+ dim, aug, sus2, sus4, maj6, min6)', oneOf(vocabularyNames), 'majmin')
  .option('--n-probability <p>', `the chance that a segment after a chord is N: silence, noise, drum hits and the chord's release tail (default ${defaultPlanSettings.noChordProbability})`, probability)
  .option('--textures', 'also strummed and arpeggiated chords, with a melody and drums on top (default: held chords)')
  .option('--out <dir>', 'also write each clip to this folder as <clip id>.wav and <clip id>.lab')
  .option('--wav-format <format>', wavFormatHelp, oneOf(wavFormatNames), 'pcm16')
  .action(async (options: { clips: number; source: DataSource | 'both'; seed: number; cache?: string; out?: string; wavFormat: WavFormatName } & DataFlags) => {
    await device(deviceOption());
    const dataset = await synthesizeDataset({ seed: options.seed, clips: options.clips, source: options.source, cacheDir: options.cache, onProgress: synthesisProgress(), plan: dataPlan(options) });
    console.log(formatDatasetSummary(datasetSummary(dataset)));
    if (options.out !== undefined) {
      const written = exportClips(options.out, dataset.clips, options.wavFormat);
      console.log(`wrote ${written} clip${written === 1 ? '' : 's'} to ${options.out} (.wav as ${options.wavFormat}, .lab)`);
    }
  });

program.command('train').description('train one model on synthesized data, with a checkpoint each epoch')
  .requiredOption('--out <dir>', 'where the model (weights.npz, config.json) and its checkpoint go')
  .option('--model <kind>', 'learned-chroma, network, cnn (a small CNN on CQT patches), crnn (the CNN with a bidirectional GRU over the frames) or fir (the CQT\'s kernels as a trainable conv1d on raw audio)', oneOf(trainableKinds), 'learned-chroma')
  .option('--epochs <n>', 'epochs in all (with --resume, more than the run has done continues it)', epochsFlag, 10)
  .option('--hidden <sizes>', 'the network\'s hidden layers, e.g. 256,64 (the talk\'s) or 512,256,64', hiddenFlag, experimentDefaults.hidden)
  .option('--clips <n>', 'clips per source', clipsFlag, experimentDefaults.clips)
  .option('--source <source>', 'additive, fluidsynth or both', sourceFlag, experimentDefaults.source)
  .option('--seed <n>', 'seed', seedFlag, experimentDefaults.seed)
  .option('--resume', 'continue from the checkpoint in --out')
  .option('--force', 'replace the run already in --out (its config.json, weights.npz and checkpoint)')
  .action(async (options: { out: string; model: ModelKind; epochs: number; hidden: number[]; clips: number; source: DataSource | 'both'; seed: number; resume?: boolean; force?: boolean }) => {
    if (options.resume && options.force) throw new UsageError('train: --resume continues the run in --out and --force replaces it; pass one of them, not both.');
    const release = lockRunFolder(options.out);
    try {
      if (!options.resume) prepareFreshRun(options.out, options.force ?? false);
      await trainCommand(options, await device(deviceOption()));
    } finally {
      release();
    }
  });

async function trainCommand(options: { out: string; model: ModelKind; epochs: number; hidden: number[]; clips: number; source: DataSource | 'both'; seed: number; resume?: boolean }, acquired: AcquiredDevice): Promise<void> {
  const dataset = await synthesizeDataset({ seed: options.seed, clips: options.clips, source: options.source, onProgress: synthesisProgress() });
  // The FIR model's CQT starts at C3 (4096-tap filters) and it reads one raw-audio window per frame.
  const feature = options.model === 'fir' ? firFeatureDefaults : featureDefaults;
  const splitClips = (split: string) => dataset.clips.filter((clip) => clip.split === split);
  const byClip = new Map<string, ClipFeatures[]>();
  const splitFeatures = (split: string) => byClip.get(split) ?? byClip.set(split, splitClips(split).map((clip) => clipFeatures(clip.audio, clip.segments, feature))).get(split)!;
  const features = (split: string) => stackFrames(splitFeatures(split), experimentDefaults.stride);
  const trainSet = features('train');
  const validation = features('validation');
  const gain = fitChromaGain(trainSet.cqt, trainSet.labels, feature);
  const convolutional = options.model === 'cnn' || options.model === 'crnn';
  const config: ModelConfig = {
    kind: options.model, feature, gain, hidden: options.hidden, seed: options.seed, loss: experimentDefaults.loss,
    ...(options.model === 'cnn' ? { cnn: cnnDefaults } : options.model === 'crnn' ? { crnn: crnnDefaults } : {}), ...(convolutional ? { dropout: experimentDefaults.dropout } : {}),
  };
  const model = buildModel(config);
  const input = options.model === 'network' ? 'dft' : 'cqt';
  // The CRNN reads chunks of consecutive frames, labelled per frame; the others single frames.
  const dataOf = (split: string, set: typeof trainSet): [T.NDArray, T.NDArray] => {
    if (options.model === 'crnn') {
      const { patches, labels } = chunkPatches(splitFeatures(split), crnnDefaults.cnn.radius, crnnDefaults.chunk, crnnDefaults.hop);
      return [patches, labels];
    }
    if (options.model === 'cnn') return [stackPatches(splitFeatures(split).map((clip) => clip.cqt), cnnDefaults.radius, experimentDefaults.stride), set.labels];
    return [options.model === 'fir' ? firWindows(splitClips(split), feature, experimentDefaults.stride) : set[input], set.labels];
  };
  const result = await train({
    model, device: acquired, progress: progressWanted(quietOption()), epochs: options.epochs, batchSize: 256, rule: 'adam', learningRate: options.model === 'network' || options.model === 'fir' ? 0.001 : 0.01, seed: options.seed,
    ...(options.model === 'cnn' ? cnnTraining(feature) : options.model === 'crnn' ? crnnTraining(feature, crnnDefaults) : {}),
    data: { train: dataOf('train', trainSet), validation: dataOf('validation', validation) },
    checkpointDir: join(options.out, 'checkpoint'), resume: options.resume ?? false, earlyStopping: { monitor: 'loss', patience: 3 }, config,
  });
  await saveModel(options.out, model.params, config);
  const curve = lossCurveFigure(options.out, `${options.model} (theorbo train)`, result.history);
  const last = result.history[result.history.length - 1];
  console.log(`trained ${result.epochsDone} epochs${result.stoppedEarly ? ' (stopped early)' : ''}${result.epochsDone > result.epochsRunNow ? ` (${result.epochsRunNow} in this run)` : ''}; last validation ${JSON.stringify(last?.validation ?? {})}; saved to ${options.out}${curve ? ` (loss curve: ${curve}.svg, .png)` : ''}`);
}

const transitionsHelp = 'Viterbi\'s chord transitions learned from labelled chords, a file written by `theorbo transitions` (default: sticky, --self-transition)';

program.command('eval').description('evaluate a saved model (or the hand-designed chroma) on the held-out test clips with template matching')
  .option('--model <dir>', 'a model folder written by train or demo')
  .option('--clips <n>', 'clips per source', clipsFlag, experimentDefaults.clips)
  .option('--source <source>', 'additive, fluidsynth or both', sourceFlag, experimentDefaults.source)
  .option('--seed <n>', 'seed', seedFlag, experimentDefaults.seed)
  .option('--decode <decoder>', 'viterbi, median or none (default: the 9-frame median filter the demo reports)', oneOf(chordDecoders))
  .option('--self-transition <p>', `Viterbi's probability of staying on a chord from one frame to the next (default ${chordDecodingDefaults.selfTransition})`, openProbability)
  .option('--median-width <frames>', `the median filter's window, odd (default ${chordDecodingDefaults.medianWidth})`, oddFrames)
  .option('--vocab <name>', 'the chords template matching chooses from: majmin (24 triads and N), sevenths (+ 7, maj7, min7) or full (+ dim, aug, sus2, sus4, maj6, min6)', oneOf(vocabularyNames), 'majmin')
  .option('--qualities <vocab>', 'the chord qualities the test clips hold: majmin (default), sevenths or full', oneOf(vocabularyNames), 'majmin')
  .option('--n-probability <p>', `the chance that a segment after a chord is N (default ${defaultPlanSettings.noChordProbability})`, probability)
  .option('--textures', 'test clips also with strummed and arpeggiated chords, a melody and drums on top (default: held chords)')
  .option('--transitions <file>', transitionsHelp)
  .action(async (options: { model?: string; clips: number; source: DataSource | 'both'; seed: number; vocab: VocabularyName } & DataFlags & DecodeFlags) => {
    const decoding = options.decode === undefined ? undefined : decodingOf(options);
    const vocabulary = chordVocabulary(options.vocab);
    const { model, config } = loadChromaModel(modelFolder(options.model));
    const learned = learnedTransitions(options, vocabulary, config.feature);
    if (learned !== undefined && decoding === undefined) throw new UsageError('--transitions are Viterbi\'s; give --decode viterbi with them.');
    const acquired = await device(deviceOption());
    const dataset = await synthesizeDataset({ seed: options.seed, clips: options.clips, source: options.source, onProgress: synthesisProgress(), plan: dataPlan(options) });
    const logScores = vocabularyLogScores(model.chroma, config.vocab ?? 'majmin', vocabulary.name);
    const forward = compile({ inputs: [model.features], outputs: [T.argmax(logScores, 1), logScores], device: acquired });
    const predictions = [];
    const testClips = dataset.clips.filter((c) => c.split === 'test');
    for (const clip of testClips) {
      const features = clipFeatures(clip.audio, clip.segments, config.feature);
      const [predicted, logScores] = (await forward(config.kind === 'fir' ? firWindows([clip], config.feature, 1) : clipInput(config, features))) as T.NDArray[];
      predictions.push({ reference: clip.segments, frameLabels: features.labels, predicted: predicted!.data as Int32Array, logScores, cqt: features.cqt, duration: clip.duration });
    }
    const scoring = { hop: config.feature.hop, sampleRate: config.feature.sampleRate, medianWidth: options.medianWidth ?? chordDecodingDefaults.medianWidth, decoding, vocabulary, trained: config.vocab ?? 'majmin', ...(learned === undefined ? {} : { transitions: learned }) };
    const scores = scorePredictions(predictions, scoring);
    // Inversions: references naming each chord's lowest note as its bass, the chords in root position and with the bass estimated.
    const invertedReference = predictions.map((prediction, i) => ({ ...prediction, reference: testClips[i]!.segments.map((segment) => ({ start: segment.start, end: segment.end, label: labelWithLowestNote(segment.label, segment.root, segment.notes[0]?.midi) })) }));
    const inversions = !bassEstimable(config.feature) ? undefined : [scorePredictions(invertedReference, scoring), scorePredictions(invertedReference, { ...scoring, bass: { ...bassOptionsFor(config.feature), vocabulary } })] as const;
    const percent = (value: number | null): string => (value === null ? 'n/a' : `${(100 * value).toFixed(1)}%`);
    const { rules } = scores;
    console.log(`${config.kind} on ${predictions.length} test clips${decoding ? ` (${learned === undefined ? describeDecoding(decoding) : `Viterbi, transitions learned from ${options.transitions}`})` : ''}, ${vocabulary.name} vocabulary: majmin ${percent(scores.majmin)}, root ${percent(scores.root)}, frames ${percent(scores.frameAccuracy)}`);
    const byQuality = Object.entries(scores.qualityRecall ?? {}).sort(([a], [b]) => vocabulary.labels.findIndex((label) => label.endsWith(`:${a}`) || label === a) - vocabulary.labels.findIndex((label) => label.endsWith(`:${b}`) || label === b));
    console.log(`  sevenths ${percent(rules.sevenths)}, mirex ${percent(rules.mirex)}, thirds ${percent(rules.thirds)}, triads ${percent(rules.triads)}, tetrads ${percent(rules.tetrads)}; N recall ${percent(scores.noChordRecall)}; segmentation ${percent(rules.segmentation)} (over ${percent(rules.overSegmentation)}, under ${percent(rules.underSegmentation)})`);
    console.log(`  frames of each quality labelled with exactly their class: ${byQuality.map(([quality, recall]) => `${quality} ${percent(recall)}`).join(', ')}`);
    if (inversions !== undefined) console.log(`  with the bass (each chord's lowest note), root position → estimated as theorbo chords does: majmin_inv ${percent(inversions[0].rules.majmin_inv)} → ${percent(inversions[1].rules.majmin_inv)}, sevenths_inv ${percent(inversions[0].rules.sevenths_inv)} → ${percent(inversions[1].rules.sevenths_inv)}`);
    // Where the vocabulary has classes of the same notes (full: C:maj6 and A:min7, C:sus4 and F:sus2), the bass chose between them.
    if (inversions !== undefined && vocabularyHasTwins(vocabulary)) {
      const after = inversions[1];
      console.log(`  after the bass chose between classes of the same notes: sevenths ${percent(after.rules.sevenths)}, tetrads ${percent(after.rules.tetrads)}, root ${percent(after.rules.root)}; frames of each quality: ${byQuality.map(([quality]) => `${quality} ${percent(after.qualityRecall?.[quality] ?? null)}`).join(', ')}`);
    }
  });

interface DecodeFlags { decode?: ChordDecoder; selfTransition?: number; medianWidth?: number; transitions?: string }

/** --transitions' counts as the decoder's log matrix (over `families` where given); another vocabulary or frame rate is a usage error naming the file. */
function transitionsFlagMatrix(learned: ChordTransitions & { file: string }, vocabulary: ChordVocabulary, frame: { hop: number; sampleRate: number }, families?: ArrayLike<number>): Float64Array {
  try {
    return transitionLogMatrix(learned, vocabulary, frame, families);
  } catch (error) {
    throw new UsageError(`--transitions ${learned.file}: ${(error as Error).message}`);
  }
}

/** The learned transitions of --transitions, checked against the decoder's vocabulary and frame rate when given them (undefined without the flag). */
function learnedTransitions(flags: DecodeFlags, vocabulary?: ChordVocabulary, frame?: { hop: number; sampleRate: number }): (ChordTransitions & { file: string }) | undefined {
  if (flags.transitions === undefined) return undefined;
  if (flags.decode !== undefined && flags.decode !== 'viterbi') throw new UsageError(`--transitions are Viterbi's; they mean nothing with --decode ${flags.decode}.`);
  if (flags.selfTransition !== undefined) throw new UsageError('--self-transition is the sticky matrix\'s; --transitions replaces that matrix.');
  let text: string;
  try {
    text = readFileSync(flags.transitions, 'utf8');
  } catch (error) {
    throw new UsageError(`--transitions: cannot read ${flags.transitions}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let transitions: ChordTransitions;
  try {
    transitions = parseChordTransitions(text, flags.transitions);
  } catch (error) {
    throw new UsageError(`--transitions ${(error as Error).message}`);
  }
  const learned = { ...transitions, file: flags.transitions };
  if (vocabulary !== undefined && frame !== undefined) transitionsFlagMatrix(learned, vocabulary, frame); // refuses another vocabulary or frame rate, naming both
  return learned;
}

function decodingOf(flags: DecodeFlags): ChordDecoding {
  const decoder = flags.decode ?? 'viterbi';
  if (flags.selfTransition !== undefined && decoder !== 'viterbi') throw new UsageError(`--self-transition is Viterbi's parameter; it means nothing with --decode ${decoder}.`);
  if (flags.medianWidth !== undefined && decoder !== 'median') throw new UsageError(`--median-width is the median filter's parameter; it means nothing with --decode ${decoder}.`);
  return { decoder, selfTransition: flags.selfTransition ?? chordDecodingDefaults.selfTransition, medianWidth: flags.medianWidth ?? chordDecodingDefaults.medianWidth };
}

const describeDecoding = (decoding: ChordDecoding): string =>
  decoding.decoder === 'viterbi' ? `Viterbi, self-transition ${decoding.selfTransition}` : decoding.decoder === 'median' ? `median filter over ${decoding.medianWidth} frames` : 'no smoothing';

interface DataFlags { qualities: VocabularyName; nProbability?: number; textures?: boolean }

/** Plan settings from the data flags: a vocabulary's qualities (none for majmin: the data sets as they were) and N's chance. */
const dataPlan = (flags: DataFlags): Partial<PlanSettings> => ({
  ...(flags.qualities === 'majmin' ? {} : { qualities: vocabularyQualities[flags.qualities] as ChordQuality[] }),
  ...(flags.nProbability === undefined ? {} : { noChordProbability: flags.nProbability }),
  ...(flags.textures ? { textures: defaultTextures } : {}),
});

/** `--model templates` names the hand-designed chroma (as no --model does); a folder called templates is ./templates. */
const modelFolder = (model: string | undefined): string | undefined => (model === 'templates' ? undefined : model);

/**
 * The chroma and class log scores of audio files under one model: the model is loaded and
 * its graph built once, compiled for the device at the first file read (so a bad first
 * file starts no device); with `viterbiOnDevice`, also the Viterbi path decoded by
 * viterbiGraph in the same compiled function.
 */
function chromaSession(modelDir: string | undefined, vocabularyName?: VocabularyName, viterbiOnDevice?: { selfTransition: number; transitions?: ChordTransitions & { file: string } }) {
  const { model, config } = loadChromaModel(modelFolder(modelDir));
  // Without --vocab, the chords the model was trained on (majmin for the templates).
  const vocabulary = chordVocabulary(vocabularyName ?? config.vocab ?? 'majmin');
  const scores = vocabularyLogScores(model.chroma, config.vocab ?? 'majmin', vocabulary.name);
  // Beyond majmin the device's Viterbi decodes triad families, as the host's does (decodingForVocabulary).
  const families = decodingForVocabulary({ decoder: 'viterbi' }, vocabulary, config.vocab ?? 'majmin').families;
  const states = families === undefined ? vocabulary.labels.length : Math.max(...Array.from(families)) + 1;
  const decoded = families === undefined ? scores : groupLogScores(scores, families, states);
  const transitions = viterbiOnDevice?.transitions === undefined ? undefined : T.array(Float32Array.from(transitionsFlagMatrix(viterbiOnDevice.transitions, vocabulary, config.feature, families)), { shape: [states, states] });
  const path = viterbiOnDevice === undefined ? [] : [viterbiGraph(decoded, T.constant(transitions ?? stickyTransitions(states, viterbiOnDevice.selfTransition))).path];
  let forward: ReturnType<typeof compile> | undefined;
  const run = async (audioPath: string) => {
    const signal = await loadMono(audioPath, config.feature.sampleRate);
    forward ??= compile({ inputs: [model.features], outputs: [model.chroma, scores, ...path], device: await device(deviceOption()) });
    // The CQT centred on the audio's estimated tuning (the FIR model reads raw audio instead),
    // with a progress line for a long file (on a terminal, without --quiet).
    const progress = new StepProgress(`features of ${basename(audioPath)}`, 'frames', { enabled: !quietOption() });
    const features = clipFeatures(signal, [], config.feature, config.kind === 'fir' ? 0 : audioTuning(signal, config.feature), (done, total) => progress.update(done, total));
    progress.finish();
    const input = config.kind === 'fir' ? firWindows([{ audio: signal }], config.feature, 1) : clipInput(config, features);
    const [chroma, logScores, decoded] = (await forward(input)) as T.NDArray[];
    return { chroma: chroma!, logScores: logScores!, devicePath: decoded, features, duration: signal.length / config.feature.sampleRate };
  };
  return { config, vocabulary, families, run };
}

program.command('chroma <audio...>').description('write the chromagram of each audio file (or of the audio files in a folder) as CSV (a header row time,C,Db,…,B, then one row per frame) or NPY, and PNG')
  .option('--model <dir>', 'a learned model (default: hand-designed chroma)')
  .option('--out <path>', 'an output path prefix for one file; with several, a folder for all outputs (default: beside each input, named after it)')
  .option('--norm <norm>', `each frame divided by its max (the strongest pitch class reads 1), l1 or l2 norm, or none (the model's output as it is); default ${defaultChromaNorm}`, oneOf(chromaNorms), defaultChromaNorm)
  .option('--format <format>', 'csv (default) or npy: a float64 [frames, 13] array for numpy.load, column 0 the time', oneOf(frameFileFormats), 'csv')
  .action(async (audios: string[], options: { model?: string; out?: string; norm: ChromaNormName; format: FrameFileFormat }) => {
    const { files, several } = expandInputs('chroma', audios);
    const prefixes = outputPaths('chroma', files, several, options.out);
    const { config, run } = chromaSession(options.model);
    await forEachInput('chroma', files, async (audio, index) => {
      const { chroma, features } = await run(audio);
      const prefix = prefixes[index]!;
      const values = normalizeRows(chroma.data, 12, options.norm);
      const dataPath = writeFrameFile(prefix, options.format, features.times, values, pitchClassColumns, 'chroma');
      const columns = Array.from({ length: 12 }, (_, k) => Array.from(features.times, (_, f) => values[f * 12 + k]!));
      const figure = heatmapSvg(columns, { title: `Chromagram of ${basename(audio)}`, x: { label: 'time (s)', ticks: timeTicks(features.times.length, config.feature.hop / config.feature.sampleRate) }, y: { label: 'pitch class', ticks: pitchClassTicks() }, colorbar: `chroma (${options.norm === 'none' ? 'not normalized' : `${options.norm}-normalized`})` });
      writeFigure(prefix, figure);
      console.log(`wrote ${dataPath}, ${prefix}.svg and ${prefix}.png (${features.times.length} frames, ${options.norm} norm)`);
    }, undefined, !quietOption());
  });

program.command('chords <audio...>').description('recognize the chords of each audio file (or of the audio files in a folder) and write a .lab file for each')
  .option('--model <dir>', 'a learned model folder, or templates: the hand-designed chroma (default: the shipped model, packages/music/models/default)')
  .option('--out <path>', 'the .lab path for one file; with several, a folder for all .lab files (default: beside each input, named after it)')
  .option('--decode <decoder>', 'viterbi (an HMM over chords), median (a majority filter) or none (each frame alone); default viterbi', oneOf(chordDecoders))
  .option('--self-transition <p>', `Viterbi's probability of staying on a chord from one frame to the next (default ${chordDecodingDefaults.selfTransition}; higher: fewer changes)`, openProbability)
  .option('--median-width <frames>', `the median filter's window, odd (default ${chordDecodingDefaults.medianWidth})`, oddFrames)
  .option('--vocab <name>', 'the chords to choose from: majmin (24 triads and N), sevenths (+ 7, maj7, min7) or full (+ dim, aug, sus2, sus4, maj6, min6); Harte labels (default: the model\'s, majmin for templates)', oneOf(vocabularyNames))
  .option('--decode-on <where>', 'host (default: Viterbi in JS, milliseconds) or device (Viterbi as a graph, a scan over frames, compiled with the model for --device)', oneOf(['host', 'device'] as const), 'host')
  .option('--transitions <file>', transitionsHelp)
  .option('--no-inversions', 'root-position labels only (by default each chord names its bass note when it is not the root, as C:maj/3, estimated from the CQT\'s lowest sounding chord tone; not for a model whose CQT starts above C2 or has other than 12 bins an octave, as a fir model\'s)')
  .action(async (audios: string[], options: { model?: string; out?: string; vocab?: VocabularyName; decodeOn: 'host' | 'device'; inversions: boolean } & DecodeFlags) => {
    const decoding = decodingOf(options);
    if (options.decodeOn === 'device' && decoding.decoder !== 'viterbi') throw new UsageError(`--decode-on device runs Viterbi as a graph; --decode ${decoding.decoder} runs on the host only.`);
    const learned = learnedTransitions(options);
    const onDevice = options.decodeOn === 'device' ? { selfTransition: decoding.selfTransition!, ...(learned === undefined ? {} : { transitions: learned }) } : undefined;
    const { files, several } = expandInputs('chords', audios);
    const labPaths = outputPaths('chords', files, several, options.out, '.lab');
    const { config, vocabulary, families, run } = chromaSession(options.model ?? defaultModelDir, options.vocab, onDevice);
    const forVocabulary = decodingForVocabulary(decoding, vocabulary, config.vocab ?? 'majmin');
    const hostDecoding = learned === undefined ? forVocabulary : { ...forVocabulary, transitions: transitionsFlagMatrix(learned, vocabulary, config.feature, forVocabulary.families) };
    await forEachInput('chords', files, async (audio, index) => {
      const { logScores, devicePath, duration, features } = await run(audio);
      const decoded = devicePath === undefined ? decodeChordFrames(logScores, hostDecoding) : families === undefined ? Array.from(devicePath.data) : familyMembers(devicePath.data, logScores, families);
      // framesToSegments merges runs of equal frame labels, so no two neighbouring segments share a label.
      const chords = framesToSegments(decoded, config.feature.hop, config.feature.sampleRate, { offset: -config.feature.hop / 2 / config.feature.sampleRate, duration, labels: vocabulary.labels });
      // The bass joins each chord after decoding (chords/bass.ts) where the CQT can show it (not a FIR model's, from C3).
      const segments = options.inversions && bassEstimable(config.feature) ? estimateBass(features.cqt, chords, config.feature.hop, config.feature.sampleRate, { ...bassOptionsFor(config.feature), vocabulary }) : chords;
      const out = labPaths[index]!;
      writeLab(out, segments);
      console.log(`wrote ${out}: ${segments.length} segments (${[...new Set(segments.map((s) => s.label))].slice(0, 8).join(', ')}${segments.length > 8 ? ', …' : ''})`);
    }, undefined, !quietOption());
  });

program.command('transitions <labs...>').description('count how often each chord follows each other one, frame to frame, in .lab files (or the .lab files in a folder), for Viterbi\'s --transitions')
  .requiredOption('--out <file>', 'the transitions file to write (JSON)')
  .option('--vocab <name>', 'the chords counted: majmin, sevenths or full (default: the model\'s, as theorbo chords decodes); a label the vocabulary cannot say breaks the sequence there', oneOf(vocabularyNames))
  .option('--model <dir>', 'the model whose frame rate (and vocabulary) the counts are for (default: the shipped model)')
  .action((labs: string[], options: { out: string; vocab?: VocabularyName; model?: string }) => {
    const { files } = expandInputs('transitions', labs, ['.lab']);
    const { config } = loadChromaModel(modelFolder(options.model ?? defaultModelDir));
    const vocabulary = chordVocabulary(options.vocab ?? config.vocab ?? 'majmin');
    const transitions = chordTransitionsFromSegments(files.map((file) => readLab(file)), vocabulary, config.feature.hop, config.feature.sampleRate);
    writeFileAtomic(options.out, formatChordTransitions(transitions), { operation: 'theorbo transitions' });
    const classes = vocabulary.labels.length;
    let stays = 0, total = 0;
    transitions.counts.forEach((row, j) => row.forEach((count, k) => { total += count; if (j === k) stays += count; }));
    console.log(`wrote ${options.out}: ${files.length} files, ${transitions.frames} frames at ${config.feature.hop} samples / ${config.feature.sampleRate} Hz, ${vocabulary.name} (${classes} classes); ${total} transitions, ${total > 0 ? ((100 * stays) / total).toFixed(1) : '0'}% of them staying on the chord`);
  });

addRobustnessCommand(program, () => device(deviceOption()));

addExportGraphCommand(program);

// The rhythm and feature commands write data to stdout (or --out), so their device line goes to stderr.
const dataDevice = (): Promise<AcquiredDevice> => device(deviceOption(), (line) => console.error(line));
const writeData = (text: string, out: string | undefined, operation: string): void => {
  if (out === undefined) process.stdout.write(text);
  else {
    writeFileAtomic(out, text, { operation });
    console.error(`wrote ${out}`);
  }
};
// Output piped into `head` closes early; that ends the command quietly, as for other Unix tools.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});
/** --model DIR of the rhythm commands: the fine-tuned front end (128 mel bands), or nothing. */
function rhythmModel(command: string, options: { model?: string; nMels?: number }): { frontEnd?: RhythmFrontEnd } {
  if (options.model === undefined) return {};
  if (options.nMels !== undefined && options.nMels !== 128) throw new UsageError(`${command}: --n-mels ${options.nMels} cannot go with --model: a fine-tuned front end has 128 mel bands.`);
  return { frontEnd: loadFrontEnd(options.model) };
}
const timeLines = (times: ArrayLike<number>): string => Array.from(times, (time) => `${time.toFixed(4)}\n`).join('');

program.command('mel <audio...>').description(`write the mel spectrogram (power; --db for decibels) of each audio file (or of the audio files in a folder) at ${analysisRate} Hz as CSV: time, then one column per band`)
  .option('--n-mels <n>', 'mel bands (default 128)', melBandsFlag, 128)
  .option('--db', 'decibels (librosa\'s power_to_db: ref 1, top_db 80) instead of power')
  .option('--model <dir>', 'a fine-tuned rhythm front end: the shipped packages/music/models/rhythm, or the demo\'s report/models/rhythm-front-end')
  .option('--out <path>', 'the CSV file (default: stdout); with several files, the folder for their CSV files')
  .option('--figure <prefix>', 'also draw the mel spectrogram (in dB, over seconds and Hz) to <prefix>.svg and .png; with several files, a folder')
  .action(async (audios: string[], options: { nMels: number; db?: boolean; out?: string; model?: string; figure?: string }) => {
    const frontEnd = rhythmModel('mel', options);
    const { files, several } = expandInputs('mel', audios);
    const outs = dataOutputPaths('mel', files, several, options.out, '.csv');
    const figures = options.figure === undefined ? undefined : outputPaths('mel', files, several, options.figure);
    let acquired: AcquiredDevice | undefined;
    await forEachInput('mel', files, async (audio, index) => {
      const signal = await loadMono(audio, analysisRate);
      acquired ??= await dataDevice();
      const mel = await melOf(signal, acquired, { nMels: options.nMels, db: options.db ?? false, ...frontEnd });
      writeData(matrixCsv(mel, Array.from({ length: options.nMels }, (_, m) => `mel${m}`)), outs[index], 'mel');
      const figure = figures?.[index];
      if (figure !== undefined) {
        writeFigure(figure, melFigureSvg(mel, { sampleRate: analysisRate, hop: analysisHop }, { title: `Mel spectrogram of ${basename(audio)} (${options.nMels} bands)`, db: options.db ?? false }));
        console.error(`wrote ${figure}.svg and ${figure}.png`);
      }
    }, undefined, !quietOption());
  });

program.command('mfcc <audio...>').description(`write the MFCCs of each audio file (or of the audio files in a folder) at ${analysisRate} Hz as CSV: time, then one column per coefficient`)
  .option('--n-mfcc <n>', 'coefficients (default 20)', mfccCountFlag, 20)
  .option('--n-mels <n>', 'mel bands they are computed from (default 128)', melBandsFlag, 128)
  .option('--model <dir>', 'a fine-tuned rhythm front end: the shipped packages/music/models/rhythm, or the demo\'s report/models/rhythm-front-end')
  .option('--out <path>', 'the CSV file (default: stdout); with several files, the folder for their CSV files')
  .action(async (audios: string[], options: { nMfcc: number; nMels: number; out?: string; model?: string }) => {
    if (options.nMfcc > options.nMels) throw new UsageError(`mfcc: --n-mfcc ${options.nMfcc} is more than --n-mels ${options.nMels}; the DCT of ${options.nMels} bands has at most ${options.nMels} coefficients.`);
    const frontEnd = rhythmModel('mfcc', options);
    const { files, several } = expandInputs('mfcc', audios);
    const outs = dataOutputPaths('mfcc', files, several, options.out, '.csv');
    let acquired: AcquiredDevice | undefined;
    await forEachInput('mfcc', files, async (audio, index) => {
      const signal = await loadMono(audio, analysisRate);
      acquired ??= await dataDevice();
      const coefficients = await mfccOf(signal, acquired, { nMfcc: options.nMfcc, nMels: options.nMels, ...frontEnd });
      writeData(matrixCsv(coefficients, Array.from({ length: options.nMfcc }, (_, k) => `mfcc${k}`)), outs[index], 'mfcc');
    }, undefined, !quietOption());
  });

program.command('onsets <audio>').description('print the onset times of an audio file in seconds, one per line (librosa\'s onset_detect)')
  .option('--backtrack', 'move each onset back to the preceding minimum of the onset envelope')
  .option('--model <dir>', 'a fine-tuned rhythm front end: the shipped packages/music/models/rhythm, or the demo\'s report/models/rhythm-front-end')
  .action(async (audio: string, options: { backtrack?: boolean; model?: string }) => {
    const frontEnd = rhythmModel('onsets', options);
    const signal = await loadMono(audio, analysisRate);
    process.stdout.write(timeLines(await onsetTimesOf(signal, await dataDevice(), { backtrack: options.backtrack ?? false, ...frontEnd })));
  });

program.command('tempo <audio>').description('print the tempo of an audio file in BPM (librosa\'s tempo: prior around 120 BPM)')
  .option('--all', 'the tempo of each frame instead, as CSV: time,bpm')
  .option('--pair', 'two tempi on one line, as mir_eval\'s tempo estimate: the tempo, then the half or double a listener would also tap')
  .option('--model <dir>', 'a fine-tuned rhythm front end: the shipped packages/music/models/rhythm, or the demo\'s report/models/rhythm-front-end')
  .action(async (audio: string, options: { all?: boolean; pair?: boolean; model?: string }) => {
    if (options.all && options.pair) throw new UsageError('tempo: --all prints a tempo per frame and --pair two tempi for the clip; pass one of them, not both.');
    const frontEnd = rhythmModel('tempo', options);
    const signal = await loadMono(audio, analysisRate);
    const acquired = await dataDevice();
    if (options.pair) {
      console.log((await tempoPairOf(signal, acquired, frontEnd)).map((bpm) => bpm.toFixed(2)).join(' '));
      return;
    }
    if (!options.all) {
      console.log((await tempoOf(signal, acquired, frontEnd)).toFixed(2));
      return;
    }
    const { times, bpm } = await tempoCurveOf(signal, acquired, frontEnd);
    process.stdout.write(`time,bpm\n${Array.from(times, (time, f) => `${time.toFixed(4)},${bpm[f]!.toFixed(2)}`).join('\n')}\n`);
  });

program.command('beats <audio>').description('print the beat times of an audio file in seconds, one per line (dynamic programming, Ellis 2007)')
  .option('--click <wav>', `also write the audio (mono, ${analysisRate} Hz) with a click at each beat to this WAV file`)
  .option('--wav-format <format>', wavFormatHelp, oneOf(wavFormatNames), 'pcm16')
  .option('--figure <prefix>', 'also draw the onset strength with its onsets and the beats over seconds to <prefix>.svg and .png')
  .option('--model <dir>', 'a fine-tuned rhythm front end: the shipped packages/music/models/rhythm, or the demo\'s report/models/rhythm-front-end')
  .action(async (audio: string, options: { click?: string; wavFormat: WavFormatName; figure?: string; model?: string }) => {
    const frontEnd = rhythmModel('beats', options);
    const signal = await loadMono(audio, analysisRate);
    const beats = await beatsOf(signal, await dataDevice(), frontEnd);
    process.stdout.write(timeLines(beats.times));
    if (options.figure !== undefined) {
      writeFigure(options.figure, onsetFigureSvg(beats.envelope, { sampleRate: analysisRate, hop: analysisHop }, { title: `Onsets and beats of ${basename(audio)} (${beats.tempo.toFixed(1)} BPM)`, onsets: beats.onsets, beats: beats.times }));
      console.error(`wrote ${options.figure}.svg and ${options.figure}.png`);
    }
    if (options.click !== undefined) {
      writeWav(options.click, { sampleRate: analysisRate, channels: [mixClicks(signal, beats.times)] }, wavFormats[options.wavFormat]);
      console.error(`wrote ${options.click}: ${beats.times.length} beats at ${beats.tempo.toFixed(2)} BPM`);
    }
  });

program.command('plot <npz>').description('draw every 2-D array in a .npz file (e.g. a model\'s weights.npz) as an SVG figure with axes and a colour bar, and a PNG of it')
  .option('--out <dir>', 'output folder', '.')
  .action(async (npz: string, options: { out: string }) => {
    const arrays = loadNpz(npz); // pictures need no device, so none is started
    mkdirSync(options.out, { recursive: true });
    for (const [name, value] of Object.entries(arrays)) {
      if (value.ndim !== 2) continue;
      const prefix = join(options.out, name);
      arrayFigure(prefix, `${basename(npz)}: ${name} [${value.shape.join(' × ')}]`, value);
      console.log(`wrote ${prefix}.svg, ${prefix}.png (${value.dtype}[${value.shape.join(',')}])`);
    }
  });

program.command('demo').description('the main job: synthesize data, train the learned chroma, the talk\'s network and a CNN, evaluate against hand-designed chroma, write a report')
  .option('--report <dir>', 'report folder', 'report')
  .option('--clips <n>', 'clips per source', clipsFlag, experimentDefaults.clips)
  .option('--source <source>', 'additive, fluidsynth or both', sourceFlag, experimentDefaults.source)
  .option('--seed <n>', 'seed', seedFlag, experimentDefaults.seed)
  .option('--epochs <n>', 'epochs per model', epochsFlag)
  .option('--crnn', 'also train the CRNN (the CNN with a GRU over the frames): it scored below the CNN on this data and adds about 2 minutes')
  .action(async (options: { report: string; clips: number; source: DataSource | 'both'; seed: number; epochs?: number; crnn?: boolean }) => {
    const acquired = await device(deviceOption(), () => {}); // runExperiment prints the device
    const perModel = options.epochs === undefined ? experimentDefaults.epochs : { chroma: options.epochs, network: options.epochs, cnn: options.epochs, crnn: options.epochs, classifier: options.epochs };
    const epochs = { ...perModel, crnn: options.crnn ? options.epochs ?? experimentDefaults.epochs.cnn : 0 };
    const { results, reportPath } = await runExperiment({ ...experimentDefaults, device: acquired, clips: options.clips, source: options.source, seed: options.seed, epochs, reportDir: options.report, log: (line) => console.log(line), progress: progressWanted(quietOption()) });
    console.log('\nweighted chord symbol recall, majmin (templates / classifier):');
    for (const result of results) console.log(`  ${result.name.padEnd(48)} ${(100 * result.template.majmin).toFixed(1).padStart(5)}% / ${(100 * result.classifier.majmin).toFixed(1).padStart(5)}%`);
    console.log(`report: ${reportPath}`);
  });

// Exit codes: 0 done (or --help), 2 a usage error (commander has already printed it, or
// a UsageError from an action), 1 anything else. One line on stderr, never a stack trace.
program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  console.error(`theorbo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
