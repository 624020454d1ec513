// A real FFT in WebAssembly SIMD for the host's long frames: PFFFT (Julien Pommier's
// SIMD FFT, the @echogarden/pffft-wasm build with -msimd128), float32. About 6× faster
// than fft.js for cqtHost's 16384-sample frames. Its module is instantiated here,
// synchronously (the package's own Emscripten glue only offers a promise), from the bytes
// that `#pffft` reads (pffft-node.ts; in a browser there are none and callers keep fft.js);
// the glue's text says which minified export is which function, so a rebuilt package
// still binds by name, and a glue that no longer says so is an error naming the file.
// The transform's output stays in PFFFT's internal order (its `pffft_transform`, the fast
// one); `realIndex`/`imagIndex` say where bin k lies there, found once per size with
// pffft_zreorder, so a sparse reader needs no reordering pass.
// Left out: inverse and complex transforms, sizes that are not multiples of 32 (PFFFT's
// SIMD real transform needs them), and a browser path.
//
// Shapes: frame [size] float32 → bins k = 0 … size/2 at realIndex[k], imagIndex[k].

import { pffftFiles } from '#pffft';

export interface WasmRealFft {
  size: number;
  // Both views are made anew at each read, as creating another size's plan may grow the
  // module's memory (which detaches older views): read them after the last wasmRealFft call.
  /** The frame to fill before `transform`: `size` float32 samples in the module's memory. */
  readonly input: Float32Array;
  /** The transform's output, size + 4 floats: `output[realIndex[k]] + i·output[imagIndex[k]]` = Σ_n x[n]·e^{−2πikn/size}. */
  readonly output: Float32Array;
  realIndex: Int32Array;
  imagIndex: Int32Array;
  /** Transforms `input` into `output` (the same arrays every call). */
  transform(): void;
  /** Byte address of `output` in the module's memory (pffftMemory). */
  outputAt: number;
  /** Transforms the `size` float32 samples at byte address `inputAt` (16-byte aligned) into `output`. */
  transformAt(inputAt: number): void;
}

interface PffftExports {
  memory: WebAssembly.Memory;
  alignedMalloc(bytes: number): number;
  alignedFree(at: number): void;
  newSetup(size: number, kind: number): number;
  transform(setup: number, input: number, output: number, work: number, direction: number): void;
  transformOrdered(setup: number, input: number, output: number, work: number, direction: number): void;
  zreorder(setup: number, input: number, output: number, direction: number): void;
  simdSize(): number;
}

const exportNames = {
  alignedMalloc: '_pffft_aligned_malloc', alignedFree: '_pffft_aligned_free', newSetup: '_pffft_new_setup', transform: '_pffft_transform',
  transformOrdered: '_pffft_transform_ordered', zreorder: '_pffft_zreorder', simdSize: '_pffft_simd_size',
} as const;
const forward = 0;
const backward = 1;
const realKind = 0;

let module: PffftExports | { reason: string } | undefined;

/** The glue's `_name=Module["_name"]=wasmExports["x"]` lines: the export each function is. */
function exportOf(glue: string, name: string, source: string): string {
  const match = new RegExp(`${name}=Module\\["${name}"\\]=wasmExports\\["(\\w+)"\\]`).exec(glue);
  if (!match) throw new Error(`fft-wasm: the Emscripten glue beside ${source} does not name ${name}'s export; @echogarden/pffft-wasm changed its build (this file reads version 0.4.2's)`);
  return match[1]!;
}

function instantiate(): PffftExports | { reason: string } {
  if (typeof WebAssembly === 'undefined') return { reason: 'this runtime has no WebAssembly' };
  const files = pffftFiles();
  if ('reason' in files) return files;
  let compiled: WebAssembly.Module;
  try {
    compiled = new WebAssembly.Module(files.wasm as Uint8Array<ArrayBuffer>);
  } catch (error) {
    // A runtime without WebAssembly SIMD fails here; the caller keeps fft.js.
    return { reason: `${files.source} does not compile here (${(error as Error).message})` };
  }
  const memoryExport = /wasmMemory=wasmExports\["(\w+)"\]/.exec(files.glue)?.[1];
  const ctorsExport = /__wasm_call_ctors=wasmExports\["(\w+)"\]/.exec(files.glue)?.[1];
  if (!memoryExport || !ctorsExport) throw new Error(`fft-wasm: the Emscripten glue beside ${files.source} does not name its memory and constructors; @echogarden/pffft-wasm changed its build (this file reads version 0.4.2's)`);
  let memory: WebAssembly.Memory | undefined;
  // The three functions the module imports (assert, heap growth, memcpy), in the glue's order.
  const importNames = /wasmImports=\{(\w+):___assert_fail,(\w+):__emscripten_memcpy_js,(\w+):_emscripten_resize_heap\}/.exec(files.glue);
  if (!importNames) throw new Error(`fft-wasm: the Emscripten glue beside ${files.source} does not list its imports as version 0.4.2's does`);
  const imports: Record<string, (...args: number[]) => number | void> = {
    [importNames[1]!]: () => { throw new Error('fft-wasm: PFFFT failed an assertion (a size it does not support)'); },
    [importNames[2]!]: (dest, src, count) => { new Uint8Array(memory!.buffer).copyWithin(dest!, src!, src! + count!); },
    [importNames[3]!]: (requested) => {
      const pages = Math.ceil((requested! - memory!.buffer.byteLength) / 65536);
      try {
        memory!.grow(pages);
        return 1;
      } catch {
        return 0;
      }
    },
  };
  const instance = new WebAssembly.Instance(compiled, { a: imports });
  const exports = instance.exports as Record<string, unknown>;
  memory = exports[memoryExport] as WebAssembly.Memory;
  (exports[ctorsExport] as () => void)();
  const bound = Object.fromEntries(Object.entries(exportNames).map(([key, name]) => [key, exports[exportOf(files.glue, name, files.source)]]));
  return { memory, ...bound } as unknown as PffftExports;
}

