// Kernel renderers. Each turns one partition kernel into WGSL plus its bindings and
// dispatch size. All four share the header (bindings, helpers) and the builder's
// expression machinery, so a fused prologue or epilogue is the same code everywhere.
//  - elementwise: a grid-stride loop over the output's elements (four a thread, as
//    vec4s, where the reads allow);
//  - reduce: one thread per output (short reductions) or a workgroup tree per output;
//  - matmul: tiles in workgroup memory with register blocking (matmul.ts), epilogue fused;
//  - scatter: copies x, then adds y at the gathered positions with atomics (float adds
//    are compare-and-swap loops: WGSL has no float atomics).
// Dispatches over 65535 workgroups use a 2-D grid.

import { broadcastShapes, reductionIdentity, type AttrsOf, type Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/partition.ts';
import { KernelBuilder, unflatten, type Binding } from './builder.ts';
import { advancedLayout, broadcastIndex, gatherIndex } from './lowering.ts';
import { renderMatmulKernel } from './matmul.ts';
import { vectorReadsOf, withScalarFallback, withVectorLanes } from './vectors.ts';
import { convert, helpersFor, literal, toStorage, wgslType } from './wgsl.ts';

export interface RenderedKernel {
  code: string;
  bindings: Binding[];
  dispatch: [number, number, number];
  /** A label for errors and profiles: the kernel's ops. */
  label: string;
  /** Extra passes (scatter): run in order after this one, sharing buffers. */
  then?: RenderedKernel[];
}

const maxGroups = 65535;
/** Workgroups of an elementwise kernel (256 threads each): about 8 per core of a large GPU (THEORBO_ELEMENTWISE_GROUPS overrides). */
const elementwiseGroups = 4096;

function grid(groups: number): [number, number, number] {
  if (groups <= maxGroups) return [Math.max(groups, 1), 1, 1];
  return [maxGroups, Math.ceil(groups / maxGroups), 1];
}

const size = (variable: Variable): number => (variable.shape as number[]).reduce((a, b) => a * b, 1);

function assemble(builder: KernelBuilder, body: string, workgroup: string, extra = '', subgroups = false): string {
  const lanes = subgroups ? ', @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) lanes: u32' : '';
  const text = `${extra}\n@compute @workgroup_size(${workgroup})\nfn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>${lanes}) {\n${body}\n}`;
  return `${subgroups ? 'enable subgroups;\n' : ''}${builder.declarations()}\n${helpersFor(text)}\n${text}\n`;
}

/** What the device offers that kernels may use. */
export interface RenderOptions {
  subgroups: boolean;
  /**
   * Workgroups a kernel should spread its work over to fill the device (a GPU's cores, a
   * few times over); 1 on the CPU device, where fewer, larger workgroups run faster.
   */
  workgroupTarget?: number;
}

const indent = (lines: readonly string[], depth = 1): string => lines.map((line) => '  '.repeat(depth) + line).join('\n');

export function renderKernel(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions = { subgroups: false }): RenderedKernel {
  switch (kernel.kind) {
    case 'elementwise': return renderElementwise(kernel, materialized, label);
    case 'rows': return renderRows(kernel, materialized, label, options);
    case 'reduce': return renderReduce(kernel, materialized, label, options);
    case 'matmul': return renderMatmul(kernel, materialized, label, options);
    case 'scatter': return renderScatter(kernel, materialized, label);
  }
}

/** Workgroups of a grid-stride loop over `items` (at most elementwiseGroups, or THEORBO_ELEMENTWISE_GROUPS). */
function elementwiseGroupCount(items: number, threads: number): number {
  const cap = Math.min(maxGroups, Number(process.env.THEORBO_ELEMENTWISE_GROUPS) || elementwiseGroups);
  return Math.max(1, Math.min(Math.ceil(items / threads), cap));
}

function renderElementwise(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string): RenderedKernel {
  return withScalarFallback((vectorize) => {
    const vectors = vectorize ? vectorReads(kernel, materialized) : undefined;
    return vectors ? renderElementwiseVec4(kernel, materialized, label, vectors) : renderElementwiseScalar(kernel, materialized, label);
  });
}

function renderElementwiseScalar(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string): RenderedKernel {
  const out = kernel.output;
  const builder = new KernelBuilder(materialized, out, kernel.writesInto);
  const total = size(out);
  const threads = 256;
  // A grid-stride loop: at most elementwiseGroups workgroups, each thread taking every
  // stride-th element (a GPU launches workgroups at a bounded rate; tiny ones cost more
  // to start than to run).
  const groups = elementwiseGroupCount(total, threads);
  const stride = groups * threads;
  const body = builder.scoped(() => {
    const index = unflatten(builder, 'flat', out.shape as number[]);
    const value = builder.value(out, index);
    const target = builder.binding(out, 'read_write');
    builder.lines.push(`${target.name}[flat] = ${toStorage(value, out.dtype)};`);
  });
  builder.lines.push(`for (var flat = i32(gid.x); flat < ${total}i; flat = flat + ${stride}i) {`, indent(body), '}');
  return { code: assemble(builder, indent(builder.lines), `${threads}`), bindings: builder.bindings, dispatch: [groups, 1, 1], label };
}

/**
 * The buffers an elementwise kernel can read four elements at a time, or undefined when
 * it cannot run on vec4s: a float32 output whose last axis is a multiple of 4, computed
 * by pointwise ops (broadcasting included) from buffers whose last axis is either the
 * output's (read as vec4s) or 1 (one value for the four). Anything that moves elements
 * (slices, transposes, gathers, concatenation) keeps the scalar kernel.
 */
function vectorReads(kernel: Kernel, materialized: ReadonlySet<Variable>): Set<Variable> | undefined {
  const out = kernel.output;
  const width = out.ndim === 0 ? 1 : (out.shape[out.ndim - 1] as number);
  if (out.dtype !== 'float32' || kernel.writesInto || width % 4 !== 0 || size(out) < 4) return undefined;
  return vectorReadsOf([out], width, materialized, kernel);
}

/** The elementwise kernel on vec4s: each thread loads, computes and stores four consecutive elements. */
function renderElementwiseVec4(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, vectors: ReadonlySet<Variable>): RenderedKernel {
  const out = kernel.output;
  const builder = new KernelBuilder(materialized, out);
  const quads = size(out) / 4;
  const threads = 256;
  const groups = elementwiseGroupCount(quads, threads);
  const shape = out.shape as number[];
  const body = builder.scoped(() => {
    builder.lines.push('let flat = quad * 4i;');
    const index = unflatten(builder, 'flat', shape);
    // Each vector buffer once: its four values for this thread's four elements.
    const lanes: string[] = [];
    withVectorLanes(builder, vectors, index, (laneIndex) => lanes.push(builder.value(out, laneIndex)));
    const target = builder.vectorBinding(out, 'read_write');
    builder.lines.push(`${target.name}[quad] = vec4<f32>(${lanes.join(', ')});`);
  });
  builder.lines.push(`for (var quad = i32(gid.x); quad < ${quads}i; quad = quad + ${groups * threads}i) {`, indent(body), '}');
  return { code: assemble(builder, indent(builder.lines), `${threads}`), bindings: builder.bindings, dispatch: [groups, 1, 1], label };
}

// ---- rows: reductions over the last axis and the elementwise output, one workgroup a row ----

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

/** The CPU device (llvmpipe runs a workgroup's threads as SIMD lanes, and every barrier costs). */
const onCpuDevice = (options: RenderOptions): boolean => (options.workgroupTarget ?? 1) <= 1 && process.env.THEORBO_CPU_REDUCE !== 'tree';

/**
 * Rows on the CPU device, where there are rows enough for its few cores: a thread per
 * row, each pass a plain loop over the row, no workgroup memory and no barriers.
 */
function renderRowsSerial(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, vectorize: boolean): RenderedKernel {
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
  return { code: assemble(builder, indent(builder.lines), `${threads}`), bindings: builder.bindings, dispatch, label };
}

function renderRows(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions): RenderedKernel {
  const out = kernel.output;
  const shape = out.shape as number[];
  const width = shape[shape.length - 1]!;
  const rows = size(out) / width;
  if (onCpuDevice(options) && rows >= 64) return withScalarFallback((vectorize) => renderRowsSerial(kernel, materialized, label, vectorize));
  const threads = 256;
  const builder = new KernelBuilder(materialized, out, kernel.writesInto);
  const dispatch = grid(rows);
  builder.lines.push(`let row = i32(wid.x + wid.y * ${dispatch[0]}u);`);
  const rowIndex = unflatten(builder, 'row', shape.slice(0, -1), 'k');
  // Rows up to 16 elements a thread are held in registers: each thread's columns are
  // named once (colN …, clamped into the row, with okN … for the tail), so
  // every value of the row is loaded and computed once for all the row's passes.
  // THEORBO_ROW_CACHE=0 keeps the plain loops (benchmarks compare).
  const slots = Math.ceil(width / threads);
  const cached = slots <= 16 && process.env.THEORBO_ROW_CACHE !== '0';
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
    const rowSubgroups = options.subgroups && process.env.THEORBO_ROW_SUBGROUPS === '1';
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
  return { code: assemble(builder, indent(builder.lines), `${threads}`, extra, usesSubgroups), bindings: builder.bindings, dispatch, label };
}

// ---- reductions ----

interface Accumulator {
  type: string;
  init: string;
  /** Statement folding value `v` (and its flat reduced index `r`) into `acc` (and `accIndex`). */
  step(acc: string, v: string, r: string): string;
  /** Statement combining a second partial (`other`, `otherIndex`) into `acc`. */
  combine(acc: string, other: string): string;
  result(acc: string): string;
}

function accumulatorFor(node: Variable): Accumulator {
  const op = node.owner!.op;
  const input = node.owner!.inputs[0]!;
  const t = node.dtype;
  const type = wgslType(op === 'argmax' || op === 'argmin' ? input.dtype : t);
  const float = input.dtype === 'float32';
  switch (op) {
    case 'sum': case 'prod': {
      const symbol = op === 'sum' ? '+' : '*';
      return { type, init: literal(reductionIdentity(op, t), t), step: (a, v) => `${a} = ${a} ${symbol} ${convert(v, input.dtype, t)};`, combine: (a, o) => `${a} = ${a} ${symbol} ${o};`, result: (a) => a };
    }
    case 'max': case 'min': {
      const pick = op === 'max' ? (float ? 'th_max' : 'max') : (float ? 'th_min' : 'min');
      const init = literal(reductionIdentity(op, t), t);
      if (t === 'bool') {
        const symbol = op === 'max' ? '||' : '&&';
        return { type, init, step: (a, v) => `${a} = ${a} ${symbol} ${v};`, combine: (a, o) => `${a} = ${a} ${symbol} ${o};`, result: (a) => a };
      }
      return { type, init, step: (a, v) => `${a} = ${pick}(${a}, ${v});`, combine: (a, o) => `${a} = ${pick}(${a}, ${o});`, result: (a) => a };
    }
    case 'any': case 'all': {
      const symbol = op === 'any' ? '||' : '&&';
      return { type: 'bool', init: literal(reductionIdentity(op, 'bool'), 'bool'), step: (a, v) => `${a} = ${a} ${symbol} ${convert(v, input.dtype, 'bool')};`, combine: (a, o) => `${a} = ${a} ${symbol} ${o};`, result: (a) => a };
    }
    case 'argmax': case 'argmin': {
      // (value, index): the extreme wins, ties go to the lower index, NaN counts as the extreme.
      const better = op === 'argmax' ? '>' : '<';
      const nan = (x: string) => (float ? `th_isnan(${x})` : 'false');
      const wins = (v: string, vi: string, a: string, ai: string) =>
        `(${nan(v)} && !${nan(a)}) || (!${nan(a)} && (${v} ${better} ${a} || (${v} == ${a} && ${vi} < ${ai}))) || (${nan(v)} && ${nan(a)} && ${vi} < ${ai})`;
      const init = literal(reductionIdentity(op, input.dtype), input.dtype);
      return {
        type, init,
        step: (a, v, r) => `if (${a}_i < 0i || ${wins(v, r, a, `${a}_i`)}) { ${a} = ${v}; ${a}_i = ${r}; }`,
        combine: (a, o) => `if (${o}_i >= 0i && (${a}_i < 0i || ${wins(o, `${o}_i`, a, `${a}_i`)})) { ${a} = ${o}; ${a}_i = ${o}_i; }`,
        result: (a) => `${a}_i`,
      };
    }
    default: throw new Error(`codegen: ${op} is not a reduction`);
  }
}

const isArg = (node: Variable) => node.owner!.op === 'argmax' || node.owner!.op === 'argmin';

function renderReduce(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions): RenderedKernel {
  return withScalarFallback((vectorize) => renderReduceWith(kernel, materialized, label, options, vectorize));
}

function renderReduceWith(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions, vectorize: boolean): RenderedKernel {
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
  // below, and on the CPU device wherever there are outputs enough for its few cores.
  // (THEORBO_CPU_REDUCE=tree keeps the workgroups there too.)
  const tree = reduceSize > 64 && !(onCpuDevice(options) && outerSize >= 64);
  const threads = tree ? 256 : 64;
  const dispatch = grid(tree ? outerSize : Math.ceil(outerSize / threads));
  const o = tree ? `i32(wid.x + wid.y * ${dispatch[0]}u)` : `i32(gid.x + gid.y * ${dispatch[0] * threads}u)`;
  builder.lines.push(`let o = ${o};`);
  if (!tree) builder.lines.push(`if (o >= ${outerSize}i) { return; }`);
  const outer = unflatten(builder, 'o', outerShape, 'k');
  builder.lines.push(`var acc: ${acc.type} = ${acc.init};`);
  if (arg) builder.lines.push('var acc_i: i32 = -1i;');
  // A thread's own loop over the last axis on the CPU device reads stored rows as vec4s
  // where the input allows (llvmpipe loads each lane's values one at a time).
  const lastAxis = axes.length === 1 && axes[0] === inShape.length - 1;
  const vectors = vectorize && !tree && onCpuDevice(options) && lastAxis && reduceSize % 4 === 0 && !flatArgmax ? vectorReadsOf([input], reduceSize, materialized, kernel) : undefined;
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
  return { code: assemble(builder, indent(builder.lines), `${threads}`, extra, subgroupOp !== undefined), bindings: builder.bindings, dispatch, label };
}

/** The subgroup builtin for a reduction, where WGSL has one for its type. */
function subgroupReduction(op: string, type: string): string | undefined {
  if (type === 'bool') return undefined;
  if (type === 'f32' && (op === 'max' || op === 'min')) return undefined; // NaN propagation is ours, not the builtin's
  return ({ sum: 'subgroupAdd', prod: 'subgroupMul', max: 'subgroupMax', min: 'subgroupMin' } as Record<string, string>)[op];
}

// ---- matmul ----

function renderMatmul(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string, options: RenderOptions): RenderedKernel {
  const { code: extra, builder, dispatch, workgroup } = renderMatmulKernel(kernel, materialized, options.workgroupTarget ?? 1);
  return { code: assemble(builder, indent(builder.lines), workgroup, extra), bindings: builder.bindings, dispatch, label };
}

// ---- scatter (advanced increment) ----

function renderScatter(kernel: Kernel, materialized: ReadonlySet<Variable>, label: string): RenderedKernel {
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
  const first: RenderedKernel = { code: assemble(copyBuilder, indent(copyBuilder.lines), `${threads}`), bindings: copyBuilder.bindings, dispatch: copyDispatch, label: `${label} (copy)` };
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
  const target = gatherIndex(builder, x!, indices, fullItems, gathered);
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
  const second: RenderedKernel = { code: assemble(builder, indent(builder.lines), `${threads}`), bindings: builder.bindings, dispatch, label: `${label} (scatter)` };
  return { ...first, then: [second] };
}
