// Planning a clip: everything that decides its sound and labels, drawn from the clip's own
// seeded stream before any audio is made: a few chord segments with their voicings and
// notes, no-chord segments with their unpitched hits, the tuning offset, noise and level.
// A plan is plain data; its JSON is the cache key of the clip's audio.
// No-chord ('N') segments are rests: the clip's noise floor plus, half of the time, a few
// unpitched hits (noise bursts for additive clips, GM drum-kit snare / hi-hat / crash /
// clap for FluidSynth clips). Pitched material (single notes, clusters) is never labelled
// N: annotators give such passages the surrounding chord or X, so it would teach a label
// that real annotations do not use. Times lie on a grid of 1/882 s, which is exactly one
// MIDI tick at 441 ticks per quarter and 120 bpm, and exactly 25 samples at 22050 Hz.
// Left out: chord progressions with musical statistics (chords are drawn uniformly, never
// the same twice in a row), tempo and rhythm within a segment, melody.
import { chordIndex, pitchClasses } from '../chords/vocabulary.ts';
import type { GmInstrument } from './gm-programs.ts';
import { SeededRandom } from '../random/seeded-random.ts';
import type { Split } from './splits.ts';
import { type AdditiveTimbre, type TimbreFamily, varyTimbre } from './timbres.ts';
import { type ChordQuality, type Inversion, type Register, type VoicingPattern, type VoicingStyle, chooseVoicing, chordQualityNames, placeVoicing } from './voicings.ts';

export const ticksPerSecond = 882;
export const noChordLabel = 'N';

export interface PlannedNote {
  /** MIDI note number of the written pitch. */
  midi: number;
  /** This note's own deviation from the clip's tuning, in cents. */
  jitterCents: number;
  /** 0..1, mapped to amplitude (additive) or MIDI velocity (FluidSynth). */
  velocity: number;
}

/** An unpitched event in a no-chord segment; `variant` picks the burst's colour or the drum. */
export interface PlannedHit { time: number; level: number; variant: number }

export interface PlannedSegment {
  /** Seconds from the clip's start, on the 1/882 s grid. */
  start: number;
  end: number;
  /** Harte label: 'C:maj', 'A:min', 'N'. */
  label: string;
  /** Index in the 25-class major/minor vocabulary (0–11 major, 12–23 minor, 24 N). */
  classIndex: number;
  /** Pitch class of the root (0 = C), null for N. */
  root: number | null;
  quality: ChordQuality | null;
  voicing: { id: string; inversion: Inversion; style: VoicingStyle } | null;
  /** Lowest first; empty for N. */
  notes: PlannedNote[];
  hits: PlannedHit[];
}

export interface PlanSettings {
  segmentsPerClip: readonly [number, number];
  segmentSeconds: readonly [number, number];
  noChordProbability: number;
  snrDb: readonly [number, number];
  /** Largest total detuning of a note: clip tuning offset plus the note's jitter. */
  maxDetuneCents: number;
  /** The chord qualities drawn, uniformly (default maj and min, as the majmin vocabulary). */
  qualities?: readonly ChordQuality[];
}

export const defaultPlanSettings: PlanSettings = {
  segmentsPerClip: [3, 6],
  segmentSeconds: [0.5, 1.0],
  noChordProbability: 0.1,
  snrDb: [10, 40],
  maxDetuneCents: 40,
};

/** Throws a sentence naming the first setting that cannot make clips. */
export function checkPlanSettings(settings: PlanSettings): void {
  const ordered = ([low, high]: readonly [number, number]): boolean => Number.isFinite(low) && Number.isFinite(high) && low <= high;
  const [fewest] = settings.segmentsPerClip;
  const problem =
    !ordered(settings.segmentsPerClip) || !Number.isInteger(fewest) || fewest < 1 || !Number.isInteger(settings.segmentsPerClip[1])
      ? `segmentsPerClip [${settings.segmentsPerClip}] must be two whole numbers 1 ≤ fewest ≤ most`
      : !ordered(settings.segmentSeconds) || settings.segmentSeconds[0] < 0.1
        ? `segmentSeconds [${settings.segmentSeconds}] must be shortest ≤ longest, at least 0.1 s`
        : !(settings.noChordProbability >= 0 && settings.noChordProbability <= 1)
          ? `noChordProbability ${settings.noChordProbability} must lie in [0, 1]`
          : !ordered(settings.snrDb)
            ? `snrDb [${settings.snrDb}] must be lowest ≤ highest`
            : !(settings.maxDetuneCents >= 0 && settings.maxDetuneCents < 50)
              ? `maxDetuneCents ${settings.maxDetuneCents} must lie in [0, 50): at 50 cents a note is as near the next semitone as its own`
              : settings.qualities !== undefined && (settings.qualities.length === 0 || settings.qualities.some((quality) => !(chordQualityNames as readonly string[]).includes(quality)))
                ? `qualities [${settings.qualities}] must be one or more of ${chordQualityNames.join(', ')}`
                : null;
  if (problem !== null) throw new Error(`synthesizeDataset: the plan setting ${problem}.`);
}

/** The largest per-note jitter; the clip's tuning offset takes the rest of maxDetuneCents. */
const noteJitterCents = 5;

interface ClipPlanCommon {
  id: string;
  split: Split;
  index: number;
  duration: number;
  segments: PlannedSegment[];
  /** The clip's global tuning offset in cents (a detuned recording or instrument). */
  tuningCents: number;
  /** Signal-to-noise ratio of the added noise, over the whole clip. */
  snrDb: number;
  /** One-pole low-pass coefficient of the noise: 0 white, towards 1 darker. */
  noiseColor: number;
  /** The clip is scaled so that its largest sample is this. */
  peakLevel: number;
  /** Seeds the renderer's own draws (partial phases, noise), so they follow the plan. */
  renderSeed: number;
}

