// A learnable IIR filterbank: a bank of biquads run as one T.scan over time, with poles
// kept inside the unit circle (r = 0.99999·sigmoid(ρ), angle θ free). First, system
// identification: white noise through a known biquad on the host, then Adam through the
// scan recovers its coefficients from a different start. Then the bank initialized with
// RBJ band-passes at the CQT's centres (C3–B5, Q of 12 bins per octave) on a synthesized
// C major chord: its band energies (mean of y² over frames), and how closely it follows
// the float64 designed filters.
// Runs on the best device this machine has (THEORBO_DEVICE overrides). Environment:
// IIR_STEPS (Adam steps of the identification, default 300).

import * as T from '@theorbo/graph';
import { acquireDevice, compile } from '@theorbo/codegen';
import {
  bandEnergies, biquadFilterHost, cqtBandPassBank, identifyBiquad, SeededRandom, stableIirFilterbank, stableParameters, type Biquad,
} from '@theorbo/music';

const device = await acquireDevice();
console.log(`IIR filterbank on ${device.describe().split('\n')[0]}\n`);
const sampleRate = 22050;

// System identification: 16 segments of 64 samples of white noise, each from zero state.
const truth: Biquad = { b0: 0.4, b1: -0.3, b2: 0.2, a1: -2 * 0.9 * Math.cos(0.7), a2: 0.81 };
const start: Biquad = { b0: 1, b1: 0, b2: 0, a1: -2 * 0.5 * Math.cos(1.2), a2: 0.25 };
const [segments, samples] = [16, 64];
const random = new SeededRandom(7);
const input = new Float32Array(segments * samples);
const output = new Float32Array(segments * samples);
for (let s = 0; s < segments; s++) {
  const segment = Float64Array.from({ length: samples }, () => random.uniform(-1, 1));
  input.set(segment, s * samples);
  output.set(biquadFilterHost(segment, truth), s * samples);
}
const steps = Number(process.env.IIR_STEPS ?? 300);
console.log(`system identification: ${segments} segments of ${samples} samples of white noise through a known biquad; Adam for ${steps} steps through the scan`);
let started = performance.now();
const { biquad: recovered, losses } = await identifyBiquad(T.array(input, { shape: [segments, samples] }), T.array(output, { shape: [segments, samples] }), {
  start,
  steps,
  device,
  onStep: (step, loss) => {
    if (step % 25 === 0 || step === steps - 1) console.log(`  step ${String(step).padStart(3)}  loss ${loss.toExponential(3)}`);
  },
});
console.log(`  ${((performance.now() - started) / steps).toFixed(1)} ms a step (forward and backpropagation through 64 steps)`);
console.log('  coefficient      true  recovered      start     error');
for (const name of ['b0', 'b1', 'b2', 'a1', 'a2'] as const) {
  console.log(`  ${name.padEnd(9)} ${truth[name].toFixed(6).padStart(10)} ${recovered[name].toFixed(6).padStart(10)} ${start[name].toFixed(6).padStart(10)}  ${Math.abs(recovered[name] - truth[name]).toExponential(1)}`);
}
console.log(`  loss ${losses[0]!.toExponential(3)} → ${losses[steps - 1]!.toExponential(3)}\n`);

// The designed bank on half a second of C major (C4 E4 G4 with harmonics) and a little noise.
const bank = cqtBandPassBank({ sampleRate, fmin: 130.8127826502993, nBins: 36, binsPerOctave: 12 });
const length = sampleRate / 2;
const chord = Float32Array.from({ length }, (_, n) => 0.01 * random.uniform(-1, 1) +
  [261.63, 329.63, 392.0].reduce((sum, f) => sum + [1, 2, 3, 4].reduce((s, k) => s + (0.25 / k) * Math.sin((2 * Math.PI * f * k * n) / sampleRate), 0), 0));
const x = T.tensor('float32', [null, null], 'audio');
const responses = stableIirFilterbank(x, stableParameters(bank.biquads));
const hop = 512;
started = performance.now();
const [energies, filtered] = (await compile({ inputs: [x], outputs: [bandEnergies(responses, { hop }), responses], device })(T.array(chord, { shape: [1, length] }))) as T.NDArray[];
const bankMs = performance.now() - started;
let [error, peak] = [0, 0];
bank.biquads.forEach((biquad, b) => {
  const host = biquadFilterHost(chord, biquad);
  for (let n = 0; n < length; n++) {
    error = Math.max(error, Math.abs(filtered!.data[b * length + n]! - host[n]!));
    peak = Math.max(peak, Math.abs(host[n]!));
  }
});
const frames = energies!.shape[2]!;
console.log(`band-pass bank: ${bank.biquads.length} biquads from C3, Q ${bank.q.toFixed(1)}, on ${length} samples of C major as one scan of ${length} steps (${bankMs.toFixed(0)} ms with compiling)`);
console.log(`  against the float64 designed filters: max |Δy| = ${error.toExponential(2)} (${(error / peak).toExponential(2)} of the peak ${peak.toFixed(3)})`);
console.log(`  band energies, mean of y² over the last ${frames - 4} of ${frames} frames of ${hop} samples (the first 4 hold the onset):`);
const names = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const settled = Array.from({ length: bank.biquads.length }, (_, b) => {
  let sum = 0;
  for (let f = 4; f < frames; f++) sum += energies!.data[b * frames + f]!;
  return sum / (frames - 4);
});
const loudest = Math.max(...settled);
settled.forEach((energy, b) => {
  const bar = '#'.repeat(Math.round((40 * energy) / loudest));
  console.log(`  ${(names[b % 12]! + (3 + Math.floor(b / 12))).padEnd(4)} ${bank.frequencies[b]!.toFixed(1).padStart(6)} Hz  ${energy.toExponential(2)}  ${bar}`);
});
