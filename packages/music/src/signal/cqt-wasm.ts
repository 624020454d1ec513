// cqtHost's frames in WebAssembly: the clip is copied into PFFFT's memory a chunk of 1024
// frames at a time (padded past its ends), each frame is transformed where it lies (PFFFT, fft-wasm.ts),
// and one small function of our own then gathers the spectrum's bins 0 … bins − 1 out of
// PFFFT's internal order as float64 [re, im] pairs and, for each CQT bin b, takes the
// complex dot product of a run of consecutive spectrum bins with the bin's weights (cqt.ts's
// kernelRuns) and its magnitude, in float64 (f64x2: one complex number a vector). That
// module is a few hundred bytes, encoded below with no toolchain:
//   frame(output, index, count, spectrum, first, width, weights, out, nBins)
// with index int32 (where each of the count = 2·bins floats lies in PFFFT's output),
// first/width int32 (width cumulative, each run's length even), weights (kr, kr, ki, ki)
// float64 quadruples, out float32.
// Per bin: A = Σ x·(kr, kr) and B = Σ x·(ki, ki) over x = (re, im), two entries a step
// in two accumulator pairs, so Re = A₀ − B₁ and Im = B₀ + A₁: the same products as the
// JS loop, summed in another order (float rounding only).
// Left out: f32x4 sums (2 complex a vector; their rounding would be float32's), threads.

import type { HostSignal } from './fft-host.ts';
import { paddedSample } from './fft-host.ts';
import type { PadMode } from './framing.ts';
import { pffftMemory, type WasmRealFft } from './fft-wasm.ts';

const uleb = (value: number): number[] => {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
};
const vector = (bytes: number[]): number[] => [...uleb(bytes.length), ...bytes];
const section = (id: number, bytes: number[]): number[] => [id, ...vector(bytes)];
const utf8 = (text: string): number[] => vector([...text].map((c) => c.charCodeAt(0)));

// Instructions used (the core and SIMD opcodes of the WebAssembly 2.0 spec).
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
// i32.const takes a signed LEB128: below 64 one byte; 64 … 8191 two (bit 6 of the last byte is the sign).
const i32 = (n: number): number[] => {
  if (!(Number.isInteger(n) && n >= 0 && n < 8192)) throw new Error(`cqt-wasm: i32.const ${n} is outside the encoder's 0 … 8191`);
  return n < 64 ? [0x41, n] : [0x41, (n & 0x7f) | 0x80, n >> 7];
};
const i32Load = [0x28, 2, 0];
const i32Add = [0x6a];
const i32Shl = [0x74];
const i32LtU = [0x49];
const f64Add = [0xa0];
const f64Sub = [0xa1];
const f64Mul = [0xa2];
const f64Sqrt = [0x9f];
const f32Demote = [0xb6];
const f32Store = [0x38, 2, 0];
const f32Load = [0x2a, 2, 0];
const f64Store = [0x39, 3, 0];
const f64Promote = [0xbb];
const v128Load = (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)];
const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const f64x2Add = [0xfd, 0xf0, 0x01];
const f64x2Mul = [0xfd, 0xf2, 0x01];
const lane = (l: number) => [0xfd, 0x21, l];
const block = (body: number[]) => [0x02, 0x40, ...body, 0x0b];
const loop = (body: number[]) => [0x03, 0x40, ...body, 0x0b];
const brIf = (depth: number) => [0x0d, depth];

