// WGSL vocabulary shared by every kernel: the type of each dtype (bool is a u32 in
// buffers), literals (including ±Infinity and NaN, which WGSL cannot spell), dtype
// conversions with Theorbo's semantics (float→int saturates, NaN→0; nonzero, NaN
// included, is true), and the helper functions kernels may call. Helpers are emitted
// only when a kernel's body mentions them.

import type { DType } from '@theorbo/graph';

export type WgslType = 'f32' | 'i32' | 'u32' | 'bool';

export function wgslType(dtype: DType): WgslType {
  switch (dtype) {
    case 'float32': return 'f32';
    case 'int32': return 'i32';
    case 'uint32': return 'u32';
    case 'bool': return 'bool';
    case 'float64': throw new Error('codegen: float64 has no WGSL type');
  }
}

/** Element type of a storage buffer holding `dtype`. */
export function storageType(dtype: DType): Exclude<WgslType, 'bool'> {
  const type = wgslType(dtype);
  return type === 'bool' ? 'u32' : type;
}

export function literal(value: number, dtype: DType): string {
  switch (dtype) {
    case 'bool': return value !== 0 ? 'true' : 'false';
    case 'int32': return value === -2147483648 ? 'i32(-2147483647 - 1)' : `${value}i`;
    case 'uint32': return `${value >>> 0}u`;
    default: {
      const v = Math.fround(value);
      // Through private variables: a constant expression may not be infinite or NaN in WGSL.
      if (Number.isNaN(v)) return 'bitcast<f32>(th_nan_bits)';
      if (v === Infinity) return 'bitcast<f32>(th_inf_bits)';
      if (v === -Infinity) return 'bitcast<f32>(th_inf_bits | 0x80000000u)';
      if (Object.is(v, -0)) return '-0.0f';
      const text = v.toPrecision(9).replace(/\.?0+e/, 'e').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
      return `${v < 0 ? `(${text}f)` : `${text}f`}`;
    }
  }
}

export const zero = (dtype: DType): string => literal(0, dtype);

/** Converts an expression of dtype `from` to dtype `to`. */
export function convert(expr: string, from: DType, to: DType): string {
  if (from === to) return expr;
  if (to === 'bool') return `(${expr} != ${zero(from === 'bool' ? 'int32' : from)})`;
  if (from === 'bool') return `select(${zero(to)}, ${literal(1, to)}, ${expr})`;
  if (from === 'float32' && to === 'int32') return `th_f32_to_i32(${expr})`;
  if (from === 'float32' && to === 'uint32') return `th_f32_to_u32(${expr})`;
  return `${wgslType(to)}(${expr})`;
}

/** Converts a value read from storage (bool as u32) to its expression type, and back. */
export const fromStorage = (expr: string, dtype: DType): string => (dtype === 'bool' ? `(${expr} != 0u)` : expr);
export const toStorage = (expr: string, dtype: DType): string => (dtype === 'bool' ? `select(0u, 1u, ${expr})` : expr);

