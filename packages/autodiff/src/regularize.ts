// Penalties and constraints on parameters, after Lasagne's `regularization` and
// `norm_constraint`: l1 (sparsity) and l2 (weight decay) penalties to add to a loss,
// a max-norm constraint that rescales the slices of a tensor whose l2 norm is too large,
// and `constrainUpdates`, which applies it to the new values in an update list.
// Left out: penalties weighted per parameter (multiply before adding) and
// per-layer parameter collection (there are no layers here; pass the parameters).
//
// Shapes in maxNormConstraint's default axes: a dense weight is [in, out], a
// convolution weight [out, in, ...kernel].

import * as T from '@theorbo/graph';
import { GraphError, SharedVariable, Variable, captureLocation } from '@theorbo/graph';
import { isOptimizerState, type Hyperparameter, type Updates } from './updates.ts';

function fail(op: string, detail: string): never {
  throw new GraphError(op, detail, captureLocation());
}

const describe = (variable: Variable): string => (variable.name ? `'${variable.name}' (${variable.type})` : `${variable.type}`);

function penalty(op: string, params: Variable | readonly Variable[], perElement: (x: Variable) => Variable): Variable {
  const list = params instanceof Variable ? [params] : params;
  list.forEach((param, i) => {
    if (!(param instanceof Variable) || !T.isFloat(param.dtype)) {
      fail(op, `parameter ${i} is ${param instanceof Variable ? describe(param) : typeof param}; penalties apply to float tensors`);
    }
  });
  // No parameters, no penalty: Lasagne's sum over an empty list.
  if (list.length === 0) return T.scalarConstant(0, 'float32');
  return T.composite(op, () => list.map((param) => T.sum(perElement(param))).reduce((total, part) => T.add(total, part)));
}

/** Σ|w| over every element of every parameter (sparsity); its gradient at w = 0 is 0. In the widest dtype among them. */
export function l1Penalty(params: Variable | readonly Variable[]): Variable {
  return penalty('l1_penalty', params, T.abs);
}

/** Σw² over every element of every parameter (weight decay), without a factor ½ (Lasagne's convention). */
export function l2Penalty(params: Variable | readonly Variable[]): Variable {
  return penalty('l2_penalty', params, T.square);
}

/** Lasagne's default axes: the input axis of a dense weight, all but the output axis of a convolution weight. */
function defaultNormAxes(value: Variable): number[] {
  if (value.ndim === 2) return [0];
  if (value.ndim >= 3 && value.ndim <= 5) return Array.from({ length: value.ndim - 1 }, (_, k) => k + 1);
  return fail('max_norm_constraint', `has no default norm axes for ${describe(value)} (defaults exist for 2-D dense weights [in, out] and 3- to 5-D convolution weights [out, in, ...]); pass normAxes`);
}

/**
 * w · min(1, c / (‖w‖ + ε)), with ‖w‖ the l2 norm over `normAxes` (kept as size-1 axes)
 * and c = maxNorm: each slice whose norm exceeds c is scaled down to norm c, the others
 * are left exactly as they are (Lasagne instead scales them by ‖w‖/(‖w‖ + ε)). The
 * default axes follow Lasagne: axis 0 of a 2-D [in, out] weight, so each output unit's
 * incoming weights are limited; axes 1… of a 3- to 5-D [out, in, ...] weight.
 */
export function maxNormConstraint(value: Variable, maxNorm: Hyperparameter, normAxes?: number | readonly number[], epsilon = 1e-7): Variable {
  const op = 'max_norm_constraint';
  if (!(value instanceof Variable) || !T.isFloat(value.dtype)) fail(op, `can only constrain float tensors, not ${value instanceof Variable ? describe(value) : typeof value}`);
  if (typeof maxNorm === 'number' ? !(maxNorm >= 0) : !(maxNorm instanceof Variable && maxNorm.ndim === 0)) {
    fail(op, `the maximum norm must be a non-negative number or a scalar Variable, but it is ${maxNorm instanceof Variable ? describe(maxNorm) : String(maxNorm)}`);
  }
  const axes = normAxes === undefined ? defaultNormAxes(value) : T.reductionAxes(op, value, normAxes);
  return T.composite(op, () => {
    const norms = T.sqrt(T.sum(T.square(value), axes, true));
    const limit = typeof maxNorm === 'number' ? T.scalarConstant(maxNorm, value.dtype) : T.cast(maxNorm, value.dtype);
    return T.mul(value, T.minimum(1, T.div(limit, T.add(norms, epsilon))));
  });
}

export interface ConstrainOptions {
  normAxes?: number | readonly number[];
  epsilon?: number;
}

/**
 * Applies maxNormConstraint to the new values of `params` in an update list and returns
 * the new list (same order; the given one is not changed). Without `params`, every
 * target of 2 to 5 dimensions that is not an update rule's own state is constrained:
 * the weights, but not biases, velocities or moment estimates.
 */
export function constrainUpdates(updates: Updates, maxNorm: Hyperparameter, params?: readonly SharedVariable[], options: ConstrainOptions = {}): Updates {
  const targets = new Set(updates.map(([target]) => target));
  const chosen = new Set(params ?? updates.map(([target]) => target).filter((target) => !isOptimizerState(target) && target.ndim >= 2 && target.ndim <= 5));
  for (const param of chosen) {
    if (!targets.has(param)) fail('constrain_updates', `${param instanceof Variable ? describe(param) : typeof param} has no update in this list, so there is no new value to constrain`);
  }
  return updates.map(([target, value]): [SharedVariable, Variable] =>
    (chosen.has(target) ? [target, maxNormConstraint(value, maxNorm, options.normAxes, options.epsilon)] : [target, value]));
}
