// FluidSynth rendering of planned clips with the General MIDI soundfont: the plan becomes a
// format-0 MIDI file, the `fluidsynth` command line renders it to a float WAV in a private
// temporary directory, the audio area's readWav reads it back, and it is mixed to mono and
// cut to the clip's length (FluidSynth renders reverb and release tails past the last event).
// Each note of a chord has its own MIDI channel (the n-th note channel n, skipping the drum
// channel 9), so that its pitch bend can carry the clip's tuning plus the note's own
// jitter, as the additive renderer does; the pitch-bend range is set to ±2 semitones
// explicitly. A new bend comes just before the previous chord's note on that channel is
// released, so that note's release tail moves by the jitter difference (≤ 10 cents).
// Left out: the FluidSynth library API (the command line is what Debian ships and is
// stable), sustain pedal, expression curves, soundfonts other than one given file.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, toMono } from '../audio/index.ts';
import { ticksPerSecond, type FluidsynthClipPlan, type PlannedNote } from './clip-plan.ts';
import { type MidiEvent, writeMidiFile } from './midi-file.ts';

export const defaultSoundfont = '/usr/share/sounds/sf2/FluidR3_GM.sf2';
export const setupAdvice = 'run scripts/setup.sh (as root) to install fluidsynth and fluid-soundfont-gm';

export interface FluidsynthSettings {
  /** The command to run; 'fluidsynth' on PATH by default. */
  executable: string;
  soundfont: string;
  /** FluidSynth's master gain (its default 0.2 is quiet; clips are normalized afterwards anyway). */
  gain: number;
}

export const defaultFluidsynthSettings: FluidsynthSettings = { executable: 'fluidsynth', soundfont: defaultSoundfont, gain: 0.5 };

/** 441 ticks a quarter at 120 bpm: one tick is 1/882 s, the plans' time grid. */
const ticksPerQuarter = 441;
const microsecondsPerQuarter = 500_000;
const drumChannel = 9;
const pitchBendRangeSemitones = 2;
/** GM drum-kit notes for the no-chord hits: snare, closed hi-hat, open hi-hat, crash, clap. */
const drumNotes = [38, 42, 46, 49, 39];

const toTick = (seconds: number): number => Math.round(seconds * ticksPerSecond);
const noteChannel = (position: number): number => (position < drumChannel ? position : position + 1);

/** The MIDI file that plays a clip's plan. */
export function clipMidi(plan: FluidsynthClipPlan): Uint8Array {
  const widestChord = Math.max(1, ...plan.segments.map((segment) => segment.notes.length));
  // A melody (PlanSettings.textures) plays on the channel after the chord's.
  const melodyPosition = plan.segments.some((segment) => (segment.melody?.length ?? 0) > 0) ? widestChord : undefined;
  const events: MidiEvent[] = [{ tick: 0, type: 'tempo', microsecondsPerQuarter }];
  for (let position = 0; position < (melodyPosition ?? widestChord - 1) + 1; position++) {
    const channel = noteChannel(position);
    events.push(
      { tick: 0, type: 'programChange', channel, program: plan.instrument.program },
      // RPN 0 (pitch-bend sensitivity) = 2 semitones, then a null RPN so later data entry is ignored.
      { tick: 0, type: 'controlChange', channel, controller: 101, value: 0 },
      { tick: 0, type: 'controlChange', channel, controller: 100, value: 0 },
      { tick: 0, type: 'controlChange', channel, controller: 6, value: pitchBendRangeSemitones },
      { tick: 0, type: 'controlChange', channel, controller: 38, value: 0 },
      { tick: 0, type: 'controlChange', channel, controller: 101, value: 127 },
      { tick: 0, type: 'controlChange', channel, controller: 100, value: 127 },
      { tick: 0, type: 'controlChange', channel, controller: 91, value: plan.reverbSend },
      { tick: 0, type: 'controlChange', channel, controller: 93, value: plan.chorusSend },
    );
  }
  events.push({ tick: 0, type: 'controlChange', channel: drumChannel, controller: 91, value: plan.reverbSend });
  for (const segment of plan.segments) {
    const start = toTick(segment.start), end = toTick(segment.end);
    const play = (note: PlannedNote, channel: number) => {
      const cents = plan.tuningCents + note.jitterCents;
      const bend = Math.max(-8192, Math.min(8191, Math.round((cents / (100 * pitchBendRangeSemitones)) * 8192)));
      const times = note.times?.map(([from, to]) => [toTick(from), toTick(to)] as const) ?? [[start, end] as const];
      events.push({ tick: times[0]![0], type: 'pitchBend', channel, value: bend });
      for (const [from, to] of times) {
        events.push(
          { tick: from, type: 'noteOn', channel, note: note.midi, velocity: Math.round(30 + 90 * note.velocity) },
          { tick: to, type: 'noteOff', channel, note: note.midi },
        );
      }
    };
    segment.notes.forEach((note, position) => play(note, noteChannel(position)));
    for (const note of segment.melody ?? []) play(note, noteChannel(melodyPosition!));
    for (const hit of segment.hits) {
      const note = drumNotes[hit.variant % drumNotes.length] as number;
      const tick = toTick(hit.time);
      events.push(
        { tick, type: 'noteOn', channel: drumChannel, note, velocity: Math.round(40 + 80 * hit.level) },
        { tick: Math.min(end, tick + toTick(0.1)), type: 'noteOff', channel: drumChannel, note },
      );
    }
  }
  return writeMidiFile({ ticksPerQuarter, events });
}

