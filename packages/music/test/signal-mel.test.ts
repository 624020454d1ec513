// Mel spectrograms and decibels: the two mel scales at hand-computed points, the
// filterbank's shape and Slaney's unit area, librosa 0.11's mel_power, mel_htk40_nonorm
// and power_to_db(ref=np.max) on the five fixture signals, the graphs against the host
// path, per-clip decibels in a batch, and gradients through mel + dB.
// Reference evaluator only; features-device.test.ts compiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { verifyGrad } from '@theorbo/autodiff';
import { expectGraphError } from '@theorbo/graph/testing';
import {
  amplitudeToDb, fftFrequencies, hzToMel, melFilterbank, melFrequencies, melFromStft, melSpectrogram, melSpectrogramHost, melToHz,
  powerToDb, powerToDbHost, stftHost,
} from '../src/signal/index.ts';
import { elementRelativeError, fixtureNames, frameRelativeError, librosaFixture } from './librosa-fixtures.ts';
import { maxDifference, row } from './signal-fixtures.ts';

test('mel scales: Slaney is 3 mels per 200 Hz below 1 kHz and 27 mels per factor 6.4 above; HTK is 2595·log10(1 + f/700)', () => {
  assert.ok(Math.abs(hzToMel(200) - 3) < 1e-12);
  assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12);
  assert.ok(Math.abs(hzToMel(6400) - 42) < 1e-12);
  assert.ok(Math.abs(hzToMel(700, true) - 2595 * Math.log10(2)) < 1e-9);
  for (const f of [0, 50, 999, 1000, 1001, 4000, 11025]) {
    assert.ok(Math.abs(melToHz(hzToMel(f)) - f) < 1e-9 * Math.max(1, f), `Slaney round trip at ${f} Hz`);
    assert.ok(Math.abs(melToHz(hzToMel(f, true), true) - f) < 1e-9 * Math.max(1, f), `HTK round trip at ${f} Hz`);
  }
  const edges = melFrequencies(5, { fmin: 0, fmax: 1000 });
  assert.equal(Array.from(edges).map((f) => Math.round(f * 1e9) / 1e9), [0, 250, 500, 750, 1000]);
  assert.is(fftFrequencies(22050, 2048)[1024], 11025);
});

test('the filterbank: [1025, 128] float32; each Slaney-normalized band has unit area in Hz; norm null peaks at 1', () => {
  const bank = melFilterbank();
  assert.equal([...bank.shape], [1025, 128]);
  assert.is(bank.dtype, 'float32');
  const binWidth = 22050 / 2048;
  // Bands spanning many FFT bins integrate their triangle accurately: area = Σ w·Δf ≈ 1.
  for (const band of [60, 90, 127]) {
    let area = 0;
    for (let k = 0; k < 1025; k++) area += bank.data[k * 128 + band]! * binWidth;
    assert.ok(Math.abs(area - 1) < 0.02, `band ${band} area ${area}`);
  }
  const plain = melFilterbank({ nMels: 40, htk: true, norm: null, fmin: 30, fmax: 8000 });
  for (let band = 0; band < 40; band++) {
    let peak = 0;
    for (let k = 0; k < 1025; k++) peak = Math.max(peak, plain.data[k * 40 + band]!);
    assert.ok(peak > 0.5 && peak <= 1, `band ${band} peak ${peak}`);
  }
  // Band 20 of 40 HTK bands from 30 Hz to 8 kHz peaks at its centre edge.
  const centre = melFrequencies(42, { fmin: 30, fmax: 8000, htk: true })[21]!;
  const column = Array.from({ length: 1025 }, (_, k) => plain.data[k * 40 + 20]!);
  assert.is(column.indexOf(Math.max(...column)), Math.round(centre / binWidth));
  const l2 = melFilterbank({ nMels: 10, norm: 2 });
  for (let band = 0; band < 10; band++) assert.ok(Math.abs(Math.hypot(...Array.from({ length: 1025 }, (_, k) => l2.data[k * 10 + band]!)) - 1) < 1e-6);
  assert.throws(() => melFilterbank({ fmin: 5000, fmax: 100 }), /0 ≤ fmin < fmax/);
});

for (const name of fixtureNames) {
  test(`librosa ${name}: mel spectrograms within 1e-6 of each element, power_to_db(ref=max) within 1e-6 of each frame's largest value`, () => {
    const fixture = librosaFixture(name);
    const mel = melSpectrogramHost(fixture.y);
    // Same algorithm; librosa sums float32 products of its float32 STFT, we sum float64 ones.
    const slaney = elementRelativeError(mel.data, fixture.features.mel_power.data);
    const htk = elementRelativeError(melSpectrogramHost(fixture.y, { nMels: 40, htk: true, norm: null, fmin: 30, fmax: 8000 }).data, fixture.features.mel_htk40_nonorm.data);
    // Decibels cross zero, so the error is measured against each frame's largest |dB|.
    const decibels = frameRelativeError(powerToDbHost(mel, { ref: 'max' }), fixture.features.power_to_db_ref_max);
    assert.ok(slaney < 1e-6, `mel_power: ${slaney}`);
    assert.ok(htk < 1e-6, `mel_htk40_nonorm: ${htk}`);
    assert.ok(decibels < 1e-6, `power_to_db_ref_max: ${decibels}`);
  });
}

