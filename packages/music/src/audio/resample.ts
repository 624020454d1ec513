// Band-limited resampling with a Kaiser-windowed sinc (the method of resampy and of
// Smith's "Digital Audio Resampling"). The low-pass sits at the lower of the two Nyquist
// frequencies, so downsampling is anti-aliased and upsampling has no images:
//   passband flat (ripple < 0.01 dB) to 90% of that Nyquist; stopband ≥ 90 dB down from
//   99.5% of it; the kernel spans 64 zero crossings of the lower rate on each side.
// Integer rates whose reduced ratio to/from = L/M has L ≤ 4096 (all the usual ones:
// 44100→22050 is 1/2, 48000→22050 is 147/320) use L exact polyphase filters; other ratios
// read the kernel from a finely sampled table (1024 points per zero crossing, linearly
// interpolated, error ≈ 1e-6). Output sample n sits at input time n·from/to, and there
// are ceil(length·to/from) of them (librosa's convention); the signal is zero beyond its
// ends. Time is linear in the input: each output sums at most 128·max(1, from/to) inputs,
// upsampling by more than 768 (1 kHz to 768 kHz) is refused, and the polyphase table is
// built only when it costs no more than the sums themselves (else the cached fine table
// serves), so a tiny file at an odd rate does not pay for thousands of filters.
// Non-finite samples are refused rather than smeared over 128 neighbours. Polyphase outputs
// whose taps lie inside the signal sum in WebAssembly SIMD (resample-wasm.ts): the same
// float64 products summed in another order, so an output can differ from the JS loop's by
// one float32 ulp where a sum lies at a rounding boundary (none did in the test's five
// rate pairs): a 3-minute 44.1 kHz file halves in 0.4-0.7 s instead of 1.9-2.9 s.
// Left out: streaming (the whole signal is in memory), other filter qualities.

import { polyphaseSums } from './resample-wasm.ts';

const halfWidthZeroCrossings = 64;
const rolloff = 0.95;
const stopbandAttenuationDb = 90;
const kaiserBeta = 0.1102 * (stopbandAttenuationDb - 8.7);
const maxPolyphaseFilters = 4096;
const tableResolution = 1024;
const maxUpsampling = 768;
/** Kernel evaluations a polyphase table may always cost (about 10 ms); beyond, only as many as the sums it serves. */
const polyphaseBudget = 1 << 18;
/** Polyphase runs of at least this many interior outputs take the WebAssembly sums (resample-wasm.ts). */
const wasmOutputs = 4096;

/** Resamples `signal` from `fromRate` to `toRate` (Hz) with an anti-aliasing low-pass; `wasm: false` keeps the polyphase sums in JS (for comparison: the same products, summed in another order). */
export function resample(signal: Float32Array, fromRate: number, toRate: number, options: { wasm?: boolean } = {}): Float32Array {
  for (const [name, rate] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
    if (!(Number.isFinite(rate) && rate > 0)) throw new Error(`resample: ${name} must be a positive number of Hz, not ${rate}.`);
  }
  if (toRate / fromRate > maxUpsampling) {
    throw new Error(`resample: upsampling from ${fromRate} to ${toRate} Hz multiplies the length by ${(toRate / fromRate).toFixed(1)}; at most ${maxUpsampling} is supported.`);
  }
  for (let i = 0; i < signal.length; i++) {
    if (!Number.isFinite(signal[i])) throw new Error(`resample: sample ${i} is ${signal[i]}; the signal must be finite (a NaN or infinity would spread over its 128 neighbours).`);
  }
  if (fromRate === toRate) return new Float32Array(signal);
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const divisor = gcd(fromRate, toRate);
    const up = toRate / divisor;
    const down = fromRate / divisor;
    const taps = 2 * Math.ceil(halfWidthZeroCrossings / Math.min(1, up / down));
    const outLength = Math.ceil((signal.length * up) / down);
    if (up <= maxPolyphaseFilters && up * taps <= Math.max(polyphaseBudget, outLength * taps)) return resamplePolyphase(signal, up, down, options);
  }
  return resampleInterpolated(signal, fromRate, toRate);
}

