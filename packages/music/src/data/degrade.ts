// Degradations of audio, for training augmentation and the robustness table (Node only:
// the MP3 round trip needs the encoder and decoder packages):
//   withNoise     — gaussian noise, white or one-pole coloured, scaled so that the SNR over
//                   the whole signal is exactly the one asked for (10·log10 Psignal/Pnoise);
//   withGain      — a gain in dB (samples may exceed ±1: features are computed in float);
//   withReverb    — convolution with a synthetic room: an exponentially decaying noise
//                   impulse response whose energy falls 60 dB in rt60 seconds, mixed with
//                   the dry signal and scaled back to the dry signal's RMS;
//   detuned       — the pitch raised by `cents` by reading the signal faster (resampling, so
//                   the tempo changes by the same 0.03–3 %: segment times scale with
//                   detunedTime);
//   mp3RoundTrip  — MP3 encoding (lamejs) and decoding (mpg123) at a bit rate, the codec's
//                   delay removed so that the output lines up with the input sample by sample.
// Every function returns a new Float32Array of the input's length (detuned: of the length
// that the faster reading gives) and leaves the input alone.
// Left out: real room impulse responses, other codecs (AAC, Opus), clipping, time stretching.

import { MPEGDecoder } from 'mpg123-decoder';
import FFT from 'fft.js';
import { resample } from '../audio/resample.ts';
import { SeededRandom } from '../random/seeded-random.ts';

const power = (signal: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < signal.length; i++) sum += signal[i]! ** 2;
  return sum / Math.max(1, signal.length);
};

/** 10·log10(P(clean) / P(degraded − clean)): the SNR a degraded copy of `clean` has. */
export function measuredSnrDb(clean: ArrayLike<number>, degraded: ArrayLike<number>): number {
  if (clean.length !== degraded.length) throw new Error(`measuredSnrDb: the clean signal has ${clean.length} samples but the degraded one ${degraded.length}.`);
  let noise = 0;
  for (let i = 0; i < clean.length; i++) noise += (degraded[i]! - clean[i]!) ** 2;
  return 10 * Math.log10(power(clean) / (noise / Math.max(1, clean.length)));
}

/**
 * The signal plus gaussian noise at exactly `snrDb` (over the whole signal). `color` in
 * [0, 1) low-passes the noise with one pole (0 white; 0.9 dark), as clip-plan.ts's noise floor.
 */
export function withNoise(signal: Float32Array, snrDb: number, random: SeededRandom, color = 0): Float32Array {
  if (!Number.isFinite(snrDb)) throw new Error(`withNoise: the SNR must be a finite number of dB, not ${snrDb}.`);
  if (!(color >= 0 && color < 1)) throw new Error(`withNoise: the noise colour must lie in [0, 1), not ${color}.`);
  const signalPower = power(signal);
  if (!(signalPower > 0)) throw new Error(`withNoise: the signal (${signal.length} samples) is silent, so no noise level has an SNR of ${snrDb} dB.`);
  const noise = new Float64Array(signal.length);
  let state = 0;
  for (let i = 0; i < noise.length; i++) noise[i] = state = color * state + random.normal();
  const scale = Math.sqrt(signalPower / 10 ** (snrDb / 10) / power(noise));
  return Float32Array.from(signal, (sample, i) => sample + scale * noise[i]!);
}

/** The signal scaled by `db` decibels (20·log10 of the amplitude ratio). */
export function withGain(signal: Float32Array, db: number): Float32Array {
  if (!Number.isFinite(db)) throw new Error(`withGain: the gain must be a finite number of dB, not ${db}.`);
  const factor = 10 ** (db / 20);
  return Float32Array.from(signal, (sample) => sample * factor);
}

/**
 * A synthetic room impulse response: gaussian noise under exp(−6.91·t / rt60) (energy down
 * 60 dB at rt60), 1.5·rt60 long, its first sample 1 (the direct sound), unit energy.
 */
export function reverbImpulse(rt60: number, sampleRate: number, random: SeededRandom): Float32Array {
  if (!(rt60 > 0 && rt60 <= 10)) throw new Error(`reverbImpulse: rt60 must be a positive number of seconds up to 10, not ${rt60}.`);
  if (!(sampleRate > 0)) throw new Error(`reverbImpulse: the sample rate must be positive, not ${sampleRate}.`);
  const length = Math.max(2, Math.round(1.5 * rt60 * sampleRate));
  const decay = Math.log(1000) / (rt60 * sampleRate); // amplitude: 60 dB of energy is a factor 1000
  const response = Float32Array.from({ length }, (_, i) => (i === 0 ? 1 : 0.3 * random.normal() * Math.exp(-decay * i)));
  const norm = Math.sqrt(power(response) * length);
  return response.map((value) => value / norm);
}

