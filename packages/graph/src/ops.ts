// The closed vocabulary of primitive ops, grouped, with the attributes each one carries.
// Everything else users call (softmax, mean, clip, tensordot, stack, roll, one_hot, ...)
// is a composite built from these. Every table keyed by OpName (shape inference and
// reference here, gradients in autodiff, lowering in codegen) must cover all of them.

import type { DType } from './dtype.ts';

/** Elementwise, one input. `stop_gradient` is the identity that autodiff treats as a constant. */
export const unaryOps = [
  'neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'square', 'reciprocal',
  'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'softplus', 'erf', 'floor', 'ceil', 'round',
  'logical_not', 'cast', 'stop_gradient',
] as const;

/** Elementwise, two inputs, numpy broadcasting. */
export const binaryOps = [
  'add', 'sub', 'mul', 'div', 'int_div', 'mod', 'pow', 'maximum', 'minimum', 'atan2',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or', 'logical_xor',
] as const;

/** Elementwise, three inputs: where(condition, then, else). */
export const ternaryOps = ['where'] as const;

/** Reductions over a set of axes (argmax/argmin over one axis or all). */
export const reduceOps = ['sum', 'prod', 'max', 'min', 'any', 'all', 'argmax', 'argmin'] as const;

/** Numpy matmul: 1-D promotion, batched with broadcasting. */
export const linalgOps = ['matmul'] as const;

/** Movement: these are index arithmetic in codegen, not copies. */
export const movementOps = ['reshape', 'dimshuffle', 'broadcast_to', 'subtensor', 'concat', 'pad'] as const;

/** Writes into (a copy of) a tensor, and gathers by integer tensors. */
export const indexingOps = ['inc_subtensor', 'advanced_subtensor', 'advanced_inc_subtensor'] as const;

/** Values made from nothing but scalars and shapes. */
export const sourceOps = ['arange', 'dim', 'random'] as const;

export const opNames = [
  ...unaryOps, ...binaryOps, ...ternaryOps, ...reduceOps, ...linalgOps, ...movementOps, ...indexingOps, ...sourceOps,
] as const;

export type UnaryOp = (typeof unaryOps)[number];
export type BinaryOp = (typeof binaryOps)[number];
export type TernaryOp = (typeof ternaryOps)[number];
export type ReduceOp = (typeof reduceOps)[number];
export type MovementOp = (typeof movementOps)[number];
export type IndexingOp = (typeof indexingOps)[number];
export type OpName = (typeof opNames)[number];

export type ElementwiseOp = UnaryOp | BinaryOp | TernaryOp;
export const elementwiseOps: ReadonlySet<OpName> = new Set<OpName>([...unaryOps, ...binaryOps, ...ternaryOps]);
export const comparisonOps: ReadonlySet<OpName> = new Set<OpName>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
export const logicalOps: ReadonlySet<OpName> = new Set<OpName>(['logical_and', 'logical_or', 'logical_xor', 'logical_not']);
export const commutativeOps: ReadonlySet<OpName> = new Set<OpName>([
  'add', 'mul', 'maximum', 'minimum', 'eq', 'ne', 'logical_and', 'logical_or', 'logical_xor',
]);

/**
 * A static size, or null where the size comes from the next scalar input of the node
 * (symbolic shapes: `zeros([x.dim(0), 3])`).
 */
export type ShapeSpec = readonly (number | null)[];

/** One axis of basic indexing: a slice keeps the axis, an index drops it. */
export type SliceItem =
  | { readonly kind: 'slice'; readonly start: number | null; readonly stop: number | null; readonly step: number }
  | { readonly kind: 'index'; readonly index: number };

/** One axis of advanced indexing: gathered by the next integer tensor input, or kept whole. */
export type AdvancedItem = 'index' | 'all';

export type PadMode = 'constant' | 'reflect' | 'edge';

export interface OpAttributes {
  cast: { readonly dtype: DType };
  sum: ReduceAttrs; prod: ReduceAttrs; max: ReduceAttrs; min: ReduceAttrs; any: ReduceAttrs; all: ReduceAttrs;
  argmax: ArgReduceAttrs; argmin: ArgReduceAttrs;
  reshape: { readonly shape: ShapeSpec };
  dimshuffle: { readonly pattern: readonly (number | 'x')[] };
  broadcast_to: { readonly shape: ShapeSpec };
  subtensor: { readonly items: readonly SliceItem[] };
  concat: { readonly axis: number };
  pad: { readonly widths: readonly (readonly [number, number])[]; readonly mode: PadMode; readonly value: number };
  inc_subtensor: { readonly items: readonly SliceItem[]; readonly mode: 'inc' | 'set' };
  advanced_subtensor: { readonly items: readonly AdvancedItem[] };
  advanced_inc_subtensor: { readonly items: readonly AdvancedItem[]; readonly mode: 'inc' | 'set' };
  arange: { readonly dtype: DType };
  dim: { readonly axis: number };
  random: { readonly distribution: 'uniform' | 'normal'; readonly draw: number; readonly shape: ShapeSpec; readonly dtype: 'float32' | 'float64' };
}

export interface ReduceAttrs { readonly axes: readonly number[]; readonly keepdims: boolean }
export interface ArgReduceAttrs { readonly axis: number | null; readonly keepdims: boolean }

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type NoAttrs = {};
export type AttrsOf<K extends OpName> = K extends keyof OpAttributes ? OpAttributes[K] : NoAttrs;
