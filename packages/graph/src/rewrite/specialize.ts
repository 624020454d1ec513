// The specialize pass: general forms become the cheaper ops the backends have, once
// canonicalize and stabilize have seen the general forms.
//
//   x ** 2 → square(x)      x ** 0.5 → sqrt(x)       x ** −1 → reciprocal(x)
//   x ** −0.5 → rsqrt(x)    x · x → square(x)        1 / x → reciprocal(x)
//   x / c → x · (1/c)       for a float constant c whose reciprocal is finite and normal
//   Σ_k a·b → matmul        where the product is exactly a matrix or vector product
//
// The last one recognises sum(mul(a, b), [k]) where, along every other axis of the
// product, exactly one operand varies (at most one such axis each) and both vary along
// k: the operand whose free axis comes first is the left factor, dimshuffled to [i, k]
// (or [k]), the other to [k, j] (or [k]). Batch axes (varying in both) are left alone.
// Rounding: x · (1/c) and matmul's accumulation may differ from the general forms in
// the last bit; x ** 0.5 and sqrt(x) differ only at −0 and −∞ (numpy makes the same trade).

import { applyOp } from '../build.ts';
import { isFloat, type FloatDType } from '../dtype.ts';
import { Constant, type Variable } from '../graph.ts';
import { NDArray } from '../ndarray.ts';
import { matmul } from '../api/linalg.ts';
import { mul, reciprocal, rsqrt, sqrt, square } from '../api/elementwise.ts';
import { pass, rule } from './engine.ts';
import { attrsOf, capture, constant, ifSameType, op, sameType, uniform, type Captures } from './pattern.ts';

const x = capture('x');

const resultIsX = (variable: Variable, { x }: Captures<'x'>): boolean => sameType(variable, x);
const floatResultIsX = (variable: Variable, captures: Captures<'x'>): boolean => isFloat(variable.dtype) && resultIsX(variable, captures);

export const powTwo = rule('pow-two', op('pow', x, uniform(2)).where((v, c) => resultIsX(v, c) && c.x.dtype !== 'bool'), ({ x }) => square(x));
export const powHalf = rule('pow-half', op('pow', x, uniform(0.5)).where(floatResultIsX), ({ x }) => sqrt(x));
export const powMinusOne = rule('pow-minus-one', op('pow', x, uniform(-1)).where(floatResultIsX), ({ x }) => reciprocal(x));
export const powMinusHalf = rule('pow-minus-half', op('pow', x, uniform(-0.5)).where(floatResultIsX), ({ x }) => rsqrt(x));
export const mulSelf = rule('mul-self', op('mul', x, x).where((v, c) => resultIsX(v, c) && c.x.dtype !== 'bool'), ({ x }) => square(x));
export const oneOver = rule('one-over', op('div', uniform(1), x).where(floatResultIsX), ({ x }) => reciprocal(x));

const smallestNormal: Record<FloatDType, number> = { float32: 2 ** -126, float64: 2 ** -1022 };

/** 1/c elementwise in c's dtype, or undefined where some element's reciprocal is not finite and normal (x/c would differ). */
function reciprocalOf(c: Constant): Constant | undefined {
  const dtype = c.dtype as FloatDType;
  const data = c.value.data.map((v) => 1 / v);
  for (let i = 0; i < data.length; i++) {
    const r = data[i]!;
    if (!Number.isFinite(r) || Math.abs(r) < smallestNormal[dtype]) return undefined;
  }
  return new Constant(new NDArray(dtype, c.value.shape, data), undefined, c.location);
}

export const divByConstant = rule(
  'div-by-constant',
  op('div', x, constant.as('c')).where((variable, { x, c }) => isFloat(variable.dtype) && x.dtype === variable.dtype && c.dtype === variable.dtype),
  ({ x, c }) => {
    const inverse = reciprocalOf(c as Constant);
    return inverse && mul(x, inverse);
  },
);

/** Each axis of `product`: the operand's own axis that runs along it, or null where the operand broadcasts (absent or static 1). */
function rolesOf(operand: Variable, product: Variable): (number | null)[] {
  const offset = product.ndim - operand.ndim;
  return product.shape.map((_, axis) => (axis < offset || operand.shape[axis - offset] === 1 ? null : axis - offset));
}

/** The operand as a [free, k] (first) or [k, free] (second) factor, or [k] without a free axis. */
function factor(operand: Variable, roles: readonly (number | null)[], k: number, free: number | undefined, first: boolean): Variable {
  const own = free === undefined ? [roles[k]!] : first ? [roles[free]!, roles[k]!] : [roles[k]!, roles[free]!];
  const identity = own.length === operand.ndim && own.every((axis, i) => axis === i);
  return identity ? operand : applyOp('dimshuffle', [operand], { pattern: own });
}

export const sumOfProduct = rule(
  'sum-of-product',
  op('sum', op('mul', capture('a'), capture('b')).as('product')).attrs(({ axes, keepdims }) => axes.length === 1 && !keepdims),
  ({ a, b, product }, { variable }) => {
    if (!isFloat(product.dtype) || a.dtype !== product.dtype || b.dtype !== product.dtype) return undefined;
    const k = attrsOf(variable, 'sum').axes[0]!;
    const [rolesA, rolesB] = [rolesOf(a, product), rolesOf(b, product)];
    if (rolesA[k] === null || rolesB[k] === null) return undefined;
    const freeA: number[] = [];
    const freeB: number[] = [];
    for (let axis = 0; axis < product.ndim; axis++) {
      if (axis === k) continue;
      if (rolesA[axis] !== null && rolesB[axis] === null) freeA.push(axis);
      else if (rolesB[axis] !== null && rolesA[axis] === null) freeB.push(axis);
      else return undefined; // a batch axis, or one of size 1 in both
    }
    if (freeA.length > 1 || freeB.length > 1) return undefined;
    const aFirst = freeB[0] === undefined || (freeA[0] !== undefined && freeA[0] < freeB[0]);
    const [left, rolesLeft, freeLeft, right, rolesRight, freeRight] = aFirst
      ? [a, rolesA, freeA[0], b, rolesB, freeB[0]] as const
      : [b, rolesB, freeB[0], a, rolesA, freeA[0]] as const;
    return ifSameType(matmul(factor(left, rolesLeft, k, freeLeft, true), factor(right, rolesRight, k, freeRight, false)), variable);
  },
);

export const specializePass = pass('specialize', [
  powTwo, powHalf, powMinusOne, powMinusHalf, mulSelf, oneOver, divByConstant, sumOfProduct,
]);
