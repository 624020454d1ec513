// Movement ops: reshape, dimshuffle, broadcast_to, concat and pad, plus subtensor from
// subtensor.ts (the joined table is exported here). Codegen turns them into index
// arithmetic; the references below are strided copies, so each is the plain definition.
// Sizes given as a ShapeSpec take their null entries from the node's scalar inputs,
// which come after its one tensor input. Left out: writes and integer-tensor gathers
// (indexing.ts), and pad modes beyond constant, reflect and edge.
//
// Shapes: reshape x [...] → spec (one entry may be -1: inferred from the size);
// dimshuffle x [n0..nk] → [pattern], 'x' a new axis of 1; broadcast_to x → spec, x
// aligned on the right; concat [..., ai, ...] × m → [..., Σai, ...]; pad n → b + n + a.

import { castScalar, isInteger, promote } from '../dtype.ts';
import { NDArray } from '../ndarray.ts';
import type { MovementOp, PadMode, ShapeSpec } from '../ops.ts';
import { formatShape, normalizeAxis, type Dim, type TensorType } from '../type.ts';
import { fail, type OpDefs } from './def.ts';
import { broadcastStrides } from './elementwise.ts';
import { broadcastMismatch, stridedCopy, subtensorDefs } from './subtensor.ts';

export const formatSpec = (spec: ShapeSpec): string => `[${spec.map((entry) => (entry === null ? '?' : String(entry))).join(',')}]`;

/**
 * Checks a ShapeSpec and its scalar inputs (one int32/uint32 scalar per null entry) and
 * returns the static dims: numbers where given, null where a scalar input decides, and
 * -1 kept for reshape to infer.
 */
export function specDims(spec: ShapeSpec, scalars: readonly TensorType[], allowInferred: boolean): Dim[] {
  const nulls = spec.filter((entry) => entry === null).length;
  if (nulls !== scalars.length) fail(`shape ${formatSpec(spec)} has ${nulls} symbolic entries but the node has ${scalars.length} size inputs`);
  scalars.forEach((scalar, i) => {
    if (scalar.ndim !== 0 || !isInteger(scalar.dtype)) fail(`size input ${i} is ${scalar}; symbolic sizes must be int32 or uint32 scalars`);
  });
  let inferred = 0;
  for (const entry of spec) {
    if (entry === null || (Number.isInteger(entry) && entry >= 0)) continue;
    if (entry === -1 && allowInferred && inferred++ === 0) continue;
    fail(`shape ${formatSpec(spec)} has an entry ${entry}; sizes must be non-negative integers${allowInferred ? ', with at most one -1' : ''}`);
  }
  return [...spec];
}

/** The spec's sizes with the run-time values of its scalar inputs filled in. */
export function resolveSpec(spec: ShapeSpec, scalars: readonly NDArray[]): number[] {
  let next = 0;
  return spec.map((entry, i) => {
    if (entry !== null) return entry;
    const value = scalars[next++]!.data[0]!;
    if (!(Number.isInteger(value) && value >= 0)) fail(`size entry ${i} of shape ${formatSpec(spec)} is ${value} at run time; symbolic sizes must be non-negative`);
    return value;
  });
}

