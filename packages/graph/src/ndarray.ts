// NDArray: the reference evaluator's value, a dense row-major typed array with a shape.
// Also the conversions from what users pass in (numbers, nested arrays, typed arrays).

import { allocate, castScalar, dtypeOfArray, type DType, type TypedArray } from './dtype.ts';

export type NestedArray = number | boolean | readonly NestedArray[];

export class NDArray {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  constructor(readonly dtype: DType, shape: readonly number[], readonly data: TypedArray) {
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(stridesOf(shape));
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new Error(`NDArray: data has ${data.length} elements but shape [${shape.join(',')}] needs ${size}`);
    }
  }
  static zeros(dtype: DType, shape: readonly number[]): NDArray {
    return new NDArray(dtype, shape, allocate(dtype, sizeOf(shape)));
  }
  static scalar(value: number, dtype: DType): NDArray {
    const data = allocate(dtype, 1);
    data[0] = castScalar(value, dtype);
    return new NDArray(dtype, [], data);
  }
  get size(): number {
    return this.data.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Element at a multi-index (no bounds checks: for tests and small tools). */
  at(...index: number[]): number {
    let offset = 0;
    for (let i = 0; i < index.length; i++) offset += index[i]! * this.strides[i]!;
    return this.data[offset]!;
  }
  /** The values as nested JS arrays (booleans stay 0/1). */
  toNested(): NestedArray {
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.ndim) return this.data[offset]!;
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[axis]!; i++) out.push(build(axis + 1, offset + i * this.strides[axis]!));
      return out;
    };
    return build(0, 0);
  }
  toArray(): number[] {
    return Array.from(this.data);
  }
  astype(dtype: DType): NDArray {
    if (dtype === this.dtype) return this;
    const out = allocate(dtype, this.size);
    for (let i = 0; i < this.size; i++) out[i] = castScalar(this.data[i]!, dtype);
    return new NDArray(dtype, this.shape, out);
  }
  reshape(shape: readonly number[]): NDArray {
    return new NDArray(this.dtype, shape, this.data);
  }
  toString(): string {
    return `NDArray(${this.dtype}[${this.shape.join(',')}])`;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}

export type ArrayLike = NDArray | NestedArray | TypedArray;

/** Shape of a nested JS array; throws if it is ragged. */
export function nestedShape(value: NestedArray): number[] {
  const shape: number[] = [];
  let cursor: NestedArray = value;
  while (Array.isArray(cursor)) {
    shape.push(cursor.length);
    if (cursor.length === 0) break;
    cursor = cursor[0]!;
  }
  const check = (node: NestedArray, axis: number): void => {
    if (axis === shape.length) {
      if (Array.isArray(node)) throw new Error(`ragged nested array: expected a number at depth ${axis}`);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[axis]) {
      throw new Error(`ragged nested array: expected ${shape[axis]} elements at depth ${axis}`);
    }
    for (const child of node) check(child, axis + 1);
  };
  check(value, 0);
  return shape;
}

/** What users may pass as a value, for error messages. */
export const valueForms = 'a number, nested arrays of numbers, a typed array or an NDArray';

/**
 * Where a user value holds something other than numbers and booleans (undefined, a
 * string, an object), as a phrase ("is undefined", "has the string 'a' at [1][0]");
 * undefined when it is all numbers. Typed arrays and NDArrays are numbers by type.
 */
export function nonNumeric(value: unknown): string | undefined {
  if (value instanceof NDArray || (ArrayBuffer.isView(value) && !(value instanceof DataView))) return undefined;
  const describe = (node: unknown): string => {
    if (node === undefined || node === null) return String(node);
    if (typeof node === 'string') return `the string ${JSON.stringify(node.length > 20 ? `${node.slice(0, 20)}…` : node)}`;
    if (typeof node === 'object') return `${/^[aeiou]/i.test(node.constructor?.name ?? 'object') ? 'an' : 'a'} ${node.constructor?.name ?? 'object'}`;
    return `a ${typeof node}`;
  };
  const walk = (node: unknown, path: number[]): string | undefined => {
    if (typeof node === 'number' || typeof node === 'boolean') return undefined;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const found = walk(node[i], [...path, i]);
        if (found) return found;
      }
      return undefined;
    }
    return path.length === 0 ? `is ${describe(node)}` : `has ${describe(node)} at [${path.join('][')}]`;
  };
  return walk(value, []);
}

/**
 * The first number of `value` that int32 or uint32 cannot hold exactly, with its place:
 * a fraction (unless `fractions` are allowed: they truncate), or a number outside the
 * dtype's range (always refused: saturating would be a silent wrong answer).
 */
export function unrepresentable(value: ArrayLike, dtype: DType, fractions: boolean): { value: number; at: string; why: 'fraction' | 'range' } | undefined {
  if (dtype !== 'int32' && dtype !== 'uint32') return undefined;
  const [low, high] = dtype === 'int32' ? [-2147483648, 2147483647] : [0, 4294967295];
  const data: { readonly length: number; readonly [i: number]: number } | undefined = value instanceof NDArray ? value.data : ArrayBuffer.isView(value) ? (value as TypedArray) : undefined;
  const test = (x: number): 'fraction' | 'range' | undefined => {
    if (Number.isNaN(x) || x < low || x > high) return 'range';
    return !fractions && !Number.isInteger(x) ? 'fraction' : undefined;
  };
  if (data) {
    for (let i = 0; i < data.length; i++) {
      const why = test(data[i]!);
      if (why) return { value: data[i]!, at: `flat element ${i}`, why };
    }
    return undefined;
  }
  const walk = (node: NestedArray, path: number[]): { value: number; at: string; why: 'fraction' | 'range' } | undefined => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const found = walk(node[i]!, [...path, i]);
        if (found) return found;
      }
      return undefined;
    }
    const x = Number(node);
    const why = test(x);
    return why ? { value: x, at: path.length === 0 ? 'the value' : `element [${path.join('][')}]`, why } : undefined;
  };
  return walk(value as NestedArray, []);
}

/**
 * Builds an NDArray from user data. Nested arrays and numbers take `dtype` (default
 * float32); a typed array keeps its own dtype unless `dtype` says otherwise, and takes
 * `shape` (default 1-D).
 */
export function array(value: ArrayLike, options: { dtype?: DType; shape?: readonly number[] } = {}): NDArray {
  if (value instanceof NDArray) {
    const cast = options.dtype ? value.astype(options.dtype) : value;
    return options.shape ? cast.reshape(options.shape) : cast;
  }
  if (ArrayBuffer.isView(value)) {
    const own = dtypeOfArray(value);
    const shape = options.shape ?? [value.length];
    const base = new NDArray(own, shape, value);
    return options.dtype && options.dtype !== own ? base.astype(options.dtype) : base;
  }
  const dtype = options.dtype ?? 'float32';
  const shape = nestedShape(value);
  const flat: number[] = [];
  const walk = (node: NestedArray): void => {
    if (Array.isArray(node)) for (const child of node) walk(child);
    else if (typeof node === 'number' || typeof node === 'boolean') flat.push(Number(node));
    else throw new TypeError(`a value ${nonNumeric(value)}; expected ${valueForms}`);
  };
  walk(value);
  const data = allocate(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) data[i] = castScalar(flat[i]!, dtype);
  return new NDArray(dtype, options.shape ?? shape, data);
}
