// Reductions: sum, prod, max, min, any, all over a set of axes, and argmax/argmin over
// one axis or the flattened tensor. Attributes arrive normalized (axes sorted, unique,
// non-negative; `normalizeAxes` in type.ts is what the API uses to get there). An empty axis
// list reduces nothing: the result is the input under the op's dtype rule.
//
// The reference loops define the values the GPU backends are compared against:
// - float sums and products accumulate in a double, in row-major input order, and
//   round once on store (a float32 GPU tree sum matches this within a tolerance);
// - int32/uint32 sums and products wrap modulo 2³² at every step, like 32-bit hardware;
// - max/min propagate NaN (numpy); argmax/argmin take the first occurrence on ties and
//   treat a NaN as the extreme (numpy), so the first NaN wins;
// - any/all read an element as true when it is nonzero and not NaN, the same rule as
//   cast to bool, so any(x) = any(cast(x, 'bool')).
// Left out: mean, variance, logsumexp (composites in api/reduce.ts), numpy's `initial`
// and `where` arguments.

import { isFloat, type DType } from '../dtype.ts';
import { NDArray, sizeOf, stridesOf } from '../ndarray.ts';
import { reductionIdentity, truthy, type ArgReduceAttrs, type ReduceAttrs, type ReduceOp } from '../ops.ts';
import { formatType, type Dim, type TensorType } from '../type.ts';
import { fail, type OpDef, type OpDefs } from './def.ts';

type AxesOp = Exclude<ReduceOp, 'argmax' | 'argmin'>;
type ArgOp = 'argmax' | 'argmin';

export function reduceDType(op: ReduceOp, dtype: DType): DType {
  switch (op) {
    case 'sum': case 'prod': return dtype === 'bool' ? 'int32' : dtype;
    case 'max': case 'min': return dtype;
    case 'any': case 'all': return 'bool';
    case 'argmax': case 'argmin': return 'int32';
  }
}

/** The shape left after reducing `axes`: dropped, or kept as 1 with keepdims. */
export function reducedShape<D extends Dim>(shape: readonly D[], axes: readonly number[], keepdims: boolean): (D | 1)[] {
  const out: (D | 1)[] = [];
  shape.forEach((dim, axis) => {
    if (!axes.includes(axis)) out.push(dim);
    else if (keepdims) out.push(1);
  });
  return out;
}

const numpyName: Record<'max' | 'min', string> = { max: 'maximum', min: 'minimum' };

function emptyReduction(op: ReduceOp, type: string, axes: readonly number[]): never {
  const what = op === 'argmax' || op === 'argmin' ? `attempt to get ${op} of an empty sequence` : `zero-size array to reduction operation ${numpyName[op as 'max' | 'min']} which has no identity`;
  fail(`${what}: ${type} reduced over axes [${axes.join(',')}], which hold no elements (${op} of nothing is undefined)`);
}

function checkAttrAxes(axes: readonly number[], x: TensorType): void {
  axes.forEach((axis, i) => {
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.ndim || (i > 0 && axis <= axes[i - 1]!)) {
      fail(`axes [${axes.join(',')}] must be sorted, unique and within 0..${x.ndim - 1} for ${x}`);
    }
  });
}

/**
 * Visits every input element in row-major order with the flat index of the output
 * element it reduces into (the same for keepdims or not) and its multi-index.
 */
