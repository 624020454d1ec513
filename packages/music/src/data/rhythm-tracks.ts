// Labelled rhythm data (issue 18): synthesized tracks whose onsets, beats and tempo are
// known because they are where the renderer put them. A track is a kit (what sounds) played
// through a pattern (what is hit where) at a tempo:
//   kits, five kinds, each a seeded draw: 'click' (sine clicks or impulses, the
//     downbeat accented and higher), 'drums' (a kick with a falling pitch, a snare of
//     noise and tone, a hi-hat of differenced noise), 'melodic' (an additive timbre
//     family of the plucked, struck, blown or organ archetype playing notes of a scale;
//     bowed and pad are left out: their 40–300 ms attacks put no sharp onset anywhere),
//     'gm-drums' and 'gm-melodic' (a General MIDI drum set, or a GM program with a sharp
//     attack playing notes of a scale, from the soundfont by FluidSynth, all such tracks
//     rendered by one FluidSynth call and cached: data/rhythm-fluidsynth.ts);
//   patterns: two bars of 4/4 in sixteenths, each step silent or hit by one of three
//     voices (kick / snare / hat, low / middle / high note, accent / click / soft click);
//     the first downbeat always sounds, other beats usually do;
//   timing: a tempo drawn log-uniformly from 70–180 BPM; swing (the off-beat eighth
//     moved from 1/2 to up to 0.64 of the beat, sixteenths between them); rubato (the beat
//     period rising and falling by up to 4% over 8–16 beats); ±4 ms of human jitter per hit.
// Kits of each kind and patterns are dealt 70 / 15 / 15 by splitCounts from the seed, so
// no test kit or pattern is heard in training; the pools (20 kits of each additive kind,
// 40 patterns) put three kits of each kind and six patterns in validation and in test (with
// 10 and 20 there were two kits of a kind, too few for a setting chosen on validation
// to carry over to test); the six GM drum-set families are dealt 4 / 1 / 1 and the five
// melodic ones 3 / 1 / 1, each with all its programs. Track i plays kind i mod 5 (kinds stay
// balanced), the kits of that kind in turn. Every track is a function of (seed, split,
// index) only (a FluidSynth track up to FluidSynth's rendering, which the cache keeps).
// Noise floor at 25–45 dB below the signal, peak 0.5. A FluidSynth hit is labelled on
// FluidSynth's 64-sample block (±1.5 ms of rounding on top of the jitter), where it sounds.
// Labels: onsets (one per sounding step, its rendered time), beats (every quarter-note
// position from the first downbeat to the end), tempo (the drawn BPM; the rubato is
// symmetric around it), and the two tempi a tapping listener would give, as mir_eval's
// tempo annotation holds them (referenceTempi): the quarter note q and one neighbouring
// metrical level, with the salience of the slower. Listeners tap the level nearest the
// resonance of tapping at about 120 BPM (van Noorden and Moelants 1999; McKinney and
// Moelants 2006), so the second level is 2q when q < 120 BPM and q/2 from 120 BPM up;
// a swung track's eighths are not evenly spaced (a steady tap cannot follow them), so
// its second level is q/2 at any tempo. Each level's weight is that resonance,
// exp(−½·log2(bpm/120)²), and the salience of the slower is its share of the two weights.
// The beats stay at the quarter note: the beat metrics have no second level. Left out:
// metres other than 4/4, tempo changes.
import { SeededRandom } from '../random/seeded-random.ts';
import { addNote, noteFrequency } from './additive.ts';
import { defaultCacheDir } from './cache.ts';
import { defaultFluidsynthSettings, type FluidsynthSettings } from './fluidsynth.ts';
import { drawGmKit, gmDrumFamilies, gmHitSample, gmMelodicFamilies, gmTracks, type GmHit, type GmKit } from './rhythm-fluidsynth.ts';
import { type Split, splitCounts, splits } from './splits.ts';
import { timbreFamily, varyTimbre, type TimbreArchetype, type TimbreFamily } from './timbres.ts';

export const rhythmKitKinds = ['click', 'drums', 'melodic', 'gm-drums', 'gm-melodic'] as const;
export type RhythmKitKind = (typeof rhythmKitKinds)[number];

