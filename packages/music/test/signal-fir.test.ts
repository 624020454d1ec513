// The FIR filterbank: the non-recursive CQT's time-domain kernels as conv1d filters
// reproduce the designed CQT (cqtHost) on the reference evaluator and on the device, on
// a chord with harmonics, white noise and a chirp, at the chord models' options (C3–B6,
// 48 bins, 4096 taps), at 36 bins per octave with another hop, and at the defaults (C1,
// 84 bins, 16384 taps). "To 1e-4" means both: the largest |FIR − cqtHost| is at most 1e-4
// of the clip's largest CQT value, and the designed feature log1p(100·|CQT|) differs by at
// most 1e-4. Also: 'valid' windows give the 'center' frames, the gradient with respect
// to the filters against finite differences (and finite at silence), and the errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { grad, verifyGrad } from '@theorbo/autodiff';
import { compile, releaseDevices } from '@theorbo/codegen';
import { expectGraphError, seededRandom } from '@theorbo/graph/testing';
import { cqtFilterbank, cqtHost, cqtKernel, firFilterbank } from '../src/signal/index.ts';
import { frameWindows } from '../src/model/fir.ts';
import { batchOf, maxAbs, sampleRate, tone, webGpuDevice } from './signal-fixtures.ts';

test.after(async () => {
  await releaseDevices();
});

const chordOptions = { fmin: 130.8127826502993, nBins: 48, hop: 512 };
const noise = (samples: number, seed: number): Float32Array => {
  const random = seededRandom(seed);
  return Float32Array.from({ length: samples }, () => 0.5 * (random() * 2 - 1));
};
/** A logarithmic sweep from `low` to `high` Hz. */
const chirp = (samples: number, low: number, high: number): Float32Array => {
  const rate = Math.log(high / low) / (samples / sampleRate);
  return Float32Array.from({ length: samples }, (_, i) => 0.7 * Math.sin((2 * Math.PI * low * (Math.exp((rate * i) / sampleRate) - 1)) / rate));
};
const signals = (samples: number): Float32Array[] => [tone([261.6256, 329.6276, 391.9954], samples, { harmonics: 6, amplitude: 0.3 }), noise(samples, 11), chirp(samples, 100, 5000)];

interface Errors { relative: number; logFeature: number }

/** Worst errors of the bank's output [batch, frames, bins] against cqtHost of each clip. */
function errorsAgainstHost(out: T.NDArray, clips: readonly Float32Array[], options: Parameters<typeof cqtHost>[1]): Errors {
  let worst: Errors = { relative: 0, logFeature: 0 };
  clips.forEach((clip, c) => {
    const host = cqtHost(clip, options);
    assert.equal([out.shape[1], out.shape[2]], [...host.shape], 'frames and bins');
    const peak = maxAbs(host.data);
    let absolute = 0;
    let logFeature = 0;
    for (let i = 0; i < host.size; i++) {
      const [fir, designed] = [out.data[c * host.size + i]!, host.data[i]!];
      absolute = Math.max(absolute, Math.abs(fir - designed));
      logFeature = Math.max(logFeature, Math.abs(Math.log1p(100 * fir) - Math.log1p(100 * designed)));
    }
    worst = { relative: Math.max(worst.relative, absolute / peak), logFeature: Math.max(worst.logFeature, logFeature) };
  });
  return worst;
}

function assertReproduces(errors: Errors, where: string): void {
  assert.ok(errors.relative <= 1e-4, `${where}: max |FIR − cqtHost| is ${errors.relative.toExponential(2)} of the peak`);
  assert.ok(errors.logFeature <= 1e-4, `${where}: max |Δ log1p(100·|CQT|)| is ${errors.logFeature.toExponential(2)}`);
}

test('the bank is the non-recursive kernel: 2·bins filters of N taps, real parts then imaginary parts', () => {
  const bank = cqtFilterbank(chordOptions);
  const level = cqtKernel({ ...chordOptions, recursive: false }).levels[0]!;
  assert.is(bank.taps, 4096, 'C3’s filter is 2835 samples: the next power of two');
  assert.is(level.nFft, bank.taps);
  assert.equal([...bank.filters.shape], [96, 1, 4096]);
  const temporal = level.temporal();
  for (const [b, n] of [[0, 2048], [20, 100], [47, 4000]] as const) {
    assert.ok(Math.abs(bank.filters.data[b * 4096 + n]! - temporal.real[n * 48 + b]!) < 1e-9);
    assert.ok(Math.abs(bank.filters.data[(48 + b) * 4096 + n]! - temporal.imag[n * 48 + b]!) < 1e-9);
  }
  assert.is(cqtFilterbank().taps, 16384, 'from C1 the kernels are 16384 taps');
});

