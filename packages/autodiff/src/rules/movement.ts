// VJP rules of movement ops. Each gradient is again a movement or an increment: reshape
// back, the inverse dimshuffle, a slice of the gradient for concat and pad, an increment
// into zeros for slicing.

import * as T from '@theorbo/graph';
import type { Variable } from '@theorbo/graph';
import { basicItems } from './indexing.ts';
import type { VjpContext, VjpTable } from './rule.ts';

const shapeOf = (x: Variable) => x.shape.map((dim, axis) => dim ?? T.dim(x, axis));

function dimshuffleRule({ node, inputs, g }: VjpContext<'dimshuffle'>) {
  const x = inputs[0]!;
  const pattern = node.attrs.pattern;
  // Drop the axes dimshuffle inserted, then put each input axis back where it was;
  // input axes it dropped (static size 1) come back as 'x'.
  const kept = pattern.flatMap((entry, position) => (entry === 'x' ? [] : [position]));
  const dropped = T.dimshuffle(g, ...kept);
  const inverse = x.shape.map((_, axis) => {
    const at = pattern.filter((entry) => entry !== 'x').indexOf(axis);
    return at < 0 ? ('x' as const) : at;
  });
  return [T.dimshuffle(dropped, ...inverse)];
}

/** The gradient of pad: the interior of g, plus the padded borders folded back for reflect and edge. */
function padRule({ node, inputs, g }: VjpContext<'pad'>) {
  const x = inputs[0]!;
  const { widths, mode } = node.attrs;
  let result = g;
  for (let axis = x.ndim - 1; axis >= 0; axis--) {
    const [before, after] = widths[axis]!;
    if (before === 0 && after === 0) continue;
    const along = (start: number | null, stop: number | null, step = 1): Variable =>
      T.get(result, ...x.shape.map((_, a) => (a === axis ? T.slice(start, stop, step) : ':')));
    const interior = along(before, after === 0 ? null : -after);
    if (mode === 'constant') {
      result = interior;
      continue;
    }
    let folded = interior;
    const at = (start: number | null, stop: number | null) => x.shape.map((_, a) => (a === axis ? T.slice(start, stop) : ':'));
    if (mode === 'reflect') {
      // Padded position before−1−j mirrors input position j+1; after-padding mirrors n−2−j.
      if (before > 0) folded = T.incSubtensor(folded, at(1, before + 1), along(before - 1, null, -1));
      if (after > 0) folded = T.incSubtensor(folded, at(-after - 1, -1), along(-1, -after - 1, -1));
    } else {
      if (before > 0) folded = T.incSubtensor(folded, at(0, 1), T.sum(along(0, before), axis, true));
      if (after > 0) folded = T.incSubtensor(folded, at(-1, null), T.sum(along(-after, null), axis, true));
    }
    result = folded;
  }
  return [result];
}

function concatRule({ node, inputs, g }: VjpContext<'concat'>) {
  const axis = node.attrs.axis;
  let offset: number | Variable = 0;
  return inputs.map((input) => {
    const size = input.shape[axis];
    const items = input.shape.map(() => ':' as T.IndexItem);
    if (typeof offset === 'number' && typeof size === 'number') {
      items[axis] = T.slice(offset, offset + size);
      offset += size;
    } else {
      // Unknown sizes: gather the rows by index, since slices take static bounds.
      const start: Variable = typeof offset === 'number' ? T.constant(offset, { dtype: 'int32' }) : offset;
      const end = T.add(start, T.dim(input, axis));
      items[axis] = T.arange(start, end, 1, 'int32');
      offset = end;
    }
    return T.get(g, ...items);
  });
}

export const movementVjps = {
  reshape: ({ inputs, g }) => [T.reshape(g, shapeOf(inputs[0]!))],
  dimshuffle: dimshuffleRule,
  // Summing over the stretched axes is what grad.ts's unbroadcast does for every op.
  broadcast_to: ({ g }) => [g],
  subtensor: ({ node, inputs, g }) => [T.incSubtensor(T.zerosLike(inputs[0]!), basicItems(node.attrs.items), g)],
  concat: concatRule,
  pad: padRule,
} satisfies VjpTable<T.MovementOp>;
