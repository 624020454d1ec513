// The resampler's polyphase sums (resample.ts) in WebAssembly SIMD, for the outputs whose
// taps lie wholly inside the signal: each output is Σ filter[phase][j] · x[first + j] over
// the taps, the float32 samples promoted to float64 two at a time (f64x2) against the
// float64 filter, so the products are the JS loop's and only the order of the sum differs
// (two partial sums, even and odd taps, then added): float rounding of a float64 sum, far
// below the float32 the output is stored in, so the stored outputs agree except where a
// sum lies within that rounding of a float32 boundary (then by one ulp). Outputs step through the phases as JS does:
// the phase grows by down mod up and the first tap by ⌊down/up⌋, plus one on a wrap.
// Memory is the module's own (not shared), grown to hold the signal, the filters and the
// outputs of one call; the module is encoded once (codegen's ModuleBuilder) and compiled
// synchronously (a few hundred bytes, which browsers allow on the main thread).
// Left out: threads, float32 sums.

import { ModuleBuilder } from '@theorbo/codegen';

interface Instance { memory: WebAssembly.Memory; sums: (signal: number, out: number, filters: number, count: number, phase: number, quotient: number, remainder: number, up: number, taps: number) => void }
let instance: Instance | undefined;
const chunkOutputs = 8192;

function module(): Instance {
  if (instance) return instance;
  const builder = new ModuleBuilder();
  builder.importMemory('env', 'memory', { initial: 1, maximum: 65536, shared: false });
  builder.addFunction('sums', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (f, first, out, filters, count, phase, quotient, remainder, up, taps) => {
    const n = f.addLocal('i32'), j = f.addLocal('i32'), row = f.addLocal('i32'), at = f.addLocal('i32'), acc = f.addLocal('v128');
    f.forUp(n, count, 1, () => {
      // row = filters + phase·taps·8; at = first
      f.local.get(filters).local.get(phase).local.get(taps).i32.mul().i32.const(8).i32.mul().i32.add().local.set(row);
      f.local.get(first).local.set(at);
      f.v128.zero().local.set(acc);
      f.forUp(j, taps, 2, () => {
        f.local.get(acc);
        f.local.get(at).v128.load64Zero(0, 2).f64x2.promoteLowF32x4();
        f.local.get(row).v128.load(0, 3).f64x2.mul().f64x2.add().local.set(acc);
        f.local.get(at).i32.const(8).i32.add().local.set(at);
        f.local.get(row).i32.const(16).i32.add().local.set(row);
      });
      f.local.get(out).local.get(n).i32.const(4).i32.mul().i32.add();
      f.local.get(acc).f64x2.extractLane(0).local.get(acc).f64x2.extractLane(1).f64.add().f32.demoteF64().f32.store();
      // Next output: phase += remainder (wrapping at up, one more sample), first += quotient samples.
      f.local.get(first).local.get(quotient).i32.const(4).i32.mul().i32.add().local.set(first);
      f.local.get(phase).local.get(remainder).i32.add().local.tee(phase).local.get(up).i32.geU();
      f.if(() => {
        f.local.get(phase).local.get(up).i32.sub().local.set(phase);
        f.local.get(first).i32.const(4).i32.add().local.set(first);
      });
    });
  });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const made = new WebAssembly.Instance(new WebAssembly.Module(builder.encode()), { env: { memory } });
  instance = { memory, sums: made.exports.sums as Instance['sums'] };
  return instance;
}

/**
 * out[n] for n in [from, to) of resample.ts's polyphase sums, where every tap of each lies
 * in `signal`: `firstTap(n)` is the signal index of output n's first tap, `phaseOf(n)` its
 * filter; `filters` holds up rows of `taps` (even) float64 weights.
 */
export function polyphaseSums(signal: Float32Array, filters: Float64Array, out: Float32Array, range: { from: number; to: number; first: number; phase: number }, up: number, down: number, taps: number): void {
  const count = range.to - range.from;
  if (count <= 0) return;
  const wasm = module();
  // Only the samples the range reads: from its first tap to its last output's last tap.
  const lastFirst = range.first + Math.floor(((count - 1) * down + range.phase) / up);
  const samples = signal.subarray(range.first, lastFirst + taps);
  const bytes = samples.length * 4 + filters.length * 8 + count * 4 + 16;
  const have = wasm.memory.buffer.byteLength;
  if (bytes > have) wasm.memory.grow(Math.ceil((bytes - have) / 65536));
  const filtersAt = 0;
  const signalAt = filters.length * 8;
  const outAt = signalAt + samples.length * 4 + (16 - ((samples.length * 4) % 16)) % 16;
  new Float64Array(wasm.memory.buffer, filtersAt, filters.length).set(filters);
  new Float32Array(wasm.memory.buffer, signalAt, samples.length).set(samples);
  // Calls of a few thousand outputs: V8 runs a new module's first calls in its baseline
  // compiler and swaps in the optimized code between calls, never within one.
  for (let k = 0; k < count; k += chunkOutputs) {
    const step = k * down + range.phase;
    const at = signalAt + 4 * Math.floor(step / up);
    wasm.sums(at, outAt + 4 * k, filtersAt, Math.min(chunkOutputs, count - k), step % up, Math.floor(down / up), down % up, up, taps);
  }
  out.set(new Float32Array(wasm.memory.buffer, outAt, count), range.from);
}
