// Source ops: values made from scalars and shapes. `dim` reads one dimension of a
// tensor as an int32 scalar (Theano's x.shape[i]); `arange` is numpy's arange of three
// scalar inputs; `random` draws from the Philox stream of a [key, counter] state (the
// mapping is specified in ../random.ts). Symbolic sizes follow ShapeSpec (ops.ts): a
// null entry is the next scalar input after the op's own inputs.
// `arange` knows its length statically when its three inputs are constants.

import { allocate, castScalar, isFloat, type DType } from '../dtype.ts';
import { NDArray, sizeOf } from '../ndarray.ts';
import type { ShapeSpec } from '../ops.ts';
import { fillRandom } from '../random.ts';
import { formatShape, normalizeAxis, type Dim, type TensorType } from '../type.ts';
import { fail, type OpDefs } from './def.ts';

const arangeNames = ['start', 'stop', 'step'] as const;

/** numpy's length rule, max(0, ⌈(stop − start) / step⌉), or a sentence on why there is none. */
export function arangeLength(start: number, stop: number, step: number): number | string {
  if (step === 0) return 'step is 0, so the range never ends';
  if (![start, stop, step].every(Number.isFinite)) return `start ${start}, stop ${stop} and step ${step} must all be finite`;
  const length = Math.max(0, Math.ceil((stop - start) / step));
  if (length > 2 ** 31 - 1) return `start ${start}, stop ${stop} and step ${step} give ${length} elements, more than an int32 index reaches`;
  return length;
}

function checkArangeInputs(inputs: readonly TensorType[], dtype: DType): void {
  if (inputs.length !== 3) fail(`expects 3 scalar inputs (start, stop, step) but got ${inputs.length}`);
  if (dtype === 'bool') fail('cannot make a range of dtype bool; use an integer or float dtype');
  inputs.forEach((input, i) => {
    if (input.ndim !== 0) fail(`${arangeNames[i]} must be a scalar, but is ${input}`);
    if (input.dtype === 'bool') fail(`${arangeNames[i]} must be a number, but is ${input}`);
  });
}

/** The Shape of a node from its ShapeSpec; extra inputs must be integer scalars. */
function specShape(spec: ShapeSpec, sizes: readonly TensorType[]): Dim[] {
  const symbolic = spec.filter((dim) => dim === null).length;
  if (symbolic !== sizes.length) fail(`shape ${formatShape(spec)} has ${symbolic} symbolic sizes but the node has ${sizes.length} size inputs`);
  for (const dim of spec) {
    if (dim !== null && !(Number.isInteger(dim) && dim >= 0)) fail(`shape ${formatShape(spec)} has a size that is not a non-negative integer`);
  }
  for (const size of sizes) {
    if (size.ndim !== 0 || !(size.dtype === 'int32' || size.dtype === 'uint32')) fail(`a symbolic size must be an integer scalar, but is ${size}`);
  }
  return [...spec];
}

/** The concrete shape of a ShapeSpec from the values of its size inputs. */
function concreteShape(spec: ShapeSpec, sizes: readonly NDArray[]): number[] {
  let next = 0;
  return spec.map((dim) => {
    if (dim !== null) return dim;
    const size = sizes[next++]!.data[0]!;
    if (size < 0) fail(`a symbolic size is ${size}; sizes must be non-negative`);
    return size;
  });
}

export const sourceDefs = {
  dim: {
    infer: ([x], { axis }) => {
      if (normalizeAxis(axis, x!.ndim) === null) fail(`axis ${axis} is out of range for ${x!} (ndim ${x!.ndim})`);
      return { dtype: 'int32', shape: [] };
    },
    perform: ([x], { axis }) => NDArray.scalar(x!.shape[normalizeAxis(axis, x!.ndim)!]!, 'int32'),
  },
  arange: {
    infer: (inputs, { dtype }, constants) => {
      checkArangeInputs(inputs, dtype);
      const values = [0, 1, 2].map((i) => constants[i]?.data[0]);
      if (values.some((value) => value === undefined)) return { dtype, shape: [null] };
      const length = arangeLength(values[0]!, values[1]!, values[2]!);
      if (typeof length === 'string') fail(length);
      return { dtype, shape: [length] };
    },
    perform: ([start, stop, step], { dtype }) => {
      const [first, last, delta] = [start!.data[0]!, stop!.data[0]!, step!.data[0]!];
      const length = arangeLength(first, last, delta);
      if (typeof length === 'string') fail(length);
      // Element i is start + i·step computed in float64, then stored in the dtype
      // (float32 rounds; integers truncate), as numpy does for float ranges.
      const out = allocate(dtype, length);
      for (let i = 0; i < length; i++) out[i] = castScalar(first + i * delta, dtype);
      return new NDArray(dtype, [length], out);
    },
  },
  random: {
    infer: ([state, ...sizes], { distribution, draw, shape, dtype }) => {
      if (!(Number.isInteger(draw) && draw >= 0 && draw < 2 ** 32)) fail(`draw number ${draw} is not a uint32`);
      if (distribution !== 'uniform' && distribution !== 'normal') fail(`unknown distribution '${String(distribution)}'; expected uniform or normal`);
      if (!isFloat(dtype)) fail(`draws float32 or float64 values, not ${dtype}`);
      if (!state || state.dtype !== 'uint32' || state.ndim !== 1 || state.shape[0] !== 2) {
        fail(`the state must be a uint32[2] [key, counter] vector, but is ${state ?? 'missing'}`);
      }
      return { dtype, shape: specShape(shape, sizes) };
    },
    perform: ([state, ...sizes], { distribution, draw, shape, dtype }) => {
      const concrete = concreteShape(shape, sizes);
      const size = sizeOf(concrete);
      if (size > 2 ** 32) fail(`a draw of shape ${formatShape(concrete)} has more elements than the 32-bit element counter reaches`);
      const out = allocate(dtype, size) as Float32Array | Float64Array;
      fillRandom(out, distribution, [state!.data[0]!, state!.data[1]!], draw);
      return new NDArray(dtype, concrete, out);
    },
  },
} satisfies OpDefs<'arange' | 'dim' | 'random'>;
