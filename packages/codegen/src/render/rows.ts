// The row kernel: reductions over the last axis (in dependency order) and the
// elementwise output that reads them, one row at a time — softmax, log-softmax and
// norms in one pass over memory. On a GPU a workgroup takes a row, holding up to 16
// elements a thread in registers across the row's passes; on the CPU device, with rows
// enough for its cores, a thread takes a row with plain loops (vec4 reads where they
// can), no workgroup memory and no barriers.

import type { Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { grid, indent, passOf, size, threadPerOutput, type RenderedPass, type RenderOptions } from './assemble.ts';
import { accumulatorFor, isArg, subgroupReduction } from './accumulator.ts';
import { KernelBuilder, unflatten } from './builder.ts';
import { vectorReadsOf, withScalarFallback, withVectorLanes } from './vectors.ts';
import { convert, toStorage } from './wgsl.ts';

/** `for (var c = start; c < width; c += step) { … }` over a row's columns, the body built in its own scope. */
function columnLoop(builder: KernelBuilder, start: string, step: number, width: number, build: () => void): void {
  const body = builder.scoped(build);
  builder.lines.push(`for (var c = ${start}; c < ${width}i; c = c + ${step}i) {`, indent(body), '}');
}

/** Stores the row kernel's output at column `column` of the row. */
function storeRowElement(builder: KernelBuilder, out: Variable, rowIndex: readonly string[], width: number, column: string): string {
  const value = builder.value(out, [...rowIndex, column]);
  const target = builder.binding(out, 'read_write');
  return `${target.name}[row * ${width}i + ${column}] = ${toStorage(value, out.dtype)};`;
}

/** The reduction's own epilogue (e.g. stop_gradient), at the row's element of its output. */
function rowEpilogue(builder: KernelBuilder, reduction: Variable, reduced: Variable, rowIndex: readonly string[], r: number): void {
  if (reduced === reduction) return;
  const at = reduced.ndim === rowIndex.length + 1 ? [...rowIndex, '0i'] : reduced.ndim === rowIndex.length ? [...rowIndex] : unflatten(builder, 'row', reduced.shape as number[], 'q');
  builder.overrides.set(reduced, builder.bind(builder.value(reduced, at), `row_${r}_e`));
}

/**
 * Rows on the CPU device, where there are rows enough for its few cores: a thread per
 * row, each pass a plain loop over the row, no workgroup memory and no barriers.
 */
function renderRowsSerial(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, vectorize: boolean): RenderedPass {
  const out = kernel.output;
  const shape = out.shape as number[];
  const width = shape[shape.length - 1]!;
  const rows = size(out) / width;
  const threads = 64;
  const builder = new KernelBuilder(materialized, out, kernel.writesInto);
  const dispatch = grid(Math.ceil(rows / threads));
  builder.lines.push(`let row = i32(gid.x + gid.y * ${dispatch[0] * threads}u);`, `if (row >= ${rows}i) { return; }`);
  const rowIndex = unflatten(builder, 'row', shape.slice(0, -1), 'k');
  // Rows of stored float32s are read four at a time where every pass allows it (llvmpipe
  // loads each lane's values one by one), and a float32 output is stored the same way.
  const reductions = kernel.rowReductions!;
  const leaves = new Set(reductions.flatMap(({ root, output }) => [root, output]));
  const roots = [...reductions.map(({ root }) => root.owner!.inputs[0]!), out];
  const vectors = vectorize && width % 4 === 0 ? vectorReadsOf(roots, width, materialized, kernel, { leaves, writesInto: out.dtype === 'float32', none: out.dtype === 'float32' }) : undefined;
  const step = vectors ? 4 : 1;
  const columns = (build: (index: readonly string[], k: number) => void) =>
    columnLoop(builder, '0i', step, width, () => (vectors ? withVectorLanes(builder, vectors, [...rowIndex, 'c'], build) : build([...rowIndex, 'c'], 0)));
  reductions.forEach(({ root: reduction, output: reduced }, r) => {
    const acc = accumulatorFor(reduction);
    const input = reduction.owner!.inputs[0]!;
    const name = `acc${r}`;
    builder.lines.push(`var ${name}: ${acc.type} = ${acc.init};`);
    columns((index, k) => builder.lines.push(acc.step(name, builder.value(input, index), k === 0 ? 'c' : `(c + ${k}i)`)));
    builder.overrides.set(reduction, builder.bind(convert(acc.result(name), reduction.dtype, reduction.dtype), `row_${r}`));
    rowEpilogue(builder, reduction, reduced, rowIndex, r);
  });
  if (vectors && out.dtype === 'float32') {
    const target = builder.vectorBinding(out, 'read_write');
    columnLoop(builder, '0i', 4, width, () => {
      const lanes: string[] = [];
      withVectorLanes(builder, vectors, [...rowIndex, 'c'], (index) => lanes.push(builder.value(out, index)));
      builder.lines.push(`${target.name}[(row * ${width}i + c) / 4i] = vec4<f32>(${lanes.join(', ')});`);
    });
  } else {
    columns((index) => builder.lines.push(storeRowElement(builder, out, rowIndex, width, index[index.length - 1]!)));
  }
  return passOf(builder, label, dispatch, `${threads}`);
}

export function renderRows(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions): RenderedPass {
  const out = kernel.output;
  const shape = out.shape as number[];
  const width = shape[shape.length - 1]!;
  const rows = size(out) / width;
  if (threadPerOutput(options.tuning) && rows >= 64) return withScalarFallback((vectorize) => renderRowsSerial(kernel, materialized, label, vectorize));
  const threads = 256;
  const builder = new KernelBuilder(materialized, out, kernel.writesInto);
  const dispatch = grid(rows);
  builder.lines.push(`let row = i32(wid.x + wid.y * ${dispatch[0]}u);`);
  // A 2-D grid's tail rows compute at rows past the end: their gathers flag nothing.
  if (dispatch[1] > 1) builder.active = `row < ${rows}i`;
  const rowIndex = unflatten(builder, 'row', shape.slice(0, -1), 'k');
  // Rows up to 16 elements a thread are held in registers: each thread's columns are
  // named once (colN …, clamped into the row, with okN … for the tail), so
  // every value of the row is loaded and computed once for all the row's passes.
  const slots = Math.ceil(width / threads);
  const cached = slots <= 16;
  const columns = cached ? Array.from({ length: slots }, () => builder.fresh('col')) : [];
  const oks = columns.map((column) => column.replace('col', 'ok'));
  const valid = (k: number): string | undefined => ((k + 1) * threads > width ? oks[k] : undefined);
  columns.forEach((column, k) => {
    builder.lines.push(`let ${column} = min(i32(lid.x) + ${k * threads}i, ${width - 1}i);`);
    if (valid(k)) builder.lines.push(`let ${valid(k)} = i32(lid.x) + ${k * threads}i < ${width}i;`);
  });
  const guarded = (k: number, statement: string): string => (valid(k) ? `if (${valid(k)}) { ${statement} }` : statement);
  const types = kernel.rowReductions!.map(({ root }) => accumulatorFor(root).type);
  const rowResults: string[] = [];
  let usesSubgroups = false;
  kernel.rowReductions!.forEach(({ root: reduction, output: reduced }, r) => {
    const acc = accumulatorFor(reduction);
    const input = reduction.owner!.inputs[0]!;
    const name = `acc${r}`;
    builder.lines.push(`var ${name}: ${acc.type} = ${acc.init};`);
    if (cached) {
      columns.forEach((column, k) => {
        const v = builder.value(input, [...rowIndex, column]);
        builder.lines.push(guarded(k, acc.step(name, v, column)));
      });
    } else {
      columnLoop(builder, 'i32(lid.x)', threads, width, () => builder.lines.push(acc.step(name, builder.value(input, [...rowIndex, 'c']), 'c')));
    }
    // Out-of-range rows (a 2-D grid's tail) still take part in the barriers, then write nothing.
    const partial = `partial_${acc.type}`;
    // The row's result goes to a workgroup variable of its own, written once: threads may
    // read it late (compilers can sink a load below a barrier), and the next reduction
    // reuses the partial array.
    const result = `row_${r}`;
    // Subgroup reductions here are opt-in (THEORBO_ROW_SUBGROUPS=1) until they have run on
    // a GPU: the CPU device has no subgroups, so no test here can reach them.
    const rowSubgroups = options.subgroups && options.tuning.rowSubgroups;
    const subgroupOp = rowSubgroups && !isArg(reduction) ? subgroupReduction(reduction.owner!.op, acc.type) : undefined;
    if (subgroupOp) {
      // One subgroup operation per subgroup, then thread 0 folds the subgroups' partials.
      usesSubgroups = true;
      builder.lines.push(`let lane_total${r} = ${subgroupOp}(${name});`, `if (lane == 0u) { ${partial}[lid.x / lanes] = lane_total${r}; }`, 'workgroupBarrier();');
      builder.lines.push('if (lid.x == 0u) {', `  ${name} = ${partial}[0];`, `  for (var s = 1u; s < ${threads}u / lanes; s++) {`, `    let other = ${partial}[s];`, `    ${acc.combine(name, 'other')}`, '  }', `  ${result}_shared = ${name};`, '}');
    } else {
      builder.lines.push(`${partial}[lid.x] = ${name};`, 'workgroupBarrier();');
      builder.lines.push(`for (var half = ${threads / 2}u; half > 0u; half = half / 2u) {`, '  if (lid.x < half) {', `    let other = ${partial}[lid.x + half];`, `    ${acc.combine(name, 'other')}`, `    ${partial}[lid.x] = ${name};`, '  }', '  workgroupBarrier();', '}');
      builder.lines.push(`if (lid.x == 0u) { ${result}_shared = ${partial}[0]; }`);
    }
    builder.lines.push('workgroupBarrier();', `let ${result} = ${convert(acc.result(`${result}_shared`), reduction.dtype, reduction.dtype)};`);
    rowResults.push(`var<workgroup> ${result}_shared: ${acc.type};`);
    builder.overrides.set(reduction, result);
    rowEpilogue(builder, reduction, reduced, rowIndex, r);
  });
  builder.lines.push(`if (row >= ${rows}i) { return; }`);
  if (cached) {
    columns.forEach((column, k) => builder.lines.push(guarded(k, storeRowElement(builder, out, rowIndex, width, column))));
  } else {
    columnLoop(builder, 'i32(lid.x)', threads, width, () => builder.lines.push(storeRowElement(builder, out, rowIndex, width, 'c')));
  }
  const extra = [...[...new Set(types)].map((type) => `var<workgroup> partial_${type}: array<${type}, ${threads}>;`), ...rowResults].join('\n') + '\n';
  return passOf(builder, label, dispatch, `${threads}`, extra, usesSubgroups);
}
