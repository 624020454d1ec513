// MFCCs and deltas: the DCT-II matrix is orthonormal and liftered as librosa lifters;
// Savitzky–Golay weights at hand-worked values, and deltas of ramps and parabolas exact to
// the edges; librosa 0.11's mfcc20, mfcc13_lifter22, delta and delta2 on the five
// fixture signals (from our own mel spectrogram, and from librosa's where that isolates
// the DCT); the graphs against the host path; gradients.
// Reference evaluator only; features-device.test.ts compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { verifyGrad } from '@theorbo/autodiff';
import { expectGraphError } from '@theorbo/graph/testing';
import {
  dctMatrix, delta, deltaHost, melSpectrogramHost, mfcc, mfccFromLogMel, mfccFromLogMelHost, mfccHost, powerToDbHost, savitzkyGolay,
} from '../src/signal/index.ts';
import { fixtureNames, frameRelativeError, librosaFixture } from './librosa-fixtures.ts';

test('the DCT-II matrix is orthonormal; row k is √(2/N)·cos(πk(2n+1)/2N); the lifter scales coefficient k by 1 + (L/2)·sin(π(k+1)/L)', () => {
  const n = 12;
  const full = dctMatrix(n, { nMfcc: n });
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += full.data[i * n + a]! * full.data[i * n + b]!;
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-12, `columns ${a}, ${b}: ${dot}`);
    }
  }
  assert.ok(Math.abs(full.data[5 * n + 3]! - Math.sqrt(2 / n) * Math.cos((Math.PI * 3 * 11) / (2 * n))) < 1e-15);
  assert.ok(Math.abs(full.data[7 * n]! - Math.sqrt(1 / n)) < 1e-15);
  const liftered = dctMatrix(n, { nMfcc: 5, lifter: 22 });
  for (let k = 0; k < 5; k++) {
    const gain = 1 + 11 * Math.sin((Math.PI * (k + 1)) / 22);
    assert.ok(Math.abs(liftered.data[2 * 5 + k]! - gain * full.data[2 * n + k]!) < 1e-12, `lifter, coefficient ${k}`);
  }
  assert.throws(() => dctMatrix(12, { nMfcc: 13 }), /nMfcc 13 must be an integer from 1 to/);
});

test('Savitzky–Golay: width 9 order 1 is t/60; width 5 order 2 is (2, −1, −2, −1, 2)/7; edges repeat the nearest full window', () => {
  const first = savitzkyGolay();
  Array.from(first.centre).forEach((c, i) => assert.ok(Math.abs(c - (i - 4) / 60) < 1e-15, `c${i} = ${c}`));
  const second = savitzkyGolay({ width: 5, order: 2 });
  Array.from(second.centre).forEach((c, i) => assert.ok(Math.abs(c - [2, -1, -2, -1, 2][i]! / 7) < 1e-14, `c${i} = ${c}`));
  // With polyorder = deriv the fitted derivative is constant, so every edge row equals the centre's weights.
  for (const bank of [first, second]) {
    for (let r = 0; r < (bank.width - 1) / 2; r++) {
      for (let i = 0; i < bank.width; i++) {
        assert.ok(Math.abs(bank.head[r * bank.width + i]! - bank.centre[i]!) < 1e-13 && Math.abs(bank.tail[r * bank.width + i]! - bank.centre[i]!) < 1e-13);
      }
    }
  }
  assert.throws(() => savitzkyGolay({ width: 4 }), /odd integer of at least 3/);
});

test('delta of a ramp is its slope and delta2 of t² is 2, on every frame, in the graph and on the host', () => {
  const frames = 15;
  const values = new Float64Array(frames * 2);
  for (let t = 0; t < frames; t++) [values[2 * t], values[2 * t + 1]] = [3 * t - 7, t * t];
  const x = T.tensor('float64', [1, frames, 2], 'x');
  const input = T.array(values, { shape: [1, frames, 2], dtype: 'float64' });
  const [slope, curvature] = T.evaluate([delta(x), delta(x, { order: 2, width: 7 })], [[x, input]]);
  for (let t = 0; t < frames; t++) {
    assert.ok(Math.abs(slope!.data[2 * t]! - 3) < 1e-12, `slope at ${t}: ${slope!.data[2 * t]}`);
    assert.ok(Math.abs(curvature!.data[2 * t + 1]! - 2) < 1e-12, `curvature at ${t}: ${curvature!.data[2 * t + 1]}`);
  }
  const host = deltaHost(input.reshape([frames, 2]));
  for (let i = 0; i < host.size; i++) assert.ok(Math.abs(host.data[i]! - slope!.data[i]!) < 1e-5);
  expectGraphError(() => delta(T.tensor('float32', [1, 5, 2])), 'delta', 'at least width = 9 frames');
});