export interface RhythmKit {
  /** 'drums-3': kind and number ('gm-drums-25', 'gm-melodic-12': the GM program). */
  name: string;
  kind: RhythmKitKind;
  /** Per-voice parameters, drawn once per kit (frequencies in Hz, decays in seconds). */
  voices: { frequency: number; decay: number; level: number; brightness: number }[];
  /** Melodic kits: the timbre family and the scale's MIDI notes per voice. */
  family?: TimbreFamily;
  notes?: number[][];
  /** FluidSynth kits: the GM program, notes and sends (voices is empty). */
  gm?: GmKit;
}

export interface RhythmPattern {
  name: string;
  /** 32 sixteenth steps: -1 silent, else the voice (0, 1, 2). */
  steps: number[];
  /** Per step level 0.5–1. */
  levels: number[];
}

export interface RhythmTrack {
  split: Split;
  index: number;
  kit: string;
  pattern: string;
  bpm: number;
  /** The two tempi a listener taps (slower first) and the salience of the slower: see referenceTempi. */
  tempi: [number, number];
  tempoSalience: number;
  swing: number;
  rubato: number;
  sampleRate: number;
  audio: Float32Array;
  /** Seconds, increasing. */
  onsets: Float64Array;
  beats: Float64Array;
}

export interface RhythmDatasetOptions {
  seed: number;
  /** Tracks per split. */
  tracks: Partial<Record<Split, number>>;
  /** Seconds per track (default 12: beats before 5 s are trimmed by beatScores). */
  duration?: number;
  sampleRate?: number;
  /** Kits per additive kind and patterns in the pool (defaults 20 and 40), dealt 70 / 15 / 15: three kits of each kind and six patterns in validation and in test. */
  kitsPerKind?: number;
  patterns?: number;
  /** The kit kinds tracks take turns at (default all of rhythmKitKinds). */
  kinds?: readonly RhythmKitKind[];
  /** Where FluidSynth renders are cached (default `.theorbo-cache/`; null: not cached). */
  cacheDir?: string | null;
  fluidsynth?: Partial<FluidsynthSettings>;
}

export const rhythmDefaults = { duration: 12, sampleRate: 22050, kitsPerKind: 20, patterns: 40, minBpm: 70, maxBpm: 180 } as const;

const melodicArchetypes: TimbreArchetype[] = ['plucked', 'struck', 'blown', 'organ'];
const majorScale = [0, 2, 4, 5, 7, 9, 11];

function drawKit(seed: number, kind: 'click' | 'drums' | 'melodic', number: number): RhythmKit {
  const random = SeededRandom.derive(seed, 'rhythm-kit', kind, number);
  const name = `${kind}-${number}`;
  if (kind === 'click') {
    const base = random.logUniform(600, 2500);
    const decay = random.logUniform(0.004, 0.03);
    const brightness = random.chance(0.3) ? 0 : 1; // 0: an impulse, 1: a sine click
    return { name, kind, voices: [1.5, 1, 1].map((ratio, v) => ({ frequency: base * ratio, decay, level: [1, 0.7, 0.45][v]!, brightness })) };
  }
  if (kind === 'drums') {
    return {
      name, kind, voices: [
        { frequency: random.uniform(45, 80), decay: random.uniform(0.1, 0.3), level: 1, brightness: 0 },
        { frequency: random.uniform(150, 260), decay: random.uniform(0.06, 0.18), level: 0.8, brightness: random.uniform(0.1, 0.7) },
        { frequency: 0, decay: random.uniform(0.02, 0.07), level: random.uniform(0.3, 0.6), brightness: 1 },
      ],
    };
  }
  const family = timbreFamily(seed, random.choice(melodicArchetypes), 1000 + number);
  const tonic = random.integer(43, 55);
  const scaleNote = (degree: number): number => tonic + 12 * Math.floor(degree / 7) + majorScale[((degree % 7) + 7) % 7]!;
  const notes = [[0, 4], [7, 9, 11], [14, 16, 18]].map((degrees) => degrees.map(scaleNote));
  return { name, kind, family, notes, voices: [0, 1, 2].map((v) => ({ frequency: 0, decay: 0, level: [1, 0.8, 0.6][v]!, brightness: 0 })) };
}

