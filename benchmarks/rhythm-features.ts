// MFCC and onset strength of 10 minutes of audio (22050 Hz, nFft 2048, hop 512, 128 mel
// bands, 20 MFCCs: 25 840 frames) on Theorbo's cpu device, beside Meyda (npm, pure JS, one
// frame per call) and essentia.js in the same process. Correctness before timing:
//   Theorbo: the compiled graphs' MFCCs and onset envelope against the float64 host peers
//     (mfccHost, onsetStrengthHost: librosa's definitions, themselves checked against
//     librosa's fixtures) on the same 10 minutes — worst error relative to the largest value;
//   Meyda: its amplitude spectrum of three frames against fft.js on the same frame under
//     Meyda's (symmetric) Hann window. Meyda's MFCCs follow its own definitions (bin-edge
//     triangles without area normalization, ln(1 + x), an unnormalized DCT), so they are
//     checked for size and finiteness, not against librosa's. Meyda has no onset strength:
//     its row is Meyda's 128 mel bands per frame (ln(1 + power)) and the same flux
//     (mean over bands of the positive difference, lag 1) in JS.
//   essentia.js (npm, Essentia compiled to WebAssembly, one frame per call) with librosa's
//     settings: its MFCCs and mel bands against the host peers on three frames; its onset
//     row is its mel bands, dB and the same flux in JS.
// Timed in interleaved rounds (Theorbo, Meyda, …), each keeping its best; the first
// Theorbo call (compile and first run) is reported apart. Machine load is printed.
// Usage: npx tsx benchmarks/rhythm-features.ts [--minutes 10] [--rounds 2]

import os from 'node:os';
import * as meydaModule from 'meyda';
import * as essentiaModule from 'essentia.js';
import * as T from '@theorbo/graph';
import { acquireDevice, compile } from '@theorbo/codegen';
import { melSpectrogramHost, mfcc, mfccHost, signalInput } from '../packages/music/src/signal/index.ts';
import { fftPlan } from '../packages/music/src/signal/fft-host.ts';

/** What this file uses of Meyda (its typings describe the browser analyzer). */
interface MeydaExtractor { extract(feature: string, signal: Float32Array): unknown; [setting: string]: unknown }
/** What this file uses of essentia.js (embind vectors must be deleted by hand). */
interface EssentiaVector { delete(): void }
interface EssentiaJs {
  version: string;
  arrayToVector(values: Float32Array): EssentiaVector;
  vectorToArray(vector: EssentiaVector): Float32Array;
  Windowing(frame: EssentiaVector, normalized: boolean, size: number, type: string, zeroPadding: number, zeroPhase: boolean): { frame: EssentiaVector };
  Spectrum(frame: EssentiaVector, size: number): { spectrum: EssentiaVector };
  MFCC(spectrum: EssentiaVector, ...settings: unknown[]): { bands: EssentiaVector; mfcc: EssentiaVector };
  MelBands(spectrum: EssentiaVector, ...settings: unknown[]): { bands: EssentiaVector };
}
const essentiaExports = ((essentiaModule as unknown as { default?: unknown }).default ?? essentiaModule) as { Essentia: new (wasm: unknown) => EssentiaJs; EssentiaWASM: unknown };
const Meyda = ((meydaModule as unknown as { default?: MeydaExtractor }).default ?? meydaModule) as unknown as MeydaExtractor;
import { onsetStrength, onsetStrengthHost } from '../packages/music/src/rhythm/index.ts';

const argument = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const minutes = Number(argument('--minutes') ?? 10);
const rounds = Number(argument('--rounds') ?? 2);
const rate = 22050, nFft = 2048, hop = 512, nMels = 128, nMfcc = 20;

/** A deterministic test signal: decaying tone bursts on a 117 BPM grid, a drone and noise. */
function testSignal(samples: number): Float32Array {
  const out = new Float32Array(samples);
  let seed = 12345;
  const noise = (): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 4294967296 - 0.5; };
  const period = Math.round((60 / 117) * rate / 2);
  for (let n = 0; n < samples; n++) {
    const since = n % period, note = Math.floor(n / period) % 7;
    out[n] = 0.4 * Math.exp(-since / 2000) * Math.sin((2 * Math.PI * 220 * 2 ** (note / 7) * n) / rate) + 0.1 * Math.sin((2 * Math.PI * 110 * n) / rate) + 0.02 * noise();
  }
  return out;
}