test('reference evaluator: the bank reproduces cqtHost to 1e-4 on a chord, noise and a chirp (C3–B6, 48 bins, hop 512)', () => {
  const clips = signals(22050);
  const bank = cqtFilterbank(chordOptions);
  const x = T.tensor('float32', [null, 22050], 'x');
  const out = T.evaluate(firFilterbank(x, bank.filters, { hop: 512 }), [[x, batchOf(clips)]]);
  const errors = errorsAgainstHost(out, clips, chordOptions);
  assertReproduces(errors, 'reference');
  // Measured: 4e-7 of the peak and 7e-6 in the log feature (float32 storage and √ε).
  assert.ok(errors.relative < 1e-5, `${errors.relative}`);
});

test('device: the compiled bank reproduces cqtHost to 1e-4, and equals the reference evaluator', async () => {
  const device = await webGpuDevice();
  const clips = signals(22050);
  const bank = cqtFilterbank(chordOptions);
  const x = T.tensor('float32', [null, null], 'x');
  const magnitude = firFilterbank(x, bank.filters, { hop: 512 });
  const [out] = (await compile({ inputs: [x], outputs: [magnitude], device })(batchOf(clips))) as T.NDArray[];
  assertReproduces(errorsAgainstHost(out!, clips, chordOptions), 'device');
  const reference = T.evaluate(magnitude, [[x, batchOf(clips)]]);
  let difference = 0;
  for (let i = 0; i < reference.size; i++) difference = Math.max(difference, Math.abs(out!.data[i]! - reference.data[i]!));
  assert.ok(difference < 1e-5 * maxAbs(reference.data), `device vs reference: ${difference}`);
});

test('device: other options reproduce too — 36 bins per octave with hop 256, and the defaults from C1 (16384 taps)', async () => {
  const device = await webGpuDevice();
  for (const options of [{ fmin: 130.8127826502993, nBins: 72, binsPerOctave: 36, hop: 256 }, {}]) {
    const clips = signals(11025);
    const bank = cqtFilterbank(options);
    const x = T.tensor('float32', [null, null], 'x');
    const [out] = (await compile({ inputs: [x], outputs: [firFilterbank(x, bank.filters, { hop: bank.hop })], device })(batchOf(clips))) as T.NDArray[];
    assertReproduces(errorsAgainstHost(out!, clips, options), `${JSON.stringify(options)} (${bank.taps} taps)`);
  }
});

test('padding \'valid\' on one window per frame gives the \'center\' frames of the whole clip', () => {
  const clip = signals(6000)[0]!;
  const bank = cqtFilterbank(chordOptions);
  const frames = [0, 3, 11];
  const x = T.tensor('float32', [null, null], 'x');
  const whole = T.evaluate(firFilterbank(x, bank.filters, { hop: 512 }), [[x, batchOf([clip])]]);
  const windows = frameWindows(clip, frames, bank.taps, 512);
  const each = T.evaluate(firFilterbank(x, bank.filters, { hop: 512, padding: 'valid' }), [[x, windows]]);
  assert.equal([...each.shape], [3, 1, 48]);
  frames.forEach((f, i) => {
    for (let b = 0; b < 48; b++) assert.ok(Math.abs(each.data[i * 48 + b]! - whole.data[f * 48 + b]!) < 1e-6, `frame ${f}, bin ${b}`);
  });
});

test('the gradient with respect to the filters matches finite differences, and stays finite at silence', () => {
  const random = seededRandom(5);
  const signal = T.array(Float64Array.from({ length: 2 * 40 }, () => random() - 0.5), { shape: [2, 40], dtype: 'float64' });
  const filters = T.array(Float64Array.from({ length: 6 * 8 }, () => random() - 0.5), { shape: [6, 1, 8], dtype: 'float64' });
  const report = verifyGrad((x, w) => firFilterbank(x, w, { hop: 3 }), [signal, filters], { rtol: 1e-4, atol: 1e-7 });
  assert.ok(report.worstRatio <= 1, `${report.worstRatio}`);
  const w = T.shared(filters, 'w');
  const x = T.tensor('float64', [null, 40], 'x');
  const [gradient] = T.evaluate([grad(T.sum(firFilterbank(x, w, { hop: 3 })), [w])[0]!], [[x, T.array(new Float64Array(80), { shape: [2, 40], dtype: 'float64' })]]);
  assert.ok(Array.from(gradient!.data).every(Number.isFinite), 'the gradient at silence is finite');
});

test('errors name the filterbank and what it needs', () => {
  const x = T.tensor('float32', [null, 1000], 'x');
  expectGraphError(() => firFilterbank(T.tensor('float32', [1000], 'x'), new Float32Array(8), { hop: 4 }), 'firFilterbank', '[batch, samples]');
  expectGraphError(() => firFilterbank(x, T.tensor('float32', [5, 1, 8], 'w'), { hop: 4 }), 'firFilterbank', '[2·bins, 1, taps]');
  expectGraphError(() => firFilterbank(x, T.tensor('float32', [4, 1, 7], 'w'), { hop: 4 }), 'even number of taps');
  expectGraphError(() => firFilterbank(x, T.tensor('float32', [4, 1, 2048], 'w'), { hop: 4, padding: 'valid' }), 'no whole frame of 2048 taps');
  expectGraphError(() => firFilterbank(x, T.tensor('float32', [4, 1, 8], 'w'), { hop: 0 }), 'hop 0');
});

test.run();