function drawPattern(seed: number, number: number): RhythmPattern {
  const random = SeededRandom.derive(seed, 'rhythm-pattern', number);
  const busy = random.uniform(0.15, 0.6);
  const steps: number[] = [];
  const levels: number[] = [];
  for (let s = 0; s < 32; s++) {
    const position = s % 4; // 0 beat, 2 off-beat eighth, 1 and 3 sixteenths
    const chance = position === 0 ? 0.9 : position === 2 ? busy + 0.15 : busy * 0.6;
    const sounds = s === 0 || random.chance(chance);
    const voice = s % 16 === 0 ? 0 : position === 0 ? (s % 8 === 4 ? 1 : random.integer(0, 1)) : 2;
    steps.push(sounds ? voice : -1);
    levels.push(position === 0 ? random.uniform(0.8, 1) : random.uniform(0.5, 0.85));
  }
  return { name: `pattern-${number}`, steps, levels };
}

/** Deals `items` 70 / 15 / 15 after a seeded shuffle. */
function deal<T>(items: T[], random: SeededRandom): Record<Split, T[]> {
  const shuffled = random.shuffled(items);
  const counts = splitCounts(shuffled.length);
  return {
    train: shuffled.slice(0, counts.train),
    validation: shuffled.slice(counts.train, counts.train + counts.validation),
    test: shuffled.slice(counts.train + counts.validation),
  };
}

/** The kits and patterns of each split. */
export function rhythmSplits(seed: number, kitsPerKind: number = rhythmDefaults.kitsPerKind, patterns: number = rhythmDefaults.patterns): Record<Split, { kits: RhythmKit[]; patterns: RhythmPattern[] }> {
  const result = Object.fromEntries(splits.map((split) => [split, { kits: [] as RhythmKit[], patterns: [] as RhythmPattern[] }])) as Record<Split, { kits: RhythmKit[]; patterns: RhythmPattern[] }>;
  for (const [kind, families] of [['drums', gmDrumFamilies], ['melodic', gmMelodicFamilies]] as const) {
    const dealt = deal<{ name: string; programs: readonly number[] }>([...families], SeededRandom.derive(seed, 'rhythm-kit-split', `gm-${kind}`));
    for (const split of splits) {
      for (const family of dealt[split]) {
        result[split].kits.push(...family.programs.map((program) => ({ name: `gm-${kind}-${program}`, kind: `gm-${kind}` as const, voices: [], gm: drawGmKit(seed, kind, family.name, program) })));
      }
    }
  }
  for (const kind of rhythmKitKinds) {
    if (kind === 'gm-drums' || kind === 'gm-melodic') continue;
    const dealt = deal(Array.from({ length: kitsPerKind }, (_, n) => drawKit(seed, kind, n)), SeededRandom.derive(seed, 'rhythm-kit-split', kind));
    for (const split of splits) result[split].kits.push(...dealt[split]);
  }
  const dealt = deal(Array.from({ length: patterns }, (_, n) => drawPattern(seed, n)), SeededRandom.derive(seed, 'rhythm-pattern-split'));
  for (const split of splits) result[split].patterns.push(...dealt[split]);
  return result;
}

function addClick(out: Float64Array, sampleRate: number, time: number, voice: RhythmKit['voices'][number], level: number): void {
  const first = Math.round(time * sampleRate);
  const length = Math.min(Math.round(5 * voice.decay * sampleRate), out.length - first);
  for (let n = 0; n < length; n++) {
    const envelope = Math.exp(-n / (voice.decay * sampleRate));
    const wave = voice.brightness === 0 ? (n < 3 ? 1 - n / 3 : 0) : Math.sin((2 * Math.PI * voice.frequency * n) / sampleRate);
    out[first + n] = out[first + n]! + level * voice.level * envelope * wave;
  }
}

function addDrum(out: Float64Array, sampleRate: number, time: number, voiceIndex: number, voice: RhythmKit['voices'][number], level: number, random: SeededRandom): void {
  const first = Math.round(time * sampleRate);
  const length = Math.min(Math.round(5 * voice.decay * sampleRate), out.length - first);
  let phase = 0, previous = 0;
  for (let n = 0; n < length; n++) {
    const t = n / sampleRate;
    const envelope = Math.exp(-t / voice.decay);
    let value: number;
    if (voiceIndex === 0) { // kick: a sine falling from three times its pitch
      phase += (2 * Math.PI * voice.frequency * (1 + 2 * Math.exp(-t / 0.03))) / sampleRate;
      value = Math.sin(phase);
    } else if (voiceIndex === 1) { // snare: noise and a short tone
      value = voice.brightness * random.normal() * 0.5 + (1 - voice.brightness) * Math.sin((2 * Math.PI * voice.frequency * n) / sampleRate) * Math.exp(-t / 0.04);
    } else { // hi-hat: differenced (high-passed) noise
      const noise = random.normal();
      value = 0.5 * (noise - previous);
      previous = noise;
    }
    out[first + n] = out[first + n]! + level * voice.level * envelope * value;
  }
}