function forEachReduced(shape: readonly number[], axes: readonly number[], visit: (inFlat: number, outFlat: number, index: readonly number[]) => void): void {
  const outShape = reducedShape(shape, axes, false);
  const outStrides = stridesOf(outShape);
  const strides: number[] = [];
  let kept = 0;
  shape.forEach((_, axis) => strides.push(axes.includes(axis) ? 0 : outStrides[kept++]!));
  const size = sizeOf(shape);
  const index = new Array<number>(shape.length).fill(0);
  let outFlat = 0;
  for (let inFlat = 0; inFlat < size; inFlat++) {
    visit(inFlat, outFlat, index);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      outFlat += strides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      outFlat -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
}

/** Combining step of each op, by input dtype (integers wrap at every step); each starts from the op's identity (ops.ts). */
function accumulator(op: AxesOp, dtype: DType): { start: number; step: (acc: number, v: number) => number } {
  const float = isFloat(dtype);
  const start = reductionIdentity(op, dtype);
  switch (op) {
    case 'sum':
      if (float) return { start, step: (acc, v) => acc + v };
      return dtype === 'uint32' ? { start, step: (acc, v) => (acc + v) >>> 0 } : { start, step: (acc, v) => (acc + v) | 0 };
    case 'prod':
      if (float) return { start, step: (acc, v) => acc * v };
      return dtype === 'uint32' ? { start, step: (acc, v) => Math.imul(acc, v) >>> 0 } : { start, step: (acc, v) => Math.imul(acc, v) };
    // A NaN accumulator stays NaN: neither comparison below is true against it.
    case 'max': return { start, step: (acc, v) => (v > acc || Number.isNaN(v) ? v : acc) };
    case 'min': return { start, step: (acc, v) => (v < acc || Number.isNaN(v) ? v : acc) };
    case 'any': return { start, step: (acc, v) => (acc || truthy(v) ? 1 : 0) };
    case 'all': return { start, step: (acc, v) => (acc && truthy(v) ? 1 : 0) };
  }
}

function axesDef(op: AxesOp): OpDef<AxesOp> {
  return {
    infer: ([x], { axes, keepdims }: ReduceAttrs) => {
      checkAttrAxes(axes, x!);
      if ((op === 'max' || op === 'min') && axes.some((axis) => x!.shape[axis] === 0)) emptyReduction(op, String(x), axes);
      return { dtype: reduceDType(op, x!.dtype), shape: reducedShape(x!.shape, axes, keepdims) };
    },
    perform: ([x], { axes, keepdims }: ReduceAttrs) => {
      const count = sizeOf(axes.map((axis) => x!.shape[axis]!));
      if ((op === 'max' || op === 'min') && count === 0) emptyReduction(op, formatType(x!.dtype, x!.shape), axes);
      const outShape = reducedShape(x!.shape, axes, keepdims);
      const { start, step } = accumulator(op, x!.dtype);
      const acc = new Float64Array(sizeOf(outShape)).fill(start);
      const data = x!.data;
      forEachReduced(x!.shape, axes, (inFlat, outFlat) => {
        acc[outFlat] = step(acc[outFlat]!, data[inFlat]!);
      });
      const out = NDArray.zeros(reduceDType(op, x!.dtype), outShape);
      out.data.set(acc); // float32 rounds here, once per output element
      return out;
    },
  };
}

function argDef(op: ArgOp): OpDef<ArgOp> {
  // `better(v, best)`: whether v replaces the current best; a NaN best is never replaced.
  const better = op === 'argmax'
    ? (v: number, best: number) => !Number.isNaN(best) && (v > best || Number.isNaN(v))
    : (v: number, best: number) => !Number.isNaN(best) && (v < best || Number.isNaN(v));
  const outShapeOf = <D extends Dim>(shape: readonly D[], axis: number | null, keepdims: boolean): (D | 1)[] =>
    axis === null ? (keepdims ? shape.map(() => 1 as const) : []) : reducedShape(shape, [axis], keepdims);
  return {
    infer: ([x], { axis, keepdims }: ArgReduceAttrs) => {
      if (axis !== null) checkAttrAxes([axis], x!);
      const reduced = axis === null ? x!.shape : [x!.shape[axis]!];
      if (reduced.some((dim) => dim === 0)) emptyReduction(op, String(x), axis === null ? x!.shape.map((_, i) => i) : [axis]);
      return { dtype: 'int32', shape: outShapeOf(x!.shape, axis, keepdims) };
    },
    perform: ([x], { axis, keepdims }: ArgReduceAttrs) => {
      const axes = axis === null ? x!.shape.map((_, i) => i) : [axis];
      if (sizeOf(axes.map((a) => x!.shape[a]!)) === 0) emptyReduction(op, formatType(x!.dtype, x!.shape), axes);
      const outShape = outShapeOf(x!.shape, axis, keepdims);
      const size = sizeOf(outShape);
      const best = new Float64Array(size);
      const position = new Int32Array(size).fill(-1);
      const data = x!.data;
      forEachReduced(x!.shape, axes, (inFlat, outFlat, index) => {
        const v = data[inFlat]!;
        if (position[outFlat] === -1 || better(v, best[outFlat]!)) {
          best[outFlat] = v;
          position[outFlat] = axis === null ? inFlat : index[axis]!;
        }
      });
      return new NDArray('int32', outShape, position);
    },
  };
}

export const reduceDefs = {
  sum: axesDef('sum'),
  prod: axesDef('prod'),
  max: axesDef('max'),
  min: axesDef('min'),
  any: axesDef('any'),
  all: axesDef('all'),
  argmax: argDef('argmax'),
  argmin: argDef('argmin'),
} satisfies OpDefs<ReduceOp>;
