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
// With PlanSettings.textures, chords are also strummed or arpeggiated, with a melody and
// drums on top (planTextures). Left out: chord progressions with musical statistics (chords
// are drawn uniformly, never the same twice in a row), a common tempo across segments.
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
  /** When the note sounds, [start, end] in seconds from the clip's start; absent: the whole segment (a held chord). */
  times?: [number, number][];
}

/** How a chord segment's notes are played: together ('held'), a few ms apart from the bass up or the top down ('strummed'), or one after another ('arpeggio'). */
export type Texture = 'held' | 'strummed' | 'arpeggio';

/**
 * Textures of chord segments and what plays on top of them, as chances per chord segment
 * (PlanSettings.textures): strummed, else arpeggiated, else held; a melody above the chord
 * (chord and scale tones, not part of its label); unpitched hits throughout (drums).
 */
export interface TextureSettings { strum: number; arpeggio: number; melody: number; drums: number }

/** The chances `--textures` gives: a quarter of the chords strummed, a quarter of the rest arpeggiated, melody and drums on 40% each. */
export const defaultTextures: TextureSettings = { strum: 0.25, arpeggio: 1 / 3, melody: 0.4, drums: 0.4 };

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
  /** With PlanSettings.textures: how the notes are played (absent: held). */
  texture?: Texture;
  /** With PlanSettings.textures: notes of a melody above the chord, each with its times; not part of the label. */
  melody?: PlannedNote[];
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
  /** Strummed and arpeggiated chords, melodies and drums on top (absent: held chords alone, and no draws for them, so data sets without it stay the same). */
  textures?: TextureSettings;
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
                : settings.textures !== undefined && Object.entries(settings.textures).some(([, chance]) => !(chance >= 0 && chance <= 1))
                  ? `textures ${JSON.stringify(settings.textures)} must give chances in [0, 1]`
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

/** Scale steps above the root that a melody over each quality draws from (chord tones and their neighbours). */
const melodyScales: Record<ChordQuality, readonly number[]> = {
  maj: [0, 2, 4, 5, 7, 9, 11], '7': [0, 2, 4, 5, 7, 9, 10], maj7: [0, 2, 4, 5, 7, 9, 11], aug: [0, 2, 4, 6, 8, 9, 11],
  min: [0, 2, 3, 5, 7, 8, 10], min7: [0, 2, 3, 5, 7, 9, 10], dim: [0, 2, 3, 5, 6, 8, 9], sus2: [0, 2, 4, 5, 7, 9, 10], sus4: [0, 2, 4, 5, 7, 9, 10],
  maj6: [0, 2, 4, 5, 7, 9, 11], min6: [0, 2, 3, 5, 7, 9, 10],
};

const onGrid = (seconds: number): number => Math.round(seconds * ticksPerSecond) / ticksPerSecond;

/**
 * Textures and what plays on top (settings.textures), drawn from a stream of their own so
 * that the rest of the plan is the one drawn without them. A strum starts the notes 10–40 ms
 * apart (from the bass up, or the top down), sometimes twice; an arpeggio plays the notes one
 * at a time every 80–200 ms (up, down or up and down), each ringing for one to three steps;
 * a melody of 2–5 notes lies within an octave above the chord's top note; drums hit every
 * 120–250 ms with snare, hi-hats, crash or clap at a low level.
 */
function planTextures(random: SeededRandom, segments: PlannedSegment[], textures: TextureSettings, maxJitter: number): void {
  for (const segment of segments) {
    if (segment.root === null || segment.quality === null) continue;
    const { start, end } = segment;
    const length = end - start;
    const order = segment.notes.map((_, k) => k);
    if (random.chance(textures.strum)) {
      segment.texture = 'strummed';
      const gap = random.uniform(0.01, 0.04);
      const down = random.chance(0.5);
      const strums = random.chance(0.5) && length > 0.6 ? [start, onGrid(start + length / 2)] : [start];
      segment.notes.forEach((note, k) => {
        const place = down ? segment.notes.length - 1 - k : k;
        note.times = strums.map((at, i) => [onGrid(Math.min(at + place * gap, end - 0.05)), i + 1 < strums.length ? strums[i + 1]! : end] as [number, number]);
      });
    } else if (random.chance(textures.arpeggio)) {
      segment.texture = 'arpeggio';
      const drawnStep = random.uniform(0.08, 0.2);
      const ring = random.integer(1, 3);
      const shape = random.choice(['up', 'down', 'up-down'] as const);
      const cycle = shape === 'up' ? order : shape === 'down' ? [...order].reverse() : [...order, ...order.slice(1, -1).reverse()];
      // A short segment plays its notes faster, so that each is struck at least once.
      const step = Math.min(drawnStep, (length - 0.04) / segment.notes.length);
      const times: [number, number][][] = segment.notes.map(() => []);
      for (let i = 0, at = start; at < end - 0.04; i++, at += step) {
        const k = cycle[i % cycle.length]!;
        times[k]!.push([onGrid(at), onGrid(Math.min(end, at + ring * step))]);
      }
      segment.notes.forEach((note, k) => {
        // A note's next onset ends its previous sounding (one voice per note).
        const own = times[k]!;
        for (let j = 0; j + 1 < own.length; j++) own[j]![1] = Math.min(own[j]![1], own[j + 1]![0]);
        note.times = own;
      });
    } else segment.texture = 'held';
    if (random.chance(textures.melody)) {
      const top = segment.notes[segment.notes.length - 1]!.midi;
      const scale = melodyScales[segment.quality];
      const pitches: number[] = [];
      for (let midi = top + 1; midi <= top + 12; midi++) {
        if (scale.includes((((midi - segment.root) % 12) + 12) % 12)) pitches.push(midi);
      }
      const count = random.integer(2, 5);
      const bounds = [start, ...Array.from({ length: count - 1 }, () => random.uniform(start + 0.05, end - 0.05)).sort((a, b) => a - b), end].map(onGrid);
      segment.melody = [];
      for (let i = 0; i < count; i++) {
        if (bounds[i + 1]! - bounds[i]! < 0.03 || pitches.length === 0) continue;
        segment.melody.push({ midi: random.choice(pitches), jitterCents: random.uniform(-maxJitter, maxJitter), velocity: random.uniform(0.5, 0.9), times: [[bounds[i]!, bounds[i + 1]!]] });
      }
    }
    if (random.chance(textures.drums)) {
      const pulse = random.uniform(0.12, 0.25);
      for (let at = start + random.uniform(0, pulse); at < end - 0.05; at += pulse) {
        segment.hits.push({ time: onGrid(at), level: random.uniform(0.1, 0.4), variant: random.integer(0, 4) });
      }
    }
  }
}

function planCommon(source: string, identity: ClipIdentity, settings: PlanSettings, voicings: readonly VoicingPattern[], register: Register) {
  const random = SeededRandom.derive(identity.seed, source, identity.split, identity.index, 'plan');
  const maxJitter = Math.min(noteJitterCents, settings.maxDetuneCents);
  const segments = planSegments(random, settings, voicings, register, maxJitter);
  if (settings.textures !== undefined) planTextures(SeededRandom.derive(identity.seed, source, identity.split, identity.index, 'textures'), segments, settings.textures, maxJitter);
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