export interface AdditiveClipPlan extends ClipPlanCommon {
  source: 'additive';
  instrument: { family: string; archetype: string };
  timbre: AdditiveTimbre;
}

export interface FluidsynthClipPlan extends ClipPlanCommon {
  source: 'fluidsynth';
  instrument: { family: string; program: number; name: string };
  /** GM controllers 91 and 93, 0..127. */
  reverbSend: number;
  chorusSend: number;
}

export type ClipPlan = AdditiveClipPlan | FluidsynthClipPlan;

export interface ClipIdentity { seed: number; split: Split; index: number }

const clipId = (source: string, { split, index }: ClipIdentity): string => `${source}-${split}-${String(index).padStart(5, '0')}`;

function planSegments(
  random: SeededRandom, settings: PlanSettings, voicings: readonly VoicingPattern[], register: Register, maxJitter: number,
): PlannedSegment[] {
  const count = random.integer(settings.segmentsPerClip[0], settings.segmentsPerClip[1]);
  const [shortest, longest] = settings.segmentSeconds.map((seconds) => Math.round(seconds * ticksPerSecond)) as [number, number];
  const segments: PlannedSegment[] = [];
  let tick = 0;
  let previous = '';
  for (let position = 0; position < count; position++) {
    const length = random.integer(shortest, longest);
    const start = tick / ticksPerSecond;
    const end = (tick + length) / ticksPerSecond;
    tick += length;
    // N never twice in a row and never the whole clip: the clip's first segment is a chord.
    if (position > 0 && previous !== noChordLabel && random.chance(settings.noChordProbability)) {
      const hits = random.chance(0.5) ? Array.from({ length: random.integer(1, 3) }, () => ({
        time: random.uniform(start, Math.max(start, end - 0.15)), level: random.uniform(0.1, 0.5), variant: random.integer(0, 4),
      })).sort((a, b) => a.time - b.time) : [];
      segments.push({ start, end, label: noChordLabel, classIndex: chordIndex(noChordLabel), root: null, quality: null, voicing: null, notes: [], hits });
      previous = noChordLabel;
      continue;
    }
    let root: number, quality: ChordQuality, label: string;
    do {
      root = random.integer(0, 11);
      // maj and min alone draw as they always have, so that existing data sets stay the same.
      const qualities = settings.qualities ?? ['maj', 'min'];
      quality = qualities.length === 2 && qualities[0] === 'maj' && qualities[1] === 'min' ? (random.chance(0.5) ? 'maj' : 'min') : random.choice(qualities);
      label = `${pitchClasses[root]}:${quality}`;
    } while (label === previous);
    const pattern = chooseVoicing(voicings, random);
    const midis = placeVoicing(root, quality, pattern, register, random);
    const notes = midis.map((midi) => ({ midi, jitterCents: random.uniform(-maxJitter, maxJitter), velocity: random.uniform(0.55, 1) }));
    segments.push({
      start, end, label, classIndex: chordIndex(label), root, quality,
      voicing: { id: pattern.id, inversion: pattern.inversion, style: pattern.style }, notes, hits: [],
    });
    previous = label;
  }
  return segments;
}

function planCommon(source: string, identity: ClipIdentity, settings: PlanSettings, voicings: readonly VoicingPattern[], register: Register) {
  const random = SeededRandom.derive(identity.seed, source, identity.split, identity.index, 'plan');
  const maxJitter = Math.min(noteJitterCents, settings.maxDetuneCents);
  const segments = planSegments(random, settings, voicings, register, maxJitter);
  const common: ClipPlanCommon = {
    id: clipId(source, identity),
    split: identity.split,
    index: identity.index,
    duration: (segments[segments.length - 1] as PlannedSegment).end,
    segments,
    tuningCents: random.uniform(-1, 1) * (settings.maxDetuneCents - maxJitter),
    snrDb: random.uniform(settings.snrDb[0], settings.snrDb[1]),
    noiseColor: random.chance(0.5) ? 0 : random.uniform(0.3, 0.95),
    peakLevel: random.uniform(0.25, 0.95),
    renderSeed: random.integer(0, 0xffffffff),
  };
  return { random, common };
}

/**
 * The split's instruments take turns in a seeded order, so that every one of them is heard
 * (a uniform draw per clip can leave a held-out instrument out of a small test split).
 */
function instrumentForClip<T>(source: string, identity: ClipIdentity, instruments: readonly T[]): T {
  const order = SeededRandom.derive(identity.seed, source, identity.split, 'instrument-order').shuffled(instruments);
  return order[identity.index % order.length] as T;
}

export function planAdditiveClip(
  identity: ClipIdentity, settings: PlanSettings, families: readonly TimbreFamily[], voicings: readonly VoicingPattern[],
): AdditiveClipPlan {
  const family = instrumentForClip('additive', identity, families);
  const { random, common } = planCommon('additive', identity, settings, voicings, family.register);
  return {
    ...common, source: 'additive',
    instrument: { family: family.name, archetype: family.archetype },
    timbre: varyTimbre(family.prototype, random),
  };
}

export function planFluidsynthClip(
  identity: ClipIdentity, settings: PlanSettings, instruments: readonly GmInstrument[], voicings: readonly VoicingPattern[],
): FluidsynthClipPlan {
  const instrument = instrumentForClip('fluidsynth', identity, instruments);
  const { random, common } = planCommon('fluidsynth', identity, settings, voicings, instrument.register);
  return {
    ...common, source: 'fluidsynth',
    instrument: { family: instrument.family, program: instrument.program, name: instrument.name },
    reverbSend: random.integer(0, 80),
    chorusSend: random.integer(0, 40),
  };
}
