// argmax and argmin on the cpu device: the loop over the reduced axes that one output
// element of a reduce kernel runs, in the reference's rule (graph/ops/reduce.ts): the
// first occurrence wins ties, a NaN counts as the extreme and, once found, is kept. The
// position is along `axis`, or the flat offset into the input when axis is null.
// Shapes: the input x [...], the output x's shape without `axis` (or all axes), kept as 1s with keepdims.

import type { Variable } from '@theorbo/graph';
import { loops, offsetOf, type JsBuilder } from './js-render.ts';

/** Emits the search for the output element at `index` and returns the name holding its position. */
export function argReduction(builder: JsBuilder, root: Variable, index: readonly string[]): string {
  const node = root.owner!;
  const input = node.inputs[0]!;
  const { axis, keepdims } = node.attrs as { axis: number | null; keepdims: boolean };
  const inShape = input.shape as number[];
  const reduced = (at: number) => axis === null || at === axis;
  let kept = 0;
  const inner = inShape.map((size, at) => {
    if (reduced(at)) {
      if (keepdims) kept++;
      return size === 1 ? '0' : `r${at}`;
    }
    return index[kept++]!;
  });
  const position = axis === null ? offsetOf(inner, inShape) : inner[axis]!;
  const [best, found] = [builder.fresh('best'), builder.fresh('pos')];
  builder.lines.push(`let ${best} = 0;`, `let ${found} = -1;`);
  const beats = node.op === 'argmax' ? '>' : '<';
  builder.lines.push(...loops(builder, inShape.map((size, at) => (reduced(at) ? size : 1)), 'r', () => {
    const v = builder.value(input, inner);
    builder.lines.push(`if (${found} === -1 || (${best} === ${best} && (${v} ${beats} ${best} || ${v} !== ${v}))) { ${best} = ${v}; ${found} = ${position}; }`);
  }));
  return found;
}
