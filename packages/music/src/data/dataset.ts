// synthesizeDataset: chord clips with known segment labels, from additive synthesis, from
// FluidSynth with the GM soundfont, or both; deterministic from a seed and cached on disk.
// Two seeds: `seed` draws the clips' content; `splitSeed` (default 0) partitions GM
// programs, additive timbre families and voicing patterns into train / validation / test.
// Keeping the partition fixed while the content seed changes means a model trained on a
// data set from one seed can be tested on another seed's test split without meeting a
// training instrument or voicing. Clip i of a split depends only on (seed, source, split,
// i): asking for more clips adds clips and keeps the earlier ones (and their cache).
// Left out: features (the signal area computes them from `audio`), chord-transition
// statistics, data sets from real recordings.
import { availableParallelism } from 'node:os';
import { renderAdditiveClip } from './additive.ts';
import { cachedClipPath, defaultCacheDir, readCachedClip, writeCachedClip } from './cache.ts';
import { type ClipPlan, type PlannedSegment, type PlanSettings, checkPlanSettings, defaultPlanSettings, planAdditiveClip, planFluidsynthClip } from './clip-plan.ts';
import { type FluidsynthSettings, checkFluidsynth, defaultFluidsynthSettings, renderFluidsynthClip } from './fluidsynth.ts';
import { splitGmPrograms } from './gm-programs.ts';
import { finishClip } from './postprocess.ts';
import { type Split, splitCounts, splits } from './splits.ts';
import { splitTimbreFamilies } from './timbres.ts';
import { splitVoicings } from './voicings.ts';

export { labelsAtTimes } from './labels.ts';

export type DataSource = 'additive' | 'fluidsynth';

