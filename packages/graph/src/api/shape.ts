// Shape functions: reshape, flatten, dimshuffle, transpose, broadcastTo, squeeze,
// expandDims, concat, stack, split, pad, roll and flip. reshape, dimshuffle,
// broadcast_to, concat, pad and subtensor are primitives; the rest are composites of
// them, so codegen sees nothing but index arithmetic. Sizes may be numbers or integer
// scalar Variables (`dim(y, 0)`). Left out: numpy's split at indices (split takes part
// sizes, as Theano's does), moveaxis/swapaxes (transpose covers them), pad modes beyond
// constant, reflect and edge.

import { applyOp, buildError, composite } from '../build.ts';
import type { Variable } from '../graph.ts';
import type { PadMode, SliceItem } from '../ops.ts';
import { normalizeAxes, normalizeAxis } from '../type.ts';
import { arange, dim, sizeOfAxes, sizesToShapeSpec, type SizeLike } from './construct.ts';
import { asVariable, asVariables, type TensorLike } from './convert.ts';
import { mod, sub } from './elementwise.ts';
import { get } from './indexing.ts';

const full: SliceItem = { kind: 'slice', start: null, stop: null, step: 1 };
const range = (start: number, stop: number): number[] => Array.from({ length: Math.max(0, stop - start) }, (_, i) => start + i);
const axisList = (axis: number | readonly number[]): readonly number[] => (typeof axis === 'number' ? [axis] : axis);

function normalizedAxes(op: string, x: Variable, axes: readonly number[], ndim = x.ndim): number[] {
  const normalized = normalizeAxes(axes, x.type, ndim);
  if (typeof normalized === 'string') throw buildError(op, normalized);
  return normalized;
}

/** The static sizes of x where known, `dim(x, axis)` where not. */
const sizesOf = (x: Variable): SizeLike[] => x.shape.map((size, axis) => size ?? dim(x, axis));

/** x with a new shape of the same size; one entry may be -1, inferred from the size. */
export function reshape(x: TensorLike, shape: readonly SizeLike[]): Variable {
  const variable = asVariable(x);
  if (!Array.isArray(shape)) throw buildError('reshape', `expects a shape as a list of sizes, not ${String(shape)}`);
  // -1 passes the size check as 0 and goes back in afterwards; the op checks there is only one.
  const { spec, inputs } = sizesToShapeSpec('reshape', shape.map((size) => (size === -1 ? 0 : size)));
  return applyOp('reshape', [variable, ...inputs], { shape: spec.map((entry, i) => (shape[i] === -1 ? -1 : entry)) });
}

/** Theano's flatten: keeps the first `outdim - 1` axes and folds the rest into one. */
export function flatten(x: TensorLike, outdim = 1): Variable {
  const variable = asVariable(x);
  const most = Math.max(variable.ndim, 1);
  if (!Number.isInteger(outdim) || outdim < 1 || outdim > most) throw buildError('flatten', `outdim ${outdim} must be an integer from 1 to ${most} for ${variable.type}`);
  return composite('flatten', () => {
    // The folded size is a product of dims, not -1, so that empty tensors flatten too.
    const last = sizeOfAxes(variable, range(outdim - 1, variable.ndim));
    return reshape(variable, [...sizesOf(variable).slice(0, outdim - 1), last]);
  });
}

/** Theano's dimshuffle: input axes in a new order, 'x' for a new axis of size 1; dropped axes must have static size 1. */
export function dimshuffle(x: TensorLike, ...pattern: (number | 'x')[]): Variable {
  return applyOp('dimshuffle', [asVariable(x)], { pattern });
}

/** Permutes the axes (reverses them by default). */
export function transpose(x: TensorLike, axes?: readonly number[]): Variable {
  const variable = asVariable(x);
  const order = axes === undefined ? range(0, variable.ndim).reverse() : normalizedAxes('transpose', variable, axes);
  if (order.length !== variable.ndim) throw buildError('transpose', `axes [${axes!.join(',')}] are not a permutation of the ${variable.ndim} axes of ${variable.type}`);
  return composite('transpose', () => dimshuffle(variable, ...order));
}

