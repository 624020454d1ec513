// cqtHost's fast path (PFFFT in WebAssembly SIMD and the kernel sums in our own small
// WebAssembly module) and its fft.js path against the algorithm it replaced, copied here as
// it was: fft.js in float64 and the sparse kernel applied entry by entry. The fft.js path
// must give the old values bit for bit (only zero weights were added to its sums); the
// WebAssembly path within 1e-5 of the clip's largest magnitude (float32 FFT rounding).
// Signals: a tone in every octave, noise, a chord with harmonics, odd lengths, clips shorter
// than the longest filter, reflection padding, uncentred frames, a hop that is not a
// multiple of 4 (frames copied, not read in place), and float64 and plain-array input.
// Clips longer than one chunk of 1024 frames (the WebAssembly path's unit) against the fft.js
// path, and stftHost's PFFFT path (the demo's DFT features) against its fft.js path likewise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { cqtHost, cqtKernel, type CqtOptions } from '../src/signal/index.ts';
import { fftPlan, paddedSample, stftHost, type HostSignal } from '../src/signal/fft-host.ts';
import { pffftMemory, wasmFftUnavailable, wasmRealFft } from '../src/signal/fft-wasm.ts';
import { frameCount } from '../src/signal/framing.ts';
import { tone } from './signal-fixtures.ts';
import { clipFeatures, stackFrames } from '../src/model/features.ts';

type HostOptions = Omit<CqtOptions, 'kernelDomain' | 'method' | 'recursive'>;

/** cqtHost before the WebAssembly path, verbatim but for its name. */
function previousCqtHost(signal: HostSignal, options: HostOptions = {}): T.NDArray {
  const kernel = cqtKernel({ ...options, recursive: false });
  const level = kernel.levels[0]!;
  const { hop, nFft, nBins } = kernel.options;
  const center = options.center ?? true;
  const padMode = options.padMode ?? 'constant';
  const count = frameCount(signal.length, { nFft, hop, center });
  const frameLength = level.nFft;
  const plan = fftPlan('cqtHost', frameLength);
  const frame = new Float64Array(frameLength);
  const spectrum = plan.createComplexArray() as number[];
  const out = new Float32Array(count * nBins);
  const { fftBin, filter, real, imag } = level.sparse;
  const runStart = new Int32Array(nBins + 1);
  for (let i = 0; i < filter.length; i++) runStart[filter[i]! + 1] = i + 1;
  for (let b = 1; b <= nBins; b++) runStart[b] = Math.max(runStart[b]!, runStart[b - 1]!);
  for (let f = 0; f < count; f++) {
    const start = (center ? 0 : nFft / 2) + f * hop - frameLength / 2;
    if (ArrayBuffer.isView(signal) && start >= 0 && start + frameLength <= signal.length) frame.set(signal.subarray(start, start + frameLength));
    else for (let n = 0; n < frameLength; n++) frame[n] = paddedSample(signal, start + n, padMode);
    plan.realTransform(spectrum, frame);
    for (let b = 0; b < nBins; b++) {
      let sumReal = 0;
      let sumImag = 0;
      for (let i = runStart[b]!; i < runStart[b + 1]!; i++) {
        const xr = spectrum[2 * fftBin[i]!]!;
        const xi = spectrum[2 * fftBin[i]! + 1]!;
        sumReal = sumReal + xr * real[i]! - xi * imag[i]!;
        sumImag = sumImag + xr * imag[i]! + xi * real[i]!;
      }
      out[f * nBins + b] = Math.hypot(sumReal, sumImag);
    }
  }
  return T.array(out, { shape: [count, nBins], dtype: 'float32' });
}

let seed = 12345;
const noise = (length: number, amplitude: number): Float32Array => Float32Array.from({ length }, () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return amplitude * (seed / 2 ** 32 - 0.5);
});

/** Checks both paths against the previous algorithm; returns the WebAssembly path's error relative to the largest magnitude. */
function agree(name: string, signal: HostSignal, options: HostOptions = {}): number {
  const expected = previousCqtHost(signal, options);
  const viaFftJs = cqtHost(signal, { ...options, fft: 'fftjs' });
  const viaWasm = cqtHost(signal, { ...options, fft: 'wasm' });
  assert.equal([...viaWasm.shape], [...expected.shape], `${name}: shape`);
  assert.equal([...viaFftJs.shape], [...expected.shape], `${name}: shape`);
  assert.ok(viaFftJs.data.every((value, i) => value === expected.data[i]), `${name}: the fft.js path changed the values`);
  let largest = 0;
  let error = 0;
  for (let i = 0; i < expected.size; i++) {
    largest = Math.max(largest, expected.data[i]!);
    error = Math.max(error, Math.abs(viaWasm.data[i]! - expected.data[i]!));
  }
  assert.ok(largest > 0, `${name}: the clip has no energy`);
  assert.ok(error <= 1e-5 * largest, `${name}: the WebAssembly path differs by ${error} (largest magnitude ${largest})`);
  return error / largest;
}

