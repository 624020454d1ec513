// Transcendentals for the cpu device's WebAssembly kernels, four float32 lanes at a time:
// WebAssembly has no exp or tanh instruction, so these are Cephes' single-precision
// polynomials (expf, tanhf) with mul + add (no fused multiply-add, so every runtime gives
// the same bits). Each emitter reads its argument from a v128 local and leaves the result
// on the stack; `temp` gives it scratch locals.
// Measured against fround(Math.*) over a dense grid (test/cpu-wasm.test.ts pins it): exp
// within 2 ulp relative (1.2e-7 × 2) on [-87, 88], tanh within 2e-7 absolute, sigmoid
// within 2e-7 absolute. Results below 2^-126 (exp of x < -87.3) lose precision as
// subnormals do; +inf and -inf and NaN map as Math.exp/Math.tanh map them.
// log (Cephes logf: the mantissa in [√½, √2) and a degree-9 polynomial) within 2 ulp
// relative, subnormals scaled first; log(0) = −inf, log of a negative or NaN is NaN.
// Left out: sin, cos, log1p, expm1, erf (kernels with them stay on JS).
import type { FunctionBuilder, Local } from './wasm-encode.ts';

export type Temp = () => Local;

const splat = (f: FunctionBuilder, value: number): FunctionBuilder => f.v128.const([value, value, value, value]);

/** exp(x): x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial in r, times 2^n (in two factors, so n may reach ±150). */
export function emitExp(f: FunctionBuilder, x: Local, temp: Temp): void {
  const clamped = temp(), n = temp(), r = temp(), p = temp(), half = temp();
  // Clamped so that n fits the exponent field twice; pmin/pmax return x itself where x is NaN.
  f.local.get(x); splat(f, 89).f32x4.pmin(); splat(f, -104).f32x4.pmax().local.set(clamped);
  f.local.get(clamped); splat(f, Math.LOG2E).f32x4.mul().f32x4.nearest().local.set(n);
  f.local.get(clamped).local.get(n); splat(f, 0.693359375).f32x4.mul().f32x4.sub();
  f.local.get(n); splat(f, -2.12194440e-4).f32x4.mul().f32x4.sub().local.set(r);
  splat(f, 1.9875691500e-4);
  for (const c of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) {
    f.local.get(r).f32x4.mul(); splat(f, c).f32x4.add();
  }
  f.local.get(r).f32x4.mul().local.get(r).f32x4.mul().local.get(r).f32x4.add();
  splat(f, 1).f32x4.add().local.set(p);
  // 2^n as 2^(n>>1) · 2^(n - n>>1), each built in the exponent bits.
  f.local.get(n).i32x4.truncSatF32x4S().local.set(n);
  f.local.get(n).i32.const(1).i32x4.shrS().local.set(half);
  f.local.get(p);
  f.local.get(half).i32.const(127).i32x4.splat().i32x4.add().i32.const(23).i32x4.shl().f32x4.mul();
  f.local.get(n).local.get(half).i32x4.sub().i32.const(127).i32x4.splat().i32x4.add().i32.const(23).i32x4.shl().f32x4.mul();
}

/** tanh(x): Cephes' odd polynomial below |x| 0.625, else sign(x)·(1 − 2/(exp(2|x|) + 1)). */
export function emitTanh(f: FunctionBuilder, x: Local, temp: Temp): void {
  const z = temp(), small = temp(), twice = temp(), large = temp();
  f.local.get(x).local.get(x).f32x4.mul().local.set(z);
  splat(f, -5.70498872745e-3);
  for (const c of [2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1]) {
    f.local.get(z).f32x4.mul(); splat(f, c).f32x4.add();
  }
  f.local.get(z).f32x4.mul().local.get(x).f32x4.mul().local.get(x).f32x4.add().local.set(small);
  f.local.get(x).f32x4.abs(); splat(f, 2).f32x4.mul().local.set(twice);
  emitExp(f, twice, temp);
  splat(f, 1).f32x4.add().local.set(large);
  splat(f, 1); splat(f, 2).local.get(large).f32x4.div().f32x4.sub().local.set(large);
  // The sign of x on the large branch (exp of a NaN is NaN there: NaN stays NaN).
  f.local.get(large); splat(f, -0).v128.andnot();
  f.local.get(x); splat(f, -0).v128.and().v128.or().local.set(large);
  f.local.get(small).local.get(large);
  f.local.get(x).f32x4.abs(); splat(f, 0.625).f32x4.lt().v128.bitselect();
}

