// The reduction kernel: sum, prod, max, min, any, all, argmax and argmin over any axes.
// One thread per output where reductions are short (and, on the CPU device, wherever
// there are outputs enough for its cores), reading rows of stored float32s as vec4s
// where it can; otherwise a workgroup per output folds its share and combines the
// partials in a tree (or with subgroup operations). The reduction's elementwise prologue
// is fused into its reads and its epilogue into the store.

import type { AttrsOf, Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { grid, indent, passOf, threadPerOutput, type RenderedPass, type RenderOptions } from './assemble.ts';
import { accumulatorFor, isArg, subgroupReduction } from './accumulator.ts';
import { KernelBuilder, unflatten } from './builder.ts';
import { vectorReadsOf, withScalarFallback, withVectorLanes } from './vectors.ts';
import { convert, toStorage } from './wgsl.ts';

export function renderReduce(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions): RenderedPass {
  return withScalarFallback((vectorize) => renderReduceWith(kernel, materialized, label, options, vectorize));
}

function renderReduceWith(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions, vectorize: boolean): RenderedPass {
  const node = kernel.root;
  const input = node.owner!.inputs[0]!;
  const inShape = input.shape as number[];
  const op = node.owner!.op;
  const attrs = node.owner!.attrs as AttrsOf<'sum'> | AttrsOf<'argmax'>;
  const axes = 'axes' in attrs ? [...attrs.axes] : attrs.axis === null ? inShape.map((_, a) => a) : [attrs.axis];
  const keptAxes = inShape.map((_, a) => a).filter((a) => !axes.includes(a));
  const reducedShape = axes.map((a) => inShape[a]!);
  const outerShape = keptAxes.map((a) => inShape[a]!);
  const reduceSize = reducedShape.reduce((a, b) => a * b, 1);
  const outerSize = outerShape.reduce((a, b) => a * b, 1);
  const builder = new KernelBuilder(materialized, kernel.output, kernel.writesInto);
  const acc = accumulatorFor(node);
  const arg = isArg(node);
  const flatArgmax = arg && (attrs as AttrsOf<'argmax'>).axis === null;
  // A workgroup per output once a reduction is long enough to share; a thread per output
  // below, and on the CPU device wherever there are outputs enough for its few cores
  // (unless tuning.cpuReductions keeps the workgroups there too).
  const tree = reduceSize > 64 && !(threadPerOutput(options.tuning) && outerSize >= 64);
  const threads = tree ? 256 : 64;
  const dispatch = grid(tree ? outerSize : Math.ceil(outerSize / threads));
  const o = tree ? `i32(wid.x + wid.y * ${dispatch[0]}u)` : `i32(gid.x + gid.y * ${dispatch[0] * threads}u)`;
  builder.lines.push(`let o = ${o};`);
  if (!tree) builder.lines.push(`if (o >= ${outerSize}i) { return; }`);
  // A 2-D grid's tail workgroups compute at outputs past the end: their gathers flag nothing.
  else if (dispatch[1] > 1) builder.active = `o < ${outerSize}i`;
  const outer = unflatten(builder, 'o', outerShape, 'k');
  builder.lines.push(`var acc: ${acc.type} = ${acc.init};`);
  if (arg) builder.lines.push('var acc_i: i32 = -1i;');
  // A thread's own loop over the last axis on the CPU device reads stored rows as vec4s
  // where the input allows (llvmpipe loads each lane's values one at a time).
  const lastAxis = axes.length === 1 && axes[0] === inShape.length - 1;
  const vectors = vectorize && !tree && threadPerOutput(options.tuning) && lastAxis && reduceSize % 4 === 0 && !flatArgmax ? vectorReadsOf([input], reduceSize, materialized, kernel) : undefined;
  const start = tree ? 'i32(lid.x)' : '0i';
  const stride = tree ? `${threads}i` : vectors ? '4i' : '1i';
  const loop = builder.scoped(() => {
    const full = inShape.map((_, a) => (axes.includes(a) ? '' : outer[keptAxes.indexOf(a)]!));
    if (vectors) {
      withVectorLanes(builder, vectors, [...full.slice(0, -1), 'r'], (index, k) => builder.lines.push(acc.step('acc', builder.value(input, index), k === 0 ? 'r' : `(r + ${k}i)`)));
      return;
    }
    const reduced = unflatten(builder, 'r', reducedShape, 'q');
    axes.forEach((a, i) => (full[a] = reduced[i]!));
    const v = builder.value(input, full);
    const position = flatArgmax ? builder.offset(full, inShape) : 'r';
    builder.lines.push(acc.step('acc', v, position));
  });
  builder.lines.push(`for (var r = ${start}; r < ${reduceSize}i; r = r + ${stride}) {`, indent(loop), '}');
  let extra = '';
  const subgroupOp = options.subgroups && tree && !arg ? subgroupReduction(op, acc.type) : undefined;
  if (subgroupOp) {
    // One subgroup operation per subgroup, then thread 0 folds the subgroups' partials.
    extra = `var<workgroup> partial: array<${acc.type}, ${threads}>;\n`;
    builder.lines.push(`let lane_total = ${subgroupOp}(acc);`, 'if (lane == 0u) { partial[lid.x / lanes] = lane_total; }', 'workgroupBarrier();');
    builder.lines.push(`if (lid.x != 0u || o >= ${outerSize}i) { return; }`);
    builder.lines.push('acc = partial[0];', `for (var s = 1u; s < ${threads}u / lanes; s++) {`, '  let other = partial[s];', `  ${acc.combine('acc', 'other')}`, '}');
  } else if (tree) {
    extra = `var<workgroup> partial: array<${acc.type}, ${threads}>;\n${arg ? `var<workgroup> partial_i: array<i32, ${threads}>;\n` : ''}`;
    builder.lines.push('partial[lid.x] = acc;');
    if (arg) builder.lines.push('partial_i[lid.x] = acc_i;');
    builder.lines.push('workgroupBarrier();');
    builder.lines.push(`for (var width = ${threads / 2}u; width > 0u; width = width / 2u) {`);
    builder.lines.push('  if (lid.x < width) {');
    builder.lines.push('    var other = partial[lid.x + width];');
    if (arg) builder.lines.push('    var other_i = partial_i[lid.x + width];');
    builder.lines.push(`    ${acc.combine('acc', 'other')}`);
    builder.lines.push('    partial[lid.x] = acc;');
    if (arg) builder.lines.push('    partial_i[lid.x] = acc_i;');
    builder.lines.push('  }', '  workgroupBarrier();', '}');
    builder.lines.push(`if (lid.x != 0u || o >= ${outerSize}i) { return; }`);
  }
  // The epilogue sees the reduction's result at the output's own index.
  const result = builder.bind(convert(acc.result('acc'), arg ? 'int32' : node.dtype, node.dtype), 'result');
  builder.overrides.set(node, result);
  if (kernel.alsoStoresRoot) builder.lines.push(`${builder.binding(node, 'read_write').name}[o] = ${toStorage(result, node.dtype)};`);
  const outIndex = unflatten(builder, 'o', kernel.output.shape as number[], 'e');
  const value = builder.value(kernel.output, outIndex);
  const target = builder.binding(kernel.output, 'read_write');
  builder.lines.push(`${target.name}[o] = ${toStorage(value, kernel.output.dtype)};`);
  return passOf(builder, label, dispatch, `${threads}`, extra, subgroupOp !== undefined);
}
