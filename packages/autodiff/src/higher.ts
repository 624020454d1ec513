// Higher-order helpers built on grad: Jacobians and Hessians (unrolled over the
// output's elements, so the output's size must be static), Hessian-vector products,
// Theano's Lop, and Rop (forward mode) by the double-VJP trick: the VJP is linear in
// its cotangent u, so differentiating <VJP(u), v> with respect to u gives J·v.

import * as T from '@theorbo/graph';
import { GraphError, captureLocation, type Variable } from '@theorbo/graph';
import { grad, type GradOptions } from './grad.ts';

/** J[i, ...] = ∂expression[i] / ∂wrt, with i over expression's flattened elements. */
export function jacobian(expression: Variable, wrt: Variable, options: GradOptions = {}): Variable {
  const size = expression.type.size;
  if (size === null) {
    throw new GraphError('jacobian', `the expression's size must be static to unroll the Jacobian, but it is ${expression.type}`, captureLocation());
  }
  const flat = T.reshape(expression, [size]);
  const rows = Array.from({ length: size }, (_, i) => grad(T.get(flat, i), wrt, { disconnected: 'zero', ...options }));
  return T.stack(rows, 0);
}

/** The Hessian of a scalar cost with respect to `wrt`: shape [...wrt, ...wrt] flattened in its first axes. */
export function hessian(cost: Variable, wrt: Variable, options: GradOptions = {}): Variable {
  return jacobian(grad(cost, wrt, options), wrt, options);
}

/** H·v for a scalar cost, without forming H: grad(<grad(cost), v>). */
export function hessianVectorProduct(cost: Variable, wrt: Variable, v: Variable): Variable {
  const g = grad(cost, wrt);
  return grad(T.sum(T.mul(g, v)), wrt, { disconnected: 'zero' });
}

/** Theano's Lop: vᵀ·J, the VJP of `expression` with cotangent `v`. */
export function Lop(expression: Variable, wrt: Variable, v: Variable): Variable {
  return grad(T.sum(T.mul(expression, v)), wrt, { disconnected: 'zero' });
}

/** Theano's Rop: J·v, the directional derivative of `expression` along `v`. */
export function Rop(expression: Variable, wrt: Variable, v: Variable): Variable {
  const u = T.tensor(expression.dtype, expression.shape, 'rop_cotangent');
  const vjp = Lop(expression, wrt, u);
  const jvp = grad(T.sum(T.mul(vjp, v)), u, { disconnected: 'zero' });
  // J·v does not depend on u (the VJP is linear in it); any value of u will do.
  const [result] = T.clone([jvp], [[u, T.zerosLike(expression)]]);
  return result!;
}
