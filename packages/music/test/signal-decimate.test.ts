// The half-band decimator: its designed response (flat passband, deep stopband,
// half-band symmetry), and the graph's block-Toeplitz matmul against a plain
// convolution computed here, at even and odd lengths. Reference evaluator only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { expectGraphError, seededRandom } from '@theorbo/graph/testing';
import { decimateByTwo, halfBandFilter } from '../src/signal/index.ts';
import { batchOf, row } from './signal-fixtures.ts';

/** |H(f)| at f in cycles per sample. */
function response(h: Float64Array, f: number): number {
  let re = 0;
  let im = 0;
  h.forEach((value, i) => {
    re += value * Math.cos(2 * Math.PI * f * i);
    im += value * Math.sin(2 * Math.PI * f * i);
  });
  return Math.hypot(re, im);
}

test('half-band design: h[0] = 1/2, even taps zero, passband within 1e-4 to 0.2, −80 dB from 0.3', () => {
  const h = halfBandFilter();
  const centre = (h.length - 1) / 2;
  assert.is(h.length, 63);
  assert.is(h[centre], 0.5);
  for (let t = 2; t <= centre; t += 2) assert.is(h[centre + t], 0);
  for (let t = 1; t <= centre; t++) assert.is(h[centre + t], h[centre - t]);
  let pass = 0;
  for (let f = 0; f <= 0.2; f += 0.0005) pass = Math.max(pass, Math.abs(response(h, f) - 1));
  let stop = 0;
  for (let f = 0.3; f <= 0.5; f += 0.0005) stop = Math.max(stop, response(h, f));
  assert.ok(pass < 1e-4, `passband ripple ${pass}`);
  assert.ok(20 * Math.log10(stop) < -80, `stopband ${20 * Math.log10(stop)} dB`);
  assert.ok(Math.abs(response(h, 0.25) - 0.5) < 1e-12, 'half-band: −6 dB at a quarter of the rate');
});

for (const samples of [1000, 777]) {
  test(`decimateByTwo equals the direct convolution y[m] = Σ h[t]·x[2m − t] (${samples} samples)`, () => {
    const random = seededRandom(samples);
    const clips = [0, 1].map(() => Float32Array.from({ length: samples }, () => random() * 2 - 1));
    const x = T.tensor('float64', [null, samples], 'x');
    const y = T.evaluate(decimateByTwo(x), [[x, batchOf(clips, 'float64')]]);
    assert.equal([...y.shape], [2, Math.ceil(samples / 2)]);
    const h = halfBandFilter();
    const reach = (h.length - 1) / 2;
    clips.forEach((clip, b) => {
      const got = row(y, b);
      for (let m = 0; m < got.length; m++) {
        let expected = 0;
        for (let t = -reach; t <= reach; t++) {
          const i = 2 * m - t;
          if (i >= 0 && i < samples) expected += h[reach + t]! * clip[i]!;
        }
        if (Math.abs(got[m]! - expected) > 1e-12) assert.unreachable(`clip ${b}, sample ${m}: ${got[m]} vs ${expected}`);
      }
    });
  });
}

test('a low sine passes the decimator unchanged; one near the old Nyquist is removed', () => {
  const samples = 4000;
  const sine = (f: number): Float32Array => Float32Array.from({ length: samples }, (_, i) => Math.sin(2 * Math.PI * f * i));
  const x = T.tensor('float64', [2, samples], 'x');
  const y = T.evaluate(decimateByTwo(x), [[x, batchOf([sine(0.05), sine(0.4)], 'float64')]]);
  const [low, high] = [row(y, 0), row(y, 1)];
  for (let m = 100; m < 1900; m++) {
    assert.ok(Math.abs(low[m]! - Math.sin(2 * Math.PI * 0.05 * 2 * m)) < 1e-4, `low sine at ${m}`);
    assert.ok(Math.abs(high[m]!) < 1e-4, `high sine leaks ${high[m]} at ${m}`);
  }
});

test('decimateByTwo needs a batch of signals with a static length', () => {
  expectGraphError(() => decimateByTwo(T.matrix('x')), 'decimateByTwo', 'sample count');
});

test.run();
