// Chord models scored on held-out clips, clean and degraded (Node only: data/degrade.ts
// codes MP3): each condition degrades every test clip's audio (segment times follow a
// detuning's change of speed), the host features are computed once per condition and
// shared by the models (the CQT centred on each clip's estimated tuning, as `theorbo chords`
// does), each model's template log scores are decoded (Viterbi by default)
// and scored as `theorbo eval` scores them (mir_eval's rules, N recall, segmentation).
// The degradations are seeded per clip and condition, so a table is reproducible.
// Left out: degradations combined, real recordings.

import * as T from '@theorbo/graph';
import { compile, type AcquiredDevice } from '@theorbo/codegen';
import { chordVocabulary, type VocabularyName } from '../chords/index.ts';
import type { DatasetClip } from '../data/dataset.ts';
import { detuned, detunedTime, mp3RoundTrip, withNoise, withReverb } from '../data/degrade.ts';
import { deriveSeed, SeededRandom } from '../random/seeded-random.ts';
import type { ChordDecoding } from '../eval/chord-decoding.ts';
import { audioTuning, clipFeatures, type ClipFeatures } from './features.ts';
import { firWindows } from './fir.ts';
import { vocabularyLogScores, type ChromaModel } from './models.ts';
import { clipInput, type ModelConfig } from './registry.ts';
import { scorePredictions, type Scores } from './evaluate.ts';
import { clipOutputs, isFramewise } from './clip-outputs.ts';

export interface Degradation {
  name: string;
  /** The degraded audio, and the factor that maps the clip's times to the degraded audio's times. */
  apply(audio: Float32Array, sampleRate: number, random: SeededRandom): Promise<{ audio: Float32Array; timeScale: number }>;
}

const same = (audio: Float32Array) => ({ audio, timeScale: 1 });

/** The issue's conditions: clean; noise at 20, 10 and 0 dB SNR; MP3 at 64 kbit/s; reverb; detuning by 25 and 50 cents. */
export const robustnessConditions: readonly Degradation[] = [
  { name: 'clean', apply: async (audio) => same(audio) },
  ...[20, 10, 0].map((snr): Degradation => ({ name: `noise ${snr} dB SNR`, apply: async (audio, _rate, random) => same(withNoise(audio, snr, random)) })),
  { name: 'MP3 64 kbit/s', apply: async (audio, rate) => same(await mp3RoundTrip(audio, rate, 64)) },
  { name: 'reverb (rt60 0.8 s, 50% wet)', apply: async (audio, rate, random) => same(withReverb(audio, { rt60: 0.8, wet: 0.5, sampleRate: rate }, random)) },
  ...[25, 50, -25, -50].map((cents): Degradation => ({ name: `detuned ${cents > 0 ? '+' : '−'}${Math.abs(cents)} cents`, apply: async (audio, rate) => ({ audio: detuned(audio, cents, rate), timeScale: detunedTime(1, cents) }) })),
];

export interface ScoredModel {
  name: string;
  loaded: { model: ChromaModel; config: ModelConfig };
}

/** What a condition's clip gives every model: its features, its segments (rescaled) and its duration. */
interface DegradedClip { features: ClipFeatures; audio: Float32Array; segments: DatasetClip['segments']; duration: number }

async function degradeClips(clips: readonly DatasetClip[], condition: Degradation, feature: ModelConfig['feature'], tuning: boolean): Promise<DegradedClip[]> {
  const out: DegradedClip[] = [];
  for (const clip of clips) {
    const random = new SeededRandom(deriveSeed('robustness', condition.name, clip.id));
    const { audio, timeScale } = await condition.apply(clip.audio, clip.sampleRate, random);
    const segments = clip.segments.map((segment) => ({ ...segment, start: segment.start * timeScale, end: segment.end * timeScale }));
    // As `theorbo chords` reads audio: the CQT centred on the clip's estimated tuning.
    out.push({ features: clipFeatures(audio, segments, feature, tuning ? audioTuning(audio, feature) : 0), audio, segments, duration: audio.length / clip.sampleRate });
  }
  return out;
}

/** Compiled forwards by model, kept across conditions (robustnessTable's). */
export type CompiledForwards = Map<ScoredModel, { vocabulary: VocabularyName; forward: ReturnType<typeof compile> }>;