export interface SynthesizeDatasetOptions {
  /** Seeds the clips' content (chords, voicings, instruments drawn, timbre variation, noise). */
  seed: number;
  /** Clips of each source: a total dealt 70 / 15 / 15, or a count per split. */
  clips: number | Partial<Record<Split, number>>;
  /** Default 'additive'; 'both' makes `clips` of each. */
  source?: DataSource | 'both';
  /** Default `.theorbo-cache/` at the repository root. */
  cacheDir?: string;
  /** Seeds the train / validation / test partition of instruments and voicings (default 0). */
  splitSeed?: number;
  /** Default 22050 Hz. */
  sampleRate?: number;
  /** Segment count and lengths, no-chord probability, SNR range, largest detuning. */
  plan?: Partial<PlanSettings>;
  /** Additive timbre families per archetype (six archetypes; default 6, dealt 4 / 1 / 1). */
  timbreFamiliesPerArchetype?: number;
  fluidsynth?: Partial<FluidsynthSettings>;
  /** FluidSynth processes at once; default the number of CPUs. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** A labelled segment: start and end in seconds, Harte label, class index, voicing and notes. */
export type ClipSegment = PlannedSegment;

export interface DatasetClip {
  /** 'additive-train-00012'. */
  id: string;
  source: DataSource;
  split: Split;
  index: number;
  sampleRate: number;
  duration: number;
  /** Mono samples at sampleRate, peak-normalized to the plan's level. */
  audio: Float32Array;
  /** The cached mono float32 WAV holding `audio`. */
  cachePath: string;
  segments: ClipSegment[];
  /** name: GM program name or timbre family; family: GM family or 'additive <archetype>'. */
  instrument: { name: string; family: string; program: number | null };
  tuningCents: number;
  snrDb: number;
  /** Everything the clip was made from. */
  plan: ClipPlan;
}

export interface DatasetPartition {
  gmPrograms: Record<Split, string[]>;
  timbreFamilies: Record<Split, string[]>;
  voicings: Record<Split, string[]>;
}

export interface SynthesizedDataset {
  seed: number;
  splitSeed: number;
  sampleRate: number;
  clips: DatasetClip[];
  partition: DatasetPartition;
  cache: { directory: string; synthesized: number; fromCache: number };
}

function countsPerSplit(clips: SynthesizeDatasetOptions['clips']): Record<Split, number> {
  const counts = typeof clips === 'number' ? splitCounts(clips) : { train: 0, validation: 0, test: 0, ...clips };
  for (const split of splits) {
    if (!Number.isInteger(counts[split]) || counts[split] < 0) {
      throw new Error(`synthesizeDataset: clips for ${split} is ${counts[split]}; clip counts must be whole numbers ≥ 0.`);
    }
  }
  return counts;
}

function mapSplits<T, U>(record: Record<Split, T[]>, name: (item: T) => U): Record<Split, U[]> {
  return { train: record.train.map(name), validation: record.validation.map(name), test: record.test.map(name) };
}

/** Synthesizes (or reads from the cache) the clips the options describe. */
export async function synthesizeDataset(options: SynthesizeDatasetOptions): Promise<SynthesizedDataset> {
  const splitSeed = options.splitSeed ?? 0;
  const sampleRate = options.sampleRate ?? 22050;
  const cacheDir = options.cacheDir ?? defaultCacheDir;
  const settings: PlanSettings = { ...defaultPlanSettings, ...options.plan };
  checkPlanSettings(settings);
  const fluidsynth: FluidsynthSettings = { ...defaultFluidsynthSettings, ...options.fluidsynth };
  const sources: DataSource[] = options.source === 'both' ? ['additive', 'fluidsynth'] : [options.source ?? 'additive'];
  const counts = countsPerSplit(options.clips);

  const voicings = splitVoicings(splitSeed);
  const gmPrograms = splitGmPrograms(splitSeed);
  const timbreFamilies = splitTimbreFamilies(splitSeed, options.timbreFamiliesPerArchetype ?? 6);
  const plans: ClipPlan[] = [];
  for (const source of sources) {
    for (const split of splits) {
      if (counts[split] > 0 && (source === 'additive' ? timbreFamilies : gmPrograms)[split].length === 0) {
        throw new Error(`synthesizeDataset: the ${split} split has no ${source === 'additive' ? 'timbre families' : 'GM programs'}; use timbreFamiliesPerArchetype ≥ 3 so that every split gets some.`);
      }
      for (let index = 0; index < counts[split]; index++) {
        const identity = { seed: options.seed, split, index };
        plans.push(source === 'additive'
          ? planAdditiveClip(identity, settings, timbreFamilies[split], voicings[split])
          : planFluidsynthClip(identity, settings, gmPrograms[split], voicings[split]));
      }
    }
  }

  const cachePathOf = (plan: ClipPlan): string => cachedClipPath(cacheDir, plan.source, plan.source === 'additive'
    ? { plan, sampleRate }
    : { plan, sampleRate, soundfont: fluidsynth.soundfont, gain: fluidsynth.gain });
  const paths = plans.map(cachePathOf);
  const cached = paths.map((path) => readCachedClip(path, sampleRate));
  if (plans.some((plan, i) => plan.source === 'fluidsynth' && cached[i] === null)) await checkFluidsynth(fluidsynth);

  let synthesized = 0, done = 0;
  const audio: Float32Array[] = new Array(plans.length);
  const make = async (i: number): Promise<void> => {
    const plan = plans[i] as ClipPlan;
    let samples = cached[i] ?? null;
    if (samples === null) {
      const dry = plan.source === 'additive' ? renderAdditiveClip(plan, sampleRate) : await renderFluidsynthClip(plan, sampleRate, fluidsynth);
      samples = finishClip(dry, plan);
      writeCachedClip(paths[i] as string, samples, sampleRate);
      synthesized++;
    }
    audio[i] = samples;
    options.onProgress?.(++done, plans.length);
  };
  let next = 0;
  const worker = async (): Promise<void> => { while (next < plans.length) await make(next++); };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? availableParallelism()) }, worker));

  const clips = plans.map((plan, i): DatasetClip => ({
    id: plan.id, source: plan.source, split: plan.split, index: plan.index, sampleRate, duration: plan.duration,
    audio: audio[i] as Float32Array, cachePath: paths[i] as string, segments: plan.segments,
    instrument: plan.source === 'additive'
      ? { name: plan.instrument.family, family: `additive ${plan.instrument.archetype}`, program: null }
      : { name: plan.instrument.name, family: plan.instrument.family, program: plan.instrument.program },
    tuningCents: plan.tuningCents, snrDb: plan.snrDb, plan,
  }));
  return {
    seed: options.seed, splitSeed, sampleRate, clips,
    partition: {
      gmPrograms: mapSplits(gmPrograms, (instrument) => instrument.name),
      timbreFamilies: mapSplits(timbreFamilies, (family) => family.name),
      voicings: mapSplits(voicings, (pattern) => pattern.id),
    },
    cache: { directory: cacheDir, synthesized, fromCache: plans.length - synthesized },
  };
}
