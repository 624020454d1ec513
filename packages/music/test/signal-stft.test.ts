// The STFT graph against fft.js (float64 to 1e-9 of the peak, float32 to float32
// rounding), the DFT matrices against fft.js's transforms of unit impulses, Parseval on
// the half spectrum, a sine's peak bin, log compression against plain formulas, and
// stftHost's own errors. Reference evaluator only; signal-device.test.ts compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, expectGraphError, seededRandom } from '@theorbo/graph/testing';
import FFT from 'fft.js';
import { dftMatrices, logCompress, stft, stftComplex, stftHost, stftHostComplex, window } from '../src/signal/index.ts';
import { argmax, batchOf, maxAbs, maxDifference, row, sampleRate, tone } from './signal-fixtures.ts';

const noise = (samples: number, seed: number): Float32Array => {
  const random = seededRandom(seed);
  return Float32Array.from({ length: samples }, () => random() * 2 - 1);
};

test('the DFT matrices hold fft.js transforms of unit impulses, window folded into the rows', () => {
  const nFft = 2048;
  const weights = window('hann', nFft);
  const { nBins, real, imag } = dftMatrices(nFft, weights);
  assert.is(nBins, 1025);
  const plan = new FFT(nFft);
  const out = plan.createComplexArray() as number[];
  const impulse = new Float64Array(nFft);
  for (const n of [0, 1, 777, 1500, 2047]) {
    impulse.fill(0);
    impulse[n] = 1;
    plan.realTransform(out, impulse);
    let worst = 0;
    for (let k = 0; k < nBins; k++) {
      worst = Math.max(worst, Math.abs(real[n * nBins + k]! - weights[n]! * out[2 * k]!), Math.abs(imag[n * nBins + k]! - weights[n]! * out[2 * k + 1]!));
    }
    assert.ok(worst < 1e-12, `row ${n} differs from fft.js by ${worst}`);
  }
});

test('Parseval: Σx² = (1/N)(|X₀|² + 2Σ|X_k|² + |X_{N/2}|²) over the half spectrum', () => {
  const nFft = 512;
  const clip = noise(nFft, 5);
  const x = T.tensor('float64', [1, nFft], 'x');
  const power = T.evaluate(stft(x, { nFft, center: false, window: 'rectangular', scale: 'power' }), [[x, batchOf([clip], 'float64')]]);
  assert.equal([...power.shape], [1, 1, nFft / 2 + 1]);
  const bins = row(power, 0, 0);
  const spectral = (bins[0]! + bins[nFft / 2]! + 2 * bins.slice(1, nFft / 2).reduce((a, b) => a + b, 0)) / nFft;
  const temporal = clip.reduce((sum, v) => sum + v * v, 0);
  assert.ok(Math.abs(spectral - temporal) < 1e-10 * temporal, `${spectral} vs ${temporal}`);
});

for (const [label, options] of [
  ['hann, centred, zeros', {}],
  ['hann, centred, reflect', { padMode: 'reflect' }],
  ['hamming, uncentred', { window: 'hamming', center: false }],
  ['blackman, nFft 1024, hop 300', { window: 'blackman', nFft: 1024, hop: 300 }],
] as const) {
  test(`float64 graph STFT equals fft.js to 1e-9 of the peak (${label})`, () => {
    const clips = [noise(6000, 1), tone([440, 1234.5], 6000)];
    const x = T.tensor('float64', [null, 6000], 'x');
    const spectrum = stftComplex(x, options);
    const [real, imag] = T.evaluate([spectrum.real, spectrum.imag], [[x, batchOf(clips, 'float64')]]);
    clips.forEach((clip, b) => {
      const host = stftHostComplex(clip, options);
      const peak = maxAbs(host.real) + maxAbs(host.imag);
      assert.is(real!.shape[1], host.nFrames);
      for (let i = 0; i < host.real.length; i++) {
        const error = Math.max(Math.abs(real!.data[b * host.real.length + i]! - host.real[i]!), Math.abs(imag!.data[b * host.real.length + i]! - host.imag[i]!));
        if (error > 1e-9 * peak) assert.unreachable(`clip ${b} entry ${i}: off by ${error} (peak ${peak})`);
      }
    });
  });
}

test('float32 graph STFT magnitude equals fft.js within float32 rounding', () => {
  const clips = [noise(8000, 2), tone([261.63, 329.63, 392], 8000, { harmonics: 4 })];
  const x = T.tensor('float32', [null, 8000], 'x');
  const magnitude = T.evaluate(stft(x), [[x, batchOf(clips)]]);
  clips.forEach((clip, b) => {
    const host = stftHost(clip);
    const graph = T.array(magnitude.data.slice(b * host.size, (b + 1) * host.size), { shape: host.shape, dtype: 'float32' });
    // 2048-term float32 sums: errors grow like √N·ε relative to the peak.
    assert.ok(maxDifference(graph, host) < 2e-6 * maxAbs(host.data), `off by ${maxDifference(graph, host)} of ${maxAbs(host.data)}`);
  });
});

test("a sine's STFT peaks at bin round(f·nFft/sr) with magnitude A·Σw/2", () => {
  const frequency = 100 * (sampleRate / 2048);
  const x = T.tensor('float32', [1, 22050], 'x');
  const magnitude = T.evaluate(stft(x), [[x, batchOf([tone([frequency], 22050, { amplitude: 0.5 })])]]);
  const middle = row(magnitude, 0, 20);
  assert.is(argmax(middle), 100);
  // Hann's sum is nFft/2; an amplitude-A cosine on a bin gives A·Σw/2 there.
  assert.ok(Math.abs(middle[100]! - (0.5 * 1024) / 2) < 1e-3, `${middle[100]}`);
});

test('log compression: log1p(C·x) and dB with amin, ref and a per-clip top_db floor', () => {
  const values = T.array([[[0, 1e-12, 0.01], [1, 10, 100]], [[2, 3, 4], [5, 6, 1e-3]]], { dtype: 'float64' });
  const x = T.tensor('float64', [2, 2, 3], 'x');
  const flat = Array.from(values.data);
  assertClose(T.evaluate(logCompress(x, { factor: 100 }), [[x, values]]), T.array(flat.map((v) => Math.log1p(100 * v)), { shape: [2, 2, 3], dtype: 'float64' }));
  const amplitudeDb = flat.map((v) => 20 * Math.log10(Math.max(1e-5, v)));
  const clipped = amplitudeDb.map((v, i) => Math.max(v, Math.max(...amplitudeDb.slice(i < 6 ? 0 : 6, i < 6 ? 6 : 12)) - 80));
  assertClose(T.evaluate(logCompress(x, { method: 'db-amplitude' }), [[x, values]]), T.array(clipped, { shape: [2, 2, 3], dtype: 'float64' }), { atol: 1e-9 });
  const powerDb = flat.map((v) => 10 * Math.log10(Math.max(1e-10, v)) - 10 * Math.log10(2));
  assertClose(T.evaluate(logCompress(x, { method: 'db-power', ref: 2, topDb: null }), [[x, values]]), T.array(powerDb, { shape: [2, 2, 3], dtype: 'float64' }), { atol: 1e-9 });
  expectGraphError(() => logCompress(x, { method: 'ln' as 'log1p' }), 'logCompress', "method 'ln'");
});

test('stftHost refuses frame lengths fft.js cannot transform', () => {
  assert.throws(() => stftHost(new Float32Array(5000), { nFft: 1000 }), /stftHost: fft.js needs a power-of-two frame length, but nFft is 1000/);
});

test.run();