/** PFFFT's memory and allocator, for other WebAssembly that works on its buffers (cqt-wasm.ts), or undefined where it cannot run. */
export function pffftMemory(): { memory: WebAssembly.Memory; alignedMalloc(bytes: number): number; alignedFree(at: number): void } | undefined {
  module ??= instantiate();
  if ('reason' in module) return undefined;
  const { memory, alignedMalloc, alignedFree } = module;
  return {
    memory, alignedFree,
    alignedMalloc: (bytes) => {
      const at = alignedMalloc(bytes);
      if (at === 0) throw new Error(`fft-wasm: PFFFT's memory cannot hold ${bytes} more bytes`);
      return at;
    },
  };
}

/** Why the WebAssembly FFT is unavailable here, or undefined when it is available. */
export function wasmFftUnavailable(): string | undefined {
  module ??= instantiate();
  return 'reason' in module ? module.reason : undefined;
}

const plans = new Map<number, WasmRealFft>();

/** PFFFT's forward real transform of `size` samples (a multiple of 32), or undefined where it cannot run (see wasmFftUnavailable). */
export function wasmRealFft(op: string, size: number): WasmRealFft | undefined {
  module ??= instantiate();
  if ('reason' in module) return undefined;
  if (!Number.isInteger(size) || size < 32 || size % 32 !== 0) throw new Error(`${op}: the WebAssembly FFT needs a frame length that is a multiple of 32, but nFft is ${size}`);
  const cached = plans.get(size);
  if (cached) return cached;
  const m = module;
  const setup = m.newSetup(size, realKind);
  if (setup === 0) throw new Error(`${op}: PFFFT has no real transform of ${size} samples`);
  const inputAt = m.alignedMalloc(4 * size);
  const outputAt = m.alignedMalloc(4 * (size + 4));
  const workAt = m.alignedMalloc(4 * size);
  const checkAt = m.alignedMalloc(4 * size);
  // Views are made after every allocation: growing the memory detaches earlier ones.
  const view = (at: number, length: number) => new Float32Array(m.memory.buffer, at, length);
  // Where each ordered value (DC, Nyquist, re 1, im 1, …) lies in the internal order.
  const ordered = view(inputAt, size);
  for (let i = 0; i < size; i++) ordered[i] = i;
  m.zreorder(setup, inputAt, outputAt, backward);
  const internal = view(outputAt, size);
  const position = new Int32Array(size);
  for (let j = 0; j < size; j++) position[internal[j]!] = j;
  const half = size / 2;
  const realIndex = new Int32Array(half + 1);
  const imagIndex = new Int32Array(half + 1);
  // output[size] stays 0 (PFFFT writes size floats): the imaginary part of DC and Nyquist.
  realIndex[0] = position[0]!;
  imagIndex[0] = size;
  realIndex[half] = position[1]!;
  imagIndex[half] = size;
  for (let k = 1; k < half; k++) {
    realIndex[k] = position[2 * k]!;
    imagIndex[k] = position[2 * k + 1]!;
  }
  const plan: WasmRealFft = {
    size, realIndex, imagIndex,
    get input() { return view(inputAt, size); },
    get output() { return view(outputAt, size + 4); },
    transform: () => m.transform(setup, inputAt, outputAt, workAt, forward),
    outputAt,
    transformAt: (at) => m.transform(setup, at, outputAt, workAt, forward),
  };
  plan.output.fill(0);
  // The order found above, checked once against PFFFT's own ordered transform of a ramp.
  const probe = plan.input;
  for (let n = 0; n < size; n++) probe[n] = ((n * 7) % 13) - 6;
  plan.transform();
  m.transformOrdered(setup, inputAt, checkAt, workAt, forward);
  const canonical = view(checkAt, size);
  const out = plan.output;
  for (let k = 1; k < half; k++) {
    if (out[realIndex[k]!] !== canonical[2 * k] || out[imagIndex[k]!] !== canonical[2 * k + 1]) throw new Error(`${op}: PFFFT's internal order of a ${size}-point transform is not what pffft_zreorder said (bin ${k})`);
  }
  out[size] = 0;
  plans.set(size, plan);
  return plan;
}
