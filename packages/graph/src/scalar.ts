// Scalar math shared by the reference evaluator: the function behind each elementwise
// op, applied to JS doubles and rounded to the output dtype by the caller. Integer
// division and modulo follow numpy (floor division; the result of mod takes the sign
// of the divisor); division by zero in integers gives 0. round is half to even (numpy
// and WGSL agree).

import type { BinaryOp, UnaryOp } from './ops.ts';

export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

const twoOverSqrtPi = 2 / Math.sqrt(Math.PI);

/** erf to about 1e-15: a positive series for |x| < 3, Lentz's continued fraction for erfc beyond. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf(x) = 2/√π · e^{-x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)), all terms positive.
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (2 * ax * ax) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return Math.sign(x) * twoOverSqrtPi * Math.exp(-ax * ax) * sum;
  }
  return Math.sign(x) * (1 - erfcLarge(ax));
}

function erfcLarge(x: number): number {
  // erfc(x) = e^{-x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated by modified Lentz.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

function softplus(x: number): number {
  // log(1 + e^x) without overflow for large x nor loss for very negative x.
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

type Unary = (x: number) => number;
type Binary = (a: number, b: number) => number;

/** Scalar function of each unary op; `cast` and `stop_gradient` are the identity here. */
export const unaryScalar: Record<UnaryOp, Unary> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0),
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  tanh: Math.tanh,
  sigmoid,
  softplus,
  erf,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  logical_not: (x) => (x === 0 ? 1 : 0),
  cast: (x) => x,
  stop_gradient: (x) => x,
};

/** Nonzero is true, NaN included (numpy's and WGSL's rule). */
export const truthy = (x: number): boolean => x !== 0;

/** Scalar function of each binary op, on doubles; integer ops get `integer: true`. */
export function binaryScalar(op: BinaryOp, integer: boolean): Binary {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return integer ? (a, b) => Math.imul(a, b) : (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'int_div': return integer ? (a, b) => (b === 0 ? 0 : Math.floor(a / b)) : (a, b) => Math.floor(a / b);
    case 'mod': return integer
      ? (a, b) => (b === 0 ? 0 : a - Math.floor(a / b) * b)
      : (a, b) => (b === 0 ? NaN : a - Math.floor(a / b) * b);
    case 'pow': return integer ? (a, b) => (b < 0 ? (Math.abs(a) === 1 ? Math.pow(a, b) : 0) : Math.pow(a, b)) : Math.pow;
    case 'maximum': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case 'minimum': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    case 'atan2': return Math.atan2;
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'ne': return (a, b) => (a !== b ? 1 : 0);
    case 'lt': return (a, b) => (a < b ? 1 : 0);
    case 'le': return (a, b) => (a <= b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
    case 'ge': return (a, b) => (a >= b ? 1 : 0);
    case 'logical_and': return (a, b) => (truthy(a) && truthy(b) ? 1 : 0);
    case 'logical_or': return (a, b) => (truthy(a) || truthy(b) ? 1 : 0);
    case 'logical_xor': return (a, b) => (truthy(a) !== truthy(b) ? 1 : 0);
  }
}
