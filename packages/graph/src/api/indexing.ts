// numpy indexing: `get(x, ...items)` reads, `setSubtensor` and `incSubtensor` write
// into a copy. Numbers and slices are basic indexing (subtensor); integer tensors,
// nested integer arrays and Int32/Uint32Arrays are advanced (advanced_subtensor). A mix
// follows numpy: slices apply first and keep their axes, numbers next to an advanced
// index become advanced too, and the broadcast index dims replace the indexed axes in
// place when those are adjacent, else go first. `null` inserts a new axis and '...'
// stands for as many ':' as needed. Left out: boolean masks, and new axes in writes.
//
// Example, the talk's distance[T.arange(n), y]: distance [n, 24, 12], y [n] →
// get(distance, arange(dim(y, 0)), y) is [n, 12].

import { applyOp, buildError, composite } from '../build.ts';
import { dtypeOfArray, isInteger, type TypedArray } from '../dtype.ts';
import { constant, scalarConstant, Variable } from '../graph.ts';
import { NDArray, type NestedArray } from '../ndarray.ts';
import type { AdvancedItem, SliceItem } from '../ops.ts';
import type { Slice } from '../ops/subtensor.ts';
import { asVariable, type TensorLike } from './convert.ts';
import { cast } from './elementwise.ts';

export type { Slice };

/** One indexing item, numpy's: see the file comment. */
export type IndexItem = number | Slice | ':' | '...' | null | Variable | NDArray | Int32Array | Uint32Array | readonly NestedArray[];

/**
 * The slice `start:stop:step`; leave a bound out with null or undefined
 * (`slice(null, 3)` is `:3`, `slice(null, null, -1)` is `::-1`). Bounds are static.
 */
export function slice(start: number | null = null, stop: number | null = null, step: number | null = 1): Slice {
  return { kind: 'slice', start, stop, step: step ?? 1 };
}

const full = slice();
const isFull = (item: Parsed): boolean => item.kind === 'slice' && item.start === null && item.stop === null && item.step === 1;

type Parsed = SliceItem | { readonly kind: 'advanced'; readonly index: Variable };

const maskError = (op: string): Error => buildError(op, 'boolean mask indexing is not supported; index with integer positions instead');

/** An advanced index as an int32/uint32 Variable (the op checks a Variable's dtype). */
function advancedIndex(op: string, item: Exclude<IndexItem, number | Slice | ':' | '...' | null>): Variable {
  if (item instanceof Variable) {
    if (item.dtype === 'bool') throw maskError(op);
    return item;
  }
  if (item instanceof NDArray || ArrayBuffer.isView(item)) {
    const dtype = item instanceof NDArray ? item.dtype : dtypeOfArray(item as TypedArray);
    if (dtype === 'bool') throw maskError(op);
    if (!isInteger(dtype)) throw buildError(op, `an index array of ${dtype} values cannot index; use int32 or uint32`);
    return constant(item as NDArray | Int32Array | Uint32Array);
  }
  if (Array.isArray(item)) {
    const flat = (item as NestedArray[]).flat(Infinity as 1) as unknown[];
    if (flat.some((value) => typeof value === 'boolean')) throw maskError(op);
    if (flat.some((value) => !Number.isInteger(value))) throw buildError(op, `the index array ${JSON.stringify(item)} holds a value that is not an integer`);
    return constant(item as NestedArray, { dtype: 'int32' });
  }
  throw buildError(op, `cannot index with ${String(item)}; expected a number, slice(...), ':', '...', null or integer indices`);
}

function parseItem(op: string, item: IndexItem): Parsed {
  if (typeof item === 'number') {
    if (!Number.isInteger(item)) throw buildError(op, `index ${item} is not an integer`);
    return { kind: 'index', index: item };
  }
  if (item === ':') return full;
  if (typeof item === 'object' && item !== null && !(item instanceof Variable) && !Array.isArray(item) && (item as Slice).kind === 'slice') return item as Slice;
  if (typeof item === 'boolean') throw maskError(op);
  return { kind: 'advanced', index: advancedIndex(op, item as Exclude<IndexItem, number | Slice | ':' | '...' | null>) };
}

/**
 * Expands '...', inserts the new axes (null) with a dimshuffle, and parses each item:
 * afterwards there is exactly one parsed item per leading axis of `base`.
 */
