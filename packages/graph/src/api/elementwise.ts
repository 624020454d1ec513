// User functions for elementwise ops, one per primitive, plus clip (a composite).
// Each accepts Variables or JS values (see convert.ts).

import type { DType } from '../dtype.ts';
import { buildError, composite, applyOp } from '../build.ts';
import { isDType } from '../dtype.ts';
import type { Variable } from '../graph.ts';
import type { BinaryOp, UnaryOp } from '../ops.ts';
import { asVariable, asVariables, type TensorLike } from './convert.ts';

const unary = (op: Exclude<UnaryOp, 'cast'>) => (x: TensorLike): Variable => applyOp(op, [asVariable(x)], {});
const binary = (op: BinaryOp) => (a: TensorLike, b: TensorLike): Variable => applyOp(op, asVariables([a, b]), {});

export const neg = unary('neg');
export const abs = unary('abs');
export const sign = unary('sign');
export const exp = unary('exp');
export const log = unary('log');
export const log1p = unary('log1p');
export const expm1 = unary('expm1');
export const sqrt = unary('sqrt');
export const rsqrt = unary('rsqrt');
export const square = unary('square');
export const reciprocal = unary('reciprocal');
export const sin = unary('sin');
export const cos = unary('cos');
export const tan = unary('tan');
export const tanh = unary('tanh');
export const sigmoid = unary('sigmoid');
export const softplus = unary('softplus');
export const erf = unary('erf');
export const floor = unary('floor');
export const ceil = unary('ceil');
export const round = unary('round');
export const logicalNot = unary('logical_not');
/** The identity, through which autodiff passes no gradient. */
export const stopGradient = unary('stop_gradient');

export const add = binary('add');
export const sub = binary('sub');
export const mul = binary('mul');
export const div = binary('div');
/** Floor division, numpy's `//`. */
export const intDiv = binary('int_div');
/** Modulo with the sign of the divisor, numpy's `%`. */
export const mod = binary('mod');
export const pow = binary('pow');
export const maximum = binary('maximum');
export const minimum = binary('minimum');
export const atan2 = binary('atan2');
export const eq = binary('eq');
export const ne = binary('ne');
export const lt = binary('lt');
export const le = binary('le');
export const gt = binary('gt');
export const ge = binary('ge');
export const logicalAnd = binary('logical_and');
export const logicalOr = binary('logical_or');
export const logicalXor = binary('logical_xor');

export function cast(x: TensorLike, dtype: DType): Variable {
  if (!isDType(dtype)) throw buildError('cast', `unknown dtype '${String(dtype)}'; expected one of bool, int32, uint32, float32, float64`);
  const variable = asVariable(x);
  return variable.dtype === dtype ? variable : applyOp('cast', [variable], { dtype });
}

/** where(condition, a, b): a where condition is true (nonzero), else b; broadcasts all three. */
export function where(condition: TensorLike, a: TensorLike, b: TensorLike): Variable {
  const [then, otherwise] = asVariables([a, b]);
  return applyOp('where', [asVariable(condition), then!, otherwise!], {});
}

/** clip(x, lo, hi) = minimum(maximum(x, lo), hi). */
export function clip(x: TensorLike, lo: TensorLike, hi: TensorLike): Variable {
  return composite('clip', () => minimum(maximum(x, lo), hi));
}