/** Helper functions, each emitted when its name appears in a kernel. */
export const helpers: Record<string, string> = {
  th_inf_bits: 'var<private> th_inf_bits: u32 = 0x7f800000u;',
  th_nan_bits: 'var<private> th_nan_bits: u32 = 0x7fc00000u;',
  th_isnan: 'fn th_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }',
  th_isfinite: 'fn th_isfinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }',
  th_f32_to_i32: `fn th_f32_to_i32(x: f32) -> i32 {
  if (th_isnan(x)) { return 0i; }
  if (x >= 2147483648.0f) { return 2147483647i; }
  if (x <= -2147483648.0f) { return i32(-2147483647 - 1); }
  return i32(x);
}`,
  th_f32_to_u32: `fn th_f32_to_u32(x: f32) -> u32 {
  if (th_isnan(x) || x <= 0.0f) { return 0u; }
  if (x >= 4294967296.0f) { return 4294967295u; }
  return u32(x);
}`,
  th_max: 'fn th_max(a: f32, b: f32) -> f32 { if (th_isnan(a) || th_isnan(b)) { return a + b; } return max(a, b); }',
  th_min: 'fn th_min(a: f32, b: f32) -> f32 { if (th_isnan(a) || th_isnan(b)) { return a + b; } return min(a, b); }',
  // ±1 built from x's sign bit, and +0 for ±0: llvmpipe compiles a select of ±1 and 0
  // (floats or their bits alike) to a sign instruction that gives −0 for both zeros.
  th_sign: `fn th_sign(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if (th_isnan(x)) { return x; }
  return bitcast<f32>(select(0u, (bits & 0x80000000u) | 0x3f800000u, (bits & 0x7fffffffu) != 0u));
}`,
  th_copysign_zero: 'fn th_copysign_zero(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & 0x80000000u); }',
  th_sign_i: 'fn th_sign_i(x: i32) -> i32 { return select(select(0i, -1i, x < 0i), 1i, x > 0i); }',
  // Kahan's forms: exact near 0 without a series, no cancellation.
  th_log1p: `fn th_log1p(x: f32) -> f32 {
  let u = 1.0f + x;
  if (u == 1.0f) { return x; }
  if (!th_isfinite(u)) { return log(u); }
  return log(u) * (x / (u - 1.0f));
}`,
  th_expm1: `fn th_expm1(x: f32) -> f32 {
  if (abs(x) < 1e-5f) { return x * (1.0f + 0.5f * x); }
  let u = exp(x);
  if (!th_isfinite(u)) { return u; }
  if (u == 1.0f) { return x; }
  let um1 = u - 1.0f;
  if (um1 == -1.0f) { return -1.0f; }
  return um1 * x / log(u);
}`,
  th_sigmoid: 'fn th_sigmoid(x: f32) -> f32 { if (x >= 0.0f) { return 1.0f / (1.0f + exp(-x)); } let e = exp(x); return e / (1.0f + e); }',
  th_softplus: 'fn th_softplus(x: f32) -> f32 { return max(x, 0.0f) + th_log1p(exp(-abs(x))); }',
  // Small |x| (and ±0, NaN) return x itself: tanh's x − x³/3 is x in float32 below 1e-4.
  th_tanh: 'fn th_tanh(x: f32) -> f32 { if (th_isnan(x) || abs(x) < 1e-4f) { return x; } return tanh(clamp(x, -15.0f, 15.0f)); }',
  // IEEE's atan2 at NaN, zeros and infinities, where llvmpipe's is wrong: y = ±0 gives ±0
  // toward +x (+0 included) and ±π toward −x (−0 included); both infinite, ±π/4 or ±3π/4.
  th_atan2: `fn th_atan2(y: f32, x: f32) -> f32 {
  if (th_isnan(y) || th_isnan(x)) { return bitcast<f32>(th_nan_bits); }
  let sign = bitcast<u32>(y) & 0x80000000u;
  let negative_x = (bitcast<u32>(x) & 0x80000000u) != 0u;
  if (y == 0.0f) { return bitcast<f32>(select(0u, 0x40490fdbu, negative_x) | sign); }
  if (!th_isfinite(y) && !th_isfinite(x)) { return bitcast<f32>(select(0x3f490fdbu, 0x4016cbe4u, negative_x) | sign); }
  return atan2(y, x);
}`,
  // Abramowitz & Stegun 7.1.26 refined: |error| < 1.5e-7, about float32's resolution.
  th_erf: `fn th_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 1e-4f) { return 1.1283791671f * x; }
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let y = 1.0f - (((((1.061405429f * t - 1.453152027f) * t) + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t * exp(-a * a);
  return select(y, -y, x < 0.0f);
}`,
  // C99's pow, as numpy's: every special case spelled out, since WGSL's pow (and
  // llvmpipe's fast math) assume finite, positive operands.
  th_pow: `fn th_pow(a: f32, b: f32) -> f32 {
  let inf = bitcast<f32>(th_inf_bits);
  if (b == 0.0f || a == 1.0f) { return 1.0f; }
  if (th_isnan(a) || th_isnan(b)) { return bitcast<f32>(th_nan_bits); }
  let odd = abs(b) < 16777216.0f && floor(b) == b && (i32(abs(b)) & 1i) == 1i;
  if (!th_isfinite(b)) {
    if (abs(a) == 1.0f) { return 1.0f; }
    return select(0.0f, inf, (abs(a) > 1.0f) == (b > 0.0f));
  }
  if (a == 0.0f || !th_isfinite(a)) {
    // ±0 and ±inf: 0 or inf by the exponent's sign (inverted for 0), the base's sign where b is an odd integer.
    let big = (a == 0.0f) == (b < 0.0f);
    let sign = select(0u, bitcast<u32>(a) & 0x80000000u, odd);
    return bitcast<f32>(select(0u, th_inf_bits, big) | sign);
  }
  if (a > 0.0f) { return exp2(b * log2(a)); }
  if (floor(b) != b) { return bitcast<f32>(th_nan_bits); }
  let m = exp2(b * log2(-a));
  return select(m, -m, odd);
}`,
  th_pow_i: `fn th_pow_i(a: i32, b: i32) -> i32 {
  if (b < 0i) { return select(0i, select(1i, select(1i, -1i, (b & 1i) == 1i), a == -1i), abs(a) == 1i); }
  var result = 1i; var base = a; var e = b;
  loop { if (e == 0i) { break; } if ((e & 1i) == 1i) { result = result * base; } base = base * base; e = e >> 1u; }
  return result;
}`,
  th_pow_u: `fn th_pow_u(a: u32, b: u32) -> u32 {
  var result = 1u; var base = a; var e = b;
  loop { if (e == 0u) { break; } if ((e & 1u) == 1u) { result = result * base; } base = base * base; e = e >> 1u; }
  return result;
}`,
  // C's fmod, exact (WGSL's % is a − b·trunc(a/b), wrong once the quotient passes 2²⁴):
  // subtracts b·2ᵏ for the largest k that fits, each step exact (Sterbenz), one bit of
  // the quotient at a time. NaN for an infinite a or a zero b; a itself for an infinite b.
  th_fmod: `fn th_fmod(a: f32, b: f32) -> f32 {
  if (th_isnan(a) || th_isnan(b) || !th_isfinite(a) || b == 0.0f) { return bitcast<f32>(th_nan_bits); }
  let ab = abs(b);
  var r = abs(a);
  if (r >= ab) {
    let fb = frexp(ab);
    for (var i = 0; i < 300 && r >= ab; i = i + 1) {
      let fr = frexp(r);
      r = r - ldexp(fb.fract, select(fr.exp, fr.exp - 1, fb.fract > fr.fract));
    }
  }
  return bitcast<f32>(bitcast<u32>(r) | (bitcast<u32>(a) & 0x80000000u));
}`,
  // numpy's npy_divmod: (floor quotient, remainder with the divisor's sign).
  th_divmod_f: `fn th_divmod_f(a: f32, b: f32) -> vec2<f32> {
  var m = th_fmod(a, b);
  if (b == 0.0f) {
    // a / ±0: infinite with the operands' signs; NaN for 0/0 and NaN/0.
    let inf = bitcast<f32>(th_inf_bits | ((bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u));
    return vec2<f32>(select(inf, m, a == 0.0f || th_isnan(a)), m);
  }
  if (th_isnan(m)) { return vec2<f32>(m, m); }
  var d = (a - m) / b;
  if (m != 0.0f) {
    if ((b < 0.0f) != (m < 0.0f)) { m = m + b; d = d - 1.0f; }
  } else {
    m = th_copysign_zero(b);
  }
  var q = th_copysign_zero(bitcast<f32>(bitcast<u32>(a) ^ bitcast<u32>(b)));
  if (d != 0.0f) {
    q = floor(d);
    if (d - q > 0.5f) { q = q + 1.0f; }
  }
  return vec2<f32>(q, m);
}`,
  th_mod_f: 'fn th_mod_f(a: f32, b: f32) -> f32 { return th_divmod_f(a, b).y; }',
  th_floordiv_f: 'fn th_floordiv_f(a: f32, b: f32) -> f32 { return th_divmod_f(a, b).x; }',
  th_floordiv_i: `fn th_floordiv_i(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  let q = a / b;
  return select(q, q - 1i, (a % b != 0i) && ((a < 0i) != (b < 0i)));
}`,
  th_mod_i: `fn th_mod_i(a: i32, b: i32) -> i32 {
  if (b == 0i) { return 0i; }
  let r = a % b;
  return select(r, r + b, r != 0i && ((r < 0i) != (b < 0i)));
}`,
  th_div_u: 'fn th_div_u(a: u32, b: u32) -> u32 { return select(a / b, 0u, b == 0u); }',
  th_mod_u: 'fn th_mod_u(a: u32, b: u32) -> u32 { return select(a % b, 0u, b == 0u); }',
  th_mulhi: `fn th_mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let hl = ah * bl; let lh = al * bh; let hh = ah * bh;
  let mid = (ll >> 16u) + (hl & 0xffffu) + (lh & 0xffffu);
  return hh + (hl >> 16u) + (lh >> 16u) + (mid >> 16u);
}`,
  // Philox4x32-10 (see @theorbo/graph's random.ts for the contract this must keep).
  th_philox: `fn th_philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter; var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) { k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u); }
    let hi0 = th_mulhi(0xd2511f53u, c.x); let lo0 = 0xd2511f53u * c.x;
    let hi1 = th_mulhi(0xcd9e8d57u, c.z); let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}`,
};