/** The kernel as a function of u, the distance in samples of the lower rate (|u| ≤ 64). */
function kernel(u: number): number {
  const ratio = u / halfWidthZeroCrossings;
  if (ratio <= -1 || ratio >= 1) return 0;
  const x = rolloff * u;
  const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  return rolloff * sinc * besselI0(kaiserBeta * Math.sqrt(1 - ratio * ratio)) / besselI0(kaiserBeta);
}

function resamplePolyphase(signal: Float32Array, up: number, down: number, options: { wasm?: boolean }): Float32Array {
  // scale < 1 stretches the kernel over more input samples when the output rate is lower.
  const scale = Math.min(1, up / down);
  const reach = Math.ceil(halfWidthZeroCrossings / scale);
  const taps = 2 * reach;
  // filters[phase][j] weights input sample base + j - reach + 1 for outputs at base + phase/up.
  const filters = new Float64Array(up * taps);
  for (let phase = 0; phase < up; phase++) {
    for (let j = 0; j < taps; j++) {
      const distance = phase / up - (j - reach + 1);
      filters[phase * taps + j] = scale * kernel(scale * distance);
    }
  }
  const outLength = Math.ceil((signal.length * up) / down);
  const out = new Float32Array(outLength);
  // Outputs whose taps all lie in the signal, [inside, beyond): in WebAssembly when there are many.
  const firstTap = (n: number): number => Math.floor((n * down) / up) - reach + 1;
  let inside = 0;
  while (inside < outLength && firstTap(inside) < 0) inside++;
  let beyond = Math.max(inside, Math.min(outLength, Math.floor(((signal.length - taps + reach) * up) / down) + 2));
  while (beyond > inside && firstTap(beyond - 1) + taps > signal.length) beyond--;
  const wasm = options.wasm !== false && beyond - inside >= wasmOutputs;
  if (wasm) polyphaseSums(signal, filters, out, { from: inside, to: beyond, first: firstTap(inside), phase: (inside * down) % up }, up, down, taps);
  for (let n = 0; n < outLength; n++) {
    if (wasm && n === inside) n = beyond;
    if (n >= outLength) break;
    const position = n * down;
    const base = Math.floor(position / up);
    const phase = position - base * up;
    const first = base - reach + 1;
    const row = phase * taps;
    let sum = 0;
    if (first >= 0 && first + taps <= signal.length) {
      for (let j = 0; j < taps; j++) sum += filters[row + j]! * signal[first + j]!;
    } else {
      const jStart = Math.max(0, -first);
      const jEnd = Math.min(taps, signal.length - first);
      for (let j = jStart; j < jEnd; j++) sum += filters[row + j]! * signal[first + j]!;
    }
    out[n] = sum;
  }
  return out;
}

function resampleInterpolated(signal: Float32Array, fromRate: number, toRate: number): Float32Array {
  const scale = Math.min(1, toRate / fromRate);
  const table = kernelTable();
  const lookup = (u: number): number => {
    const position = Math.abs(u) * tableResolution;
    const index = Math.floor(position);
    if (index >= table.length - 1) return 0;
    const fraction = position - index;
    return table[index]! + fraction * (table[index + 1]! - table[index]!);
  };
  const reach = halfWidthZeroCrossings / scale;
  const step = fromRate / toRate;
  const outLength = Math.ceil((signal.length * toRate) / fromRate);
  const out = new Float32Array(outLength);
  for (let n = 0; n < outLength; n++) {
    const time = n * step;
    const first = Math.max(0, Math.ceil(time - reach));
    const last = Math.min(signal.length - 1, Math.floor(time + reach));
    let sum = 0;
    for (let k = first; k <= last; k++) sum += lookup(scale * (time - k)) * signal[k]!;
    out[n] = scale * sum;
  }
  return out;
}

let cachedTable: Float64Array | undefined;

/** The kernel at 1024 points per zero crossing, computed once (65 538 evaluations). */
function kernelTable(): Float64Array {
  if (cachedTable === undefined) {
    cachedTable = new Float64Array(halfWidthZeroCrossings * tableResolution + 2);
    for (let i = 0; i < cachedTable.length; i++) cachedTable[i] = kernel(i / tableResolution);
  }
  return cachedTable;
}

/** The modified Bessel function of the first kind, order 0, by its power series. */
function besselI0(x: number): number {
  const quarterSquare = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-16; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
