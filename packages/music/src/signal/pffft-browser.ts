// The `#pffft` import in a browser: a page cannot read PFFFT's .wasm file synchronously,
// so the host FFT there stays on fft.js (fft-wasm.ts; the results agree to float rounding).

export interface PffftFiles { wasm: Uint8Array; glue: string; source: string }

export function pffftFiles(): PffftFiles | { reason: string } {
  return { reason: 'a browser page cannot load PFFFT\'s WebAssembly synchronously' };
}