test('the WebAssembly FFT loads under Node (a failure here would leave cqtHost on fft.js, 4–6× slower)', () => {
  assert.equal(wasmFftUnavailable(), undefined);
});

test('wasmRealFft: bins 0 … N/2 as fft.js computes them, within float32 rounding; sizes must be multiples of 32', async () => {
  const FFT = (await import('fft.js')).default;
  for (const size of [32, 2048, 16384]) {
    const plan = wasmRealFft('test', size)!;
    const x = noise(size, 2);
    plan.input.set(x);
    plan.transform();
    const reference = new FFT(size);
    const out = reference.createComplexArray() as number[];
    reference.realTransform(out, Array.from(x));
    const output = plan.output;
    let error = 0;
    let largest = 0;
    for (let k = 0; k <= size / 2; k++) {
      error = Math.max(error, Math.abs(output[plan.realIndex[k]!]! - out[2 * k]!), Math.abs(output[plan.imagIndex[k]!]! - (k === size / 2 || k === 0 ? 0 : out[2 * k + 1]!)));
      largest = Math.max(largest, Math.abs(out[2 * k]!));
    }
    assert.ok(error < 1e-5 * largest, `${size}: differs by ${error} of ${largest}`);
  }
  assert.throws(() => wasmRealFft('someOp', 48 + 8), /someOp: the WebAssembly FFT needs a frame length that is a multiple of 32, but nFft is 56/);
});

test('cqtHost agrees with the previous algorithm: a tone in every octave, noise and a chord', () => {
  const kernel = cqtKernel();
  for (let octave = 0; octave < 7; octave++) {
    const frequency = kernel.frequencies[octave * 12 + 5]!;
    agree(`tone at ${frequency.toFixed(1)} Hz`, tone([frequency], 11025, { amplitude: 0.5, harmonics: 1 }));
  }
  agree('top bin', tone([kernel.frequencies[83]!], 11025, { amplitude: 0.5, harmonics: 1 }));
  agree('noise', noise(22050, 1));
  agree('chord with harmonics and a little noise', Float32Array.from(tone([130.81, 164.81, 196, 261.63], 22050, { amplitude: 0.2, harmonics: 4 }), (v, i) => v + 0.01 * Math.sin(i * 1.3)));
});

test('the WebAssembly path across its chunks of 1024 frames agrees with the fft.js path', () => {
  const clip = noise(1030 * 512, 1);
  const [viaFftJs, viaWasm] = [cqtHost(clip, { fft: 'fftjs' }), cqtHost(clip, { fft: 'wasm' })];
  assert.is(viaWasm.shape[0], 1031);
  let largest = 0;
  let error = 0;
  for (let i = 0; i < viaFftJs.size; i++) {
    largest = Math.max(largest, viaFftJs.data[i]!);
    error = Math.max(error, Math.abs(viaWasm.data[i]! - viaFftJs.data[i]!));
  }
  assert.ok(error <= 1e-5 * largest, `differs by ${error} (largest ${largest})`);
});

test('cqtHost agrees with the previous algorithm on odd and short clips, reflection, uncentred frames, odd hops and other inputs', () => {
  const chord = tone([110, 220, 330, 440, 1760], 30000, { amplitude: 0.2, harmonics: 3 });
  agree('odd length', chord.subarray(0, 22050 + 357));
  agree('shorter than the longest filter (11340)', chord.subarray(0, 5001));
  agree('one frame', chord.subarray(0, 300));
  agree('reflection padding', chord.subarray(0, 9999), { padMode: 'reflect' });
  agree('uncentred frames', chord, { center: false });
  agree('hop 441 (frames copied, not read in place)', chord.subarray(0, 12345), { hop: 441 });
  agree('24 bins per octave from C3 (8192-sample frames)', chord.subarray(0, 8000), { binsPerOctave: 24, nBins: 96, fmin: 130.81 });
  agree('float64 input', Float64Array.from(chord.subarray(0, 7000)));
  agree('a plain array', Array.from(chord.subarray(0, 4000)));
});

test('cqtHost frees what it allocates in PFFFT\'s memory and passes the clip through it in chunks: a long clip does not grow it', () => {
  cqtHost(noise(22050 * 25, 0.5), { fft: 'wasm' });
  const size = pffftMemory()!.memory.buffer.byteLength;
  cqtHost(noise(22050 * 25, 0.5), { fft: 'wasm' });
  // 200 s: 17.6 MB of float32 samples, more than the module's first 16 MiB, which whole-clip copies would have grown.
  cqtHost(new Float32Array(22050 * 200), { fft: 'wasm' });
  assert.equal(pffftMemory()!.memory.buffer.byteLength, size);
});

