// Scalar math behind the reference evaluator's elementwise ops (ops.ts's table holds the
// function of each op; these are the ones that take more than a line): erf, sigmoid and
// softplus without overflow, round half to even (numpy and WGSL agree), and numpy's
// floor division, remainder and power with their IEEE special cases (C99's pow, numpy's
// npy_divmod), which JavaScript's Math.pow and % do not follow.

export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  const rounded = diff < 0.5 ? floor : diff > 0.5 || floor % 2 !== 0 ? floor + 1 : floor;
  // Negative values that round to zero give −0, as numpy's and C's rint.
  return rounded === 0 ? x * 0 : rounded;
}

const twoOverSqrtPi = 2 / Math.sqrt(Math.PI);

/** erf to about 1e-15: a positive series for |x| < 3, Lentz's continued fraction for erfc beyond. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (!Number.isFinite(x)) return Math.sign(x);
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

export function softplus(x: number): number {
  // log(1 + e^x) without overflow for large x nor loss for very negative x.
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * numpy's npy_divmod: fmod (exact), moved to the divisor's sign, and the quotient of the
 * exact multiple snapped to an integer. Infinite divisors keep a finite dividend
 * (moved to ±inf when signs differ); infinite dividends and zero divisors give NaN
 * (floor division by zero gives a / b).
 */
function divmod(a: number, b: number): [quotient: number, remainder: number] {
  let mod = a % b;
  if (b === 0) return [a / b, mod];
  let div = (a - mod) / b;
  if (mod !== 0) {
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  } else {
    mod = b < 0 ? -0 : 0;
  }
  let floorDiv: number;
  if (div !== 0) {
    floorDiv = Math.floor(div);
    if (div - floorDiv > 0.5) floorDiv += 1;
  } else {
    floorDiv = a / b < 0 || Object.is(a / b, -0) ? -0 : 0;
  }
  return [floorDiv, mod];
}

export const floorDivide = (a: number, b: number): number => divmod(a, b)[0];
export const remainder = (a: number, b: number): number => divmod(a, b)[1];

/** C99's pow: 1 for x⁰ and 1ʸ (NaN included) and (−1)^±∞; Math.pow gives NaN for the last two. */
export function power(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return Math.pow(a, b);
}

/** An integer to an integer power, wrapping modulo 2³² as int32/uint32 products do; a negative power gives 0, or ±1 for a base of ±1. */
export function integerPower(a: number, b: number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b % 2 === 0 ? 1 : -1) : 0;
  let result = 1;
  let base = a | 0;
  for (let e = b; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
  }
  return result;
}