/** sigmoid(x) as the op table computes it: 1/(1 + e) for x ≥ 0, e/(1 + e) below, e = exp(−|x|). */
export function emitSigmoid(f: FunctionBuilder, x: Local, temp: Temp): void {
  const e = temp(), s = temp();
  f.local.get(x).f32x4.abs().f32x4.neg().local.set(e);
  emitExp(f, e, temp);
  f.local.set(e);
  splat(f, 1); splat(f, 1).local.get(e).f32x4.add().f32x4.div().local.set(s);
  f.local.get(s).local.get(e).local.get(s).f32x4.mul();
  f.local.get(x); splat(f, 0).f32x4.ge().v128.bitselect();
}

/** log(x) = e·ln2 + log(m), x = m·2^e with m in [√½, √2); log(m) by Cephes' polynomial in m − 1. */
export function emitLog(f: FunctionBuilder, x: Local, temp: Temp): void {
  const scaled = temp(), exponent = temp(), m = temp(), z = temp(), y = temp(), tiny = temp();
  // Subnormals: scaled by 2^23 first (exact), their exponent lowered to match.
  f.local.get(x).f32x4.abs(); splat(f, 1.17549435e-38).f32x4.lt().local.set(tiny);
  f.local.get(x); splat(f, 8388608).f32x4.mul().local.get(x).local.get(tiny).v128.bitselect().local.set(scaled);
  // frexp: m in [0.5, 1), exponent as float.
  f.local.get(scaled).i32.const(23).i32x4.shrU().i32.const(0xff).i32x4.splat().v128.and().i32.const(126).i32x4.splat().i32x4.sub();
  f.f32x4.convertI32x4S();
  splat(f, -23); splat(f, 0).local.get(tiny).v128.bitselect().f32x4.add().local.set(exponent);
  f.local.get(scaled).i32.const(0x007fffff).i32x4.splat().v128.and().i32.const(0x3f000000).i32x4.splat().v128.or().local.set(m);
  // Below √½: one exponent less, and x = 2m − 1; else x = m − 1.
  f.local.get(m); splat(f, Math.SQRT1_2).f32x4.lt().local.set(tiny);
  f.local.get(exponent); splat(f, 1); splat(f, 0).local.get(tiny).v128.bitselect().f32x4.sub().local.set(exponent);
  f.local.get(m).local.get(m).f32x4.add(); splat(f, 1).f32x4.sub();
  f.local.get(m); splat(f, 1).f32x4.sub();
  f.local.get(tiny).v128.bitselect().local.set(m);
  f.local.get(m).local.get(m).f32x4.mul().local.set(z);
  splat(f, 7.0376836292e-2);
  for (const c of [-1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]) {
    f.local.get(m).f32x4.mul(); splat(f, c).f32x4.add();
  }
  f.local.get(m).f32x4.mul().local.get(z).f32x4.mul();
  f.local.get(exponent); splat(f, -2.12194440e-4).f32x4.mul().f32x4.add();
  f.local.get(z); splat(f, -0.5).f32x4.mul().f32x4.add().local.set(y);
  f.local.get(m).local.get(y).f32x4.add();
  f.local.get(exponent); splat(f, 0.693359375).f32x4.mul().f32x4.add().local.set(y);
  // log(0) = −inf, log(+inf) = +inf, negatives and NaN give NaN.
  splat(f, -Infinity).local.get(y).local.get(x); splat(f, 0).f32x4.eq().v128.bitselect().local.set(y);
  splat(f, Infinity).local.get(y).local.get(x); splat(f, Infinity).f32x4.eq().v128.bitselect().local.set(y);
  splat(f, NaN).local.get(y).local.get(x); splat(f, 0).f32x4.lt().v128.bitselect().local.set(y);
  f.local.get(x).local.get(y).local.get(x).local.get(x).f32x4.ne().v128.bitselect();
}
