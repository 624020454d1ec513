// VJP rules of the indexing ops: writes into subtensors pass the gradient through where
// they kept x and slice it out for the written values; a gather's gradient is a
// scatter-add into zeros that accumulates repeated indices (advanced_inc_subtensor in
// 'inc' mode). Integer index inputs get no gradient.

import * as T from '@theorbo/graph';
import type { AdvancedItem, SliceItem, Variable } from '@theorbo/graph';
import type { VjpTable } from './rule.ts';

function advancedIndices(inputs: readonly Variable[], first: number): Variable[] {
  return inputs.slice(first);
}

function advancedItems(items: readonly AdvancedItem[], indices: readonly Variable[]): T.IndexItem[] {
  let k = 0;
  return items.map((item) => (item === 'index' ? indices[k++]! : ':'));
}

export function basicItems(items: readonly SliceItem[]): T.IndexItem[] {
  return items.map((item) => (item.kind === 'index' ? item.index : T.slice(item.start, item.stop, item.step)));
}

export const indexingVjps = {
  inc_subtensor: ({ node, g }) => {
    const items = basicItems(node.attrs.items);
    const gy = T.get(g, ...items);
    return [node.attrs.mode === 'inc' ? g : T.setSubtensor(g, items, 0), gy];
  },
  advanced_subtensor: ({ node, inputs, g }) => {
    const items = advancedItems(node.attrs.items, advancedIndices(inputs, 1));
    return [T.incSubtensor(T.zerosLike(inputs[0]!), items, g), ...inputs.slice(1).map(() => null)];
  },
  advanced_inc_subtensor: ({ node, inputs, g }) => {
    const items = advancedItems(node.attrs.items, advancedIndices(inputs, 2));
    const gy = T.get(g, ...items);
    return [node.attrs.mode === 'inc' ? g : T.setSubtensor(g, items, 0), gy, ...inputs.slice(2).map(() => null)];
  },
} satisfies VjpTable<T.IndexingOp>;