function moduleBytes(): Uint8Array<ArrayBuffer> {
  // Parameters 0–8 (i32): output, index, count, spectrum, first, width, weights, out, nBins.
  // Locals: 9 b, 10 px, 11 pw, 12 end (i32); 13–16 accumulators, 17 x (v128); 18 re, 19 im (f64).
  const output = 0, index = 1, count = 2, spectrum = 3, first = 4, width = 5, weights = 6, out = 7, nBins = 8;
  const b = 9, px = 10, pw = 11, end = 12, a0 = 13, b0 = 14, a1 = 15, b1 = 16, x = 17, re = 18, im = 19;
  const fma = (acc: number, offset: number) => [...get(acc), ...get(x), ...get(pw), ...v128Load(offset), ...f64x2Mul, ...f64x2Add, ...set(acc)];
  const tee = (i: number) => [0x22, i];
  const nonEmpty = (from: number, to: number, body: number[]) => block([...get(from), ...get(to), ...i32LtU, 0x45 /* i32.eqz */, ...brIf(0), ...loop(body)]);
  const body = [
    // The gather: spectrum[j] = output[index[j]], j < count (px walks index, pw the spectrum).
    ...get(index), ...set(px), ...get(spectrum), ...set(pw),
    ...get(index), ...get(count), ...i32(2), ...i32Shl, ...i32Add, ...set(end),
    ...nonEmpty(px, end, [
      ...get(pw), ...get(output), ...get(px), ...i32Load, ...i32(2), ...i32Shl, ...i32Add, ...f32Load, ...f64Promote, ...f64Store,
      ...get(pw), ...i32(8), ...i32Add, ...set(pw),
      ...get(px), ...i32(4), ...i32Add, ...tee(px), ...get(end), ...i32LtU, ...brIf(0),
    ]),
    // The runs, bin by bin.
    ...i32(0), ...set(b),
    ...nonEmpty(b, nBins, [
      // px = spectrum + 16·first[b]; pw = weights + 32·width[b]; end = weights + 32·width[b + 1]
      ...get(spectrum), ...get(first), ...get(b), ...i32(2), ...i32Shl, ...i32Add, ...i32Load, ...i32(4), ...i32Shl, ...i32Add, ...set(px),
      ...get(weights), ...get(width), ...get(b), ...i32(2), ...i32Shl, ...i32Add, ...i32Load, ...i32(5), ...i32Shl, ...i32Add, ...set(pw),
      ...get(weights), ...get(width), ...get(b), ...i32(2), ...i32Shl, ...i32Add, 0x28, 2, 4 /* i32.load offset 4 */, ...i32(5), ...i32Shl, ...i32Add, ...set(end),
      ...v128Zero, ...set(a0), ...v128Zero, ...set(b0), ...v128Zero, ...set(a1), ...v128Zero, ...set(b1),
      ...nonEmpty(pw, end, [
        ...get(px), ...v128Load(0), ...set(x), ...fma(a0, 0), ...fma(b0, 16),
        ...get(px), ...v128Load(16), ...set(x), ...fma(a1, 32), ...fma(b1, 48),
        ...get(px), ...i32(32), ...i32Add, ...set(px),
        ...get(pw), ...i32(64), ...i32Add, ...tee(pw), ...get(end), ...i32LtU, ...brIf(0),
      ]),
      ...get(a0), ...get(a1), ...f64x2Add, ...set(a0), ...get(b0), ...get(b1), ...f64x2Add, ...set(b0),
      ...get(a0), ...lane(0), ...get(b0), ...lane(1), ...f64Sub, ...set(re),
      ...get(b0), ...lane(0), ...get(a0), ...lane(1), ...f64Add, ...set(im),
      ...get(out), ...get(b), ...i32(2), ...i32Shl, ...i32Add,
      ...get(re), ...get(re), ...f64Mul, ...get(im), ...get(im), ...f64Mul, ...f64Add, ...f64Sqrt, ...f32Demote, ...f32Store,
      ...get(b), ...i32(1), ...i32Add, ...tee(b), ...get(nBins), ...i32LtU, ...brIf(0),
    ]),
  ];
  const locals = [3, 4, 0x7f, 5, 0x7b, 2, 0x7c]; // 3 groups: 4 i32, 5 v128, 2 f64
  const code = vector([...locals, ...body, 0x0b]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 9, ...new Array<number>(9).fill(0x7f), 0]),
    ...section(2, [1, ...utf8('pffft'), ...utf8('memory'), 0x02, 0x00, 0]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...utf8('frame'), 0x00, 0]),
    ...section(10, [1, ...code]),
  ]);
}

let compiled: WebAssembly.Module | undefined;

export interface KernelRunsInput {
  /** Spectrum bin of each CQT bin's first weight. */
  first: Int32Array;
  /** Cumulative run lengths, nBins + 1 of them. */
  width: Int32Array;
  /** [re, im] pairs, run after run. */
  weights: Float64Array;
  /** Spectrum bins 0 … bins − 1 are read. */
  bins: number;
}

export interface WasmFrames {
  frameLength: number;
  hop: number;
  /** The first frame's first sample (negative: before the clip). */
  firstStart: number;
  count: number;
  padMode: PadMode;
}

/**
 * The CQT magnitudes of `frames` of `signal` into `out` [count, nBins], all in WebAssembly
 * (see the file comment); `plan` is PFFFT's transform of frameLength samples.
 */
