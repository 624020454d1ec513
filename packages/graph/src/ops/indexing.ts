// Indexing ops: writes into a copy of a tensor through basic indexing (inc_subtensor),
// gathers by integer tensors (advanced_subtensor) and the matching writes
// (advanced_inc_subtensor, whose 'inc' accumulates repeated indices like np.add.at:
// it is the gradient of the gather). The written value has x's dtype (the API casts)
// and broadcasts to the selected shape by numpy's rules. Left out: boolean masks.
//
// Advanced shapes: x [n0..nk], items one 'index' or 'all' per leading axis, index
// tensors broadcast together to B. If the indexed axes are adjacent, B replaces them in
// place (x [a, b, c, d], items ['all', 'index', 'index'] → [a, ...B, d]); otherwise B
// goes first, followed by the other axes in order (['index', 'all', 'index'] → [...B, b, d]).

import { isInteger } from '../dtype.ts';
import { EvaluationError } from '../errors.ts';
import type { SourceLocation } from '../location.ts';
import type { TypedArray } from '../dtype.ts';
import { NDArray, sizeOf } from '../ndarray.ts';
import type { AdvancedItem, IndexingOp } from '../ops.ts';
import { broadcastShapes, formatShape, type Dim, type TensorType } from '../type.ts';
import { fail, OpFailure, type OpDefs } from './def.ts';
import { broadcastStrides } from './elementwise.ts';
import { broadcastArray } from './movement.ts';
import { broadcastMismatch, describeItems, subtensorShape, subtensorView, viewOffsets } from './subtensor.ts';

/** Where the gathered dims go: the x axes kept before them, and those kept after. */
function advancedLayout(ndim: number, items: readonly AdvancedItem[]): { before: number[]; after: number[] } {
  const indexed = items.flatMap((item, axis) => (item === 'index' ? [axis] : []));
  const kept = Array.from({ length: ndim }, (_, axis) => axis).filter((axis) => !indexed.includes(axis));
  const adjacent = indexed.every((axis, i) => i === 0 || axis === indexed[i - 1]! + 1);
  if (!adjacent || indexed.length === 0) return { before: [], after: kept };
  return { before: kept.filter((axis) => axis < indexed[0]!), after: kept.filter((axis) => axis > indexed[0]!) };
}

/** Checks an advanced index against static types and returns the gathered shape. */
function gatheredShape(x: TensorType, indices: readonly TensorType[], items: readonly AdvancedItem[]): Dim[] {
  if (items.length > x.ndim) fail(`${items.length} index items are too many for ${x}, which has ${x.ndim} axes`);
  if (items.some((item) => item !== 'index' && item !== 'all')) fail(`items [${items.join(', ')}] may only hold 'index' and 'all'`);
  const count = items.filter((item) => item === 'index').length;
  if (count !== indices.length) fail(`items [${items.join(', ')}] gather by ${count} index tensors but the node has ${indices.length}`);
  indices.forEach((index, k) => {
    if (!isInteger(index.dtype)) fail(`index tensor ${k} is ${index}; advanced indices must be int32 or uint32 tensors${index.dtype === 'bool' ? ' (boolean masks are not supported)' : ''}`);
  });
  const broadcast = broadcastShapes(indices.map((index) => index.shape));
  if (typeof broadcast === 'string') fail(`index tensors ${indices.map(String).join(', ')} do not broadcast together: ${broadcast}`);
  const { before, after } = advancedLayout(x.ndim, items);
  return [...before.map((axis) => x.shape[axis]!), ...broadcast, ...after.map((axis) => x.shape[axis]!)];
}

/**
 * The offsets into x of every gathered element, in row-major order of the gathered
 * shape. Negative indices wrap once; anything still outside the axis fails.
 */
function gatherOffsets(x: NDArray, indices: readonly NDArray[], items: readonly AdvancedItem[]): { shape: number[]; offsets: Float64Array } {
  const broadcast = broadcastShapes(indices.map((index) => index.shape));
  if (typeof broadcast === 'string') fail(`index values of shapes ${indices.map((index) => formatShape(index.shape)).join(', ')} do not broadcast together: ${broadcast}`);
  const shape = broadcast as number[];
  const indexed = items.flatMap((item, axis) => (item === 'index' ? [axis] : []));
  // One offset into x per position of the broadcast index shape.
  const indexOffsets = new Float64Array(sizeOf(shape));
  indices.forEach((index, k) => {
    const axis = indexed[k]!;
    const n = x.shape[axis]!;
    const positions = viewOffsets({ shape, base: 0, strides: broadcastStrides(index.shape, shape) });
    for (let b = 0; b < positions.length; b++) {
      const value = index.data[positions[b]!]!;
      const wrapped = value < 0 ? value + n : value;
      if (wrapped < 0 || wrapped >= n) fail(`index ${value} is out of range for axis ${axis} of a value of shape ${formatShape(x.shape)} (size ${n})`);
      indexOffsets[b]! += wrapped * x.strides[axis]!;
    }
  });
  const { before, after } = advancedLayout(x.ndim, items);
  const keptOffsets = (axes: number[]) => viewOffsets({ shape: axes.map((axis) => x.shape[axis]!), base: 0, strides: axes.map((axis) => x.strides[axis]!) });
  const beforeOffsets = keptOffsets(before);
  const afterOffsets = keptOffsets(after);
  const offsets = new Float64Array(beforeOffsets.length * indexOffsets.length * afterOffsets.length);
  let flat = 0;
  for (const a of beforeOffsets) for (const b of indexOffsets) for (const c of afterOffsets) offsets[flat++] = a + b + c;
  return { shape: [...before.map((axis) => x.shape[axis]!), ...shape, ...after.map((axis) => x.shape[axis]!)], offsets };
}