/** A dense copy of `x` broadcast to `shape` by numpy's rules, or fail(sentence) naming both shapes. */
export function broadcastArray(x: NDArray, shape: readonly number[], what: string): NDArray {
  const mismatch = broadcastMismatch(x.shape, shape);
  if (mismatch !== null) fail(`cannot broadcast ${what} of shape ${formatShape(x.shape)} to ${formatShape(shape)}: ${mismatch}`);
  return stridedCopy(x, { shape, base: 0, strides: broadcastStrides(x.shape, shape) });
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** reshape's -1 entry given the size; fails when it is not a whole number of elements. */
function inferredShape(dims: readonly number[], size: number, describe: () => string): number[] {
  const inferred = dims.indexOf(-1);
  const known = product(dims.filter((_, i) => i !== inferred));
  if (inferred < 0) {
    if (known !== size) fail(`cannot reshape ${describe()} (${size} elements) into ${formatSpec(dims)} (${known} elements)`);
    return [...dims];
  }
  if (known === 0 || size % known !== 0) fail(`cannot reshape ${describe()} (${size} elements) into ${formatSpec(dims)}: the -1 entry would not be a whole size`);
  return dims.map((dim) => (dim === -1 ? size / known : dim));
}

function checkPattern(x: TensorType | NDArray, pattern: readonly (number | 'x')[]): number[] {
  const seen = new Set<number>();
  for (const entry of pattern) {
    if (entry === 'x') continue;
    if (!Number.isInteger(entry) || entry < 0 || entry >= x.ndim) fail(`pattern [${pattern.join(',')}] names axis ${entry}, which ${x} does not have (ndim ${x.ndim})`);
    if (seen.has(entry)) fail(`pattern [${pattern.join(',')}] names axis ${entry} of ${x} twice`);
    seen.add(entry);
  }
  return x.shape.map((_, axis) => axis).filter((axis) => !seen.has(axis));
}

/** Per-axis maps from a padded position to the source position, or -1 for the constant. */
function padMaps(shape: readonly number[], widths: readonly (readonly [number, number])[], mode: PadMode): Int32Array[] {
  return shape.map((n, axis) => {
    const [before, after] = widths[axis]!;
    checkPadWidths(n, axis, before, after, mode, () => `a value of shape ${formatShape(shape)}`);
    const map = new Int32Array(before + n + after);
    for (let j = 0; j < map.length; j++) {
      const i = j - before;
      if (i >= 0 && i < n) map[j] = i;
      else if (mode === 'constant') map[j] = -1;
      else if (mode === 'edge') map[j] = i < 0 ? 0 : n - 1;
      else map[j] = i < 0 ? -i : 2 * (n - 1) - i; // reflect leaves the edge out, as numpy does
    }
    return map;
  });
}

function checkPadWidths(n: Dim, axis: number, before: number, after: number, mode: PadMode, describe: () => string): void {
  const widest = Math.max(before, after);
  if (n === null || widest === 0) return;
  if (mode === 'reflect' && widest >= n) fail(`reflect padding of axis ${axis} by ${widest} needs that axis to be longer than ${widest}, but ${describe()} has size ${n} there`);
  if (mode === 'edge' && n === 0) fail(`edge padding of axis ${axis} needs a non-empty axis, but ${describe()} has size 0 there`);
}

const padModes: readonly PadMode[] = ['constant', 'reflect', 'edge'];

export const movementDefs = {
  reshape: {
    infer: ([x, ...scalars], { shape }) => {
      const dims = specDims(shape, scalars, true);
      if (dims.includes(null) || x!.size === null) return { dtype: x!.dtype, shape: dims.map((dim) => (dim === -1 ? null : dim)) };
      return { dtype: x!.dtype, shape: inferredShape(dims as number[], x!.size, () => String(x)) };
    },
    perform: ([x, ...scalars], { shape }) => {
      const dims = inferredShape(resolveSpec(shape, scalars), x!.size, () => `a value of shape ${formatShape(x!.shape)}`);
      // A copy, so that a result handed to the user never aliases a shared variable's value.
      return new NDArray(x!.dtype, dims, x!.data.slice());
    },
  },

  dimshuffle: {
    infer: ([x], { pattern }) => {
      for (const axis of checkPattern(x!, pattern)) {
        if (x!.shape[axis] !== 1) {
          fail(`axis ${axis} of ${x} is left out of pattern [${pattern.join(',')}] but is not broadcastable (static size ${x!.shape[axis] ?? '?'}); only axes of static size 1 can be dropped`);
        }
      }
      return { dtype: x!.dtype, shape: pattern.map((entry) => (entry === 'x' ? 1 : x!.shape[entry]!)) };
    },
    perform: ([x], { pattern }) => {
      for (const axis of checkPattern(x!, pattern)) {
        if (x!.shape[axis] !== 1) fail(`axis ${axis} of a value of shape ${formatShape(x!.shape)} is dropped but has size ${x!.shape[axis]}`);
      }
      const shape = pattern.map((entry) => (entry === 'x' ? 1 : x!.shape[entry]!));
      const strides = pattern.map((entry) => (entry === 'x' ? 0 : x!.strides[entry]!));
      return stridedCopy(x!, { shape, base: 0, strides });
    },
  },

  broadcast_to: {
    infer: ([x, ...scalars], { shape }) => {
      const dims = specDims(shape, scalars, false);
      const mismatch = broadcastMismatch(x!.shape, dims);
      if (mismatch !== null) fail(`cannot broadcast ${x} to ${formatSpec(shape)}: ${mismatch}`);
      // An unknown target against a known size other than 1 can only be that size.
      const offset = dims.length - x!.ndim;
      return { dtype: x!.dtype, shape: dims.map((dim, axis) => dim ?? (axis >= offset && x!.shape[axis - offset] !== 1 ? x!.shape[axis - offset]! : null)) };
    },
    perform: ([x, ...scalars], { shape }) => broadcastArray(x!, resolveSpec(shape, scalars), 'a value'),
  },

  concat: {
    infer: (inputs, { axis }) => {
      const types = () => inputs.map(String).join(', ');
      const first = inputs[0];
      if (first === undefined) fail('needs at least one input');
      if (first.ndim === 0) fail(`cannot concatenate scalars (${types()}); give them an axis first`);
      const along = normalizeAxis(axis, first.ndim);
      if (along === null) fail(`axis ${axis} is out of range for ${first} (ndim ${first.ndim})`);
      const shape: Dim[] = [...first.shape];
      for (const input of inputs.slice(1)) {
        if (input.ndim !== first.ndim) fail(`cannot concatenate ${types()}: they differ in their number of axes`);
        input.shape.forEach((dim, i) => {
          if (i === along) {
            shape[i] = shape[i] === null || dim === null ? null : shape[i]! + dim;
          } else if (dim !== null) {
            if (shape[i] !== null && shape[i] !== dim) fail(`cannot concatenate ${types()} along axis ${along}: axis ${i} has size ${shape[i]} in one and ${dim} in another`);
            shape[i] = dim;
          }
        });
      }
      return { dtype: inputs.map((input) => input.dtype).reduce(promote), shape };
    },
    perform: (inputs, { axis }) => {
      const first = inputs[0]!;
      const along = normalizeAxis(axis, first.ndim)!;
      const dtype = inputs.map((input) => input.dtype).reduce(promote);
      for (const input of inputs) {
        if (input.ndim !== first.ndim || input.shape.some((dim, i) => i !== along && dim !== first.shape[i])) {
          fail(`cannot concatenate values of shapes ${inputs.map((value) => formatShape(value.shape)).join(', ')} along axis ${along}`);
        }
      }
      const total = inputs.reduce((sum, input) => sum + input.shape[along]!, 0);
      const shape = first.shape.map((dim, i) => (i === along ? total : dim));
      const out = NDArray.zeros(dtype, shape);
      // Each input is `outer` blocks of `shape[along] * inner` contiguous elements.
      const outer = product(first.shape.slice(0, along));
      const inner = product(first.shape.slice(along + 1));
      let column = 0;
      for (const input of inputs) {
        const block = input.shape[along]! * inner;
        for (let o = 0; o < outer; o++) {
          for (let k = 0; k < block; k++) out.data[o * total * inner + column + k] = input.data[o * block + k]!;
        }
        column += block;
      }
      return out;
    },
  },

  pad: {
    infer: ([x], { widths, mode, value }) => {
      if (!padModes.includes(mode)) fail(`mode '${String(mode)}' is not one of ${padModes.join(', ')}`);
      if (typeof value !== 'number') fail(`the constant value must be a number, not ${typeof value}`);
      if (widths.length !== x!.ndim) fail(`gives widths for ${widths.length} axes but ${x} has ${x!.ndim}`);
      const shape = x!.shape.map((n, axis) => {
        const [before, after] = widths[axis]!;
        if (![before, after].every((w) => Number.isInteger(w) && w >= 0)) fail(`widths [${before}, ${after}] of axis ${axis} must be non-negative integers`);
        checkPadWidths(n, axis, before, after, mode, () => String(x));
        return n === null ? null : before + n + after;
      });
      return { dtype: x!.dtype, shape };
    },
    perform: ([x], { widths, mode, value }) => {
      const maps = padMaps(x!.shape, widths, mode);
      const out = NDArray.zeros(x!.dtype, maps.map((map) => map.length));
      const fill = castScalar(value, x!.dtype);
      const index = new Array<number>(out.ndim).fill(0);
      for (let flat = 0; flat < out.size; flat++) {
        let offset = 0;
        for (let axis = 0; axis < out.ndim && offset >= 0; axis++) {
          const source = maps[axis]![index[axis]!]!;
          offset = source < 0 ? -1 : offset + source * x!.strides[axis]!;
        }
        out.data[flat] = offset < 0 ? fill : x!.data[offset]!;
        for (let axis = out.ndim - 1; axis >= 0; axis--) {
          if (++index[axis]! < out.shape[axis]!) break;
          index[axis] = 0;
        }
      }
      return out;
    },
  },
  ...subtensorDefs,
} satisfies OpDefs<MovementOp>;
