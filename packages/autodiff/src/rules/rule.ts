// The shape of a VJP rule. A rule gets the node, its output and the gradient flowing
// into that output, and returns one gradient per input: a Variable, or null where no
// gradient flows (integer inputs, indices, masks). Elementwise rules may return a
// gradient in the broadcast output's shape: grad.ts sums it back to each input's type
// (undoing broadcasting once, centrally), so no rule deals with broadcasting.

import type { Apply, OpName, Variable } from '@theorbo/graph';

export interface VjpContext<K extends OpName = OpName> {
  readonly node: Apply<K>;
  readonly inputs: readonly Variable[];
  readonly output: Variable;
  /** The gradient of the cost with respect to `output`. */
  readonly g: Variable;
  /**
   * Reverse-mode differentiation of an inner graph (scan's step): the gradients of
   * `targets` given the gradients flowing into some of its variables. Missing entries
   * are zero.
   */
  readonly differentiate: (known: ReadonlyMap<Variable, Variable>, targets: readonly Variable[]) => Map<Variable, Variable>;
}

export type VjpRule<K extends OpName = OpName> = (context: VjpContext<K>) => readonly (Variable | null)[];

/** Marks an op through which no gradient flows (comparisons, argmax, integer ops, sources). */
export const notDifferentiable = 'not differentiable' as const;

export type VjpEntry<K extends OpName> = VjpRule<K> | typeof notDifferentiable;

export type VjpTable<K extends OpName> = { readonly [P in K]: VjpEntry<P> };
