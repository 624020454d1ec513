// Where Node finds PFFFT's WebAssembly (the `#pffft` import's Node side; fft-wasm.ts
// explains its use): the SIMD build of @echogarden/pffft-wasm and its Emscripten glue,
// whose text names the module's minified exports. Read once, synchronously, so that the
// host FFT needs no await.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface PffftFiles { wasm: Uint8Array; glue: string; source: string }

/** The SIMD build's bytes and glue, or why they cannot be had. */
export function pffftFiles(): PffftFiles | { reason: string } {
  let gluePath: string;
  try {
    gluePath = createRequire(import.meta.url).resolve('@echogarden/pffft-wasm/simd');
  } catch (error) {
    return { reason: `@echogarden/pffft-wasm is not installed (${(error as Error).message.split('\n')[0]}); run pnpm install` };
  }
  const wasmPath = join(dirname(gluePath), 'pffft.wasm');
  try {
    return { wasm: readFileSync(wasmPath), glue: readFileSync(gluePath, 'utf8'), source: wasmPath };
  } catch (error) {
    return { reason: `cannot read ${wasmPath}: ${(error as Error).message}` };
  }
}