/** Resonance of tapping at `bpm`: exp(−½·log2(bpm/120)²) (see the file comment). */
export const tappingResonance = (bpm: number): number => Math.exp(-0.5 * Math.log2(bpm / 120) ** 2);

/** mir_eval's tempo reference of a track at quarter note `bpm`: two tempi (slower first) and the salience of the slower. */
export function referenceTempi(bpm: number, swing: number): { tempi: [number, number]; salience: number } {
  if (!(bpm > 0) || !(swing >= 0.5 && swing < 1)) throw new Error(`referenceTempi: bpm ${bpm} must be positive and swing ${swing} in [0.5, 1)`);
  const other = bpm < 120 && swing === 0.5 ? 2 * bpm : bpm / 2;
  const tempi: [number, number] = [Math.min(bpm, other), Math.max(bpm, other)];
  const [slow, fast] = tempi.map(tappingResonance) as [number, number];
  return { tempi, salience: slow / (slow + fast) };
}

/** A track before its audio is finished: the labels, and the dry audio or (FluidSynth kits) the hits FluidSynth is to play. */
interface PlannedTrack {
  track: Omit<RhythmTrack, 'audio'>;
  dry: Float64Array | null;
  gm: { kit: GmKit; hits: GmHit[] } | null;
  /** Adds the noise floor and normalizes the peak: the last draws of the track's streams. */
  finish: (dry: Float64Array) => Float32Array;
}

function planRhythmTrack(seed: number, split: Split, index: number, options: Omit<RhythmDatasetOptions, 'seed' | 'tracks'>): PlannedTrack {
  const duration = options.duration ?? rhythmDefaults.duration;
  const sampleRate = options.sampleRate ?? rhythmDefaults.sampleRate;
  const pools = rhythmSplits(seed, options.kitsPerKind, options.patterns)[split];
  const kinds = options.kinds ?? rhythmKitKinds;
  const kind = kinds[index % kinds.length];
  const kits = pools.kits.filter((kit) => kit.kind === kind);
  if (kits.length === 0 || pools.patterns.length === 0) {
    throw new Error(`synthesizeRhythmTrack: the ${split} split has ${kits.length} ${kind ?? '(no kind given)'} kits and ${pools.patterns.length} patterns; give kitsPerKind and patterns of 3 or more and at least one kind`);
  }
  const random = SeededRandom.derive(seed, 'rhythm-track', split, index);
  const kit = kits[Math.floor(index / kinds.length) % kits.length]!; // the kind's kits in turn
  const pattern = random.choice(pools.patterns);
  const bpm = random.logUniform(rhythmDefaults.minBpm, rhythmDefaults.maxBpm);
  const swing = random.chance(0.4) ? random.uniform(0.54, 0.64) : 0.5;
  const rubato = random.chance(0.5) ? random.uniform(0.01, 0.04) : 0;
  const rubatoBeats = random.uniform(8, 16), rubatoPhase = random.uniform(0, 2 * Math.PI);
  const start = random.uniform(0.1, 0.6);
  const beatTimes: number[] = [start];
  while (beatTimes[beatTimes.length - 1]! < duration + 2) {
    const k = beatTimes.length - 1;
    beatTimes.push(beatTimes[k]! + (60 / bpm) * (1 + rubato * Math.sin((2 * Math.PI * k) / rubatoBeats + rubatoPhase)));
  }
  const within = [0, swing / 2, swing, swing + (1 - swing) / 2];
  const frames = Math.round(duration * sampleRate);
  const out = kit.gm ? null : new Float64Array(frames);
  const hits: GmHit[] = [];
  const onsets: number[] = [];
  const render = SeededRandom.derive(seed, 'rhythm-render', split, index);
  const timbre = kit.family ? varyTimbre(kit.family.prototype, render) : undefined;
  for (let step = 0; step < 4 * (beatTimes.length - 1); step++) {
    const voice = pattern.steps[step % 32]!;
    if (voice < 0) continue;
    const beat = Math.floor(step / 4);
    const time = beatTimes[beat]! + within[step % 4]! * (beatTimes[beat + 1]! - beatTimes[beat]!) + random.uniform(-0.004, 0.004);
    if (time >= duration - 0.15) break;
    const level = pattern.levels[step % 32]! * random.uniform(0.85, 1);
    if (out === null) {
      const sample = gmHitSample(time, sampleRate);
      const notes = kit.gm!.notes[voice]!;
      const note = notes.length === 1 ? notes[0]! : random.choice(notes);
      hits.push({ sample, note, level, length: Math.round((kit.gm!.kind === 'drums' ? 0.1 : 0.8 * (60 / bpm)) * sampleRate) });
      onsets.push(sample / sampleRate);
      continue;
    }
    onsets.push(time);
    if (kit.kind === 'click') addClick(out, sampleRate, time, kit.voices[voice]!, level);
    else if (kit.kind === 'drums') addDrum(out, sampleRate, time, voice, kit.voices[voice]!, level, render);
    else {
      const frequency = noteFrequency(random.choice(kit.notes![voice]!));
      const phases = Array.from({ length: timbre!.partialCount }, () => render.uniform(0, 2 * Math.PI));
      addNote(out, sampleRate, frequency, 0.3 * level * kit.voices[voice]!.level, time, time + 0.8 * (60 / bpm), timbre!, phases);
    }
  }
  const finish = (dry: Float64Array): Float32Array => {
    // Plain indexed loops (an iterator and a per-sample map callback took most of the time).
    const length = dry.length;
    let power = 0;
    for (let n = 0; n < length; n++) power += dry[n]! * dry[n]! / length;
    const noise = Math.sqrt(power) * 10 ** (-random.uniform(25, 45) / 20);
    let peak = 0;
    for (let n = 0; n < length; n++) {
      dry[n] = dry[n]! + noise * render.normal();
      peak = Math.max(peak, Math.abs(dry[n]!));
    }
    const out = new Float32Array(length);
    const divisor = peak || 1;
    for (let n = 0; n < length; n++) out[n] = (0.5 * dry[n]!) / divisor;
    return out;
  };
  const beats = Float64Array.from(beatTimes.filter((time) => time < duration - 0.15));
  const { tempi, salience } = referenceTempi(bpm, swing);
  return {
    track: { split, index, kit: kit.name, pattern: pattern.name, bpm, tempi, tempoSalience: salience, swing, rubato, sampleRate, onsets: Float64Array.from(onsets), beats },
    dry: out, gm: kit.gm ? { kit: kit.gm, hits } : null, finish,
  };
}