for (const name of fixtureNames) {
  test(`librosa ${name}: mfcc20 and mfcc13 (lifter 22) within 1e-6 of each frame's largest |value|, delta and delta2 within 1e-5`, () => {
    const fixture = librosaFixture(name);
    const { mfcc20, mfcc13_lifter22: liftered, mfcc20_delta: velocity, mfcc20_delta2: acceleration } = fixture.features;
    // End to end from the signal, and from librosa's own mel spectrogram (the DCT alone).
    const ours = mfccHost(fixture.y);
    const theirLogMel = powerToDbHost(fixture.features.mel_power);
    const coefficients = {
      mfcc20: frameRelativeError(ours, mfcc20),
      mfcc20FromTheirMel: frameRelativeError(mfccFromLogMelHost(theirLogMel), mfcc20),
      mfcc13: frameRelativeError(mfccHost(fixture.y, { nMfcc: 13, lifter: 22 }), liftered),
    };
    for (const [what, error] of Object.entries(coefficients)) assert.ok(error < 1e-6, `${what}: ${error}`);
    // The deltas of librosa's own MFCCs isolate the Savitzky–Golay filter. Deltas of ours
    // carry the MFCCs' float32-level differences (about 2e-7 of an MFCC frame), which are
    // large beside a small second derivative (8e-5 of the chirp's delta2 frames), so those
    // are measured against the largest |value| of the whole array.
    const wholeArray = (a: T.NDArray, b: T.NDArray): number => frameRelativeError(a.reshape([1, a.size]), b.reshape([1, b.size]));
    const deltas = {
      delta: frameRelativeError(deltaHost(mfcc20), velocity),
      delta2: frameRelativeError(deltaHost(mfcc20, { order: 2 }), acceleration),
      deltaEndToEnd: wholeArray(deltaHost(ours), velocity),
      delta2EndToEnd: wholeArray(deltaHost(ours, { order: 2 }), acceleration),
    };
    for (const [what, error] of Object.entries(deltas)) assert.ok(error < 1e-5, `${what}: ${error}`);
  });
}

test('the MFCC and delta graphs equal the host path; mfcc(signal) equals mfccHost', () => {
  const fixture = librosaFixture('chords_C_Am_F_G');
  const logMel = powerToDbHost(melSpectrogramHost(fixture.y));
  const frames = logMel.shape[0]!;
  const x = T.tensor('float32', [1, frames, 128], 'logMel');
  const coefficients = mfccFromLogMel(x, { nMfcc: 13, lifter: 22 });
  const [graph, velocity] = T.evaluate([coefficients, delta(coefficients)], [[x, logMel.reshape([1, frames, 128])]]);
  const host = mfccFromLogMelHost(logMel, { nMfcc: 13, lifter: 22 });
  assert.ok(frameRelativeError(graph!.reshape([frames, 13]), host) < 1e-6);
  assert.ok(frameRelativeError(velocity!.reshape([frames, 13]), deltaHost(host)) < 1e-5);
  const clip = fixture.y.slice(0, 6144);
  const signal = T.tensor('float32', [1, 6144], 'signal');
  const fromSignal = T.evaluate(mfcc(signal), [[signal, T.array(clip, { shape: [1, 6144] })]]);
  assert.ok(frameRelativeError(fromSignal.reshape([13, 20]), mfccHost(clip)) < 1e-5);
  expectGraphError(() => mfccFromLogMel(T.tensor('float32', [1, 3, 10]), { nMfcc: 20 }), 'mfccFromLogMel', 'nMfcc 20');
});

test('gradients flow through the DCT and the deltas (finite differences)', () => {
  const logMel = T.array(Float64Array.from({ length: 11 * 6 }, (_, i) => Math.sin(i * 0.7) * 10), { shape: [1, 11, 6], dtype: 'float64' });
  const report = verifyGrad((x) => delta(mfccFromLogMel(x, { nMfcc: 4, lifter: 5 }), { width: 5, order: 2 }), [logMel], { rtol: 1e-5, atol: 1e-8 });
  assert.ok(report.worstRatio <= 1, `worst ratio ${report.worstRatio}`);
});

test.run();
