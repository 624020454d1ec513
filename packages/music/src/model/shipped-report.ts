// The demo report's section on the shipped chord model (models/default, what `theorbo
// chords` uses): its vocabulary table (the model and the hand-designed CQT chroma with
// templates, in the majmin and sevenths vocabularies, on the demo's held-out triad clips
// and on a few held-out clips with seventh chords), an inversions table (mir_eval's rules
// with the bass: root position against the estimated bass), its decoding table (Viterbi,
// the median filter, no smoothing) and a robustness table (clean, noise at 20/10/0 dB SNR,
// MP3, reverb, detuning by ±25 and ±50 cents) on a few held-out clips. Cheap by design,
// since it runs inside the demo: the triad clips' features are the demo's own (passed in),
// the seventh-chord clips are a handful, and the robustness rows use a handful of clips; the full tables
// are `theorbo eval` and `theorbo robustness` (README). Scored as `theorbo eval` scores,
// without the tuning estimate of `theorbo chords` (a clip's own tuning builds a CQT kernel
// of its own, which the demo cannot afford per clip and condition).

import * as T from '@theorbo/graph';
import { compile, type AcquiredDevice } from '@theorbo/codegen';
import { chordVocabulary, vocabularyQualities, type VocabularyName } from '../chords/vocabularies.ts';
import { bassOptionsFor, labelWithLowestNote } from '../chords/bass.ts';
import { synthesizeDataset, type DataSource, type DatasetClip } from '../data/dataset.ts';
import type { ChordQuality } from '../data/voicings.ts';
import { chordDecodingDefaults, type ChordDecoding } from '../eval/chord-decoding.ts';
import { defaultModelDir } from './default-model.ts';
import { scorePredictions, type ClipPrediction, type Scores } from './evaluate.ts';
import { clipFeatures, type ClipFeatures, type FeatureOptions } from './features.ts';
import { loadChromaModel } from './load.ts';
import { vocabularyLogScores } from './models.ts';
import { clipInput } from './registry.ts';
import { clipOutputs, isFramewise } from './clip-outputs.ts';
import { formatRobustnessTable, robustnessConditions, robustnessTable, type ScoredModel } from './robustness.ts';

export interface ShippedSectionOptions {
  /** Held-out clips with seventh chords, per source, for the vocabulary table. */
  seventhClips: number;
  /** Held-out triad clips, per source, for the robustness table. */
  robustnessClips: number;
  /** Robustness conditions by name (model/robustness.ts). */
  conditions: readonly string[];
}

export const shippedSectionDefaults: ShippedSectionOptions = {
  seventhClips: 3, robustnessClips: 2,
  conditions: robustnessConditions.map((condition) => condition.name),
};

/** The data the section reads: the demo's held-out triad clips and their features. */
export interface ShippedSectionData {
  seed: number;
  source: DataSource | 'both';
  testClips: readonly DatasetClip[];
  /** The clips' features, and the options they were computed with (recomputed where they are not the models'). */
  features: (clip: DatasetClip) => ClipFeatures;
  featureOptions: FeatureOptions;
  device: AcquiredDevice;
}

const percent = (value: number | null): string => (value === null ? 'n/a' : (100 * value).toFixed(1));