/** Finishes planned tracks, rendering every FluidSynth one not in the cache by one FluidSynth call (per 48 tracks). */
function finishTracks(planned: PlannedTrack[], options: Omit<RhythmDatasetOptions, 'seed' | 'tracks'>): RhythmTrack[] {
  const sampleRate = options.sampleRate ?? rhythmDefaults.sampleRate;
  const frames = Math.round((options.duration ?? rhythmDefaults.duration) * sampleRate);
  const gm = planned.flatMap((plan) => (plan.gm ? [{ kit: plan.gm.kit, hits: plan.gm.hits, frames, sampleRate }] : []));
  const fluidsynth = { ...defaultFluidsynthSettings, ...options.fluidsynth };
  const rendered = gmTracks(gm, options.cacheDir === undefined ? defaultCacheDir : options.cacheDir, fluidsynth);
  let next = 0;
  return planned.map((plan) => ({ ...plan.track, audio: plan.finish(plan.dry ?? Float64Array.from(rendered[next++]!)) }));
}

/** Track `index` of `split`: its plan is drawn from (seed, split, index) alone. */
export function synthesizeRhythmTrack(seed: number, split: Split, index: number, options: Omit<RhythmDatasetOptions, 'seed' | 'tracks'> = {}): RhythmTrack {
  return finishTracks([planRhythmTrack(seed, split, index, options)], options)[0]!;
}

/** Tracks of each split, deterministic from the seed. */
export function synthesizeRhythmDataset(options: RhythmDatasetOptions): RhythmTrack[] {
  const planned: PlannedTrack[] = [];
  for (const split of splits) {
    const count = options.tracks[split] ?? 0;
    if (!(Number.isInteger(count) && count >= 0)) throw new Error(`synthesizeRhythmDataset: tracks.${split} ${count} must be a non-negative integer`);
    for (let index = 0; index < count; index++) planned.push(planRhythmTrack(options.seed, split, index, options));
  }
  return finishTracks(planned, options);
}
