// Constructors: `dim` (the symbolic size of one axis), arange (a primitive), and the
// composites zeros, ones, full, alloc, zerosLike, onesLike, eye, linspace and oneHot.
// Filled tensors are broadcast_to of a scalar, so they cost no memory until a kernel
// reads them. Shapes are lists of sizes, each a number or an integer scalar Variable
// (`dim(y, 0)`); constant sizes go into the node's ShapeSpec, the rest become inputs.
// Left out: numpy's `endpoint=false` and `retstep` of linspace, diagonal-offset
// variants of eye beyond `k`, and dtype inference from nested arrays (use `constant`).

import { applyOp, buildError, composite } from '../build.ts';
import { floatOf, isDType, isFloat, isInteger, type DType } from '../dtype.ts';
import { Apply, Constant, scalarConstant, Variable } from '../graph.ts';
import { captureLocation } from '../location.ts';
import { OpFailure } from '../ops/def.ts';
import type { ShapeSpec } from '../ops.ts';
import { sourceDefs } from '../ops/source.ts';
import { GraphError } from '../errors.ts';
import { normalizeAxis, TensorType } from '../type.ts';
import { asVariable, type TensorLike } from './convert.ts';
import { add, cast, div, eq, mul, sub, where } from './elementwise.ts';

/**
 * The size of `axis` of `x` as an int32 scalar: a constant when the static shape knows
 * it, else a `dim` node read at run time (Theano's `x.shape[axis]`).
 */
export function dim(x: Variable, axis: number): Variable {
  const normalized = normalizeAxis(axis, x.ndim);
  if (normalized === null) throw buildError('dim', `axis ${axis} is out of range for ${x.type} (ndim ${x.ndim})`);
  const known = x.shape[normalized];
  return known === null || known === undefined ? applyOp('dim', [x], { axis: normalized }) : scalarConstant(known, 'int32');
}

export type SizeLike = number | Variable;

/**
 * The product of the sizes of `axes` of `x`: a JS number when all of them are static,
 * else an int32 scalar of the dims read at run time times the static part.
 */
export function sizeOfAxes(x: Variable, axes: readonly number[]): SizeLike {
  let known = 1;
  let symbolic: Variable | undefined;
  for (const axis of axes) {
    const size = x.shape[axis];
    if (size === null || size === undefined) symbolic = symbolic ? mul(symbolic, dim(x, axis)) : dim(x, axis);
    else known *= size;
  }
  if (!symbolic) return known;
  return known === 1 ? symbolic : mul(symbolic, known);
}

/**
 * Splits user sizes into a ShapeSpec and the scalar inputs behind its null entries.
 * Constant Variables count as numbers, so `zeros([dim(x, 0)])` of a static x is static.
 */
export function sizesToShapeSpec(op: string, sizes: readonly SizeLike[]): { spec: ShapeSpec; inputs: Variable[] } {
  if (!Array.isArray(sizes)) throw buildError(op, `expects a shape as a list of sizes, not ${String(sizes)}`);
  const spec: (number | null)[] = [];
  const inputs: Variable[] = [];
  sizes.forEach((size, axis) => {
    if (size instanceof Variable) {
      if (size.ndim !== 0 || !isInteger(size.dtype)) throw buildError(op, `size ${axis} must be an integer scalar, but is ${size.type}`);
      if (size instanceof Constant) size = size.value.data[0]!;
      else {
        spec.push(null);
        inputs.push(size);
        return;
      }
    }
    if (!(Number.isInteger(size) && size >= 0)) throw buildError(op, `size ${axis} is ${String(size)}; sizes must be non-negative integers`);
    spec.push(size);
  });
  return { spec, inputs };
}

function checkDType(op: string, dtype: DType): void {
  if (!isDType(dtype)) throw buildError(op, `unknown dtype '${String(dtype)}'; expected one of bool, int32, uint32, float32, float64`);
}

/** `value` broadcast to `shape`: Theano's alloc, numpy's full. The value may be any tensor that broadcasts. */
export function alloc(value: TensorLike, shape: readonly SizeLike[]): Variable {
  const { spec, inputs } = sizesToShapeSpec('alloc', shape);
  return composite('alloc', () => applyOp('broadcast_to', [asVariable(value), ...inputs], { shape: spec }));
}

function filled(op: string, shape: readonly SizeLike[], value: TensorLike, dtype: DType): Variable {
  checkDType(op, dtype);
  const filler = typeof value === 'number' || typeof value === 'boolean' ? scalarConstant(Number(value), dtype) : cast(asVariable(value), dtype);
  const { spec, inputs } = sizesToShapeSpec(op, shape);
  return composite(op, () => applyOp('broadcast_to', [filler, ...inputs], { shape: spec }));
}

/**
 * A tensor of `shape` filled with `value` (a scalar, or a tensor that broadcasts). The
 * dtype defaults to the value's for a Variable and to float32 for a JS number, as
 * zeros and ones do.
 */
export function full(shape: readonly SizeLike[], value: TensorLike, dtype?: DType): Variable {
  return filled('full', shape, value, dtype ?? (value instanceof Variable ? value.dtype : 'float32'));
}

export function zeros(shape: readonly SizeLike[], dtype: DType = 'float32'): Variable {
  return filled('zeros', shape, 0, dtype);
}

