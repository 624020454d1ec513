// The rhythm data's FluidSynth kits (issue 18), 'gm-drums' and 'gm-melodic', played from the
// General MIDI soundfont. A 'gm-drums' kit is a drum-set preset on MIDI channel 10 (9 counted
// from 0; bank 128, program 0 Standard, 8 Room, 16 Power, 24 Electronic, 32 Jazz, 40 Brush
// and the variants FluidR3_GM holds beside them) with the notes its three pattern voices hit
// (kick 35/36, snare 38/40, hi-hat 42/44 or ride 51); a 'gm-melodic' kit is a GM program
// with a sharp attack on channel 1 (pianos, chromatic percussion, guitars, plucked strings,
// basses) playing notes of a major scale, low / middle / high per voice, for 0.8 of a beat.
// Each kit has a reverb send and a velocity scale. Kits are dealt by family (drum families:
// Standard 0–7, Room 8–15, Power 16–19, Electronic 24 and TR-808 25, Jazz 32–36, Brush 40–42;
// melodic: gmMelodicFamilies) so that no test family is heard in training.
// Rendering: FluidSynth takes ≈1.2 s to start (it loads the 148 MB soundfont), so every
// track not in the cache is rendered by one call: one MIDI file holds the tracks one after
// another, each in a slot of its duration plus 2 s of silence (all sound off 0.5 s after
// it ends) that starts on a 64-sample block, and the float WAV is cut back at the slots.
// A priming slot first plays each note the call's kits use once (see gmMidi).
// Timing: FluidSynth 2.3 works in blocks of 64 samples and a note-on at sample e sounds from
// the block that starts at 64·⌊e/64⌋ + 128 (measured; test/rhythm-fluidsynth.test.ts checks
// it on isolated hits). Each hit is therefore labelled at its time rounded to a block, s, and
// written at s − 96, which sounds from s whatever the millisecond rounding of the player
// (±11 samples); a sample's own attack is the only latency left, as for the additive kits.
// One tick is one sample (ticksPerQuarter = sampleRate / 2 at 120 BPM), so sample rates
// must be even and at most 65534 Hz. Each track's dry render is cached (data/cache.ts). A
// track rendered after others still differs from itself rendered alone, by up to ~1% of its
// peak (measured; 7% without the priming slot): FluidSynth's state is not all reset by all
// sound off, and where a hit falls in the call matters a little. The cache keeps the first.
// FluidR3_GM reuses samples across drum families: rendered alike (within 1% of the peak,
// reverb off, all presets here) are kicks 35/36 in Standard, Jazz and Brush presets, snare
// 40 in Standard and Jazz, hi-hat 42 in Power and Electronic, and the clap 39 in Standard,
// Room, Power and Jazz (so the clap is not used). A test split dealt one of those families
// hears a training sample; seed 7 deals Room to test, which shares none of the notes used.
// No two melodic programs of different families render G2, D3, A3, E4 or B4 alike (5%).
// Left out: the Orchestra kit (its concert bass drum rings for seconds), programs with slow
// attacks (strings, pads, winds).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, toMono } from '../audio/index.ts';
import { SeededRandom } from '../random/seeded-random.ts';
import { cachedClipPath, readCachedClip, writeCachedClip } from './cache.ts';
import { type FluidsynthSettings, defaultFluidsynthSettings, setupAdvice } from './fluidsynth.ts';
import { type MidiEvent, writeMidiFile } from './midi-file.ts';

/** GM drum-set families and their preset numbers in FluidR3_GM's bank 128. */
export const gmDrumFamilies = [
  { name: 'Standard', programs: [0, 1, 2, 3, 4, 5, 6, 7] },
  { name: 'Room', programs: [8, 9, 10, 11, 12, 13, 14, 15] },
  { name: 'Power', programs: [16, 17, 18, 19] },
  { name: 'Electronic', programs: [24, 25] },
  { name: 'Jazz', programs: [32, 33, 34, 35, 36] },
  { name: 'Brush', programs: [40, 41, 42] },
] as const;

/** GM melodic families with sharp attacks (0-based programs) and the octave their notes are moved by. */
export const gmMelodicFamilies = [
  { name: 'piano', programs: [0, 1, 2, 3, 4, 5, 6, 7], octave: 0 },
  { name: 'chromatic percussion', programs: [8, 9, 10, 11, 12, 13, 15], octave: 1 },
  { name: 'guitar', programs: [24, 25, 26, 27, 28], octave: 0 },
  { name: 'plucked', programs: [45, 46, 105, 106, 107, 108], octave: 0 },
  { name: 'bass', programs: [32, 33, 34, 36, 37], octave: -1 },
] as const;

export type GmKitKind = 'drums' | 'melodic';

export interface GmKit {
  kind: GmKitKind;
  family: string;
  program: number;
  /** Per voice, the MIDI notes a hit of that voice draws from (one for drums). */
  notes: number[][];
  /** Reverb send (controller 91), 0–127. */
  reverbSend: number;
  velocityScale: number;
}

