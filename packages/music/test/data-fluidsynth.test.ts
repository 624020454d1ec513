// FluidSynth with the GM soundfont: a rendered chord sounds its notes (plain FFT), the
// clip's tuning reaches the sound through pitch bend, and a FluidSynth data set is
// deterministic and read back from the cache without running FluidSynth again.
// FluidSynth missing is a failure, not a skip: scripts/setup.sh installs it (CI runs it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import FFT from 'fft.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chordIndex } from '../src/chords/index.ts';
import { type FluidsynthClipPlan, checkFluidsynth, clipMidi, defaultSoundfont, renderMidi, synthesizeDataset } from '../src/data/index.ts';

const scratch = mkdtempSync(join(tmpdir(), 'theorbo-fluidsynth-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const settings = { executable: 'fluidsynth', soundfont: defaultSoundfont, gain: 0.5 };
const sampleRate = 22050;

// A test, not a before-hook: uvu reports a throwing hook as 0 passed with exit status 0.
test('FluidSynth and the GM soundfont are installed', async () => {
  try {
    await checkFluidsynth(settings);
  } catch (error) {
    throw new Error(`FluidSynth is needed for the FluidSynth data set and these tests; run scripts/setup.sh as root to install it. (${(error as Error).message})`);
  }
});

/** Frequencies of the `count` strongest spectral peaks of signal[start, start + 16384), lowest first. */
function strongestPeaks(signal: Float32Array, start: number, count: number): number[] {
  const size = 16384;
  const fft = new FFT(size);
  const frame = Array.from({ length: size }, (_, i) => (signal[start + i] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size)));
  const spectrum = fft.createComplexArray() as number[];
  fft.realTransform(spectrum, frame);
  const magnitude = Array.from({ length: size / 2 }, (_, k) => Math.hypot(spectrum[2 * k] as number, spectrum[2 * k + 1] as number));
  return magnitude
    .map((value, k) => ({ value, k }))
    .filter(({ value, k }) => k > 1 && k < size / 2 - 1 && value > (magnitude[k - 1] as number) && value >= (magnitude[k + 1] as number))
    .sort((a, b) => b.value - a.value)
    .slice(0, count)
    .map(({ k }) => {
      const [left, centre, right] = [k - 1, k, k + 1].map((bin) => Math.log(magnitude[bin] as number)) as [number, number, number];
      return ((k + (0.5 * (left - right)) / (left - 2 * centre + right)) * sampleRate) / size;
    })
    .sort((a, b) => a - b);
}

const centsBetween = (frequency: number, midi: number): number => 1200 * Math.log2(frequency / (440 * 2 ** ((midi - 69) / 12)));

/** A one-segment FluidSynth plan holding `notes` (MIDI numbers) for `seconds`. */
function chordPlan(program: number, label: string, notes: number[], tuningCents: number, seconds = 1.5): FluidsynthClipPlan {
  return {
    source: 'fluidsynth', id: 'test', split: 'test', index: 0, duration: seconds, tuningCents, snrDb: 60, noiseColor: 0,
    peakLevel: 0.9, renderSeed: 1, instrument: { family: 'test', program, name: 'test' }, reverbSend: 0, chorusSend: 0,
    segments: [{
      start: 0, end: seconds, label, classIndex: chordIndex(label), root: null, quality: null, voicing: null,
      notes: notes.map((midi) => ({ midi, jitterCents: 0, velocity: 0.8 })), hits: [],
    }],
  };
}

test('a C major chord on String Ensemble 1: its strongest peaks are in tune and spell C, E, G', async () => {
  const plan = chordPlan(48, 'C:maj', [60, 64, 67], 0);
  const audio = await renderMidi(clipMidi(plan), sampleRate, Math.round(plan.duration * sampleRate), settings);
  assert.is(audio.length, Math.round(1.5 * sampleRate));
  const peaks = strongestPeaks(audio, 4000, 3);
  const nearest = peaks.map((frequency) => Math.round(69 + 12 * Math.log2(frequency / 440)));
  peaks.forEach((frequency, i) => {
    assert.ok(Math.abs(centsBetween(frequency, nearest[i]!)) < 15, `peak ${frequency.toFixed(1)} Hz is out of tune; peaks: ${peaks.map((f) => f.toFixed(1))}`);
  });
  // Octaves are the soundfont's business (a string sample may sound E4's octave louder than E4).
  assert.equal([...new Set(nearest.map((midi) => midi % 12))].sort((a, b) => a - b), [0, 4, 7], `peaks ${peaks.map((f) => f.toFixed(1))} Hz`);
});

test('the clip tuning moves the sound by pitch bend: A3 on a flute, +30 cents against 0', async () => {
  const fundamentalAt = async (cents: number): Promise<number> => {
    const plan = chordPlan(73, 'A:maj', [57], cents);
    const audio = await renderMidi(clipMidi(plan), sampleRate, Math.round(plan.duration * sampleRate), settings);
    return strongestPeaks(audio, 4000, 1)[0]!;
  };
  const [straight, bent] = [await fundamentalAt(0), await fundamentalAt(30)];
  assert.ok(Math.abs(centsBetween(straight, 57)) < 20, `the unbent flute A3 sounds at ${straight.toFixed(2)} Hz, not near 220 Hz`);
  const cents = 1200 * Math.log2(bent / straight);
  assert.ok(Math.abs(cents - 30) < 3, `bending by +30 cents moved A3 from ${straight.toFixed(2)} to ${bent.toFixed(2)} Hz, ${cents.toFixed(1)} cents`);
});

test('a FluidSynth data set is deterministic, and a second call runs no FluidSynth', async () => {
  const options = { seed: 2, source: 'fluidsynth' as const, clips: { train: 1, test: 1 }, plan: { segmentsPerClip: [3, 3] as const } };
  const cacheDir = join(scratch, 'a');
  const first = await synthesizeDataset({ ...options, cacheDir });
  const again = await synthesizeDataset({ ...options, cacheDir: join(scratch, 'b') });
  first.clips.forEach((clip, i) => {
    assert.ok(Buffer.from(clip.audio.buffer).equals(Buffer.from(again.clips[i]!.audio.buffer)), `${clip.id}: two renders differ`);
    assert.ok(clip.audio.some((sample) => Math.abs(sample) > 0.1), `${clip.id} is nearly silent`);
  });
  assert.is.not(first.clips[0]!.instrument.program, null);
  // A FluidSynth that cannot be run proves the cache answers alone.
  const cached = await synthesizeDataset({ ...options, cacheDir, fluidsynth: { executable: join(scratch, 'no-such-fluidsynth') } });
  assert.equal(cached.cache, { directory: cacheDir, synthesized: 0, fromCache: 2 });
});

test('a missing FluidSynth is an error that says to run scripts/setup.sh', async () => {
  try {
    await checkFluidsynth({ ...settings, executable: join(scratch, 'no-such-fluidsynth') });
    assert.unreachable('a missing fluidsynth was accepted');
  } catch (error) {
    assert.match((error as Error).message, /is not installed .*run scripts\/setup\.sh/);
  }
});

test.run();