/** Output type of a write: x's, once y's dtype and broadcast against the selected shape are checked. */
function writeType(selector: string, x: TensorType, y: TensorType, selected: readonly Dim[]): { dtype: TensorType['dtype']; shape: readonly Dim[] } {
  if (y.dtype !== x.dtype) fail(`the value ${y} must have the dtype of ${x}; cast it first`);
  const mismatch = broadcastMismatch(y.shape, selected);
  if (mismatch !== null) fail(`cannot broadcast the value ${y} to the shape ${formatShape(selected)} that ${selector} selects in ${x}: ${mismatch}`);
  return { dtype: x.dtype, shape: x.shape };
}

/** A copy of x with y (broadcast to the selection) added at, or stored to, each offset in turn. */
function writeAt(x: NDArray, y: NDArray, shape: readonly number[], offsets: Float64Array, mode: 'inc' | 'set'): NDArray {
  const out = new NDArray(x.dtype, x.shape, x.data.slice());
  writeOffsets(out.data, x.dtype, broadcastArray(y, shape, 'the value').data, offsets, mode);
  return out;
}

function writeOffsets(data: TypedArray, dtype: NDArray['dtype'], values: TypedArray, offsets: Float64Array, mode: 'inc' | 'set'): void {
  const isBool = dtype === 'bool';
  for (let k = 0; k < offsets.length; k++) {
    const offset = offsets[k]!;
    if (mode === 'set') data[offset] = values[k]!;
    else data[offset] = isBool ? (data[offset]! || values[k]! ? 1 : 0) : data[offset]! + values[k]!;
  }
}

/**
 * advanced_inc_subtensor written into `out`, a buffer of x's size that a device owns (x's
 * values are copied there first unless `out` is x's own data): the scatter without the
 * evaluator's fresh output. Bad indices fail as in `perform`, with the node's location.
 */
export function advancedIncInto(
  node: { op: string; attrs: { items: readonly AdvancedItem[]; mode: 'inc' | 'set' }; location: SourceLocation | undefined },
  inputs: readonly NDArray[], out: TypedArray,
): void {
  const [x, y, ...indices] = inputs;
  const { items, mode } = node.attrs;
  try {
    const { shape, offsets } = gatherOffsets(x!, indices, items);
    const values = broadcastArray(y!, shape, 'the value').data;
    if (out !== x!.data) out.set(x!.data);
    writeOffsets(out, x!.dtype, values, offsets, mode);
  } catch (error) {
    if (error instanceof OpFailure) throw new EvaluationError(node.op, error.message, node.location);
    throw error;
  }
}

export const indexingDefs = {
  inc_subtensor: {
    infer: ([x, y], { items, mode }) => {
      if (mode !== 'inc' && mode !== 'set') fail(`mode '${String(mode)}' is neither 'inc' nor 'set'`);
      return writeType(describeItems(items), x!, y!, subtensorShape(x!, items));
    },
    perform: ([x, y], { items, mode }) => {
      const view = subtensorView(x!, items);
      return writeAt(x!, y!, view.shape, viewOffsets(view), mode);
    },
  },

  advanced_subtensor: {
    infer: ([x, ...indices], { items }) => ({ dtype: x!.dtype, shape: gatheredShape(x!, indices, items) }),
    perform: ([x, ...indices], { items }) => {
      const { shape, offsets } = gatherOffsets(x!, indices, items);
      const out = NDArray.zeros(x!.dtype, shape);
      for (let k = 0; k < offsets.length; k++) out.data[k] = x!.data[offsets[k]!]!;
      return out;
    },
  },

  advanced_inc_subtensor: {
    infer: ([x, y, ...indices], { items, mode }) => {
      if (mode !== 'inc' && mode !== 'set') fail(`mode '${String(mode)}' is neither 'inc' nor 'set'`);
      return writeType('the index tensors', x!, y!, gatheredShape(x!, indices, items));
    },
    perform: ([x, y, ...indices], { items, mode }) => {
      const { shape, offsets } = gatherOffsets(x!, indices, items);
      return writeAt(x!, y!, shape, offsets, mode);
    },
  },
} satisfies OpDefs<IndexingOp>;