/** numpy's broadcast_to: x aligned on the right, each of its axes 1 or equal to the target's. */
export function broadcastTo(x: TensorLike, shape: readonly SizeLike[]): Variable {
  const { spec, inputs } = sizesToShapeSpec('broadcast_to', shape);
  return applyOp('broadcast_to', [asVariable(x), ...inputs], { shape: spec });
}

/** Drops axes of static size 1: the given ones, or all of them. */
export function squeeze(x: TensorLike, axes?: number | readonly number[]): Variable {
  const variable = asVariable(x);
  const dropped = axes === undefined ? range(0, variable.ndim).filter((axis) => variable.shape[axis] === 1) : normalizedAxes('squeeze', variable, axisList(axes));
  for (const axis of dropped) {
    if (variable.shape[axis] !== 1) throw buildError('squeeze', `axis ${axis} of ${variable.type} has ${variable.shape[axis] === null ? 'an unknown size' : `size ${variable.shape[axis]}`}; only axes of static size 1 can be squeezed (reshape can drop others)`);
  }
  return composite('squeeze', () => dimshuffle(variable, ...range(0, variable.ndim).filter((axis) => !dropped.includes(axis))));
}

/** numpy's expand_dims: new axes of size 1 at the given positions of the result. */
export function expandDims(x: TensorLike, axis: number | readonly number[]): Variable {
  const variable = asVariable(x);
  const added = normalizedAxes('expandDims', variable, axisList(axis), variable.ndim + axisList(axis).length);
  let next = 0;
  const pattern = range(0, variable.ndim + added.length).map((position) => (added.includes(position) ? ('x' as const) : next++));
  return composite('expandDims', () => dimshuffle(variable, ...pattern));
}

/** Joins tensors along an existing axis; the other axes must agree, the dtype is promoted. */
export function concat(xs: readonly TensorLike[], axis = 0): Variable {
  if (!Array.isArray(xs) || xs.length === 0) throw buildError('concat', 'needs a non-empty list of tensors');
  const variables = asVariables(xs);
  return applyOp('concat', variables, { axis: normalizeAxis(axis, variables[0]!.ndim) ?? axis });
}

/** Joins tensors of one shape along a new axis. */
export function stack(xs: readonly TensorLike[], axis = 0): Variable {
  if (!Array.isArray(xs) || xs.length === 0) throw buildError('stack', 'needs a non-empty list of tensors');
  const variables = asVariables(xs);
  const along = normalizedAxes('stack', variables[0]!, [axis], variables[0]!.ndim + 1)[0]!;
  return composite('stack', () => concat(variables.map((variable) => expandDims(variable, along)), along));
}

/**
 * Splits x along `axis` into parts of the given sizes, or into `count` equal parts.
 * Where the axis size is unknown, each part is reshaped to its stated size, which both
 * gives it a static size and checks at run time that the sizes fit the axis.
 */
