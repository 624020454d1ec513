// The VJP rule of matmul: its gradients are matmuls with transposed operands
// (dimshuffles, which codegen reads in place), with numpy's 1-D promotion undone;
// summing over broadcast batch axes is left to grad.ts.

import * as T from '@theorbo/graph';
import type { OpsOf, Variable } from '@theorbo/graph';
import type { VjpContext, VjpTable } from './rule.ts';

/** Swaps the last two axes: a transpose read in place by codegen, not a copy. */
function swapLast(x: Variable): Variable {
  const pattern = x.shape.map((_, axis) => axis);
  const n = pattern.length;
  [pattern[n - 2], pattern[n - 1]] = [pattern[n - 1]!, pattern[n - 2]!];
  return T.dimshuffle(x, ...pattern);
}

function matmulRule({ inputs, g }: VjpContext<'matmul'>) {
  const [a, b] = inputs as [Variable, Variable];
  // Promote 1-D operands the way numpy does, differentiate, then drop the added axes.
  const a2 = a.ndim === 1 ? T.dimshuffle(a, 'x', 0) : a;
  const b2 = b.ndim === 1 ? T.dimshuffle(b, 0, 'x') : b;
  let g2 = g;
  if (a.ndim === 1) g2 = T.expandDims(g2, b.ndim === 1 ? 0 : g2.ndim - 1);
  if (b.ndim === 1) g2 = T.expandDims(g2, g2.ndim);
  let ga = T.matmul(g2, swapLast(b2));
  let gb = T.matmul(swapLast(a2), g2);
  if (a.ndim === 1) ga = T.squeeze(ga, [ga.ndim - 2]);
  if (b.ndim === 1) gb = T.squeeze(gb, [gb.ndim - 1]);
  return [ga, gb];
}

export const linalgVjps = {
  matmul: matmulRule,
} satisfies VjpTable<OpsOf<'linalg'>>;
