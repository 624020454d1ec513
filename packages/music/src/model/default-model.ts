// The shipped chord model (packages/music/models/default: weights.npz, config.json and
// training.json, what `theorbo chords` uses without --model) and the recipe that trains
// it: the demo's data (seed 7, 240 clips of each source, held-out instruments and
// voicings in the test split), each training clip once clean and `augmentedCopies` times
// degraded in the audio (gain, noise at 0–30 dB SNR, synthetic reverb, MP3 at 64–192
// kbit/s, detuning; data/degrade.ts), plus the training clips of the demo's triad data
// set, clean (`triadClips`: triads read 92.3 → 94.0 majmin held out, sevenths 84.6 → 82.9),
// plus a textured data set of seed 8 (`texturedClips`: strummed and arpeggiated chords,
// melody and drums on top), clean and degraded, with its validation split (weights
// f0bc8866: textured held-out clips 82.0 majmin, triads 94.3, 94.8 with the tuning
// estimate, seventh-chord clips 86.4 sevenths; README), then the CNN on CQT patches trained with the
// softmax template-distance loss and the batch augmentation of cnnTraining (pitch shifts
// as CQT rotations, feature noise). Everything is seeded, so the same recipe on the same
// device gives the same weights (`pnpm train:default`, checked by hashing weights.npz).
// The recipe names a vocabulary: with sevenths the data holds maj, min, 7, maj7 and min7
// chords and the CNN learns the 61 classes' templates (the chroma it outputs is matched
// against them as before); labels are the vocabulary's classes of each segment's Harte label.
// The full vocabulary (dim, aug, sus2, sus4, maj6, min6 too) trains the same way but does not ship
// (README: sus4 and aug cannot be told apart by pitch classes alone). Inversions are not
// classes of the model: `theorbo chords` estimates the bass after decoding (chords/bass.ts).

import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../files/atomic-write.ts';
import type { AcquiredDevice } from '@theorbo/codegen';
import { synthesizeDataset, type DataSource, type DatasetClip } from '../data/dataset.ts';
import { defaultTextures } from '../data/clip-plan.ts';
import { splitCounts } from '../data/splits.ts';
import { mp3BitRates, mp3RoundTrip, withGain, withNoise, withReverb, detuned, detunedTime } from '../data/degrade.ts';
import { deriveSeed, SeededRandom } from '../random/seeded-random.ts';
import { saveModel, train } from '../train/index.ts';
import { clipFeatures, featureDefaults, type ClipFeatures } from './features.ts';
import { describeCnn, type CnnShape } from './cnn.ts';
import { stackPatches } from './patches.ts';
import { buildModel, type ModelConfig } from './registry.ts';
import * as T from '@theorbo/graph';
import { chordVocabulary, vocabularyQualities, type ChordVocabulary, type VocabularyName } from '../chords/vocabularies.ts';
import type { ChordQuality } from '../data/voicings.ts';
import { composeAugmentations, noiseAugmentation, pitchShiftAugmentation } from '../train/augment.ts';

/** The folder of the shipped model. */
export const defaultModelDir = fileURLToPath(new URL('../../models/default', import.meta.url));

export interface DefaultModelRecipe {
  seed: number;
  clips: number;
  source: DataSource | 'both';
  cnn: CnnShape;
  /** Degraded copies of each training clip, besides the clean one. */
  augmentedCopies: number;
  epochs: number;
  stride: number;
  dropout: number;
  /** The classes the model tells apart; the training clips hold this vocabulary's qualities. */
  vocab: VocabularyName;
  /**
   * Clips per source of the demo's triad data set (maj and min only, same seed) whose
   * training split joins the training clips, clean: more triads for a vocabulary beyond
   * majmin (ignored for majmin, whose data set that already is).
   */
  triadClips: number;
  /**
   * Clips per source of a data set of the recipe's qualities with textures (strummed and
   * arpeggiated chords, melody and drums on top: data/clip-plan.ts defaultTextures), drawn
   * with `texturedSeed`; its training split joins the training clips (clean and degraded
   * as the others) and its validation split the validation clips. 0: none.
   */
  texturedClips: number;
  texturedSeed: number;
}

export const defaultModelRecipe: DefaultModelRecipe = {
  seed: 7, clips: 240, source: 'both',
  // The demo's CNN shape: a wider one (5 frames, 16 filters: 260k weights) took 50–145 s an
  // epoch on the 2 shared cores, past the 15 minutes a run may take here.
  cnn: { radius: 1, convolutions: [{ filters: 8, kernel: [3, 3] }], hidden: [64] },
  augmentedCopies: 1, epochs: 24, stride: 3, dropout: 0.2, vocab: 'sevenths', triadClips: 240, texturedClips: 240, texturedSeed: 8,
};