/** The section's Markdown lines. */
export async function shippedModelSection(data: ShippedSectionData, options: ShippedSectionOptions = shippedSectionDefaults): Promise<string[]> {
  const started = performance.now();
  const models: ScoredModel[] = [
    { name: 'shipped model', loaded: loadChromaModel(defaultModelDir) },
    { name: 'CQT chroma + templates', loaded: loadChromaModel(undefined) },
  ];
  const shipped = models[0]!.loaded.config;
  for (const { name, loaded } of models) {
    if (JSON.stringify(loaded.config.feature) !== JSON.stringify(shipped.feature)) throw new Error(`shippedModelSection: '${name}' reads other features than the shipped model.`);
  }
  const sevenths = await synthesizeDataset({ seed: data.seed, clips: { test: options.seventhClips }, source: data.source, plan: { qualities: vocabularyQualities.sevenths as readonly ChordQuality[] } });
  const own = JSON.stringify(data.featureOptions) === JSON.stringify(shipped.feature);
  const computed = new Map<DatasetClip, ClipFeatures>();
  const featuresOf = (clip: DatasetClip): ClipFeatures => {
    if (own && !sevenths.clips.includes(clip)) return data.features(clip);
    if (!computed.has(clip)) computed.set(clip, clipFeatures(clip.audio, clip.segments, shipped.feature));
    return computed.get(clip)!;
  };
  const viterbi: ChordDecoding = { decoder: 'viterbi', selfTransition: chordDecodingDefaults.selfTransition };
  // Each model's log scores in both vocabularies on every clip, in one call (clip-outputs.ts), then decoded as asked.
  const allClips = [...data.testClips, ...sevenths.clips];
  const logScores = new Map<ScoredModel, Map<VocabularyName, ClipScores[]>>();
  for (const model of models) logScores.set(model, await clipLogScores(model, allClips, featuresOf, data.device));
  const scored = new Map<string, Scores>();
  const score = (model: ScoredModel, clips: readonly DatasetClip[], vocabulary: VocabularyName, decoding: ChordDecoding): Scores => {
    const key = JSON.stringify([models.indexOf(model), clips === sevenths.clips, vocabulary, decoding]);
    if (!scored.has(key)) {
      const predictions = logScores.get(model)!.get(vocabulary)!.filter((_, i) => clips.includes(allClips[i]!));
      const { hop, sampleRate } = model.loaded.config.feature;
      scored.set(key, scorePredictions(predictions, { hop, sampleRate, medianWidth: decoding.medianWidth ?? chordDecodingDefaults.medianWidth, decoding, vocabulary: chordVocabulary(vocabulary), trained: model.loaded.config.vocab ?? 'majmin' }));
    }
    return scored.get(key)!;
  };

  // The templates in sevenths on the triad clips are left out: 72 more clips to score, and
  // the seventh-chord clips already show what binary templates make of sevenths.
  const vocabularyTable: [ScoredModel, readonly DatasetClip[], VocabularyName][] = [
    [models[0]!, data.testClips, 'sevenths'], [models[0]!, data.testClips, 'majmin'], [models[0]!, sevenths.clips, 'sevenths'], [models[0]!, sevenths.clips, 'majmin'],
    [models[1]!, data.testClips, 'majmin'], [models[1]!, sevenths.clips, 'sevenths'], [models[1]!, sevenths.clips, 'majmin'],
  ];
  const vocabularyRows = vocabularyTable.map(([model, clips, vocabulary]) => {
    const scores = score(model, clips, vocabulary, viterbi);
    const what = clips === sevenths.clips ? '+ 7, maj7, min7' : 'maj, min';
    return `| ${model.name} | ${what} (${clips.length}) | ${vocabulary} | ${percent(scores.majmin)} | ${percent(scores.rules.sevenths)} | ${percent(scores.root)} | ${percent(scores.rules.mirex)} | ${percent(scores.noChordRecall)} | ${percent(scores.rules.segmentation)} |`;
  });

  const decodings: [string, ChordDecoding][] = [
    [`Viterbi (self-transition ${viterbi.selfTransition})`, viterbi],
    [`median filter (${chordDecodingDefaults.medianWidth} frames)`, { decoder: 'median', medianWidth: chordDecodingDefaults.medianWidth }],
    ['none (each frame alone)', { decoder: 'none' }],
  ];
  const decodingRows: string[] = [];
  decodings.map(([, decoding]) => score(models[0]!, data.testClips, shipped.vocab ?? 'majmin', decoding)).forEach((result, i) => decodingRows.push(`| ${decodings[i]![0]} | ${percent(result.majmin)} | ${percent(result.root)} | ${percent(result.noChordRecall)} | ${percent(result.rules.segmentation)} | ${percent(result.rules.overSegmentation)} | ${percent(result.rules.underSegmentation)} |`));

  // Inversions: the references name each chord's lowest note as its bass ('C:maj/3'); the
  // shipped model's chords in root position, then with the bass estimated (chords/bass.ts).
  const inversionRows = ([[data.testClips, 'majmin', 'majmin_inv'], [sevenths.clips, 'sevenths', 'sevenths_inv']] as const).map(([clips, vocabulary, rule]) => {
    const model = models[0]!;
    const { hop, sampleRate } = model.loaded.config.feature;
    const predictions = logScores.get(model)!.get(vocabulary)!.filter((_, i) => clips.includes(allClips[i]!)).map((prediction, i) => ({
      ...prediction, reference: clips[i]!.segments.map((segment) => ({ start: segment.start, end: segment.end, label: labelWithLowestNote(segment.label, segment.root, segment.notes[0]?.midi) })),
    }));
    const common = { hop, sampleRate, medianWidth: chordDecodingDefaults.medianWidth, decoding: viterbi, vocabulary: chordVocabulary(vocabulary), trained: model.loaded.config.vocab ?? 'majmin' };
    const rootPosition = scorePredictions(predictions, common);
    const withBass = scorePredictions(predictions, { ...common, bass: bassOptionsFor(model.loaded.config.feature) });
    const what = clips === sevenths.clips ? '+ 7, maj7, min7' : 'maj, min';
    return `| ${what} (${clips.length}) | ${vocabulary} | ${percent(rootPosition.rules[vocabulary])} | ${percent(rootPosition.rules[rule])} | ${percent(withBass.rules[rule])} |`;
  });

  const robustnessClipsOf = (source: DataSource) => data.testClips.filter((clip) => clip.source === source).slice(0, options.robustnessClips);
  const robustClips = data.source === 'both' ? [...robustnessClipsOf('additive'), ...robustnessClipsOf('fluidsynth')] : robustnessClipsOf(data.source);
  const conditions = options.conditions.map((name) => {
    const condition = robustnessConditions.find((c) => c.name === name);
    if (condition === undefined) throw new Error(`shippedModelSection: no robustness condition '${name}'; the conditions are ${robustnessConditions.map((c) => `'${c.name}'`).join(', ')}.`);
    return condition;
  });
  const rows = await robustnessTable(models, robustClips, data.device, { decoding: viterbi, conditions, tuning: false });
  const seconds = (performance.now() - started) / 1000;

  return [
    '## The shipped chord model',
    '',
    `\`theorbo chords\` without \`--model\` uses packages/music/models/default: the CNN on CQT patches trained by \`pnpm train:default\` on the ${shipped.vocab ?? 'majmin'} vocabulary (clean and degraded audio). Here it is scored on clips of this run's test split (instruments and voicings it never heard) beside the hand-designed CQT chroma with binary templates, weighted chord symbol recall in percent (mir_eval's rules; N recall: the share of no-chord time labelled N; seg: segmentation quality). In its own vocabulary the model decodes by triad families (each family's probability the sum of its members', then each run's most probable member), the templates flat; the model answers in majmin by summing each triad's variants. This section took ${seconds.toFixed(1)} s.`,
    '',
    '### Vocabularies',
    '',
    `Viterbi decoding; the test clips hold major and minor triads (this run's test split) or also seventh chords (${sevenths.clips.length} held-out clips synthesized for this table), with no-chord segments:`,
    '',
    '| model | test clips hold (clips) | vocabulary | majmin | sevenths | root | mirex | N recall | seg |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...vocabularyRows,
    '',
    '### Inversions',
    '',
    `The test clips' chords are in root position, first or second inversion; their references name the bass (the lowest note) as Harte's /degree. The shipped model's chords (Viterbi), scored with mir_eval's rule without and with the bass, in root position and with the bass estimated from the CQT (\`theorbo chords\`' default; \`--no-inversions\` turns it off):`,
    '',
    '| test clips hold (clips) | vocabulary | chords (no bass) | with bass: root position | with bass: estimated |',
    '| --- | --- | ---: | ---: | ---: |',
    ...inversionRows,
    '',
    '### Decoding',
    '',
    `The shipped model on the ${data.testClips.length} triad test clips in its own vocabulary, by decoder (in majmin the same: both decode the triad families):`,
    '',
    '| decoder | majmin | root | N recall | seg | over-seg | under-seg |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...decodingRows,
    '',
    '### Robustness',
    '',
    `${robustClips.length} triad test clips (${options.robustnessClips} per source; a small sample, so a point or two is noise: \`pnpm theorbo robustness\` scores all of them under every condition), each degraded with a seed of its own, no tuning estimate (unlike \`theorbo chords\` and \`theorbo robustness\`: it builds a CQT kernel per clip), Viterbi, each model's own vocabulary; majmin (change from clean) and N recall:`,
    '',
    ...formatRobustnessTable(models, rows).split('\n'),
    '',
  ];
}

type ClipScores = ClipPrediction & { logScores: T.NDArray };

const tableVocabularies = ['sevenths', 'majmin'] as const;

/** One model's class log scores on each clip in each of the tables' vocabularies. */
async function clipLogScores(model: ScoredModel, clips: readonly DatasetClip[], featuresOf: (clip: DatasetClip) => ClipFeatures, device: AcquiredDevice): Promise<Map<VocabularyName, ClipScores[]>> {
  const { model: chroma, config } = model.loaded;
  const forward = compile({ inputs: [chroma.features], outputs: tableVocabularies.map((vocabulary) => vocabularyLogScores(chroma.chroma, config.vocab ?? 'majmin', vocabulary)), device });
  const features = clips.map(featuresOf);
  const outputs = await clipOutputs(forward, features.map((clipFeatures) => clipInput(config, clipFeatures)), isFramewise(config));
  return new Map(tableVocabularies.map((vocabulary, v) => [vocabulary, clips.map((clip, i) => ({
    reference: clip.segments, frameLabels: features[i]!.labels, predicted: new Int32Array(0), logScores: outputs[i]![v]!, cqt: features[i]!.cqt, duration: clip.duration,
  }))]));
}