export function split(x: TensorLike, sizesOrCount: number | readonly number[], axis = 0): Variable[] {
  const variable = asVariable(x);
  const along = normalizedAxes('split', variable, [axis])[0]!;
  const n = variable.shape[along]!;
  let sizes: readonly number[];
  if (typeof sizesOrCount === 'number') {
    const count = sizesOrCount;
    if (!Number.isInteger(count) || count < 1) throw buildError('split', `the number of parts ${count} must be a positive integer`);
    if (n === null) throw buildError('split', `cannot split ${variable.type} into ${count} equal parts along axis ${along}, whose size is unknown; give the part sizes instead`);
    if (n % count !== 0) throw buildError('split', `axis ${along} of ${variable.type} (size ${n}) does not divide into ${count} equal parts`);
    sizes = new Array<number>(count).fill(n / count);
  } else {
    sizes = sizesOrCount;
    if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 0)) throw buildError('split', `part sizes [${sizes.join(',')}] must be a non-empty list of non-negative integers`);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (n !== null && total !== n) throw buildError('split', `part sizes [${sizes.join(',')}] add up to ${total} but axis ${along} of ${variable.type} has size ${n}`);
  return composite('split', () => {
    let offset = 0;
    return sizes.map((size, i) => {
      const last = i === sizes.length - 1;
      const bounds: SliceItem = { kind: 'slice', start: offset, stop: n === null && last ? null : offset + size, step: 1 };
      offset += size;
      const part = applyOp('subtensor', [variable], { items: [...range(0, along).map(() => full), bounds] });
      return n === null ? reshape(part, sizesOf(part).map((sizeOf, a) => (a === along ? size : sizeOf))) : part;
    });
  });
}

export interface PadOptions {
  mode?: PadMode;
  /** The fill of mode 'constant' (default 0). */
  value?: number;
}

/**
 * numpy's pad: `widths` is one number for every side, one [before, after] pair for every
 * axis, or a pair per axis. 'reflect' mirrors without repeating the edge and needs each
 * width below the axis size; 'edge' repeats the edge.
 */
export function pad(x: TensorLike, widths: number | readonly (readonly [number, number])[], options: PadOptions = {}): Variable {
  const variable = asVariable(x);
  const pairs = typeof widths === 'number'
    ? variable.shape.map(() => [widths, widths] as const)
    : widths.length === 1 && variable.ndim !== 1 ? variable.shape.map(() => widths[0]!) : widths;
  return applyOp('pad', [variable], { widths: pairs, mode: options.mode ?? 'constant', value: options.value ?? 0 });
}

/**
 * numpy's roll: elements shifted by `shift` along `axis`, wrapping around (over the
 * flattened tensor when no axis is given). Two slices joined: with a static size the
 * shift is reduced modulo it; with an unknown size the slices count from the end
 * (x[-shift:], x[:-shift]), which is exact only while |shift| ≤ the run-time size.
 */
export function roll(x: TensorLike, shift: number, axis?: number): Variable {
  const variable = asVariable(x);
  if (!Number.isInteger(shift)) throw buildError('roll', `shift ${shift} must be an integer`);
  if (axis === undefined) return composite('roll', () => reshape(roll(flatten(variable), shift, 0), sizesOf(variable)));
  const along = normalizedAxes('roll', variable, [axis])[0]!;
  const n = variable.shape[along]!;
  if (n === null) {
    // Unknown size: gather at (i − shift) mod n, exact for any shift (two slices would
    // need |shift| ≤ n, which only the run time knows).
    return composite('roll', () => {
      const size = dim(variable, along);
      const source = mod(sub(arange(size), shift), size);
      return get(variable, ...range(0, along).map(() => ':' as const), source);
    });
  }
  // Elements from `cut` on come first.
  const cut = n === 0 ? 0 : n - (((shift % n) + n) % n);
  if (cut === 0 || cut === n) return variable;
  const part = (start: number | null, stop: number | null): Variable =>
    applyOp('subtensor', [variable], { items: [...range(0, along).map(() => full), { kind: 'slice', start, stop, step: 1 }] });
  return composite('roll', () => concat([part(cut, null), part(null, cut)], along));
}

/** Reverses the order of elements along the given axes (all by default). */
export function flip(x: TensorLike, axis?: number | readonly number[]): Variable {
  const variable = asVariable(x);
  const axes = axis === undefined ? range(0, variable.ndim) : normalizedAxes('flip', variable, axisList(axis));
  if (axes.length === 0) return variable;
  const items = range(0, Math.max(...axes) + 1).map((a): SliceItem => (axes.includes(a) ? { kind: 'slice', start: null, stop: null, step: -1 } : full));
  return composite('flip', () => applyOp('subtensor', [variable], { items }));
}
