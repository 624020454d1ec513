// Additive synthesis of a planned clip: every note a sum of harmonic partials (slope,
// odd/even balance, fixed spectral irregularity, inharmonicity) under an attack, a per-
// partial decay towards a sustain level, and a release after the note ends; no-chord
// segments get their unpitched noise bursts. Noise floor and level come afterwards
// (postprocess.ts), shared with FluidSynth clips.
// Each partial is a complex oscillator advanced by one complex multiplication a sample
// (float64, so its amplitude drifts by ~1e-11 over a clip): several times faster than
// Math.sin, and it makes the decay free: the multiplier's modulus is the decay per sample.
// Left out: frequency modulation, stereo, band-limited noise components of real instruments.
import type { AdditiveClipPlan, PlannedHit, PlannedNote } from './clip-plan.ts';
import { SeededRandom } from '../random/seeded-random.ts';
import type { AdditiveTimbre } from './timbres.ts';

/** Partials at or above this fraction of the sample rate are dropped (no aliasing). */
const highestPartialFraction = 0.45;
/** A release falls by 60 dB over releaseSeconds: exp(-6.91) = 1e-3. */
const sixtyDecibels = Math.log(1000);

/** The frequency of a note in Hz, detuned by `cents` (A4 = MIDI 69 = 440 Hz). */
export const noteFrequency = (midi: number, cents = 0): number => 440 * 2 ** ((midi - 69 + cents / 100) / 12);

/** Per-partial frequencies and amplitudes of one note, amplitudes scaled to unit power. */
export function notePartials(frequency: number, timbre: AdditiveTimbre, sampleRate: number): { frequencies: number[]; amplitudes: number[] } {
  const frequencies: number[] = [];
  const amplitudes: number[] = [];
  for (let k = 1; k <= timbre.partialCount; k++) {
    const partialFrequency = k * frequency * Math.sqrt(1 + timbre.inharmonicity * k * k);
    if (partialFrequency >= highestPartialFraction * sampleRate) break;
    const decibels = timbre.slopeDbPerOctave * Math.log2(k) + (timbre.partialGainsDb[k - 1] ?? 0);
    frequencies.push(partialFrequency);
    amplitudes.push(10 ** (decibels / 20) * (k % 2 === 0 ? timbre.evenPartialGain : 1));
  }
  const power = Math.sqrt(amplitudes.reduce((sum, amplitude) => sum + amplitude * amplitude, 0));
  return { frequencies, amplitudes: amplitudes.map((amplitude) => amplitude / power) };
}

/**
 * Adds one note sounding from `start` to `end` seconds (then released) into `out`.
 * `phases` gives each partial's starting phase (radians).
 */
export function addNote(
  out: Float64Array, sampleRate: number, frequency: number, amplitude: number, start: number, end: number,
  timbre: AdditiveTimbre, phases: readonly number[],
): void {
  const first = Math.round(start * sampleRate);
  const held = Math.round(end * sampleRate) - first;
  const releaseLength = Math.ceil(timbre.releaseSeconds * sampleRate);
  const length = Math.min(held + releaseLength, out.length - first);
  if (length <= 0) return;

  const note = new Float64Array(length);
  const { frequencies, amplitudes } = notePartials(frequency, timbre, sampleRate);
  frequencies.forEach((partialFrequency, k) => {
    const omega = (2 * Math.PI * partialFrequency) / sampleRate;
    const stepCos = Math.cos(omega), stepSin = Math.sin(omega);
    const timeConstant = timbre.decaySeconds / (1 + timbre.partialDamping * k);
    const decayPerSample = Math.exp(-1 / (timeConstant * sampleRate));
    const sustain = timbre.sustainLevel;
    const partialAmplitude = amplitudes[k] as number;
    let real = Math.cos(phases[k] ?? 0), imaginary = Math.sin(phases[k] ?? 0);
    let decay = 1;
    for (let n = 0; n < length; n++) {
      note[n] = (note[n] as number) + partialAmplitude * (sustain + (1 - sustain) * decay) * imaginary;
      const nextReal = real * stepCos - imaginary * stepSin;
      imaginary = imaginary * stepCos + real * stepSin;
      real = nextReal;
      decay *= decayPerSample;
    }
  });

  // Raised-cosine attack, then an exponential release once the note ends.
  const attackLength = Math.max(1, Math.round(timbre.attackSeconds * sampleRate));
  const releaseRate = Math.exp(-sixtyDecibels / Math.max(1, releaseLength));
  let release = 1;
  for (let n = 0; n < length; n++) {
    const attack = n < attackLength ? 0.5 - 0.5 * Math.cos((Math.PI * n) / attackLength) : 1;
    if (n >= held) release *= releaseRate;
    out[first + n] = (out[first + n] as number) + amplitude * attack * release * (note[n] as number);
  }
}

/**
 * Adds a burst of noise (a click, a brush, a shaker) decaying over 30–150 ms; `variant`
 * sets its colour from dark to bright.
 */
export function addNoiseBurst(out: Float64Array, sampleRate: number, hit: PlannedHit, random: SeededRandom): void {
  const first = Math.round(hit.time * sampleRate);
  const length = Math.min(Math.round(random.uniform(0.03, 0.15) * sampleRate), out.length - first);
  const lowPass = [0.9, 0.7, 0.4, 0.1, 0][hit.variant] ?? 0; // variant 4: white
  const decayPerSample = Math.exp(-sixtyDecibels / Math.max(1, length));
  let filtered = 0, envelope = 1;
  for (let n = 0; n < length; n++) {
    filtered = lowPass * filtered + (1 - lowPass) * random.normal();
    out[first + n] = (out[first + n] as number) + hit.level * envelope * filtered;
    envelope *= decayPerSample;
  }
}

/** The clip's dry signal (before noise and level), at `sampleRate`. */
export function renderAdditiveClip(plan: AdditiveClipPlan, sampleRate: number): Float64Array {
  const out = new Float64Array(Math.round(plan.duration * sampleRate));
  const random = SeededRandom.derive(plan.renderSeed, 'additive');
  for (const segment of plan.segments) {
    segment.notes.forEach((note: PlannedNote, position) => {
      const phases = Array.from({ length: plan.timbre.partialCount }, () => random.uniform(0, 2 * Math.PI));
      // The bass a little louder, as players and arrangers tend to make it.
      const amplitude = note.velocity * (position === 0 ? 1.2 : 1) * 0.3;
      for (const [start, end] of note.times ?? [[segment.start, segment.end]]) {
        addNote(out, sampleRate, noteFrequency(note.midi, plan.tuningCents + note.jitterCents), amplitude, start, end, plan.timbre, phases);
      }
    });
    for (const note of segment.melody ?? []) {
      const phases = Array.from({ length: plan.timbre.partialCount }, () => random.uniform(0, 2 * Math.PI));
      for (const [start, end] of note.times ?? [[segment.start, segment.end]]) {
        addNote(out, sampleRate, noteFrequency(note.midi, plan.tuningCents + note.jitterCents), note.velocity * 0.3, start, end, plan.timbre, phases);
      }
    }
    for (const hit of segment.hits) addNoiseBurst(out, sampleRate, hit, random);
  }
  return out;
}