/** Runs a command, resolving with its stderr; a spawn failure or non-zero exit rejects with a sentence. */
function run(executable: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(error.code === 'ENOENT'
        ? `data/fluidsynth: '${executable}' is not installed (not found on PATH); ${setupAdvice}.`
        : `data/fluidsynth: cannot run '${executable}': ${error.message}.`));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stderr);
      else reject(new Error(`data/fluidsynth: '${executable} ${args.join(' ')}' failed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}.`));
    });
  });
}

/** Throws a sentence saying how to install what is missing, unless FluidSynth and the soundfont are there. */
export async function checkFluidsynth(settings: FluidsynthSettings = defaultFluidsynthSettings): Promise<void> {
  await run(settings.executable, ['--version']);
  if (!existsSync(settings.soundfont)) {
    throw new Error(`data/fluidsynth: the soundfont ${settings.soundfont} does not exist; ${setupAdvice}.`);
  }
}

/** Renders MIDI bytes with FluidSynth; the result is mono, `frames` long (cut or padded with silence). */
export async function renderMidi(midi: Uint8Array, sampleRate: number, frames: number, settings: FluidsynthSettings): Promise<Float32Array> {
  if (!existsSync(settings.soundfont)) {
    throw new Error(`data/fluidsynth: the soundfont ${settings.soundfont} does not exist; ${setupAdvice}.`);
  }
  const directory = mkdtempSync(join(tmpdir(), 'theorbo-fluidsynth-'));
  try {
    const midiPath = join(directory, 'clip.mid');
    const wavPath = join(directory, 'clip.wav');
    writeFileSync(midiPath, midi);
    await run(settings.executable, [
      '-n', '-i', '-q', // no MIDI input driver, no shell, no banner
      '-o', 'synth.dynamic-sample-loading=1', // load only the samples this file plays: 3x faster start
      '-g', String(settings.gain), '-r', String(sampleRate),
      '-T', 'wav', '-O', 'float', '-F', wavPath, settings.soundfont, midiPath,
    ]);
    const audio = readWav(wavPath);
    if (audio.sampleRate !== sampleRate) {
      throw new Error(`data/fluidsynth: asked for ${sampleRate} Hz but FluidSynth wrote ${audio.sampleRate} Hz.`);
    }
    const mono = toMono(audio);
    const out = new Float32Array(frames);
    out.set(mono.subarray(0, frames));
    return out;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The clip's dry signal (before noise and level). */
export function renderFluidsynthClip(plan: FluidsynthClipPlan, sampleRate: number, settings: FluidsynthSettings): Promise<Float32Array> {
  return renderMidi(clipMidi(plan), sampleRate, Math.round(plan.duration * sampleRate), settings);
}
