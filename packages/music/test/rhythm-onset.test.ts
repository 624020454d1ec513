// Onset strength and onset detection: spectral flux, lag, the max filter and the shift by
// hand; librosa 0.11's onset_strength on the five fixture signals (host, and the graph on
// our log-mel spectrogram), the graph from the signal against the host; peak picking and
// backtracking on hand-worked envelopes; onset_detect's frames (plain and backtracked)
// from librosa's envelope and from ours; gradients through the flux.
// Reference evaluator only; features-device.test.ts compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { verifyGrad } from '@theorbo/autodiff';
import { expectGraphError } from '@theorbo/graph/testing';
import { melSpectrogramHost, powerToDbHost } from '../src/signal/index.ts';
import {
  framesToTime, onsetBacktrack, onsetDetect, onsetPeakPickDefaults, onsetStrength, onsetStrengthFromSpectrogram, onsetStrengthFromSpectrogramHost,
  onsetStrengthHost, peakPick,
} from '../src/rhythm/index.ts';
import { elementRelativeError, fixtureNames, librosaFixture } from './librosa-fixtures.ts';

const spectrogram = (rows: number[][]): T.NDArray => T.array(rows, { dtype: 'float64' });

test('flux by hand: max(0, S[t] − S[t − lag]) averaged over channels, shifted by lag + nFft/(2·hop), zeros in front', () => {
  const s = spectrogram([[0, 0, 0], [3, 0, 6], [3, 3, 0], [9, 3, 0], [0, 0, 0], [1, 1, 1]]);
  const x = T.tensor('float64', [1, 6, 3], 's');
  const run = (options: Parameters<typeof onsetStrengthFromSpectrogram>[1]): number[] =>
    Array.from(T.evaluate(onsetStrengthFromSpectrogram(x, options), [[x, s.reshape([1, 6, 3])]]).data, (v) => Math.round(v * 1e12) / 1e12);
  // Flux at lag 1: t=1: (3+0+6)/3 = 3; t=2: (0+3+0)/3 = 1; t=3: 2; t=4: 0; t=5: 1.
  assert.equal(run({ center: false }), [0, 3, 1, 2, 0, 1]);
  assert.equal(run({}), [0, 0, 0, 3, 1, 2], 'centred: shifted by 1 + ⌊2048/1024⌋ = 3');
  // Lag 2: t=2: [3, 3, 0]/3 = 2; t=3: [6, 3, 0]/3 = 3; t=4: 0; t=5: [0, 0, 1]/3.
  assert.equal(run({ center: false, lag: 2 }), [0, 0, 2, 3, 0, Math.round(1e12 / 3) / 1e12]);
  assert.equal(run({ center: false, aggregate: 'max' }), [0, 6, 3, 6, 0, 1]);
  assert.equal(run({ center: false, aggregate: 'sum' }), [0, 9, 3, 6, 0, 3]);
  // maxSize 3: the reference is the max over neighbouring channels (edges repeated), so
  // t=1 compares [3, 0, 6] with [0, 0, 0] → 3; t=2: [3, 3, 0] − [3, 6, 6] → 0; t=3: [9, 3, 0] − [3, 3, 3] → 2.
  assert.equal(run({ center: false, maxSize: 3 }), [0, 3, 0, 2, 0, 1]);
  for (const options of [{}, { lag: 2, maxSize: 2 }, { aggregate: 'max' as const, maxSize: 3, center: false }]) {
    const host = Array.from(onsetStrengthFromSpectrogramHost(s, options).data);
    run(options).forEach((value, i) => assert.ok(Math.abs(host[i]! - value) < 1e-6, `${JSON.stringify(options)} frame ${i}`));
  }
  expectGraphError(() => onsetStrengthFromSpectrogram(x, { lag: 0 }), 'onsetStrengthFromSpectrogram', 'lag 0');
  expectGraphError(() => onsetStrengthFromSpectrogram(T.tensor('float32', [1, 8]), {}), 'expects a batch of spectrograms');
});

for (const name of fixtureNames) {
  test(`librosa ${name}: onset strength within 1e-4 of each nonzero frame, zeros where librosa's are; the graph on our log-mel agrees`, () => {
    const fixture = librosaFixture(name);
    const logMel = powerToDbHost(melSpectrogramHost(fixture.y));
    const host = onsetStrengthFromSpectrogramHost(logMel);
    const frames = logMel.shape[0]!;
    const x = T.tensor('float32', [1, frames, 128], 'logMel');
    const graph = T.evaluate(onsetStrengthFromSpectrogram(x), [[x, logMel.reshape([1, frames, 128])]]);
    const hostError = elementRelativeError(host.data, fixture.onsetStrength);
    const graphError = elementRelativeError(graph.data, fixture.onsetStrength);
    assert.ok(hostError < 1e-4, `host: ${hostError}`);
    assert.ok(graphError < 1e-4, `graph: ${graphError}`);
    assert.equal(Array.from(host.data.slice(0, 3)), [0, 0, 0]);
  });
}

