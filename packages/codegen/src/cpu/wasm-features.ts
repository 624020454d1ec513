// Which optional WebAssembly features this runtime accepts. Node 20's V8 keeps relaxed
// SIMD behind a flag; flags are process-wide (workers started later see them too), and
// must be set before the modules that use the feature are compiled.
// In a browser there are no flags: validation alone decides.
import { host } from '#host';
import { ModuleBuilder } from './wasm-encode.ts';

let relaxedSimd: boolean | undefined;

/** Whether f32x4.relaxed_madd validates, after turning V8's flag on if it is off. */
export function relaxedSimdSupported(): boolean {
  if (relaxedSimd !== undefined) return relaxedSimd;
  const probe = new ModuleBuilder();
  probe.addFunction('madd', ['v128', 'v128', 'v128'], ['v128'], (f, a, b, c) => {
    f.local.get(a!).local.get(b!).local.get(c!).f32x4.relaxedMadd();
  });
  const bytes = probe.encode();
  if (!WebAssembly.validate(bytes)) host.setV8Flag('--experimental-wasm-relaxed-simd');
  relaxedSimd = WebAssembly.validate(bytes);
  return relaxedSimd;
}