function parse(op: string, x: Variable, items: readonly IndexItem[]): { base: Variable; parsed: Parsed[] } {
  const ellipses = items.filter((item) => item === '...').length;
  if (ellipses > 1) throw buildError(op, `an index may hold one '...', not ${ellipses}`);
  const consumed = items.filter((item) => item !== null && item !== '...').length;
  if (consumed > x.ndim) throw buildError(op, `${consumed} indices are too many for ${x.type}, which has ${x.ndim} axes`);
  const expanded = items.flatMap((item) => (item === '...' ? new Array<IndexItem>(x.ndim - consumed).fill(':') : [item]));
  let base = x;
  if (expanded.includes(null)) {
    // A new axis is a size-1 axis that a full slice then keeps: numpy's own reading.
    let next = 0;
    const pattern = expanded.map((item) => (item === null ? ('x' as const) : next++));
    base = applyOp('dimshuffle', [x], { pattern: [...pattern, ...Array.from({ length: x.ndim - next }, (_, i) => next + i)] });
  }
  return { base, parsed: expanded.map((item) => (item === null ? full : parseItem(op, item))) };
}

const trimTrailingFull = <T extends Parsed>(items: readonly T[]): T[] => {
  let end = items.length;
  while (end > 0 && isFull(items[end - 1]!)) end--;
  return items.slice(0, end);
};

interface AdvancedPlan {
  /** base with its slices applied (all axes kept). */
  sliced: Variable;
  sliceItems: SliceItem[];
  items: AdvancedItem[];
  indices: Variable[];
}

/** Splits a mixed index into slices first and a gather after; numbers become 0-d index tensors. */
function planAdvanced(op: string, base: Variable, parsed: readonly Parsed[]): AdvancedPlan {
  const sliceItems = trimTrailingFull(parsed.map((item): SliceItem => (item.kind === 'slice' ? item : full)));
  const sliced = sliceItems.length === 0 ? base : applyOp('subtensor', [base], { items: sliceItems });
  const indices = parsed.flatMap((item, axis) => {
    if (item.kind === 'advanced') return [item.index];
    if (item.kind !== 'index') return [];
    const n = base.shape[axis];
    if (n !== null && n !== undefined && (item.index < -n || item.index >= n)) throw buildError(op, `index ${item.index} is out of range for axis ${axis} of ${base.type} (size ${n})`);
    return [scalarConstant(item.index, 'int32')];
  });
  const items = parsed.map((item): AdvancedItem => (item.kind === 'slice' ? 'all' : 'index'));
  while (items.at(-1) === 'all') items.pop();
  return { sliced, sliceItems, items, indices };
}

/** numpy's x[items]: see the file comment for the rules. */
export function get(x: TensorLike, ...items: IndexItem[]): Variable {
  const source = asVariable(x);
  return composite('get', () => {
    const { base, parsed } = parse('get', source, items);
    if (!parsed.some((item) => item.kind === 'advanced')) {
      const basic = trimTrailingFull(parsed as SliceItem[]);
      return basic.length === 0 ? base : applyOp('subtensor', [base], { items: basic });
    }
    const plan = planAdvanced('get', base, parsed);
    return applyOp('advanced_subtensor', [plan.sliced, ...plan.indices], { items: plan.items });
  });
}

function write(op: string, mode: 'inc' | 'set', x: TensorLike, items: readonly IndexItem[], value: TensorLike): Variable {
  const source = asVariable(x);
  if (!Array.isArray(items)) throw buildError(op, `expects the index as a list of items, not ${String(items)}`);
  if (items.includes(null)) throw buildError(op, 'cannot write through a new axis (null); index without it');
  return composite(op, () => {
    const { parsed } = parse(op, source, items);
    const given = asVariable(value, source.dtype);
    // numpy casts what is written to the target's dtype.
    const y = given.dtype === source.dtype ? given : cast(given, source.dtype);
    if (!parsed.some((item) => item.kind === 'advanced')) {
      return applyOp('inc_subtensor', [source, y], { items: trimTrailingFull(parsed as SliceItem[]), mode });
    }
    const plan = planAdvanced(op, source, parsed);
    if (plan.sliceItems.length === 0) return applyOp('advanced_inc_subtensor', [source, y, ...plan.indices], { items: plan.items, mode });
    // With slices too: write into the sliced view, then set the view back.
    const updated = applyOp('advanced_inc_subtensor', [plan.sliced, y, ...plan.indices], { items: plan.items, mode });
    return applyOp('inc_subtensor', [source, updated], { items: plan.sliceItems, mode: 'set' });
  });
}

/** A copy of x with x[items] replaced by `value` (broadcast to it); for repeated advanced indices the last write wins. */
export function setSubtensor(x: TensorLike, items: readonly IndexItem[], value: TensorLike): Variable {
  return write('setSubtensor', 'set', x, items, value);
}

/** A copy of x with `value` added to x[items]; repeated advanced indices accumulate (np.add.at). */
export function incSubtensor(x: TensorLike, items: readonly IndexItem[], value: TensorLike): Variable {
  return write('incSubtensor', 'inc', x, items, value);
}
