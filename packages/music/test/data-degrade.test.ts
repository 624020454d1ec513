// The degradations of data/degrade.ts, each measured on what it produces: the SNR that
// withNoise achieves (within 0.1 dB, white and coloured), withGain's level, the synthetic
// impulse response's decay (60 dB of energy in rt60), withReverb's length, RMS and smeared
// energy, detuning's frequency (a 440 Hz sine 50 cents up), and the MP3 round trip's
// alignment (the decoded signal lines up with the input at lag 0) and fidelity, and the
// tuning estimate that undoes a detuning.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detuned, detunedTime, measuredSnrDb, mp3RoundTrip, reverbImpulse, withGain, withNoise, withReverb } from '../src/data/degrade.ts';
import { SeededRandom } from '../src/random/seeded-random.ts';
import { audioTuning } from '../src/model/features.ts';

const rate = 22050;
/** A decaying C major triad with harmonics, 1.5 s, then 0.5 s of silence. */
function chord(): Float32Array {
  const out = new Float32Array(2 * rate);
  for (const midi of [60, 64, 67]) {
    const f = 440 * 2 ** ((midi - 69) / 12);
    for (let i = 0; i < 1.5 * rate; i++) for (let h = 1; h <= 4; h++) out[i]! += (0.2 / h) * Math.sin((2 * Math.PI * f * h * i) / rate) * Math.exp(-i / rate);
  }
  return out;
}
const rms = (x: Float32Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

test('withNoise reaches the SNR asked for within 0.1 dB (white and coloured) and refuses a silent signal', () => {
  const clean = chord();
  for (const snr of [20, 10, 0]) {
    for (const color of [0, 0.9]) {
      const noisy = withNoise(clean, snr, new SeededRandom(snr + 1), color);
      assert.is(noisy.length, clean.length);
      const achieved = measuredSnrDb(clean, noisy);
      assert.ok(Math.abs(achieved - snr) < 0.1, `${snr} dB (colour ${color}) gave ${achieved.toFixed(3)} dB`);
    }
  }
  assert.throws(() => withNoise(new Float32Array(100), 10, new SeededRandom(1)), /silent/);
});

test('withGain scales the RMS by the decibels asked for', () => {
  const clean = chord();
  for (const db of [-12, 6]) assert.ok(Math.abs(20 * Math.log10(rms(withGain(clean, db)) / rms(clean)) - db) < 1e-4);
});

test('reverbImpulse loses 60 dB of energy in rt60; withReverb keeps length and RMS and fills the silence after the chord', () => {
  const rt60 = 0.5;
  const response = reverbImpulse(rt60, rate, new SeededRandom(3));
  // Energy of 20 ms windows at 0.1 s and at 0.1 s + rt60/2: 30 dB apart (noise: within 3 dB).
  const energy = (at: number): number => response.subarray(Math.round(at * rate), Math.round((at + 0.02) * rate)).reduce((s, v) => s + v * v, 0);
  const drop = 10 * Math.log10(energy(0.1) / energy(0.1 + rt60 / 2));
  assert.ok(Math.abs(drop - 30) < 3, `the energy fell ${drop.toFixed(1)} dB in rt60/2`);
  const clean = chord();
  const wet = withReverb(clean, { rt60, wet: 0.5, sampleRate: rate }, new SeededRandom(4));
  assert.is(wet.length, clean.length);
  assert.ok(Math.abs(rms(wet) / rms(clean) - 1) < 1e-3);
  const tail = (x: Float32Array) => rms(x.subarray(Math.round(1.55 * rate), Math.round(1.65 * rate)));
  assert.is(tail(clean), 0);
  assert.ok(tail(wet) > 0.01 * rms(clean), `the reverb tail after the chord is ${tail(wet)}`);
});

test('detuned raises a 440 Hz sine by 50 cents and shortens it in proportion', () => {
  const sine = Float32Array.from({ length: rate }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / rate));
  const up = detuned(sine, 50, rate);
  assert.ok(Math.abs(up.length - detunedTime(1, 50) * rate) <= 1);
  // Frequency from the zero crossings of the middle of the signal.
  let crossings = 0;
  const [from, to] = [2000, up.length - 2000];
  for (let i = from + 1; i < to; i++) if (up[i - 1]! < 0 && up[i]! >= 0) crossings++;
  const frequency = (crossings * rate) / (to - from);
  const expected = 440 * 2 ** (50 / 1200);
  assert.ok(Math.abs(frequency - expected) < 2, `${frequency.toFixed(2)} Hz, expected ${expected.toFixed(2)}`);
});

test('audioTuning (what chords centres the CQT on) reads a chord detuned by −20 and +30 cents within 3 cents', () => {
  const clean = chord();
  assert.ok(Math.abs(audioTuning(clean)) < 3, `in tune: ${audioTuning(clean)}`);
  for (const cents of [-20, 30]) {
    const estimate = audioTuning(detuned(clean, cents, rate));
    assert.ok(Math.abs(estimate - cents) < 3, `${cents} cents read as ${estimate}`);
  }
});

test('mp3RoundTrip at 64 kbit/s keeps the length, lines up at lag 0 and keeps the chord (SNR above 10 dB)', async () => {
  const clean = chord();
  const coded = await mp3RoundTrip(clean, rate, 64);
  assert.is(coded.length, clean.length);
  const correlation = (lag: number): number => {
    let sum = 0;
    for (let i = 2000; i < 20000; i++) sum += clean[i]! * coded[i + lag]!;
    return sum;
  };
  for (const lag of [-40, -1, 1, 40]) assert.ok(correlation(0) > correlation(lag), `lag ${lag} correlates better than lag 0`);
  const snr = measuredSnrDb(clean, coded);
  assert.ok(snr > 10, `the round trip's SNR is ${snr.toFixed(1)} dB`);
  const refused = await mp3RoundTrip(clean, rate, 65).then(() => null, (error: Error) => error.message);
  assert.match(refused ?? 'no error', /mp3RoundTrip: lamejs encodes at .* not 65/);
});

test.run();
