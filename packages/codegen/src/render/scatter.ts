// The scatter kernel (advanced increment and set): two passes. The first copies x into
// the output (through x's own fused expression); the second runs a thread per element
// of the gathered shape and adds (or stores) y there — with atomics, since indices may
// repeat; float adds are compare-and-swap loops over the bits (WGSL has no float atomics).

import { broadcastShapes, type AttrsOf, type Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { grid, passOf, size, type RenderedPass } from './assemble.ts';
import { broadcastIndex, KernelBuilder, unflatten } from './builder.ts';
import { advancedLayout, gatherIndex } from './lowering.ts';
import { convert, toStorage } from './wgsl.ts';

export function renderScatter(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string): RenderedPass[] {
  const node = kernel.root;
  const [x, y, ...indices] = node.owner!.inputs as Variable[];
  const { items, mode } = node.owner!.attrs as AttrsOf<'advanced_inc_subtensor'>;
  // Pass 1: the output starts as x (an elementwise copy through x's own expression).
  const copyBuilder = new KernelBuilder(materialized, node);
  const total = size(node);
  const threads = 256;
  const copyDispatch = grid(Math.ceil(total / threads));
  copyBuilder.lines.push(`let flat = i32(gid.x + gid.y * ${copyDispatch[0] * threads}u);`, `if (flat >= ${total}i) { return; }`);
  const copyIndex = unflatten(copyBuilder, 'flat', node.shape as number[]);
  const xValue = copyBuilder.value(x!, copyIndex);
  const copyTarget = copyBuilder.binding(node, 'read_write');
  copyBuilder.lines.push(`${copyTarget.name}[flat] = ${toStorage(xValue, node.dtype)};`);
  const first = passOf(copyBuilder, `${label} (copy)`, copyDispatch, `${threads}`);
  // Pass 2: one thread per element of the gathered shape adds (or stores) y there.
  const fullItems = Array.from({ length: x!.ndim }, (_, axis) => items[axis] ?? 'all');
  const indexNdim = Math.max(0, ...indices.map((v) => v.ndim));
  const { insertAt, kept } = advancedLayout(x!.ndim, fullItems, indexNdim);
  // The indices broadcast (inference checked that they do); their shapes are static here.
  const indexShape = broadcastShapes(indices.map((v) => v.shape)) as number[];
  const keptShape = kept.map((axis) => x!.shape[axis] as number);
  const gatheredShape = [...keptShape.slice(0, insertAt), ...indexShape, ...keptShape.slice(insertAt)];
  const builder = new KernelBuilder(materialized, node);
  const count = gatheredShape.reduce((p, q) => p * q, 1);
  const dispatch = grid(Math.ceil(count / threads));
  builder.lines.push(`let flat = i32(gid.x + gid.y * ${dispatch[0] * threads}u);`, `if (flat >= ${count}i) { return; }`);
  const gathered = unflatten(builder, 'flat', gatheredShape);
  const target = gatherIndex(builder, node, x!, indices, fullItems, gathered);
  const yValue = convert(builder.value(y!, broadcastIndex(gathered, y!.shape, gatheredShape.length)), y!.dtype, node.dtype);
  const offset = builder.bind(builder.offset(target, node.shape as number[]), 'at');
  const atomic = mode === 'inc';
  const out = builder.binding(node, 'read_write', atomic && node.dtype !== 'bool');
  if (!atomic || node.dtype === 'bool') {
    builder.lines.push(`${out.name}[${offset}] = ${toStorage(mode === 'inc' ? `(${yValue} || ${out.name}[${offset}] != 0u)` : yValue, node.dtype)};`);
  } else if (node.dtype === 'float32') {
    builder.lines.push(
      `let add = ${yValue};`,
      'loop {',
      `  let old = atomicLoad(&${out.name}[${offset}]);`,
      `  let swapped = atomicCompareExchangeWeak(&${out.name}[${offset}], old, bitcast<u32>(bitcast<f32>(old) + add));`,
      '  if (swapped.exchanged) { break; }',
      '}',
    );
  } else {
    builder.lines.push(`atomicAdd(&${out.name}[${offset}], ${yValue});`);
  }
  const second = passOf(builder, `${label} (scatter)`, dispatch, `${threads}`);
  return [first, second];
}
