// Neural-network composites built from primitives: relu (the talk's half-wave
// rectification), softmax and log-softmax (max subtracted, as a constant for the
// gradient), categorical cross-entropy, mean squared error and l1/l2 norms.
// They need no rules of their own in any table.

import { composite } from '../build.ts';
import { buildError } from '../build.ts';
import { isInteger } from '../dtype.ts';
import type { Variable } from '../graph.ts';
import { asVariable, type TensorLike } from './convert.ts';
import { abs, exp, gt, log, lt, mul, neg, sqrt, square, stopGradient, sub, div, where } from './elementwise.ts';
import { max, mean, sum } from './reduce.ts';
import { arange, dim } from './construct.ts';
import { get } from './indexing.ts';

/** max(x, 0), or a leaky slope `alpha` below zero; the gradient at 0 is 0. */
export function relu(x: TensorLike, alpha = 0): Variable {
  return composite('relu', () => {
    const input = asVariable(x);
    return where(gt(input, 0), input, alpha === 0 ? 0 : mul(input, alpha));
  });
}

/** The talk's `hwr`: half-wave rectification. */
export const hwr = (x: TensorLike): Variable => relu(x);

function shiftedByMax(x: Variable, axis: number): Variable {
  return sub(x, stopGradient(max(x, axis, true)));
}

/** x − m with m the maximum where it is finite, else 0 (scipy's log_softmax: a row holding +inf gives −inf and NaN, not all NaN). */
function shiftedByFiniteMax(x: Variable, axis: number): Variable {
  const peak = max(x, axis, true);
  return sub(x, stopGradient(where(lt(abs(peak), Infinity), peak, 0)));
}

/** exp(x) normalised along `axis` (default the last). */
export function softmax(x: TensorLike, axis = -1): Variable {
  return composite('softmax', () => {
    const e = exp(shiftedByMax(asVariable(x), axis));
    return div(e, sum(e, axis, true));
  });
}

/** log(softmax(x)) computed stably: (x - m) - log Σ exp(x - m), m the row's maximum where finite (else 0, as scipy). */
export function logSoftmax(x: TensorLike, axis = -1): Variable {
  return composite('log_softmax', () => {
    const shifted = shiftedByFiniteMax(asVariable(x), axis);
    return sub(shifted, log(sum(exp(shifted), axis, true)));
  });
}

/**
 * Theano's categorical_crossentropy: per-row −log p[target] for integer class targets
 * (a vector for a matrix of probabilities), or −Σ t·log p along the last axis for
 * targets of the same shape as the predictions (one-hot or soft).
 */
export function categoricalCrossentropy(predictions: TensorLike, targets: TensorLike): Variable {
  return composite('categorical_crossentropy', () => {
    const p = asVariable(predictions);
    const t = asVariable(targets);
    if (isInteger(t.dtype)) {
      if (p.ndim !== 2 || t.ndim !== 1) {
        throw buildError('categorical_crossentropy', `integer targets need predictions [batch, classes] and targets [batch]; got ${p.type} and ${t.type}`);
      }
      return neg(log(get(p, arange(dim(t, 0)), t)));
    }
    if (t.ndim !== p.ndim) {
      throw buildError('categorical_crossentropy', `targets ${t.type} must be integer class indices or have the predictions' rank (${p.type})`);
    }
    return neg(sum(mul(t, log(p)), -1));
  });
}

/** mean((a − b)²) over every element: a scalar. */
export function meanSquaredError(a: TensorLike, b: TensorLike): Variable {
  return composite('mean_squared_error', () => mean(square(sub(a, b))));
}

/** Σ|x| over `axis` (default every axis). */
export function l1Norm(x: TensorLike, axis?: number | number[] | null, keepdims = false): Variable {
  return composite('l1_norm', () => sum(abs(asVariable(x)), axis, keepdims));
}

/** √Σx² over `axis` (default every axis). */
export function l2Norm(x: TensorLike, axis?: number | number[] | null, keepdims = false): Variable {
  return composite('l2_norm', () => sqrt(sum(square(asVariable(x)), axis, keepdims)));
}
