// Tensor types: a dtype plus a static shape whose dimensions are numbers or unknown
// (null). A static 1 is broadcastable. Broadcasting follows numpy: shapes align on the
// right; a dimension of 1 stretches; an unknown dimension against a known one > 1 takes
// the known size (checked again when values arrive).

import type { DType } from './dtype.ts';

export type Dim = number | null;
export type Shape = readonly Dim[];

export class TensorType {
  readonly shape: Shape;
  constructor(readonly dtype: DType, shape: Shape) {
    this.shape = Object.freeze([...shape]);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get broadcastable(): boolean[] {
    return this.shape.map((dim) => dim === 1);
  }
  /** Number of elements when every dimension is known, else null. */
  get size(): number | null {
    return staticSize(this.shape);
  }
  equals(other: TensorType): boolean {
    return this.dtype === other.dtype && sameShape(this.shape, other.shape);
  }
  toString(): string {
    return formatType(this.dtype, this.shape);
  }
}

export function formatShape(shape: Shape): string {
  return `[${shape.map((dim) => (dim === null ? '?' : String(dim))).join(',')}]`;
}

export function formatType(dtype: DType, shape: Shape): string {
  return `${dtype}${formatShape(shape)}`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

export function staticSize(shape: Shape): number | null {
  let size = 1;
  for (const dim of shape) {
    if (dim === null) return null;
    size *= dim;
  }
  return size;
}

/** Whether a value's concrete shape fits a static shape (unknown dims match anything). */
export function shapeFits(concrete: readonly number[], shape: Shape): boolean {
  return concrete.length === shape.length && shape.every((dim, i) => dim === null || dim === concrete[i]);
}

/**
 * The numpy broadcast of several static shapes, or a string saying which dimension
 * disagrees. Used by elementwise ops at build time.
 */
export function broadcastShapes(shapes: readonly Shape[]): Dim[] | string {
  const ndim = Math.max(0, ...shapes.map((shape) => shape.length));
  const out: Dim[] = [];
  for (let axis = 0; axis < ndim; axis++) {
    let dim: Dim = 1;
    for (const shape of shapes) {
      const offset = ndim - shape.length;
      const own = axis < offset ? 1 : shape[axis - offset]!;
      if (own === 1) continue;
      if (dim === 1) dim = own;
      else if (own === null) continue;
      else if (dim === null) dim = own;
      else if (dim !== own) return `dimension ${axis} (counting from the left of the aligned shapes) is ${dim} in one operand and ${own} in another`;
    }
    out.push(dim);
  }
  return out;
}

export function normalizeAxis(axis: number, ndim: number): number | null {
  const normalized = axis < 0 ? axis + ndim : axis;
  return Number.isInteger(normalized) && normalized >= 0 && normalized < ndim ? normalized : null;
}

/**
 * Normalizes a user's axis list for a tensor of `type`, keeping its order: negative
 * axes count from the end of `ndim` axes (the type's own, or the result's where axes
 * are inserted). Returns a sentence instead when an axis is not an integer, is out of
 * range, or appears twice. Reductions sort the result; tensordot pairs its two lists
 * in order; transpose takes it as a permutation.
 */
export function normalizeAxes(axes: readonly number[], type: TensorType, ndim = type.ndim): number[] | string {
  const out: number[] = [];
  for (const axis of axes) {
    if (!Number.isInteger(axis)) return `axis ${axis} is not an integer (for ${type})`;
    const normalized = normalizeAxis(axis, ndim);
    if (normalized === null) return `axis ${axis} is out of range for ${type} (${ndim} axes to choose from)`;
    if (out.includes(normalized)) return `axis ${axis} is repeated in [${axes.join(', ')}] for ${type}`;
    out.push(normalized);
  }
  return out;
}