export function ones(shape: readonly SizeLike[], dtype: DType = 'float32'): Variable {
  return filled('ones', shape, 1, dtype);
}

const shapeOf = (x: Variable): Variable[] => x.shape.map((_, axis) => dim(x, axis));

/** Zeros of x's shape (read at run time where it is not static) and x's dtype unless given. */
export function zerosLike(x: Variable, dtype: DType = x.dtype): Variable {
  return zeros(shapeOf(x), dtype);
}

export function onesLike(x: Variable, dtype: DType = x.dtype): Variable {
  return ones(shapeOf(x), dtype);
}

// ---- arange ----

const isIntegral = (value: SizeLike): boolean => (value instanceof Variable ? isInteger(value.dtype) : Number.isInteger(value));

/**
 * numpy's arange: `arange(stop)`, `arange(start, stop)`, `arange(start, stop, step)`.
 * Arguments may be scalar Variables (`arange(dim(y, 0))`). The dtype defaults to int32
 * when every argument is an integer (a JS integer or an integer Variable), to float64
 * when a Variable argument is float64, else to float32. The length is static when all
 * three arguments are constants.
 */
export function arange(start: SizeLike, stop?: SizeLike, step?: SizeLike, dtype?: DType): Variable {
  const args = stop === undefined ? [0, start, step ?? 1] : [start, stop, step ?? 1];
  for (const [i, arg] of args.entries()) {
    const valid = arg instanceof Variable || (typeof arg === 'number' && !Number.isNaN(arg));
    if (!valid) throw buildError('arange', `${['start', 'stop', 'step'][i]} is ${String(arg)}; expected a number or a scalar Variable`);
  }
  const wide = args.some((arg) => arg instanceof Variable && arg.dtype === 'float64');
  const target = dtype ?? (args.every(isIntegral) ? 'int32' : wide ? 'float64' : 'float32');
  checkDType('arange', target);
  // JS numbers become scalars of the result's dtype where that loses nothing.
  const inputs = args.map((arg) => {
    if (arg instanceof Variable) return arg;
    const own: DType = isFloat(target) ? target : Number.isInteger(arg) ? 'int32' : 'float32';
    return scalarConstant(arg, own);
  });
  return applyOp('arange', inputs, { dtype: target });
}

// ---- composites built on arange ----

const column = (v: Variable): Variable => applyOp('dimshuffle', [v], { pattern: [0, 'x'] });
const row = (v: Variable): Variable => applyOp('dimshuffle', [v], { pattern: ['x', 0] });

/** The n×m matrix with ones on diagonal k (k > 0 above the main diagonal, k < 0 below). */
export function eye(n: SizeLike, m?: SizeLike, k = 0, dtype: DType = 'float32'): Variable {
  checkDType('eye', dtype);
  if (!Number.isInteger(k)) throw buildError('eye', `diagonal offset k is ${k}; expected an integer`);
  return composite('eye', () => {
    for (const size of [n, m ?? n]) {
      if (!isIntegral(size) || (typeof size === 'number' && size < 0)) throw buildError('eye', `sizes must be non-negative integers, not ${String(size instanceof Variable ? size.type : size)}`);
    }
    const rows = column(arange(n));
    const cols = row(arange(m ?? n));
    return cast(eq(sub(cols, rows), k), dtype);
  });
}

/**
 * numpy's linspace with endpoint=true: `num` evenly spaced values from start to stop,
 * the last one exactly stop. num is a static count; start and stop may be scalar
 * Variables. Integer dtypes are computed in float and truncated, as numpy does.
 */
export function linspace(start: TensorLike, stop: TensorLike, num: number, dtype: DType = 'float32'): Variable {
  checkDType('linspace', dtype);
  if (!(Number.isInteger(num) && num >= 0)) throw buildError('linspace', `num is ${num}; expected a non-negative integer count`);
  return composite('linspace', () => {
    const compute = floatOf(dtype);
    const [first, last] = [start, stop].map((value) => {
      const variable = asVariable(value, compute);
      if (variable.ndim !== 0) throw buildError('linspace', `start and stop must be scalars, but one is ${variable.type}`);
      return cast(variable, compute);
    }) as [Variable, Variable];
    const index = arange(0, num, 1, compute);
    if (num <= 1) return cast(add(index, first), dtype);
    const step = div(sub(last, first), num - 1);
    const values = where(eq(arange(num), num - 1), last, add(mul(index, step), first));
    return cast(values, dtype);
  });
}

/**
 * One-hot encoding: a new last axis of length `depth` holding 1 at each index and 0
 * elsewhere. Indices outside [0, depth) give a row of zeros.
 */
export function oneHot(indices: TensorLike, depth: SizeLike, dtype: DType = 'float32'): Variable {
  checkDType('oneHot', dtype);
  return composite('oneHot', () => {
    const variable = asVariable(indices);
    if (!isInteger(variable.dtype)) throw buildError('oneHot', `indices must be integers, but are ${variable.type}`);
    if (!isIntegral(depth) || (typeof depth === 'number' && depth < 0)) throw buildError('oneHot', `depth must be a non-negative integer, not ${String(depth instanceof Variable ? depth.type : depth)}`);
    const pattern = [...variable.shape.map((_, axis) => axis), 'x' as const];
    const expanded = applyOp('dimshuffle', [variable], { pattern });
    return cast(eq(expanded, arange(0, depth, 1, variable.dtype)), dtype);
  });
}
