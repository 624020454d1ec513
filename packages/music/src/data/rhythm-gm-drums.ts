// The rhythm data's 'gm-drums' kits (issue 18): the General MIDI soundfont's drum sets on
// MIDI channel 10 (9 counted from 0), played by FluidSynth. A kit is one drum-set preset
// (bank 128, program 0 Standard, 8 Room, 16 Power, 24 Electronic, 32 Jazz, 40 Brush and
// the variants FluidR3_GM holds beside them) with the notes its three pattern voices hit
// (kick 35/36, snare 38/40/39, hi-hat 42/44 or ride 51), a reverb send and a velocity
// scale. Presets are dealt by family (Standard 0–7, Room 8–15, Power 16–19, Electronic 24
// and TR-808 25, Jazz 32–36, Brush 40–42) so that no test family is heard in training.
// Rendering: FluidSynth takes ≈1.2 s to start (it loads the 148 MB soundfont), so every
// track not in the cache is rendered by one call: one MIDI file holds the tracks one after
// another, each in a slot of its duration plus 2 s of silence (all sound off 0.5 s after
// it ends) that starts on a 64-sample block, and the float WAV is cut back at the slots.
// A priming slot first plays each note the call's kits use once (see gmDrumsMidi).
// Timing: FluidSynth 2.3 works in blocks of 64 samples and a note-on at sample e sounds from
// the block that starts at 64·⌊e/64⌋ + 128 (measured; test/rhythm-gm-drums.test.ts checks it
// on isolated hits). Each hit is therefore labelled at its time rounded to a block, s, and
// written at s − 96, which sounds from s whatever the millisecond rounding of the player
// (±11 samples); a drum sample's own leading zeros (a few samples) are the only latency left.
// One tick is one sample (ticksPerQuarter = sampleRate / 2 at 120 BPM), so sample rates
// must be even and at most 65534 Hz. Each track's dry render is cached (data/cache.ts). A
// track rendered after others still differs from itself rendered alone, by up to ~1% of its
// peak (measured; 7% without the priming slot): FluidSynth's state is not all reset by all
// sound off, and where a hit falls in the call matters a little. The cache keeps the first.
// Left out: GM melodic programs (the additive 'melodic' kits stand for them), the Orchestra
// kit (its concert bass drum rings for seconds), samples shared between families by the
// soundfont itself (FluidR3_GM may reuse a sample in two families; not checked).
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

export interface GmDrumKit {
  family: string;
  program: number;
  /** GM drum notes of the kick, snare and hat voices. */
  notes: [number, number, number];
  /** Reverb send (controller 91), 0–127. */
  reverbSend: number;
  velocityScale: number;
}

/** One hit of a track: its sample (a multiple of gmBlock), voice and level in 0–1. */
export interface GmDrumHit { sample: number; voice: number; level: number }

export interface GmDrumTrackPlan { kit: GmDrumKit; frames: number; sampleRate: number; hits: readonly GmDrumHit[] }

/** FluidSynth's block (FLUID_BUFSIZE) and how many blocks after its note-on's block a note sounds. */
export const gmBlock = 64;
const dispatchBlocks = 2;
/** Where a hit meant to sound from block-aligned sample s is written: mid-block, one and a half blocks early. */
export const noteOnSample = (sample: number): number => sample - dispatchBlocks * gmBlock + gmBlock / 2;
/** Changes whenever the MIDI or the cut changes what a cached track holds. */
const renderVersion = 2;
const drumChannel = 9;
const gapSeconds = 2;
const tracksPerCall = 48; // a float stereo WAV of 48 slots of 14 s is 120 MB at 22050 Hz

/** Kit `program` of `family`, its notes and sends drawn from (seed, program). */
export function drawGmDrumKit(seed: number, family: string, program: number): GmDrumKit {
  const random = SeededRandom.derive(seed, 'rhythm-kit', 'gm-drums', program);
  return {
    family, program,
    notes: [random.choice([35, 36]), random.choice([38, 40, 39]), random.choice([42, 42, 44, 51])],
    reverbSend: random.integer(0, 50),
    velocityScale: random.uniform(0.8, 1),
  };
}

/** The block-aligned sample a hit at `seconds` is labelled at and sounds from. */
export const gmHitSample = (seconds: number, sampleRate: number): number => gmBlock * Math.round((seconds * sampleRate) / gmBlock);

function slotFrames(plan: GmDrumTrackPlan): number {
  return gmBlock * Math.ceil((plan.frames + gapSeconds * plan.sampleRate) / gmBlock);
}