export function wasmCqtFrames(signal: HostSignal, frames: WasmFrames, plan: WasmRealFft, runs: KernelRunsInput, out: Float32Array, onProgress?: (frames: number, total: number) => void): void {
  const heap = pffftMemory()!;
  const { frameLength, hop, firstStart, count, padMode } = frames;
  const { first, width, weights, bins } = runs;
  const nBins = first.length;
  const padded = new Int32Array(nBins + 1);
  for (let b = 0; b < nBins; b++) {
    const length = width[b + 1]! - width[b]!;
    padded[b + 1] = padded[b]! + length + (length % 2);
  }
  // The clip goes through PFFFT's memory a chunk of frames at a time (a few MB however long
  // the clip: the module's memory never shrinks): chunk[n] is sample base + n, zeros or
  // reflections outside the signal, and frame f of the chunk starts at chunk[f·hop].
  const chunkFrames = Math.min(count, 1024);
  const chunkLength = (chunkFrames - 1) * hop + frameLength;
  const blocks: number[] = [];
  const allocate = (bytes: number) => {
    const at = heap.alignedMalloc(bytes);
    blocks.push(at);
    return at;
  };
  try {
    const chunkAt = allocate(4 * chunkLength);
    // PFFFT reads 16-byte aligned frames: with a hop that is not a multiple of 4 each frame is copied to the plan's input first.
    const inPlace = hop % 4 === 0;
    const indexAt = allocate(8 * bins);
    const spectrumAt = allocate(16 * (bins + 1));
    const firstAt = allocate(4 * nBins);
    const widthAt = allocate(4 * (nBins + 1));
    const weightsAt = allocate(32 * Math.max(1, padded[nBins]!));
    const outAt = allocate(4 * chunkFrames * nBins);
    compiled ??= new WebAssembly.Module(moduleBytes());
    const frame = (new WebAssembly.Instance(compiled, { pffft: { memory: heap.memory } })).exports.frame as (...args: number[]) => void;
    // Views after the last allocation (growing the memory detaches earlier ones).
    const buffer = heap.memory.buffer;
    const chunk = new Float32Array(buffer, chunkAt, chunkLength);
    const chunkOut = new Float32Array(buffer, outAt, chunkFrames * nBins);
    const index = new Int32Array(buffer, indexAt, 2 * bins);
    for (let k = 0; k < bins; k++) {
      index[2 * k] = plan.realIndex[k]!;
      index[2 * k + 1] = plan.imagIndex[k]!;
    }
    new Float64Array(buffer, spectrumAt, 2 * (bins + 1)).fill(0);
    new Int32Array(buffer, firstAt, nBins).set(first);
    new Int32Array(buffer, widthAt, nBins + 1).set(padded);
    const quads = new Float64Array(buffer, weightsAt, 4 * Math.max(1, padded[nBins]!)).fill(0);
    for (let b = 0; b < nBins; b++) {
      for (let j = 0; j < width[b + 1]! - width[b]!; j++) {
        const source = 2 * (width[b]! + j);
        const target = 4 * (padded[b]! + j);
        quads[target] = quads[target + 1] = weights[source]!;
        quads[target + 2] = quads[target + 3] = weights[source + 1]!;
      }
    }
    const input = plan.input;
    for (let done = 0; done < count; done += chunkFrames) {
      const frames = Math.min(chunkFrames, count - done);
      const base = firstStart + done * hop;
      const length = (frames - 1) * hop + frameLength;
      const from = Math.min(length, Math.max(0, -base));
      const to = Math.max(from, Math.min(length, signal.length - base));
      if (ArrayBuffer.isView(signal)) chunk.set(signal.subarray(base + from, base + to), from);
      else for (let n = from; n < to; n++) chunk[n] = signal[base + n]!;
      for (let n = 0; n < from; n++) chunk[n] = paddedSample(signal, base + n, padMode);
      for (let n = to; n < length; n++) chunk[n] = paddedSample(signal, base + n, padMode);
      for (let f = 0; f < frames; f++) {
        if (onProgress && (done + f) % 512 === 0) onProgress(done + f, count);
        if (inPlace) plan.transformAt(chunkAt + 4 * f * hop);
        else {
          input.set(chunk.subarray(f * hop, f * hop + frameLength));
          plan.transform();
        }
        frame(plan.outputAt, indexAt, 2 * bins, spectrumAt, firstAt, widthAt, weightsAt, outAt + 4 * f * nBins, nBins);
      }
      out.set(chunkOut.subarray(0, frames * nBins), done * nBins);
    }
  } finally {
    for (const at of blocks) heap.alignedFree(at);
  }
}