/** One hit of a track: its sample (a multiple of gmBlock), MIDI note, level in 0–1 and length in samples. */
export interface GmHit { sample: number; note: number; level: number; length: number }

export interface GmTrackPlan { kit: GmKit; frames: number; sampleRate: number; hits: readonly GmHit[] }

/** FluidSynth's block (FLUID_BUFSIZE) and how many blocks after its note-on's block a note sounds. */
export const gmBlock = 64;
const dispatchBlocks = 2;
/** Where a hit meant to sound from block-aligned sample s is written: mid-block, one and a half blocks early. */
export const noteOnSample = (sample: number): number => sample - dispatchBlocks * gmBlock + gmBlock / 2;
/** Changes whenever the MIDI or the cut changes what a cached track holds. */
const renderVersion = 3;
const drumChannel = 9;
const gapSeconds = 2;
const tracksPerCall = 48; // a float stereo WAV of 48 slots of 14 s is 120 MB at 22050 Hz

const majorScale = [0, 2, 4, 5, 7, 9, 11];

/** Kit `program` of `family`, its notes and sends drawn from (seed, kind, program). */
export function drawGmKit(seed: number, kind: GmKitKind, family: string, program: number): GmKit {
  const random = SeededRandom.derive(seed, 'rhythm-kit', `gm-${kind}`, program);
  if (kind === 'drums') {
    const notes = [[random.choice([35, 36])], [random.choice([38, 40])], [random.choice([42, 42, 44, 51])]];
    return { kind, family, program, notes, reverbSend: random.integer(0, 50), velocityScale: random.uniform(0.8, 1) };
  }
  const octave = gmMelodicFamilies.find((candidate) => candidate.name === family)?.octave ?? 0;
  const tonic = random.integer(43, 55) + 12 * octave;
  const scaleNote = (degree: number): number => tonic + 12 * Math.floor(degree / 7) + majorScale[((degree % 7) + 7) % 7]!;
  const notes = [[0, 4], [7, 9, 11], [14, 16, 18]].map((degrees) => degrees.map(scaleNote));
  return { kind, family, program, notes, reverbSend: random.integer(0, 50), velocityScale: random.uniform(0.8, 1) };
}

const channelOf = (kit: GmKit): number => (kit.kind === 'drums' ? drumChannel : 0);

/** The block-aligned sample a hit at `seconds` is labelled at and sounds from. */
export const gmHitSample = (seconds: number, sampleRate: number): number => gmBlock * Math.round((seconds * sampleRate) / gmBlock);

function slotFrames(plan: GmTrackPlan): number {
  return gmBlock * Math.ceil((plan.frames + gapSeconds * plan.sampleRate) / gmBlock);
}

/** One MIDI file playing `plans` one after another; also the first sample of each slot. */
export function gmMidi(plans: readonly GmTrackPlan[]): { midi: Uint8Array; offsets: number[] } {
  const sampleRate = plans[0]?.sampleRate ?? 0;
  if (!(Number.isInteger(sampleRate / 2) && sampleRate > 0 && sampleRate / 2 <= 32767) || plans.some((plan) => plan.sampleRate !== sampleRate)) {
    throw new Error(`data/rhythm-fluidsynth: sample rates ${[...new Set(plans.map((plan) => plan.sampleRate))].join(', ')} Hz; one even rate up to 65534 Hz is needed (one MIDI tick per sample).`);
  }
  const events: MidiEvent[] = [{ tick: 0, type: 'tempo', microsecondsPerQuarter: 500_000 }];
  const allSoundOff = (tick: number): void => {
    for (const channel of [0, drumChannel]) events.push({ tick, type: 'controlChange', channel, controller: 120, value: 0 });
  };
  // The priming slot: FluidSynth renders a sample's first note differently from its later
  // ones (one hi-hat hit by 35% of its peak), so every note the tracks' kits hold sounds once
  // before them, and a track renders the same whatever came before it in the call.
  let offset = 0;
  for (const kit of new Map(plans.map((plan) => [JSON.stringify(plan.kit), plan.kit])).values()) {
    const channel = channelOf(kit);
    events.push({ tick: offset, type: 'programChange', channel, program: kit.program });
    kit.notes.flat().forEach((note, i) => {
      const tick = offset + Math.round((0.05 + 0.1 * i) * sampleRate);
      events.push({ tick, type: 'noteOn', channel, note, velocity: 100 }, { tick: tick + Math.round(0.05 * sampleRate), type: 'noteOff', channel, note });
    });
    offset += Math.round((0.15 + 0.1 * kit.notes.flat().length) * sampleRate);
  }
  allSoundOff(offset);
  offset = gmBlock * Math.ceil((offset + gapSeconds * sampleRate) / gmBlock);
  const offsets: number[] = [];
  for (const plan of plans) {
    const { kit } = plan;
    const channel = channelOf(kit);
    offsets.push(offset);
    events.push(
      { tick: offset, type: 'programChange', channel, program: kit.program },
      { tick: offset, type: 'controlChange', channel, controller: 91, value: kit.reverbSend },
      { tick: offset, type: 'controlChange', channel, controller: 93, value: 0 },
    );
    plan.hits.forEach((hit, j) => {
      if (hit.sample % gmBlock !== 0 || noteOnSample(hit.sample) < 0 || hit.sample >= plan.frames) {
        throw new Error(`data/rhythm-fluidsynth: a hit at sample ${hit.sample} must lie on a ${gmBlock}-sample block within the track and at least ${dispatchBlocks * gmBlock} samples after its start.`);
      }
      const tick = offset + noteOnSample(hit.sample);
      // Released after its length, or where the same note strikes again if sooner (a later release would end that stroke).
      const again = plan.hits.slice(j + 1).find((other) => other.note === hit.note);
      const release = Math.min(tick + Math.max(1, hit.length), again ? offset + noteOnSample(again.sample) : Infinity);
      events.push(
        { tick, type: 'noteOn', channel, note: hit.note, velocity: Math.max(1, Math.min(127, Math.round(127 * kit.velocityScale * hit.level))) },
        { tick: release, type: 'noteOff', channel, note: hit.note },
      );
    });
    // All sound off well after the track, so the next slot starts silent.
    allSoundOff(offset + plan.frames + Math.round(0.5 * sampleRate));
    offset += slotFrames(plan);
  }
  return { midi: writeMidiFile({ ticksPerQuarter: sampleRate / 2, events }), offsets };
}