/** The class of `vocabulary` at each time (a segment holds [start, end); outside every segment: N). */
export function vocabularyLabels(segments: readonly { start: number; end: number; label: string }[], times: ArrayLike<number>, vocabulary: ChordVocabulary): Int32Array {
  return Int32Array.from(times, (time) => {
    const segment = segments.find((s) => time >= s.start && time < s.end);
    const index = segment === undefined ? vocabulary.noChord : vocabulary.indexOf(segment.label);
    if (index < 0) throw new Error(`vocabularyLabels: the ${vocabulary.name} vocabulary has no class for '${segment!.label}'.`);
    return index;
  });
}

/** A class of `vocabulary` transposed by `semitones` (its classes are every root of one quality, then the next; N stays N). */
export function transposeInVocabulary(vocabulary: ChordVocabulary): (index: number, semitones: number) => number {
  return (index, semitones) => {
    if (index === vocabulary.noChord || index < 0) return index;
    const quality = index - (index % 12);
    return quality + ((((index % 12) + semitones) % 12) + 12) % 12;
  };
}

/** One training clip's audio through a random chain of degradations; the factor its times scale by. */
export async function augmentClipAudio(audio: Float32Array, sampleRate: number, random: SeededRandom): Promise<{ audio: Float32Array; timeScale: number; steps: string[] }> {
  let out = withGain(audio, random.uniform(-12, 6));
  const steps = ['gain'];
  let timeScale = 1;
  if (random.chance(0.3)) {
    const cents = random.uniform(-50, 50);
    out = detuned(out, cents, sampleRate);
    timeScale = detunedTime(1, cents);
    steps.push('detune');
  }
  if (random.chance(0.4)) {
    out = withReverb(out, { rt60: random.uniform(0.2, 1.5), wet: random.uniform(0.1, 0.6), sampleRate }, random);
    steps.push('reverb');
  }
  if (random.chance(0.6)) {
    out = withNoise(out, random.uniform(0, 30), random, random.chance(0.5) ? 0 : random.uniform(0.5, 0.95));
    steps.push('noise');
  }
  if (random.chance(0.3)) {
    out = await mp3RoundTrip(out, sampleRate, random.choice(mp3BitRates.filter((kbps) => kbps >= 64 && kbps <= 192)));
    steps.push('mp3');
  }
  return { audio: out, timeScale, steps };
}

type LabelledFeatures = ClipFeatures & { vocabularyLabels: Int32Array };
// Added in place: spreading the features would compute their DFT, which the CNN never reads.
const labelled = (features: ClipFeatures, segments: DatasetClip['segments'], vocabulary: ChordVocabulary): LabelledFeatures =>
  Object.assign(features, { vocabularyLabels: vocabularyLabels(segments, features.times, vocabulary) });

async function augmentedFeatures(clip: DatasetClip, copy: number, seed: number, vocabulary: ChordVocabulary): Promise<LabelledFeatures> {
  const random = new SeededRandom(deriveSeed('default-model augmentation', seed, clip.id, copy));
  const { audio, timeScale } = await augmentClipAudio(clip.audio, clip.sampleRate, random);
  const segments = clip.segments.map((segment) => ({ ...segment, start: segment.start * timeScale, end: segment.end * timeScale }));
  return labelled(clipFeatures(audio, segments, featureDefaults), segments, vocabulary);
}

