// VJP rules of reductions. sum spreads the gradient back over the reduced axes; max/min
// split it evenly among the elements equal to the extreme (JAX's convention); prod
// handles zeros exactly (one zero: the product of the others; two or more: zero).

import * as T from '@theorbo/graph';
import type { ReduceAttrs, Variable } from '@theorbo/graph';
import { notDifferentiable, type VjpContext, type VjpTable } from './rule.ts';

/** Brings a reduction's output-shaped value back to the input's rank and shape. */
export function spreadBack(value: Variable, x: Variable, { axes, keepdims }: ReduceAttrs): Variable {
  let expanded = value;
  if (!keepdims && axes.length > 0) {
    let next = 0;
    const pattern = x.shape.map((_, axis) => (axes.includes(axis) ? ('x' as const) : next++));
    expanded = T.dimshuffle(value, ...pattern);
  }
  return broadcastLike(expanded, x);
}

/** broadcast_to the (possibly symbolic) shape of `like`. */
export function broadcastLike(value: Variable, like: Variable): Variable {
  if (value.shape.length === like.shape.length && value.shape.every((dim, axis) => dim === like.shape[axis] && dim !== null)) return value;
  return T.broadcastTo(value, like.shape.map((dim, axis) => dim ?? T.dim(like, axis)));
}

function extremeRule({ node, inputs, output, g }: VjpContext<'max' | 'min'>) {
  const x = inputs[0]!;
  const mask = T.cast(T.eq(x, spreadBack(output, x, node.attrs)), x.dtype);
  const count = T.sum(mask, node.attrs.axes, true);
  return [T.div(T.mul(spreadBack(g, x, node.attrs), mask), broadcastLike(count, x))];
}

function prodRule({ node, inputs, output, g }: VjpContext<'prod'>) {
  const x = inputs[0]!;
  const isZero = T.eq(x, 0);
  const nonZero = T.where(isZero, 1, x);
  const productOfNonZeros = T.prod(nonZero, node.attrs.axes, true);
  const zeros = T.sum(T.cast(isZero, 'int32'), node.attrs.axes, true);
  const spreadZeros = broadcastLike(zeros, x);
  // Product of all other elements of each element's reduction group.
  const others = T.where(
    T.eq(spreadZeros, 0),
    T.div(spreadBack(output, x, node.attrs), x),
    T.where(T.logicalAnd(T.eq(spreadZeros, 1), isZero), broadcastLike(productOfNonZeros, x), 0),
  );
  return [T.mul(spreadBack(g, x, node.attrs), others)];
}

export const reduceVjps = {
  sum: ({ node, inputs, g }) => [spreadBack(g, inputs[0]!, node.attrs)],
  prod: prodRule,
  max: extremeRule,
  min: extremeRule,
  any: notDifferentiable,
  all: notDifferentiable,
  argmax: notDifferentiable,
  argmin: notDifferentiable,
} satisfies VjpTable<T.ReduceOp>;