test('the mel graph on an STFT equals the host path; melSpectrogram(signal) equals melSpectrogramHost', () => {
  const fixture = librosaFixture('drums_96bpm');
  const power = stftHost(fixture.y, { scale: 'power' });
  const frames = power.shape[0]!;
  const x = T.tensor('float32', [1, frames, 1025], 'power');
  const graph = T.evaluate(melFromStft(x), [[x, power.reshape([1, frames, 1025])]]);
  assert.ok(elementRelativeError(graph.data, fixture.features.mel_power.data) < 1e-5, 'graph vs librosa');
  const clip = fixture.y.slice(11025, 11025 + 8192);
  const signal = T.tensor('float32', [1, 8192], 'signal');
  const options = { nMels: 40, htk: true, norm: null, fmin: 30, fmax: 8000, power: 1 } as const;
  const fromSignal = T.evaluate(melSpectrogram(signal, options), [[signal, T.array(clip, { shape: [1, 8192] })]]);
  const host = melSpectrogramHost(clip, options);
  assert.ok(elementRelativeError(fromSignal.data, host.data) < 1e-5, `melSpectrogram vs host: ${elementRelativeError(fromSignal.data, host.data)}`);
  expectGraphError(() => melFromStft(T.tensor('float32', [1, 3, 513])), 'melFromStft', 'has 513 bins', 'nFft 2048');
});

test('powerToDb per clip of a batch: ref max and topDb use each clip\'s own peak; amplitudeToDb is 20·log10', () => {
  const values = T.array([[[1, 1e-3], [1e-12, 0.5]], [[100, 10], [1e-9, 1e-5]]], { dtype: 'float64' });
  const x = T.tensor('float64', [2, 2, 2], 'x');
  const db = T.evaluate(powerToDb(x, { ref: 'max', topDb: 60 }), [[x, values]]);
  assert.equal(row(db, 0, 0).map((v) => Math.round(v * 1e9) / 1e9), [0, -30]);
  assert.equal(row(db, 0, 1).map((v) => Math.round(v * 1e9) / 1e9), [-60, Math.round(10 * Math.log10(0.5) * 1e9) / 1e9]);
  assert.equal(row(db, 1, 0).map((v) => Math.round(v * 1e9) / 1e9), [0, -10]);
  assert.equal(row(db, 1, 1).map((v) => Math.round(v * 1e9) / 1e9), [-60, -60]);
  // Each clip alone through the host function gives the same numbers.
  for (let clip = 0; clip < 2; clip++) {
    const one = T.array(values.data.slice(clip * 4, clip * 4 + 4), { shape: [2, 2], dtype: 'float64' });
    const host = powerToDbHost(one, { ref: 'max', topDb: 60 });
    assert.ok(maxDifference(host, T.array(db.data.slice(clip * 4, clip * 4 + 4), { shape: [2, 2], dtype: 'float64' })) < 1e-12);
  }
  const plain = T.evaluate(powerToDb(x, { topDb: null, amin: 1e-10 }), [[x, values]]);
  assert.ok(Math.abs(plain.data[4]! - 20) < 1e-12 && Math.abs(plain.data[2]! + 100) < 1e-9, 'ref 1, floor at amin');
  const amplitude = T.evaluate(amplitudeToDb(x, { topDb: null }), [[x, values]]);
  assert.ok(Math.abs(amplitude.data[4]! - 40) < 1e-12 && Math.abs(amplitude.data[2]! + 100) < 1e-9, 'amin 1e-5 is −100 dB');
  expectGraphError(() => powerToDb(x, { amin: 0 }), 'powerToDb', 'amin 0 must be positive');
});

test('gradients flow through the mel filterbank and decibels (finite differences)', () => {
  const power = T.array(Float64Array.from({ length: 2 * 3 * 9 }, (_, i) => 0.2 + ((i * 37) % 11) / 7), { shape: [2, 3, 9], dtype: 'float64' });
  const report = verifyGrad((x) => powerToDb(melFromStft(x, { nFft: 16, nMels: 4, sampleRate: 8000 }), { ref: 'max', topDb: null }), [power], { rtol: 1e-5, atol: 1e-8 });
  assert.ok(report.worstRatio <= 1, `worst ratio ${report.worstRatio}`);
});

test.run();
