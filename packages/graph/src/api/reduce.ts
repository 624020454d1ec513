// User functions for reductions: the primitives sum, prod, max, min, any, all, argmax,
// argmin, and the composites mean, variance, std and logsumexp built from them.
// `axis` follows numpy: undefined or null reduces every axis, a number or a list
// reduces those (negative counts from the end; a repeated or out-of-range axis is an
// error naming it and the type); an empty list reduces nothing.
// Composite results are floats: bool and integer inputs compute in float32, float64
// stays float64. Left out: numpy's dtype=, out=, initial= and where= arguments.

import { applyOp, buildError, composite } from '../build.ts';
import { floatOf, type FloatDType } from '../dtype.ts';
import type { Variable } from '../graph.ts';
import type { ReduceOp } from '../ops.ts';
import { normalizeAxes } from '../type.ts';
import { pad } from './shape.ts';
import { sizeOfAxes } from './construct.ts';
import { asVariable, type TensorLike } from './convert.ts';
import { abs, add, cast, div, exp, log, lt, maximum, mul, sqrt, stopGradient, sub, where } from './elementwise.ts';

export type ReductionAxis = number | readonly number[] | null | undefined;

/** The sorted, normalized axes that `axis` names for `x`, or a GraphError named after `op`. */
export function reductionAxes(op: string, x: Variable, axis: ReductionAxis): number[] {
  if (axis === undefined || axis === null) return x.shape.map((_, i) => i);
  const normalized = normalizeAxes(typeof axis === 'number' ? [axis] : axis, x.type);
  if (typeof normalized === 'string') throw buildError(op, normalized);
  return normalized.sort((a, b) => a - b);
}

const reduction = (op: Exclude<ReduceOp, 'argmax' | 'argmin'>) => (x: TensorLike, axis?: ReductionAxis, keepdims = false): Variable => {
  const variable = asVariable(x);
  return applyOp(op, [variable], { axes: reductionAxes(op, variable, axis), keepdims });
};

/** Sum; bool counts as int32, integers wrap on overflow. */
export const sum = reduction('sum');
/** Product; bool counts as int32, integers wrap on overflow. */
export const prod = reduction('prod');
/** Largest element; NaN wins (numpy); an axis of size 0 is an error. */
export const max = reduction('max');
/** Smallest element; NaN wins (numpy); an axis of size 0 is an error. */
export const min = reduction('min');
/** Whether any element is true (nonzero, not NaN); false over nothing. */
export const any = reduction('any');
/** Whether every element is true (nonzero, not NaN); true over nothing. */
export const all = reduction('all');

const argReduction = (op: 'argmax' | 'argmin') => (x: TensorLike, axis: number | null = null, keepdims = false): Variable => {
  const variable = asVariable(x);
  const normalized = axis === null ? null : reductionAxes(op, variable, axis)[0]!;
  return applyOp(op, [variable], { axis: normalized, keepdims });
};

/** int32 index of the largest element along `axis` (null: of the flattened tensor); first on ties; a NaN counts as largest. */
export const argmax = argReduction('argmax');
/** int32 index of the smallest element along `axis` (null: of the flattened tensor); first on ties; a NaN counts as smallest. */
export const argmin = argReduction('argmin');

/**
 * How many elements each output of a reduction over `axes` gathers: a JS number when
 * every reduced axis is static, else the product of the dims read at run time, cast
 * to `dtype`.
 */
function reducedCount(x: Variable, axes: readonly number[], dtype: FloatDType): number | Variable {
  const count = sizeOfAxes(x, axes);
  return typeof count === 'number' ? count : cast(count, dtype);
}

/** Arithmetic mean; bool and integers give float32. Over nothing it is NaN (0/0), as in numpy. */
export function mean(x: TensorLike, axis?: ReductionAxis, keepdims = false): Variable {
  return composite('mean', () => {
    const variable = asVariable(x);
    const axes = reductionAxes('mean', variable, axis);
    const dtype = floatOf(variable.dtype);
    return div(sum(cast(variable, dtype), axes, keepdims), reducedCount(variable, axes, dtype));
  });
}

export interface VarianceOptions {
  keepdims?: boolean;
  /** Delta degrees of freedom: the divisor is max(n − ddof, 0), as in numpy (0 gives the population variance). */
  ddof?: number;
}

/** Variance: mean of squared deviations from the mean, divided by max(n − ddof, 0). */
export function variance(x: TensorLike, axis?: ReductionAxis, options: VarianceOptions = {}): Variable {
  return composite('variance', () => {
    const { keepdims = false, ddof = 0 } = options;
    const variable = asVariable(x);
    if (!Number.isFinite(ddof)) throw buildError('variance', `ddof must be a finite number, got ${ddof}`);
    const axes = reductionAxes('variance', variable, axis);
    const dtype = floatOf(variable.dtype);
    const values = cast(variable, dtype);
    const deviation = sub(values, mean(values, axes, true));
    const count = reducedCount(variable, axes, dtype);
    const divisor = typeof count === 'number' ? Math.max(count - ddof, 0) : maximum(sub(count, ddof), 0);
    return div(sum(mul(deviation, deviation), axes, keepdims), divisor);
  });
}

/** Standard deviation: sqrt(variance(x, axis, options)). */
export function std(x: TensorLike, axis?: ReductionAxis, options: VarianceOptions = {}): Variable {
  return composite('std', () => sqrt(variance(x, axis, options)));
}

/**
 * The max over `axes` with keepdims, −Infinity where they hold nothing: an axis whose
 * size is known only at run time is padded with one −Infinity (index arithmetic on the
 * device, not a copy), since max of nothing is an error. logsumexp's shift, here and in
 * the stabilize pass.
 */
export function maxOrMinusInfinity(x: Variable, axes: readonly number[]): Variable {
  const runTime = axes.some((axis) => x.shape[axis] === null);
  if (!runTime) return max(x, axes, true);
  const widths = x.shape.map((_, axis) => [0, axes.includes(axis) ? 1 : 0] as [number, number]);
  return max(pad(x, widths, { value: -Infinity }), axes, true);
}

/**
 * log Σ exp(x), computed stably as m + log Σ exp(x − m) with m the maximum. Where m is
 * not finite (a slice of all −Infinity, or a +Infinity or NaN) it shifts by 0 instead,
 * so an all −Infinity slice gives −Infinity rather than NaN (scipy's rule); over an
 * axis of static size 0 it is −Infinity. The shift
 * is a constant to autodiff: its gradient contributions cancel exactly.
 */
export function logsumexp(x: TensorLike, axis?: ReductionAxis, keepdims = false): Variable {
  return composite('logsumexp', () => {
    const variable = asVariable(x);
    const axes = reductionAxes('logsumexp', variable, axis);
    const values = cast(variable, floatOf(variable.dtype));
    // Over nothing it is log 0 = −Infinity (scipy), where max would have nothing to take.
    if (sizeOfAxes(variable, axes) === 0) return add(sum(values, axes, keepdims), -Infinity);
    const peak = maxOrMinusInfinity(values, axes);
    const shift = stopGradient(where(lt(abs(peak), Infinity), peak, 0));
    const total = log(sum(exp(sub(values, shift)), axes, keepdims));
    // With keepdims off, the shift loses its reduced axes (static 1s) to match.
    const kept = shift.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    return add(total, keepdims || axes.length === 0 ? shift : applyOp('dimshuffle', [shift], { pattern: kept }));
  });
}
