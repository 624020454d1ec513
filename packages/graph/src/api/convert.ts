// Turning what users pass (Variables, JS numbers, nested arrays, NDArrays) into
// Variables. A bare JS number is a weak scalar: it takes the dtype of the tensor it
// meets, so `x.mul(2)` keeps x's dtype.

import { weakDType, type DType } from '../dtype.ts';
import { constant, scalarConstant, Variable } from '../graph.ts';
import type { ArrayLike } from '../ndarray.ts';

export type TensorLike = Variable | ArrayLike;

export function asVariable(value: TensorLike, like?: DType): Variable {
  if (value instanceof Variable) return value;
  if (typeof value === 'number') return scalarConstant(value, like ? weakDType(value, like) : Number.isInteger(value) ? 'int32' : 'float32');
  if (typeof value === 'boolean') return scalarConstant(value ? 1 : 0, 'bool');
  return constant(value);
}

/** Converts a list of operands, letting weak numbers take the dtype of the first tensor among them. */
export function asVariables(values: readonly TensorLike[]): Variable[] {
  const anchor = values.find((value): value is Variable => value instanceof Variable);
  const dtype = anchor?.dtype ?? (values.some((value) => typeof value === 'number' && !Number.isInteger(value)) ? 'float32' : undefined);
  return values.map((value) => asVariable(value, dtype));
}