function runFluidsynth(settings: FluidsynthSettings, args: string[]): void {
  const result = spawnSync(settings.executable, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.error) {
    throw new Error((result.error as NodeJS.ErrnoException).code === 'ENOENT'
      ? `data/rhythm-fluidsynth: '${settings.executable}' is not installed (not found on PATH); ${setupAdvice}.`
      : `data/rhythm-fluidsynth: cannot run '${settings.executable}': ${result.error.message}.`);
  }
  if (result.status !== 0) {
    throw new Error(`data/rhythm-fluidsynth: '${settings.executable} ${args.join(' ')}' failed (${result.signal ?? `exit ${result.status}`}): ${result.stderr.toString('utf8').trim() || 'no message'}.`);
  }
}

/** Renders `plans` with one FluidSynth call and cuts the result into one dry track each. */
export function renderGmTracks(plans: readonly GmTrackPlan[], settings: FluidsynthSettings = defaultFluidsynthSettings): Float32Array[] {
  if (plans.length === 0) return [];
  if (!existsSync(settings.soundfont)) throw new Error(`data/rhythm-fluidsynth: the soundfont ${settings.soundfont} does not exist; ${setupAdvice}.`);
  const { midi, offsets } = gmMidi(plans);
  const sampleRate = plans[0]!.sampleRate;
  const directory = mkdtempSync(join(tmpdir(), 'theorbo-rhythm-gm-'));
  try {
    const midiPath = join(directory, 'tracks.mid'), wavPath = join(directory, 'tracks.wav');
    writeFileSync(midiPath, midi);
    runFluidsynth(settings, [
      '-n', '-i', '-q', '-C', '0', '-o', 'synth.dynamic-sample-loading=1', '-o', `audio.period-size=${gmBlock}`,
      '-g', String(settings.gain), '-r', String(sampleRate), '-T', 'wav', '-O', 'float', '-F', wavPath, settings.soundfont, midiPath,
    ]);
    const audio = readWav(wavPath);
    if (audio.sampleRate !== sampleRate) throw new Error(`data/rhythm-fluidsynth: asked for ${sampleRate} Hz but FluidSynth wrote ${audio.sampleRate} Hz.`);
    const mono = toMono(audio);
    return plans.map((plan, i) => {
      const track = new Float32Array(plan.frames);
      track.set(mono.subarray(offsets[i]!, Math.min(mono.length, offsets[i]! + plan.frames)));
      return track;
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Dry renders of `plans`: from the cache where it holds them, the rest by one FluidSynth call per 48 tracks (then cached). `cacheDir` null: no cache. */
export function gmTracks(plans: readonly GmTrackPlan[], cacheDir: string | null, settings: FluidsynthSettings = defaultFluidsynthSettings): Float32Array[] {
  const paths = plans.map((plan) => cacheDir === null ? null : cachedClipPath(cacheDir, 'rhythm-fluidsynth', {
    renderVersion, plan, soundfont: settings.soundfont, gain: settings.gain,
  }));
  const result = paths.map((path, i) => (path === null ? null : readCachedClip(path, plans[i]!.sampleRate)));
  const missing = result.flatMap((audio, i) => (audio === null ? [i] : []));
  for (let start = 0; start < missing.length; start += tracksPerCall) {
    const batch = missing.slice(start, start + tracksPerCall);
    renderGmTracks(batch.map((i) => plans[i]!), settings).forEach((audio, j) => {
      const i = batch[j]!;
      result[i] = audio;
      if (paths[i]) writeCachedClip(paths[i]!, audio, plans[i]!.sampleRate);
    });
  }
  return result as Float32Array[];
}