test('onsetStrength(signal) as a graph equals onsetStrengthHost', () => {
  const clip = librosaFixture('drums_96bpm').y.slice(0, 8192);
  const signal = T.tensor('float32', [1, 8192], 'signal');
  const options = { lag: 2, maxSize: 3, nMels: 64 };
  const graph = T.evaluate(onsetStrength(signal, options), [[signal, T.array(clip, { shape: [1, 8192] })]]);
  const host = onsetStrengthHost(clip, options);
  assert.ok(elementRelativeError(graph.data, host.data, 1e-6) < 1e-4, `${elementRelativeError(graph.data, host.data, 1e-6)}`);
});

test('peak picking by hand: local max over [n − preMax, n + postMax), above the moving mean + delta, then wait', () => {
  const options = { preMax: 1, postMax: 1, preAvg: 2, postAvg: 3, delta: 0.1, wait: 2 };
  const x = [0, 1, 0, 0.5, 0.6, 0, 0, 0.9, 0, 0.6, 0];
  // Frame 0: 0 < mean x[0, 3) + 0.1. n=1: 1 = max x[0, 2), mean x[0, 4) = 0.375, 1 ≥ 0.475 →
  // onset; skip 2, 3. n=4: 0.6 = max x[3, 5), mean x[2, 7) = 0.22 → onset; skip 5, 6.
  // n=7: mean x[5, 10) = 0.3 → onset; skip 8, 9. n=10: 0 < max x[9, 11).
  assert.equal(Array.from(peakPick(x, options)), [1, 4, 7]);
  // Without the wait: n=3 fails the mean (0.5 < 0.42 + 0.1); n=9 passes (0.6 ≥ mean x[7, 11) + 0.1 = 0.475).
  assert.equal(Array.from(peakPick(x, { ...options, wait: 0 })), [1, 4, 7, 9]);
  assert.equal(Array.from(peakPick(x, { ...options, delta: 0.5 })), [1, 7], 'x[4] = 0.6 < 0.22 + 0.5');
  // Frame 0 only looks ahead; every frame of a plateau is a max of [n − 1, n + 1), and the wait keeps its first.
  const plateau = [1, 0, 0, 0.8, 0.8, 0];
  assert.equal(Array.from(peakPick(plateau, { ...options, wait: 0 })), [0, 3, 4]);
  assert.equal(Array.from(peakPick(plateau, { ...options, wait: 1 })), [0, 3]);
  assert.throws(() => peakPick(x, { ...options, postMax: 0 }), /postMax 0 must be positive/);
  assert.equal(onsetPeakPickDefaults(), { preMax: 1, postMax: 1, preAvg: 4, postAvg: 5, delta: 0.07, wait: 1 });
  assert.equal(onsetPeakPickDefaults(44100, 256), { preMax: 5, postMax: 1, preAvg: 17, postAvg: 18, delta: 0.07, wait: 5 });
});

test('backtracking moves each onset to the nearest earlier minimum (e[i] ≤ e[i − 1] and e[i] < e[i + 1]) or frame 0', () => {
  const energy = [0.5, 0.2, 0.4, 0.9, 0.3, 0.3, 0.8, 0.1, 0.7];
  // Minima: 1 (0.2 ≤ 0.5, < 0.4), 5 (0.3 ≤ 0.3, < 0.8), 7; not 4 (0.3 is not < 0.3).
  assert.equal(Array.from(onsetBacktrack([3, 6, 8, 1, 0], energy)), [1, 5, 7, 1, 0]);
  assert.equal(Array.from(framesToTime([0, 43, 86])).map((t) => Math.round(t * 1e6) / 1e6), [0, 0.998458, 1.996916]);
});

for (const name of fixtureNames) {
  test(`librosa ${name}: onset_detect's frames, plain and backtracked, from librosa's envelope and from ours`, () => {
    const fixture = librosaFixture(name);
    const ours = onsetStrengthHost(fixture.y).data;
    assert.equal(Array.from(onsetDetect(fixture.onsetStrength)), fixture.onsetFrames, 'from librosa\'s envelope');
    assert.equal(Array.from(onsetDetect(ours)), fixture.onsetFrames, 'from ours');
    assert.equal(Array.from(onsetDetect(fixture.onsetStrength, { backtrack: true })), fixture.onsetFramesBacktrack, 'backtracked, librosa\'s envelope');
    assert.equal(Array.from(onsetDetect(ours, { backtrack: true })), fixture.onsetFramesBacktrack, 'backtracked, ours');
  });
}

test('onsetDetect: silence and a constant envelope have no onsets', () => {
  assert.equal(Array.from(onsetDetect(new Float32Array(100))), []);
  assert.equal(Array.from(onsetDetect(new Float32Array(100).fill(3))), []);
});

test('gradients flow through the flux, the max filter and the mean (finite differences)', () => {
  const values = T.array(Float64Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i * 1.3) * 4 + (i % 3)), { shape: [1, 7, 5], dtype: 'float64' });
  const report = verifyGrad((x) => onsetStrengthFromSpectrogram(x, { maxSize: 3, lag: 2, nFft: 8, hop: 4 }), [values], { rtol: 1e-5, atol: 1e-8 });
  assert.ok(report.worstRatio <= 1, `worst ratio ${report.worstRatio}`);
});

test.run();
