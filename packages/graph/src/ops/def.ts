// The shape of one op's definition in the graph package: its type inference and its
// reference implementation. Tables of these live beside each op family; `table.ts`
// joins them and checks that every op has one.

import type { DType } from '../dtype.ts';
import type { NDArray } from '../ndarray.ts';
import type { AttrsOf, OpName } from '../ops.ts';
import type { Dim, TensorType } from '../type.ts';
import type { Variable } from '../graph.ts';

/** Thrown by an inference or reference rule; the caller adds the op and the location. */
export class OpFailure extends Error {}

export function fail(detail: string): never {
  throw new OpFailure(detail);
}

export interface InferResult {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

/** The build-time values of a node's inputs: an NDArray for each Constant input, else undefined. */
export type ConstantInputs = readonly (NDArray | undefined)[];

export interface OpDef<K extends OpName> {
  /**
   * Output type from input types and attributes, or `fail(sentence)`. `constants` holds
   * the values of constant inputs, for ops whose static shape depends on them (arange).
   */
  infer(inputs: readonly TensorType[], attrs: AttrsOf<K>, constants: ConstantInputs): InferResult;
  /**
   * The definition of the op on concrete values (plain loops, clarity first). `evaluate`
   * runs a graph (scan's step body) without the op modules importing the evaluator.
   */
  perform(inputs: readonly NDArray[], attrs: AttrsOf<K>, evaluate: GraphEvaluator): NDArray;
}

/** The reference evaluator, as ops that contain graphs (scan) call it. */
export type GraphEvaluator = (outputs: readonly Variable[], givens: readonly (readonly [Variable, NDArray])[]) => NDArray[];

export type OpDefs<K extends OpName> = { readonly [P in K]: OpDef<P> };