const worstRelative = (actual: ArrayLike<number>, expected: ArrayLike<number>): number => {
  let worst = 0, peak = 0;
  for (let i = 0; i < expected.length; i++) peak = Math.max(peak, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst / peak;
};

/** Centred frames with reflect padding, as librosa (and Theorbo) frame a signal. */
function frameAt(signal: Float32Array, f: number, into: Float32Array): Float32Array {
  const start = f * hop - nFft / 2;
  for (let n = 0; n < nFft; n++) {
    let i = start + n;
    if (i < 0) i = -i;
    if (i >= signal.length) i = 2 * (signal.length - 1) - i;
    into[n] = signal[i]!;
  }
  return into;
}

async function main(): Promise<void> {
  const samples = Math.round(minutes * 60 * rate);
  const frames = 1 + Math.floor(samples / hop);
  const signal = testSignal(samples);
  console.log(`rhythm features of ${minutes} min of audio (${samples} samples, ${frames} frames); ${os.cpus().length} cores, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  const device = await acquireDevice({ prefer: 'cpu' });
  console.log(`device: ${device.describe().split('\n')[0]}`);
  const x = signalInput(samples, 'signal', 1);
  const input = T.array(signal, { shape: [1, samples], dtype: 'float32' });
  const theorboMfcc = compile({ inputs: [x], outputs: [mfcc(x, { nMels, nMfcc })], device });
  const theorboOnset = compile({ inputs: [x], outputs: [onsetStrength(x, { nMels })], device });

  // Theorbo: first call (compile + run), then the check against the host peers.
  let start = performance.now();
  const [coefficients] = (await theorboMfcc(input)) as T.NDArray[];
  const firstMfcc = performance.now() - start;
  start = performance.now();
  const [envelope] = (await theorboOnset(input)) as T.NDArray[];
  const firstOnset = performance.now() - start;
  const mfccError = worstRelative(coefficients!.data, mfccHost(signal, { nMels, nMfcc }).data);
  const onsetError = worstRelative(envelope!.data, onsetStrengthHost(signal, { nMels }).data);
  console.log(`check theorbo (cpu): MFCC worst error ${mfccError.toExponential(2)} of the largest, onset strength ${onsetError.toExponential(2)}`);
  if (!(mfccError < 1e-3 && onsetError < 1e-3)) throw new Error('theorbo (cpu) FAILED its check; not timed');

  // Meyda: configure, then check its amplitude spectrum against fft.js.
  Object.assign(Meyda, { bufferSize: nFft, sampleRate: rate, melBands: nMels, numberOfMFCCCoefficients: nMfcc, windowingFunction: 'hanning' });
  const plan = fftPlan('meyda check', nFft);
  const frame = new Float32Array(nFft);
  for (const f of [0, 100, frames - 1]) {
    frameAt(signal, f, frame);
    const spectrum = Meyda.extract('amplitudeSpectrum', frame) as unknown as Float32Array;
    const windowed = Array.from(frame, (v, n) => v * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (nFft - 1))));
    const out = plan.createComplexArray() as number[];
    plan.realTransform(out, windowed);
    const expected = Array.from({ length: nFft / 2 }, (_, k) => Math.hypot(out[2 * k]!, out[2 * k + 1]!));
    const error = worstRelative(spectrum, expected);
    if (!(error < 1e-4)) throw new Error(`meyda FAILED its check: amplitude spectrum of frame ${f} off by ${error} of the largest; not timed`);
  }
  const meydaMfccOnce = Meyda.extract('mfcc', frameAt(signal, 100, frame)) as unknown as number[];
  if (meydaMfccOnce.length !== nMfcc || !meydaMfccOnce.every(Number.isFinite)) throw new Error(`meyda FAILED its check: ${meydaMfccOnce.length} MFCCs, finite: ${meydaMfccOnce.every(Number.isFinite)}`);
  console.log('check meyda: amplitude spectrum within 1e-4 of fft.js on three frames; 20 finite MFCCs');

  // essentia.js with librosa's settings (power spectrum, Slaney mel, unit-area triangles, dB, orthonormal DCT-II).
  const essentia = new essentiaExports.Essentia(essentiaExports.EssentiaWASM);
  const essentiaFrame = (f: number, features: 'mfcc' | 'mel'): Float32Array => {
    const input = essentia.arrayToVector(frameAt(signal, f, frame));
    const windowed = essentia.Windowing(input, false, nFft, 'hann', 0, false);
    const spectrum = essentia.Spectrum(windowed.frame, nFft);
    let values: Float32Array;
    if (features === 'mfcc') {
      const out = essentia.MFCC(spectrum.spectrum, 2, rate / 2, nFft / 2 + 1, 0, 'dbpow', 0, 'unit_tri', nMels, nMfcc, rate, 1e-10, 'power', 'slaneyMel', 'linear');
      values = essentia.vectorToArray(out.mfcc);
      out.bands.delete(); out.mfcc.delete();
    } else {
      const out = essentia.MelBands(spectrum.spectrum, rate / 2, nFft / 2 + 1, false, 0, 'unit_tri', nMels, rate, 'power', 'slaneyMel', 'linear');
      values = essentia.vectorToArray(out.bands);
      out.bands.delete();
    }
    input.delete(); windowed.frame.delete(); spectrum.spectrum.delete();
    return values;
  };
  const hostMel = melSpectrogramHost(signal.subarray(0, 200 * hop), { nMels }).data;
  const hostMfcc = mfccHost(signal, { nMels, nMfcc }).data;
  for (const f of [20, 100, 150]) {
    const mfccError = worstRelative(essentiaFrame(f, 'mfcc'), hostMfcc.subarray(f * nMfcc, (f + 1) * nMfcc));
    const melError = worstRelative(essentiaFrame(f, 'mel'), hostMel.subarray(f * nMels, (f + 1) * nMels));
    if (!(mfccError < 1e-3 && melError < 1e-3)) throw new Error(`essentia.js FAILED its check on frame ${f}: MFCC off by ${mfccError}, mel bands by ${melError} of the largest; not timed`);
  }
  console.log(`check essentia.js ${essentia.version}: MFCCs and mel bands within 1e-3 of the largest value of the host peers' on three frames`);
  const essentiaMfcc = (): void => {
    for (let f = 0; f < frames; f++) essentiaFrame(f, 'mfcc');
  };
  /** The mean positive difference of each frame's bands from the previous frame's (the peers' onset envelope). */
  const flux = (bandsAt: (f: number) => ArrayLike<number>): Float64Array => {
    const out = new Float64Array(frames);
    let previous: ArrayLike<number> | undefined;
    for (let f = 0; f < frames; f++) {
      const bands = bandsAt(f);
      if (previous) {
        let sum = 0;
        for (let m = 0; m < nMels; m++) sum += Math.max(0, bands[m]! - previous[m]!);
        out[f] = sum / nMels;
      }
      previous = bands;
    }
    return out;
  };
  const essentiaOnset = (): Float64Array => flux((f) => Float64Array.from(essentiaFrame(f, 'mel'), (value) => 10 * Math.log10(Math.max(1e-10, value))));

  const meydaMfcc = (): void => {
    for (let f = 0; f < frames; f++) Meyda.extract('mfcc', frameAt(signal, f, frame));
  };
  const meydaOnset = (): Float64Array => flux((f) => Meyda.extract('melBands', frameAt(signal, f, frame)) as unknown as number[]);
  const best: Record<string, number> = {};
  const time = async (label: string, run: () => unknown): Promise<void> => {
    const begin = performance.now();
    await run();
    best[label] = Math.min(best[label] ?? Infinity, performance.now() - begin);
  };
  for (let round = 0; round < rounds; round++) {
    await time('theorbo (cpu) mfcc', () => theorboMfcc(input));
    await time('meyda mfcc', meydaMfcc);
    await time('theorbo (cpu) onset strength', () => theorboOnset(input));
    await time('meyda mel bands + flux', meydaOnset);
    await time('essentia mfcc', essentiaMfcc);
    await time('essentia mel bands + flux', essentiaOnset);
    console.log(`round ${round + 1} done; load ${os.loadavg()[0]!.toFixed(1)}`);
  }
  const audioSeconds = samples / rate;
  console.log(`\n| feature, ${minutes} min of audio | theorbo (cpu): first call | theorbo (cpu): best | meyda: best | × meyda | essentia.js: best | × essentia.js |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, first, ours, meyda, essentiaTime] of [
    ['MFCC (20 of 128 mel bands)', firstMfcc, best['theorbo (cpu) mfcc']!, best['meyda mfcc']!, best['essentia mfcc']!],
    ['onset strength', firstOnset, best['theorbo (cpu) onset strength']!, best['meyda mel bands + flux']!, best['essentia mel bands + flux']!],
  ] as const) {
    console.log(`| ${name} | ${(first / 1000).toFixed(2)} s | ${(ours / 1000).toFixed(2)} s (${(audioSeconds / (ours / 1000)).toFixed(0)}× real time) | ${(meyda / 1000).toFixed(2)} s | ${(meyda / ours).toFixed(2)} | ${(essentiaTime / 1000).toFixed(2)} s | ${(essentiaTime / ours).toFixed(2)} |`);
  }
  console.log(`load after: ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  process.exit(0);
}

await main();