/** Trains the shipped model by the recipe into `out` (checkpoints in out/checkpoint); returns the seconds each stage took. */
export async function trainDefaultModel(options: { out: string; device: AcquiredDevice; recipe?: DefaultModelRecipe; log: (line: string) => void; progress: boolean }): Promise<{ config: ModelConfig; seconds: Record<string, number> }> {
  const recipe = options.recipe ?? defaultModelRecipe;
  const seconds: Record<string, number> = {};
  let started = performance.now();
  const stage = (name: string): void => {
    const now = performance.now();
    seconds[name] = Math.round((now - started) / 100) / 10;
    options.log(`${name}: ${seconds[name]} s`);
    started = now;
  };
  const vocabulary = chordVocabulary(recipe.vocab);
  const qualities = recipe.vocab === 'majmin' ? undefined : (vocabularyQualities[recipe.vocab] as readonly ChordQuality[]);
  const dataset = await synthesizeDataset({ seed: recipe.seed, clips: recipe.clips, source: recipe.source, ...(qualities ? { plan: { qualities } } : {}) });
  stage('data');
  const clipsOf = (split: string) => dataset.clips.filter((clip) => clip.split === split);
  const trainFeatures: LabelledFeatures[] = [];
  for (const clip of clipsOf('train')) {
    trainFeatures.push(labelled(clipFeatures(clip.audio, clip.segments, featureDefaults), clip.segments, vocabulary));
    for (let copy = 0; copy < recipe.augmentedCopies; copy++) trainFeatures.push(await augmentedFeatures(clip, copy, recipe.seed, vocabulary));
  }
  if (qualities !== undefined && recipe.triadClips > 0) {
    const triads = await synthesizeDataset({ seed: recipe.seed, clips: { train: splitCounts(recipe.triadClips).train }, source: recipe.source });
    for (const clip of triads.clips) trainFeatures.push(labelled(clipFeatures(clip.audio, clip.segments, featureDefaults), clip.segments, vocabulary));
  }
  const validationClips = clipsOf('validation');
  if (recipe.texturedClips > 0) {
    const textured = await synthesizeDataset({ seed: recipe.texturedSeed, clips: { train: splitCounts(recipe.texturedClips).train, validation: splitCounts(recipe.texturedClips).validation }, source: recipe.source, plan: { ...(qualities ? { qualities } : {}), textures: defaultTextures } });
    for (const clip of textured.clips.filter((c) => c.split === 'train')) {
      trainFeatures.push(labelled(clipFeatures(clip.audio, clip.segments, featureDefaults), clip.segments, vocabulary));
      // The textured clips' ids are the plain ones' (ids do not name the seed): their degradations draw from their own seed.
      for (let copy = 0; copy < recipe.augmentedCopies; copy++) trainFeatures.push(await augmentedFeatures(clip, copy, recipe.texturedSeed, vocabulary));
    }
    validationClips.push(...textured.clips.filter((c) => c.split === 'validation'));
  }
  const validationFeatures = validationClips.map((clip) => labelled(clipFeatures(clip.audio, clip.segments, featureDefaults), clip.segments, vocabulary));
  const rows = (features: readonly LabelledFeatures[]): [T.NDArray, T.NDArray] => {
    const labels = features.flatMap((clip) => Array.from({ length: Math.ceil(clip.labels.length / recipe.stride) }, (_, i) => clip.vocabularyLabels[i * recipe.stride]!));
    return [stackPatches(features.map((clip) => clip.cqt), recipe.cnn.radius, recipe.stride), T.array(Int32Array.from(labels))];
  };
  const data = { train: rows(trainFeatures), validation: rows(validationFeatures) };
  options.log(`features: ${trainFeatures.length} training clips (each clean and ${recipe.augmentedCopies} times degraded), ${data.train[1].size} training frames`);
  stage('features');
  const config: ModelConfig = { kind: 'cnn', feature: featureDefaults, cnn: recipe.cnn, seed: recipe.seed, loss: 'softmax-distance', dropout: recipe.dropout, ...(recipe.vocab === 'majmin' ? {} : { vocab: recipe.vocab }) };
  const model = buildModel(config);
  options.log(`training the CNN (${describeCnn(recipe.cnn)}) on ${data.train[1].size} frames`);
  const result = await train({
    model, device: options.device, progress: options.progress, epochs: recipe.epochs, batchSize: 256, rule: 'adam', seed: recipe.seed,
    // cnnTraining's augmentation and rate, with the pitch shifts transposing this vocabulary's classes.
    learningRate: 0.003,
    augment: composeAugmentations(
      pitchShiftAugmentation({ maxSemitones: 6, binsPerSemitone: featureDefaults.binsPerOctave / 12, transposeLabel: transposeInVocabulary(vocabulary) }),
      noiseAugmentation({ std: 0.02 }),
    ),
    data, checkpointDir: `${options.out}/checkpoint`, resume: false, earlyStopping: { monitor: 'loss', patience: 4 }, config,
  });
  await saveModel(options.out, model.params, config);
  rmSync(`${options.out}/checkpoint`, { recursive: true, force: true }); // the model ships without its checkpoint
  stage('training');
  const last = result.history[result.history.length - 1];
  writeFileAtomic(`${options.out}/training.json`, `${JSON.stringify({ recipe, epochs: result.epochsDone, stoppedEarly: result.stoppedEarly, lastValidation: last?.validation ?? null, seconds, device: options.device.kind }, null, 2)}\n`, { operation: 'trainDefaultModel' });
  return { config, seconds };
}
