// Elementwise ops (unary, binary, where): the reference implementation, one broadcasting
// loop shared by all of them around each op's scalar function and dtype rule (ops.ts's
// table). Output dtypes: transcendental ops give float32 for integer or bool inputs
// (float64 stays float64); arithmetic keeps the promoted dtype (bool arithmetic becomes
// int32); comparisons and logic give bool.

import { allocate, castScalar, floatOf, isFloat, promote, type DType } from '../dtype.ts';
import { NDArray, sizeOf, stridesOf } from '../ndarray.ts';
import { binaryOps, opTable, unaryOps, type BinaryOp, type ElementwiseOp, type UnaryOp } from '../ops.ts';
import { broadcastShapes, formatType, type TensorType } from '../type.ts';
import { fail, type OpDef, type OpDefs } from './def.ts';

/**
 * The output dtype of an elementwise op under its table's rule (ops.ts), from its
 * inputs' dtypes (for where, the condition's included) and cast's target.
 */
export function elementwiseDType(op: ElementwiseOp, inputs: readonly DType[], target?: DType): DType {
  const rule = opTable[op].dtype;
  const joined = inputs.length === 3 ? promote(inputs[1]!, inputs[2]!) : inputs.reduce(promote);
  switch (rule) {
    case 'attribute': return target!;
    case 'bool': return 'bool';
    case 'identity': case 'branches': return joined;
    case 'keep': case 'promote': return joined === 'bool' ? 'int32' : joined;
    case 'float': return floatOf(joined);
  }
}

/** Output shape of an elementwise op, or a failure naming both operand types. */
export function elementwiseShape(inputs: readonly TensorType[]): (number | null)[] {
  const result = broadcastShapes(inputs.map((input) => input.shape));
  if (typeof result === 'string') {
    fail(`cannot broadcast ${inputs.map((input) => formatType(input.dtype, input.shape)).join(' against ')}: ${result}`);
  }
  return result;
}

/** Strides of `shape` viewed in the broadcast `outShape` (0 along stretched axes). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, axis) => (axis < offset || shape[axis - offset] === 1 ? 0 : own[axis - offset]!));
}

function concreteBroadcast(inputs: readonly NDArray[]): number[] {
  const result = broadcastShapes(inputs.map((input) => input.shape));
  if (typeof result === 'string') {
    fail(`cannot broadcast values of shapes ${inputs.map((input) => `[${input.shape.join(',')}]`).join(' and ')}: ${result}`);
  }
  return result as number[];
}

/**
 * Applies `fn` elementwise over broadcast inputs. Integer outputs are stored as
 * computed (wrapping like 32-bit hardware); float32 rounds on store.
 */
export function mapBroadcast(inputs: readonly NDArray[], dtype: DType, fn: (values: number[]) => number): NDArray {
  const outShape = concreteBroadcast(inputs);
  const size = sizeOf(outShape);
  const out = allocate(dtype, size);
  const strides = inputs.map((input) => broadcastStrides(input.shape, outShape));
  const offsets = new Array<number>(inputs.length).fill(0);
  const index = new Array<number>(outShape.length).fill(0);
  const values = new Array<number>(inputs.length);
  const ndim = outShape.length;
  const toBool = dtype === 'bool';
  for (let flat = 0; flat < size; flat++) {
    for (let k = 0; k < inputs.length; k++) values[k] = inputs[k]!.data[offsets[k]!]!;
    const result = fn(values);
    out[flat] = toBool ? (result !== 0 ? 1 : 0) : result;
    // Advance the odometer and every input's offset with it.
    for (let axis = ndim - 1; axis >= 0; axis--) {
      index[axis]!++;
      for (let k = 0; k < inputs.length; k++) offsets[k]! += strides[k]![axis]!;
      if (index[axis]! < outShape[axis]!) break;
      for (let k = 0; k < inputs.length; k++) offsets[k]! -= strides[k]![axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
  return new NDArray(dtype, outShape, out);
}

/**
 * cast's value rule: from a float or to bool it is castScalar's (saturating, NaN to 0);
 * between integers the store into the output wraps modulo 2³², as WGSL's i32()/u32() do.
 */
function castValue(x: number, from: DType, to: DType): number {
  return to === 'bool' || isFloat(from) ? castScalar(x, to) : x;
}

function unaryDef(op: UnaryOp): OpDef<UnaryOp> {
  const info: { scalar: (x: number) => number; integer?: (x: number) => number } = opTable[op];
  const dtypeOf = (input: DType, attrs: object): DType => elementwiseDType(op, [input], 'dtype' in attrs ? (attrs.dtype as DType) : undefined);
  return {
    infer: ([x], attrs) => ({ dtype: dtypeOf(x!.dtype, attrs), shape: x!.shape }),
    perform: ([x], attrs) => {
      const dtype = dtypeOf(x!.dtype, attrs);
      if (op === 'cast') return mapBroadcast([x!], dtype, ([v]) => castValue(v!, x!.dtype, dtype));
      const fn = isFloat(x!.dtype) ? info.scalar : (info.integer ?? info.scalar);
      // An integer or bool input of a float32 op becomes float32 first (the device's rule).
      if (dtype === 'float32' && x!.dtype !== 'float32') return mapBroadcast([x!], dtype, ([v]) => fn(Math.fround(v!)));
      return mapBroadcast([x!], dtype, ([v]) => fn(v!));
    },
  };
}

function binaryDef(op: BinaryOp): OpDef<BinaryOp> {
  const info: { scalar: (a: number, b: number) => number; integer?: (a: number, b: number) => number } = opTable[op];
  return {
    infer: ([a, b]) => ({ dtype: elementwiseDType(op, [a!.dtype, b!.dtype]), shape: elementwiseShape([a!, b!]) }),
    perform: ([a, b]) => {
      const dtype = elementwiseDType(op, [a!.dtype, b!.dtype]);
      const computeIn = opTable[op].dtype === 'float' ? dtype : promote(a!.dtype, b!.dtype);
      const fn = isFloat(computeIn) ? info.scalar : (info.integer ?? info.scalar);
      // Operands computed in float32 are rounded to it first: int32 + float32 rounds the int32.
      if (computeIn === 'float32' && (a!.dtype !== 'float32' || b!.dtype !== 'float32')) {
        return mapBroadcast([a!, b!], dtype, ([x, y]) => fn(Math.fround(x!), Math.fround(y!)));
      }
      return mapBroadcast([a!, b!], dtype, ([x, y]) => fn(x!, y!));
    },
  };
}

export const elementwiseDefs = {
  ...(Object.fromEntries(unaryOps.map((op) => [op, unaryDef(op)])) as OpDefs<UnaryOp>),
  ...(Object.fromEntries(binaryOps.map((op) => [op, binaryDef(op)])) as OpDefs<BinaryOp>),
  where: {
    infer: ([condition, a, b]) => ({ dtype: elementwiseDType('where', [condition!.dtype, a!.dtype, b!.dtype]), shape: elementwiseShape([condition!, a!, b!]) }),
    perform: ([condition, a, b]) =>
      mapBroadcast([condition!, a!, b!], elementwiseDType('where', [condition!.dtype, a!.dtype, b!.dtype]), ([c, x, y]) => (c !== 0 ? x! : y!)),
  },
} satisfies OpDefs<UnaryOp | BinaryOp | 'where'>;
