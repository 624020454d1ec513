// Basic slicing (`subtensor`): one slice or integer index per leading axis, by numpy's
// rules (bounds clamp, negative bounds and indices count from the end, negative steps
// walk backwards), trailing axes untouched. Also the strided view that every movement
// op's reference is made of: a base offset and one stride per output axis, copied out
// densely. Left out: indexing by integer tensors and writes (indexing.ts).
//
// Shapes: x [n0, ..., nk], items [i0, ..., ij] with j ≤ k; an index item drops its axis,
// a slice item replaces it by the slice's length.

import { allocate, type DType } from '../dtype.ts';
import { NDArray, sizeOf } from '../ndarray.ts';
import type { SliceItem } from '../ops.ts';
import { formatShape, type Dim, type Shape, type TensorType } from '../type.ts';
import { fail, type OpDefs } from './def.ts';

export type Slice = Extract<SliceItem, { kind: 'slice' }>;

/** A strided view of a dense row-major array: its shape, where it starts, and one stride per axis. */
export interface View {
  readonly shape: readonly number[];
  readonly base: number;
  readonly strides: readonly number[];
}

/** The offsets of every element of a view, in row-major order of the view. */
export function viewOffsets(view: View): Float64Array {
  const { shape, strides } = view;
  const size = sizeOf(shape);
  const offsets = new Float64Array(size);
  const index = new Array<number>(shape.length).fill(0);
  let offset = view.base;
  for (let flat = 0; flat < size; flat++) {
    offsets[flat] = offset;
    // Advance the odometer and the offset with it.
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      offset += strides[axis]!;
      if (++index[axis]! < shape[axis]!) break;
      offset -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return offsets;
}

/** Copies a view of `source` into a new dense array (stored as `dtype`, for promotions that only widen). */
export function stridedCopy(source: NDArray, view: View, dtype: DType = source.dtype): NDArray {
  const offsets = viewOffsets(view);
  const out = allocate(dtype, offsets.length);
  for (let flat = 0; flat < offsets.length; flat++) out[flat] = source.data[offsets[flat]!]!;
  return new NDArray(dtype, view.shape, out);
}

/**
 * Python's `slice.indices(n)`: the first position, the step and the number of elements.
 * Bounds clamp to [0, n] for positive steps and to [-1, n-1] for negative ones, where
 * -1 means "before the first element".
 */
export function resolveSlice(item: Slice, n: number): { start: number; step: number; length: number } {
  const { step } = item;
  const lower = step > 0 ? 0 : -1;
  const upper = step > 0 ? n : n - 1;
  const clamp = (bound: number | null, fallback: number): number => {
    if (bound === null) return fallback;
    return bound < 0 ? Math.max(bound + n, lower) : Math.min(bound, upper);
  };
  const start = clamp(item.start, step > 0 ? lower : upper);
  const stop = clamp(item.stop, step > 0 ? upper : lower);
  const span = step > 0 ? stop - start : start - stop;
  return { start, step, length: span > 0 ? Math.ceil(span / Math.abs(step)) : 0 };
}

/**
 * A slice's length on an axis whose size may be unknown. Without the size the length is
 * only exact when both bounds have the same sign and the slice runs the wrong way (empty).
 */
export function staticSliceLength(item: Slice, n: Dim): Dim {
  if (n !== null) return resolveSlice(item, n).length;
  const { start, stop, step } = item;
  if (start === null || stop === null || start < 0 !== stop < 0) return null;
  return (step > 0 ? start >= stop : start <= stop) ? 0 : null;
}

function describeItem(item: SliceItem): string {
  if (item.kind === 'index') return String(item.index);
  const bound = (value: number | null) => (value === null ? '' : String(value));
  return `${bound(item.start)}:${bound(item.stop)}${item.step === 1 ? '' : `:${item.step}`}`;
}

export function describeItems(items: readonly SliceItem[]): string {
  return `[${items.map(describeItem).join(', ')}]`;
}

const isIntegerOrNull = (value: unknown): boolean => value === null || Number.isInteger(value);

/** Checks basic-indexing items against a static type and returns the shape they select. */
export function subtensorShape(x: TensorType, items: readonly SliceItem[]): Dim[] {
  if (items.length > x.ndim) fail(`${items.length} index items ${describeItems(items)} are too many for ${x}, which has ${x.ndim} axes`);
  const shape: Dim[] = [];
  items.forEach((item, axis) => {
    const n = x.shape[axis]!;
    if (item.kind === 'index') {
      if (!Number.isInteger(item.index)) fail(`index ${item.index} on axis ${axis} is not an integer`);
      if (n !== null && (item.index < -n || item.index >= n)) fail(`index ${item.index} is out of range for axis ${axis} of ${x} (size ${n})`);
      return;
    }
    if (!Number.isInteger(item.step) || item.step === 0) fail(`slice step ${item.step} on axis ${axis} of ${x} must be a nonzero integer`);
    if (!isIntegerOrNull(item.start) || !isIntegerOrNull(item.stop)) fail(`slice ${describeItem(item)} on axis ${axis} of ${x} has a bound that is neither an integer nor null`);
    shape.push(staticSliceLength(item, n));
  });
  return [...shape, ...x.shape.slice(items.length)];
}

/** The view that basic-indexing items select in a concrete array; fails on an index out of range. */
export function subtensorView(x: NDArray, items: readonly SliceItem[]): View {
  if (items.length > x.ndim) fail(`${items.length} index items are too many for a value of shape ${formatShape(x.shape)}`);
  let base = 0;
  const shape: number[] = [];
  const strides: number[] = [];
  items.forEach((item, axis) => {
    const n = x.shape[axis]!;
    const stride = x.strides[axis]!;
    if (item.kind === 'index') {
      if (item.index < -n || item.index >= n) fail(`index ${item.index} is out of range for axis ${axis} of a value of shape ${formatShape(x.shape)} (size ${n})`);
      base += (item.index < 0 ? item.index + n : item.index) * stride;
      return;
    }
    const { start, step, length } = resolveSlice(item, n);
    // An empty slice may start outside the axis; its base offset is never read.
    if (length > 0) base += start * stride;
    shape.push(length);
    strides.push(step * stride);
  });
  for (let axis = items.length; axis < x.ndim; axis++) {
    shape.push(x.shape[axis]!);
    strides.push(x.strides[axis]!);
  }
  return { shape, base, strides };
}

/** Whether a static shape broadcasts to another by numpy's rules; null if it does, else the reason. */
export function broadcastMismatch(from: Shape, to: Shape): string | null {
  if (from.length > to.length) return `it has more axes (${from.length}) than the target (${to.length})`;
  const offset = to.length - from.length;
  for (let axis = 0; axis < from.length; axis++) {
    const own = from[axis]!;
    const target = to[axis + offset]!;
    if (own !== null && own !== 1 && target !== null && own !== target) {
      return `its axis ${axis} has size ${own}, which is neither 1 nor the target's ${target}`;
    }
  }
  return null;
}

export const subtensorDefs = {
  subtensor: {
    infer: ([x], { items }) => ({ dtype: x!.dtype, shape: subtensorShape(x!, items) }),
    perform: ([x], { items }) => stridedCopy(x!, subtensorView(x!, items)),
  },
} satisfies OpDefs<'subtensor'>;