/** Linear convolution of a and b, cut to a's length (the FFT's size is the next power of two). */
export function convolveSame(a: Float32Array, b: Float32Array): Float32Array {
  let size = 2;
  while (size < a.length + b.length - 1) size *= 2;
  const fft = new FFT(size);
  const spectrum = (values: Float32Array): number[] => {
    const input = new Array<number>(size).fill(0);
    for (let i = 0; i < values.length; i++) input[i] = values[i]!;
    const out = fft.createComplexArray() as number[];
    fft.realTransform(out, input);
    fft.completeSpectrum(out);
    return out;
  };
  const [x, y] = [spectrum(a), spectrum(b)];
  const product = fft.createComplexArray() as number[];
  for (let k = 0; k < size; k++) {
    product[2 * k] = x[2 * k]! * y[2 * k]! - x[2 * k + 1]! * y[2 * k + 1]!;
    product[2 * k + 1] = x[2 * k]! * y[2 * k + 1]! + x[2 * k + 1]! * y[2 * k]!;
  }
  const out = fft.createComplexArray() as number[];
  fft.inverseTransform(out, product);
  return Float32Array.from({ length: a.length }, (_, i) => out[2 * i]!);
}

export interface ReverbOptions {
  /** Seconds for the response's energy to fall 60 dB. */
  rt60: number;
  /** The reverberant share of the mix, in [0, 1] (1: no dry signal). */
  wet: number;
  sampleRate: number;
}

/** The signal in a synthetic room (reverbImpulse), mixed with `wet` of the reverberant part, at the dry signal's RMS. */
export function withReverb(signal: Float32Array, options: ReverbOptions, random: SeededRandom): Float32Array {
  if (!(options.wet >= 0 && options.wet <= 1)) throw new Error(`withReverb: wet must lie in [0, 1], not ${options.wet}.`);
  const reverberant = convolveSame(signal, reverbImpulse(options.rt60, options.sampleRate, random));
  const mixed = Float32Array.from(signal, (sample, i) => (1 - options.wet) * sample + options.wet * reverberant[i]!);
  const dry = power(signal);
  const scale = dry > 0 ? Math.sqrt(dry / power(mixed)) : 1;
  return mixed.map((value) => value * scale);
}

const detuneRatio = (cents: number): number => 2 ** (cents / 1200);

/** The signal `cents` higher (negative: lower), read 2^(cents/1200) times as fast. */
export function detuned(signal: Float32Array, cents: number, sampleRate: number): Float32Array {
  if (!(Math.abs(cents) <= 1200)) throw new Error(`detuned: the detuning must lie within ±1200 cents, not ${cents}.`);
  if (cents === 0) return signal.slice();
  return resample(signal, sampleRate * detuneRatio(cents), sampleRate);
}

/** Where time `seconds` of the original lies in detuned(…, cents, …)'s output. */
export function detunedTime(seconds: number, cents: number): number {
  return seconds / detuneRatio(cents);
}

/** The bit rates (kbit/s) that lamejs encodes at. */
export const mp3BitRates = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320] as const;

async function mp3Encoded(signal: Float32Array, sampleRate: number, kbps: number): Promise<Float32Array> {
  // Imported when used, as ESM: the package's CommonJS build (what a static import becomes
  // under tsx's require hook, as in the tests) assigns no exports.
  const { Mp3Encoder } = await import('@breezystack/lamejs');
  const encoder = new Mp3Encoder(1, sampleRate, kbps);
  const pcm = Int16Array.from(signal, (sample) => Math.round(32767 * Math.max(-1, Math.min(1, sample))));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += 1152) parts.push(encoder.encodeBuffer(pcm.subarray(i, i + 1152)));
  parts.push(encoder.flush());
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  const decoder = new MPEGDecoder();
  await decoder.ready;
  try {
    const decoded = decoder.decode(bytes);
    if (decoded.sampleRate !== sampleRate) throw new Error(`mp3RoundTrip: the decoder returned ${decoded.sampleRate} Hz audio for ${sampleRate} Hz input.`);
    return decoded.channelData[0] ?? new Float32Array(0);
  } finally {
    decoder.free();
  }
}

const codecDelays = new Map<string, number>();

/**
 * The codec's delay in samples at this rate and bit rate: the lag (0–4096) at which a
 * second of white noise, encoded and decoded, correlates best with itself. Found once
 * per (rate, bit rate); lamejs writes no gapless tag, so mpg123 does not trim it.
 */
async function codecDelay(sampleRate: number, kbps: number): Promise<number> {
  const key = `${sampleRate}/${kbps}`;
  const known = codecDelays.get(key);
  if (known !== undefined) return known;
  const random = new SeededRandom(1);
  const probe = Float32Array.from({ length: sampleRate }, () => 0.2 * random.normal());
  const decoded = await mp3Encoded(probe, sampleRate, kbps);
  let best = { lag: 0, score: -Infinity };
  for (let lag = 0; lag <= 4096 && lag < decoded.length; lag++) {
    let score = 0;
    for (let i = 0; i + lag < decoded.length && i < probe.length; i++) score += probe[i]! * decoded[i + lag]!;
    if (score > best.score) best = { lag, score };
  }
  codecDelays.set(key, best.lag);
  return best.lag;
}

/** The signal encoded as MP3 at `kbps` and decoded again, aligned with the input and of its length. */
export async function mp3RoundTrip(signal: Float32Array, sampleRate: number, kbps: number): Promise<Float32Array> {
  if (!(mp3BitRates as readonly number[]).includes(kbps)) throw new Error(`mp3RoundTrip: lamejs encodes at ${mp3BitRates.join(', ')} kbit/s, not ${kbps}.`);
  const delay = await codecDelay(sampleRate, kbps);
  const decoded = await mp3Encoded(signal, sampleRate, kbps);
  const out = new Float32Array(signal.length);
  out.set(decoded.subarray(delay, delay + signal.length));
  return out;
}
