// Data types: the five dtypes of Theorbo, their typed-array storage and the promotion
// rules of binary ops. JS numbers used as operands are "weak": they take the other
// operand's dtype (as in JAX), so `x.mul(2)` stays float32 and `i.add(1)` stays int32.
// Deliberately left out: 8/16/64-bit integers and float16.

export const dtypes = ['bool', 'int32', 'uint32', 'float32', 'float64'] as const;
export type DType = (typeof dtypes)[number];

export type FloatDType = 'float32' | 'float64';
export type IntDType = 'int32' | 'uint32';

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (dtypes as readonly string[]).includes(value);
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

export function isInteger(dtype: DType): dtype is IntDType {
  return dtype === 'int32' || dtype === 'uint32';
}

/** Storage of each dtype in the reference evaluator; bool is one byte, 0 or 1. */
export function allocate(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
    case 'uint32': return new Uint32Array(size);
    case 'bool': return new Uint8Array(size);
  }
}

export function dtypeOfArray(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  return 'bool';
}

/**
 * Rounds a JS number to what a dtype can hold, the way a store into its storage does,
 * except that float → int conversion saturates and maps NaN to 0 (WGSL's rule),
 * instead of wrapping modulo 2³².
 */
export function castScalar(value: number, dtype: DType): number {
  switch (dtype) {
    case 'float32': return Math.fround(value);
    case 'float64': return value;
    case 'bool': return value !== 0 ? 1 : 0; // NaN is true, as in numpy and WGSL
    case 'int32':
      if (Number.isNaN(value)) return 0;
      return Math.max(-2147483648, Math.min(2147483647, Math.trunc(value)));
    case 'uint32':
      if (Number.isNaN(value)) return 0;
      return Math.max(0, Math.min(4294967295, Math.trunc(value)));
  }
}

const rank: Record<DType, number> = { bool: 0, uint32: 1, int32: 2, float32: 3, float64: 4 };

/**
 * The dtype of a binary op's result. bool < uint32 < int32 < float32 < float64, so
 * int32 with uint32 is int32 (numpy would widen to int64, which WGSL does not have).
 */
export function promote(a: DType, b: DType): DType {
  return rank[a] >= rank[b] ? a : b;
}

/** The dtype a weak JS number takes next to a tensor of `other`. */
export function weakDType(value: number, other: DType): DType {
  if (isFloat(other)) return other;
  if (Number.isInteger(value)) return other === 'bool' ? 'int32' : other;
  return 'float32';
}

/** Float dtype for transcendental results: float64 stays, everything else computes in float32. */
export function floatOf(dtype: DType): FloatDType {
  return dtype === 'float64' ? 'float64' : 'float32';
}