/** One MIDI file playing `plans` one after another; also the first sample of each slot. */
export function gmDrumsMidi(plans: readonly GmDrumTrackPlan[]): { midi: Uint8Array; offsets: number[] } {
  const sampleRate = plans[0]?.sampleRate ?? 0;
  if (!(Number.isInteger(sampleRate / 2) && sampleRate > 0 && sampleRate / 2 <= 32767) || plans.some((plan) => plan.sampleRate !== sampleRate)) {
    throw new Error(`data/rhythm-gm-drums: sample rates ${[...new Set(plans.map((plan) => plan.sampleRate))].join(', ')} Hz; one even rate up to 65534 Hz is needed (one MIDI tick per sample).`);
  }
  const events: MidiEvent[] = [{ tick: 0, type: 'tempo', microsecondsPerQuarter: 500_000 }];
  // The priming slot: FluidSynth renders a drum sample's first note differently from its
  // later ones (one hi-hat hit by 35% of its peak), so every note the tracks use sounds once
  // before them, and a track renders the same whatever came before it in the call.
  let offset = 0;
  for (const kit of new Map(plans.map((plan) => [JSON.stringify([plan.kit.program, plan.kit.notes]), plan.kit])).values()) {
    events.push({ tick: offset, type: 'programChange', channel: drumChannel, program: kit.program });
    kit.notes.forEach((note, i) => {
      const tick = offset + Math.round((0.05 + 0.1 * i) * sampleRate);
      events.push({ tick, type: 'noteOn', channel: drumChannel, note, velocity: 100 }, { tick: tick + Math.round(0.05 * sampleRate), type: 'noteOff', channel: drumChannel, note });
    });
    offset += Math.round(0.4 * sampleRate);
  }
  events.push({ tick: offset, type: 'controlChange', channel: drumChannel, controller: 120, value: 0 });
  offset = gmBlock * Math.ceil((offset + gapSeconds * sampleRate) / gmBlock);
  const offsets: number[] = [];
  for (const plan of plans) {
    const { kit } = plan;
    offsets.push(offset);
    events.push(
      { tick: offset, type: 'programChange', channel: drumChannel, program: kit.program },
      { tick: offset, type: 'controlChange', channel: drumChannel, controller: 91, value: kit.reverbSend },
      { tick: offset, type: 'controlChange', channel: drumChannel, controller: 93, value: 0 },
    );
    for (const hit of plan.hits) {
      if (hit.sample % gmBlock !== 0 || noteOnSample(hit.sample) < 0 || hit.sample >= plan.frames) {
        throw new Error(`data/rhythm-gm-drums: a hit at sample ${hit.sample} must lie on a ${gmBlock}-sample block within the track and at least ${dispatchBlocks * gmBlock} samples after its start.`);
      }
      const note = kit.notes[hit.voice]!;
      const tick = offset + noteOnSample(hit.sample);
      events.push(
        { tick, type: 'noteOn', channel: drumChannel, note, velocity: Math.max(1, Math.min(127, Math.round(127 * kit.velocityScale * hit.level))) },
        { tick: tick + Math.round(0.1 * sampleRate), type: 'noteOff', channel: drumChannel, note },
      );
    }
    // All sound off well after the track, so the next slot starts silent.
    events.push({ tick: offset + plan.frames + Math.round(0.5 * sampleRate), type: 'controlChange', channel: drumChannel, controller: 120, value: 0 });
    offset += slotFrames(plan);
  }
  return { midi: writeMidiFile({ ticksPerQuarter: sampleRate / 2, events }), offsets };
}

function runFluidsynth(settings: FluidsynthSettings, args: string[]): void {
  const result = spawnSync(settings.executable, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.error) {
    throw new Error((result.error as NodeJS.ErrnoException).code === 'ENOENT'
      ? `data/rhythm-gm-drums: '${settings.executable}' is not installed (not found on PATH); ${setupAdvice}.`
      : `data/rhythm-gm-drums: cannot run '${settings.executable}': ${result.error.message}.`);
  }
  if (result.status !== 0) {
    throw new Error(`data/rhythm-gm-drums: '${settings.executable} ${args.join(' ')}' failed (${result.signal ?? `exit ${result.status}`}): ${result.stderr.toString('utf8').trim() || 'no message'}.`);
  }
}

/** Renders `plans` with one FluidSynth call and cuts the result into one dry track each. */
export function renderGmDrumTracks(plans: readonly GmDrumTrackPlan[], settings: FluidsynthSettings = defaultFluidsynthSettings): Float32Array[] {
  if (plans.length === 0) return [];
  if (!existsSync(settings.soundfont)) throw new Error(`data/rhythm-gm-drums: the soundfont ${settings.soundfont} does not exist; ${setupAdvice}.`);
  const { midi, offsets } = gmDrumsMidi(plans);
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
    if (audio.sampleRate !== sampleRate) throw new Error(`data/rhythm-gm-drums: asked for ${sampleRate} Hz but FluidSynth wrote ${audio.sampleRate} Hz.`);
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
export function gmDrumTracks(plans: readonly GmDrumTrackPlan[], cacheDir: string | null, settings: FluidsynthSettings = defaultFluidsynthSettings): Float32Array[] {
  const paths = plans.map((plan) => cacheDir === null ? null : cachedClipPath(cacheDir, 'rhythm-gm-drums', {
    renderVersion, plan, soundfont: settings.soundfont, gain: settings.gain,
  }));
  const result = paths.map((path, i) => (path === null ? null : readCachedClip(path, plans[i]!.sampleRate)));
  const missing = result.flatMap((audio, i) => (audio === null ? [i] : []));
  for (let start = 0; start < missing.length; start += tracksPerCall) {
    const batch = missing.slice(start, start + tracksPerCall);
    renderGmDrumTracks(batch.map((i) => plans[i]!), settings).forEach((audio, j) => {
      const i = batch[j]!;
      result[i] = audio;
      if (paths[i]) writeCachedClip(paths[i]!, audio, plans[i]!.sampleRate);
    });
  }
  return result as Float32Array[];
}