/**
 * Each model's scores on `clips` under `condition`, with the decoding given and the
 * templates of `vocabulary` (default: each model's own, majmin for the hand-designed chroma);
 * `forwards` keeps each model's compiled function for the next condition; `tuning` false
 * leaves the CQT on A440's grid (cheaper: a clip's own tuning builds a CQT kernel of its own).
 */
export async function scoreUnder(models: readonly ScoredModel[], clips: readonly DatasetClip[], condition: Degradation, device: AcquiredDevice, options: RobustnessOptions & { forwards?: CompiledForwards }): Promise<Scores[]> {
  const feature = models[0]!.loaded.config.feature;
  for (const { name, loaded } of models) {
    if (JSON.stringify(loaded.config.feature) !== JSON.stringify(feature)) throw new Error(`scoreUnder: model '${name}' reads other features than '${models[0]!.name}'; score them in separate calls.`);
  }
  const degraded = await degradeClips(clips, condition, feature, options.tuning ?? true);
  const results: Scores[] = [];
  const forwards: CompiledForwards = options.forwards ?? new Map();
  for (const scored of models) {
    const { model, config } = scored.loaded;
    const vocabulary = chordVocabulary(options.vocabulary ?? config.vocab ?? 'majmin');
    if (forwards.get(scored)?.vocabulary !== vocabulary.name) {
      const scores = vocabularyLogScores(model.chroma, config.vocab ?? 'majmin', vocabulary.name);
      forwards.set(scored, { vocabulary: vocabulary.name, forward: compile({ inputs: [model.features], outputs: [T.argmax(scores, 1), scores], device }) });
    }
    const inputs = degraded.map((clip) => (config.kind === 'fir' ? firWindows([{ audio: clip.audio }], config.feature, 1) : clipInput(config, clip.features)));
    const outputs = await clipOutputs(forwards.get(scored)!.forward, inputs, isFramewise(config));
    const predictions = degraded.map((clip, i) => {
      const [predicted, logScores] = outputs[i]!;
      return { reference: clip.segments, frameLabels: clip.features.labels, predicted: predicted!.data as Int32Array, logScores, duration: clip.duration };
    });
    results.push(scorePredictions(predictions, { hop: feature.hop, sampleRate: feature.sampleRate, medianWidth: 9, decoding: options.decoding, vocabulary, trained: config.vocab ?? 'majmin' }));
  }
  return results;
}

export interface RobustnessRow { condition: string; scores: Scores[] }

/** Every condition's row; `onRow` hears each as it is done. */
export interface RobustnessOptions { decoding: ChordDecoding; vocabulary?: VocabularyName; tuning?: boolean }

export async function robustnessTable(models: readonly ScoredModel[], clips: readonly DatasetClip[], device: AcquiredDevice, options: RobustnessOptions & { conditions?: readonly Degradation[]; onRow?: (row: RobustnessRow) => void }): Promise<RobustnessRow[]> {
  const rows: RobustnessRow[] = [];
  const forwards: CompiledForwards = new Map();
  for (const condition of options.conditions ?? robustnessConditions) {
    const row = { condition: condition.name, scores: await scoreUnder(models, clips, condition, device, { ...options, forwards }) };
    options.onRow?.(row);
    rows.push(row);
  }
  return rows;
}

/** The table in Markdown: majmin per model (and its change from clean), then N recall; with `rule` 'sevenths', sevenths instead of majmin. */
export function formatRobustnessTable(models: readonly ScoredModel[], rows: readonly RobustnessRow[], rule: 'majmin' | 'sevenths' = 'majmin'): string {
  const score = (scores: Scores): number => (rule === 'majmin' ? scores.majmin : scores.rules.sevenths);
  const percent = (value: number | null): string => (value === null ? 'n/a' : (100 * value).toFixed(1));
  const clean = rows[0]?.scores;
  const header = `| condition | ${models.map((m) => `${m.name} ${rule}`).join(' | ')} | ${models.map((m) => `${m.name} N recall`).join(' | ')} |`;
  const divider = `| --- | ${models.map(() => '---:').join(' | ')} | ${models.map(() => '---:').join(' | ')} |`;
  const lines = rows.map((row) => {
    const majmin = row.scores.map((scores, m) => `${percent(score(scores))}${clean && row !== rows[0] ? ` (${(100 * (score(scores) - score(clean[m]!))).toFixed(1)})` : ''}`);
    return `| ${row.condition} | ${majmin.join(' | ')} | ${row.scores.map((scores) => percent(scores.noChordRecall)).join(' | ')} |`;
  });
  return [header, divider, ...lines].join('\n');
}