const helperDependencies: Record<string, string[]> = {
  th_f32_to_i32: ['th_isnan'], th_f32_to_u32: ['th_isnan'], th_max: ['th_isnan'], th_min: ['th_isnan'], th_sign: ['th_isnan'],
  th_log1p: ['th_isfinite'], th_expm1: ['th_isfinite'], th_softplus: ['th_log1p'], th_philox: ['th_mulhi'],
  th_pow: ['th_isnan', 'th_isfinite', 'th_inf_bits', 'th_nan_bits'], th_tanh: ['th_isnan'], th_atan2: ['th_isnan', 'th_isfinite', 'th_nan_bits'],
  th_fmod: ['th_isnan', 'th_isfinite', 'th_nan_bits'], th_divmod_f: ['th_fmod', 'th_copysign_zero', 'th_inf_bits'],
  th_mod_f: ['th_divmod_f'], th_floordiv_f: ['th_divmod_f'],
};

/** The helper definitions a body needs, dependencies first. */
export function helpersFor(body: string): string {
  const needed: string[] = [];
  const add = (name: string): void => {
    if (needed.includes(name)) return;
    for (const dependency of helperDependencies[name] ?? []) add(dependency);
    needed.push(name);
  };
  for (const name of Object.keys(helpers)) if (new RegExp(`\\b${name}\\b`).test(body)) add(name);
  return needed.map((name) => helpers[name]).join('\n');
}