test('stftHost with fft \'wasm\' (the demo\'s DFT features) agrees with fft.js within 1e-5 of the largest magnitude', () => {
  const chord = Float32Array.from(tone([110, 220, 330, 440, 1760], 9001, { amplitude: 0.2, harmonics: 3 }), (v, i) => v + 0.05 * Math.sin(i * 2.1));
  const cases: [string, Parameters<typeof stftHost>[1]][] = [
    ['magnitude', { scale: 'magnitude' }], ['power', { scale: 'power' }], ['reflection', { padMode: 'reflect', nFft: 512, hop: 100 }],
    ['uncentred', { center: false, nFft: 1024, hop: 256, window: 'hamming' }],
  ];
  for (const [name, options] of cases) {
    const expected = stftHost(chord, { ...options, fft: 'fftjs' });
    const actual = stftHost(chord, { ...options, fft: 'wasm' });
    assert.equal([...actual.shape], [...expected.shape], name);
    let largest = 0;
    let error = 0;
    for (let i = 0; i < expected.size; i++) {
      largest = Math.max(largest, expected.data[i]!);
      error = Math.max(error, Math.abs(actual.data[i]! - expected.data[i]!));
    }
    assert.ok(error <= 1e-5 * largest, `${name}: differs by ${error} (largest ${largest})`);
  }
  // 'auto' keeps fft.js where PFFFT has no transform (16 samples).
  assert.equal([...stftHost(chord, { nFft: 16, hop: 8, fft: 'auto' }).data], [...stftHost(chord, { nFft: 16, hop: 8 }).data]);
});

test('stftHost\'s frames option and clipFeatures\' dftRows give the same rows as the whole DFT, and stackFrames the same stack', () => {
  const chord = Float32Array.from(tone([110, 220, 330, 440, 1760], 22050, { amplitude: 0.2, harmonics: 3 }), (v, i) => v + 0.05 * Math.sin(i * 2.1));
  const rows = [0, 3, 6, 40, 43];
  for (const fft of ['fftjs', 'wasm'] as const) {
    const whole = stftHost(chord, { fft });
    const picked = stftHost(chord, { fft, frames: rows });
    const width = whole.shape[1]!;
    assert.equal([...picked.shape], [rows.length, width]);
    rows.forEach((f, r) => assert.ok(picked.data.subarray(r * width, (r + 1) * width).every((v, k) => v === whole.data[f * width + k]), `${fft}: frame ${f}`));
  }
  assert.throws(() => stftHost(chord, { frames: [44] }), /stftHost: frame 44 is not one of the clip's 44 frames/);
  const segments: Parameters<typeof clipFeatures>[1] = [];
  const lazy = clipFeatures(chord, segments);
  const eager = clipFeatures(chord, segments);
  const whole = eager.dft;
  const fromRows = lazy.dftRows!(rows);
  rows.forEach((f, r) => assert.ok(fromRows.subarray(r * 1025, (r + 1) * 1025).every((v, k) => v === whole.data[f * 1025 + k]), `dftRows: frame ${f}`));
  assert.equal([...stackFrames([lazy, lazy], 3).dft.data], [...stackFrames([eager, { ...eager, dftRows: undefined }], 3).dft.data]);
});

test('cqtHost and stftHost name a bad fft choice', () => {
  assert.throws(() => cqtHost(new Float32Array(100), { fft: 'pocketfft' as 'wasm' }), /cqtHost: fft 'pocketfft' is not one of 'auto', 'wasm', 'fftjs'/);
  assert.throws(() => stftHost(new Float32Array(100), { fft: 'pocketfft' as 'wasm' }), /stftHost: fft 'pocketfft' is not one of 'auto', 'wasm', 'fftjs'/);
  // Frames of 16 samples (short filters at a low rate): 'auto' keeps fft.js, 'wasm' says why it cannot.
  const tiny = { sampleRate: 1000, fmin: 200, nBins: 12, binsPerOctave: 24, nFft: 16, hop: 4, filterScale: 0.05 };
  const clip = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
  assert.equal([...cqtHost(clip, tiny).data], [...cqtHost(clip, { ...tiny, fft: 'fftjs' }).data]);
  assert.throws(() => cqtHost(clip, { ...tiny, fft: 'wasm' }), /cqtHost: the WebAssembly FFT needs a frame length that is a multiple of 32, but nFft is 16/);
});

test.run();
