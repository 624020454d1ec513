// The cpu device's kernels: each kernel of the partition (the same one the WGSL renderer
// gets) becomes a function of no arguments over the plan's buffers. Elementwise chains,
// reductions, row kernels (softmax in one pass) and matmul epilogues run as WebAssembly
// SIMD (cpu/wasm-kernels.ts) where that renderer has a rule, else as JS rendered by
// cpu/js-render.ts; float32 matrix products run on the packed WebAssembly SIMD GEMM
// (cpu/matmul.ts) when the device has one, else a JS loop with the reference's order;
// convolutions and pooling by cpu/window.ts (im2col around the same GEMM); scatters into
// their output buffer; scans step by step as plans of this device. A kernel no rule
// covers (an integer product, a scatter with an epilogue) runs its fused nodes on the
// reference evaluator, over views of the same buffers: correct for every op, and
// reported as such in `how` (THEORBO_DEBUG=cpu-kernels lists them).
// Shapes: a matmul root [...batch, n, m] of a [...batchA, n, k] and b [...batchB, k, m].

import * as T from '@theorbo/graph';
import { NDArray, isFloat, sizeOf, type ReduceOp, type TypedArray, type Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { JsBuilder, loops, offsetOf, rounded, Unsupported } from './js-render.ts';
import { windowOp } from './window.ts';
import { argReduction } from './arg-reduce.ts';
import { wasmKernel } from './wasm-kernels.ts';
import type { Gemm, KernelContext } from './kernel-context.ts';

export type { Gemm, KernelContext } from './kernel-context.ts';

export interface CpuKernel {
  run: () => void;
  /** js, wasm, loop (a scan whose step runs as a cpu plan), or reference (the evaluator ran it): for profiles and tests. */
  how: 'js' | 'wasm' | 'loop' | 'reference';
  label: string;
  /** Why a kernel runs on the reference: the rule the renderers lacked. */
  why?: string;
  /** Passes of a wasm kernel that still run as JS (its epilogue, a computed operand): "JS epilogue". */
  jsPasses?: string;
}

export function cpuKernel(kernel: Kernel, context: KernelContext): CpuKernel {
  const jsPasses: string[] = [];
  const made = cpuKernelOf(kernel, { ...context, jsPasses });
  return jsPasses.length > 0 && made.how === 'wasm' ? { ...made, jsPasses: [...new Set(jsPasses)].map((pass) => `JS ${pass}`).join(', ') } : made;
}

function cpuKernelOf(kernel: Kernel, context: KernelContext): CpuKernel {
  const label = `${kernel.kind} ${kernel.root.owner?.op ?? kernel.root.kind} → ${kernel.output.type}`;
  try {
    if (context.wasm && (kernel.kind === 'elementwise' || kernel.kind === 'reduce' || kernel.kind === 'rows')) {
      try {
        return { run: wasmKernel(kernel, context, context.wasm), how: 'wasm', label };
      } catch (error) {
        if (!(error instanceof Unsupported)) throw error;
      }
    }
    switch (kernel.kind) {
      case 'elementwise': return { run: elementwise(kernel, context), how: 'js', label };
      case 'reduce': return { run: reduce(kernel, context), how: 'js', label };
      case 'rows': return { run: rows(kernel, context), how: 'js', label };
      case 'matmul': return matmul(kernel, context, label);
      case 'window': return window(kernel, context, label);
      case 'scatter': return { run: scatter(kernel, context), how: 'js', label };
      case 'scan': if (context.evaluate) return { run: onReference(kernel, context, context.evaluate), how: 'loop', label }; break;
      default: break;
    }
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    return { run: onReference(kernel, context), how: 'reference', label, why: error.message };
  }
  return { run: onReference(kernel, context), how: 'reference', label, why: `no cpu rule for ${kernel.kind} kernels` };
}

/** The variables a kernel computes rather than reads: its root and its output. */
const computedBy = (kernel: Kernel): Set<Variable> => new Set([kernel.root, kernel.output]);

/** Stores of the kernel's output (and its root, where also stored) at `index`. */
function stores(builder: JsBuilder, kernel: Kernel, index: readonly string[], out: string, root: string): void {
  const shape = kernel.output.shape as number[];
  builder.lines.push(`${out}[${offsetOf(index, shape)}] = ${builder.value(kernel.output, index)};`);
  if (kernel.alsoStoresRoot && kernel.root !== kernel.output) builder.lines.push(`${root}[${offsetOf(index, kernel.root.shape as number[])}] = ${builder.value(kernel.root, index)};`);
}

function elementwise(kernel: Kernel, context: KernelContext): () => void {
  const builder = new JsBuilder(context.materialized, computedBy(kernel));
  const shape = kernel.output.shape as number[];
  const body = loops(builder, shape, 'i', (index) => stores(builder, kernel, index, 'out', 'rootOut'));
  return builder.compile(body, outputsOf(kernel, context), context.viewOf);
}

function outputsOf(kernel: Kernel, context: KernelContext): Record<string, unknown> {
  const extra: Record<string, unknown> = { out: context.viewOf(kernel.output) };
  if (kernel.alsoStoresRoot && kernel.root !== kernel.output) extra.rootOut = context.viewOf(kernel.root);
  return extra;
}

/** How each reduction starts and steps, in the reference's arithmetic (reduce.ts's accumulator). */
function accumulation(op: ReduceOp, inputDType: T.DType): { start: number; step: (acc: string, v: string) => string } {
  const float = isFloat(inputDType);
  const start = T.reductionIdentity(op, inputDType);
  switch (op) {
    case 'sum': return { start, step: (acc, v) => (float ? `${acc} + ${v}` : inputDType === 'uint32' ? `(${acc} + ${v}) >>> 0` : `(${acc} + ${v}) | 0`) };
    case 'prod': return { start, step: (acc, v) => (float ? `${acc} * ${v}` : inputDType === 'uint32' ? `Math.imul(${acc}, ${v}) >>> 0` : `Math.imul(${acc}, ${v})`) };
    case 'max': return { start, step: (acc, v) => `(${v} > ${acc} || ${v} !== ${v}) ? ${v} : ${acc}` };
    case 'min': return { start, step: (acc, v) => `(${v} < ${acc} || ${v} !== ${v}) ? ${v} : ${acc}` };
    case 'any': return { start, step: (acc, v) => `(${acc} || ${v} !== 0) ? 1 : 0` };
    case 'all': return { start, step: (acc, v) => `(${acc} && ${v} !== 0) ? 1 : 0` };
    default: throw new Unsupported(`no JS accumulation for ${op}`);
  }
}

function reduce(kernel: Kernel, context: KernelContext): () => void {
  const node = kernel.root.owner!;
  const op = node.op as ReduceOp;
  const arg = op === 'argmax' || op === 'argmin';
  const input = node.inputs[0]!;
  const { axes, keepdims } = node.attrs as { axes: readonly number[]; keepdims: boolean };
  if (!sameShape(kernel.output, kernel.root)) {
    // The reduction into its own buffer, then the epilogue (a reshape, say) reading it.
    const rootView = kernel.alsoStoresRoot ? context.viewOf(kernel.root) : context.scratch(kernel.root.dtype, sizeOf(kernel.root.shape as number[])).view;
    const own = reduce({ ...kernel, output: kernel.root, alsoStoresRoot: false }, { ...context, viewOf: (v) => (v === kernel.root ? rootView : context.viewOf(v)) });
    const then = epilogue(kernel, context, rootView);
    return () => { own(); then(); };
  }
  const builder = new JsBuilder(context.materialized, computedBy(kernel));
  const rootShape = kernel.root.shape as number[];
  const inShape = input.shape as number[];
  const { start, step } = arg ? { start: 0, step: () => '' } : accumulation(op, input.dtype);
  const body = loops(builder, rootShape, 'i', (index) => {
    if (arg) {
      builder.overrides.set(kernel.root, argReduction(builder, kernel.root, index));
      stores(builder, kernel, index, 'out', 'rootOut');
      builder.overrides.delete(kernel.root);
      return;
    }
    // The input's index: reduced axes from the inner loops, kept ones from the root's.
    let kept = 0;
    const inner = inShape.map((size, axis) => {
      if (axes.includes(axis)) {
        if (keepdims) kept++;
        return size === 1 ? '0' : `r${axis}`;
      }
      return index[kept++]!;
    });
    const acc = builder.fresh('acc');
    builder.lines.push(`let ${acc} = ${literalOf(start)};`);
    const reducedShape = inShape.map((size, axis) => (axes.includes(axis) ? size : 1));
    builder.lines.push(...loops(builder, reducedShape, 'r', () => {
      builder.lines.push(`${acc} = ${step(acc, builder.value(input, inner))};`);
    }));
    builder.overrides.set(kernel.root, builder.bind(rounded(kernel.root.dtype, acc), 'red'));
    stores(builder, kernel, index, 'out', 'rootOut');
    builder.overrides.delete(kernel.root);
  });
  return builder.compile(body, outputsOf(kernel, context), context.viewOf);
}

const literalOf = (value: number): string => (value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : String(value));

function sameShape(a: Variable, b: Variable): boolean {
  return a.ndim === b.ndim && a.shape.every((dim, axis) => dim === b.shape[axis]);
}

/** Reductions over the last axis, then the row's elementwise output: one pass per row per reduction. */
function rows(kernel: Kernel, context: KernelContext): () => void {
  const builder = new JsBuilder(context.materialized, computedBy(kernel));
  const shape = kernel.output.shape as number[];
  const width = shape[shape.length - 1]!;
  const body = loops(builder, shape.slice(0, -1), 'i', (rowIndex) => {
    for (const { root, output } of kernel.rowReductions!) {
      const node = root.owner!;
      const input = node.inputs[0]!;
      const { start, step } = accumulation(node.op as ReduceOp, input.dtype);
      const acc = builder.fresh('acc');
      builder.lines.push(`let ${acc} = ${literalOf(start)};`);
      builder.lines.push(...loops(builder, [width], 'c', ([c]) => {
        builder.lines.push(`${acc} = ${step(acc, builder.value(input, [...rowIndex, c!]))};`);
      }));
      builder.overrides.set(root, builder.bind(rounded(root.dtype, acc), 'red'));
      if (output !== root) {
        const at = output.ndim === rowIndex.length + 1 ? [...rowIndex, '0'] : output.ndim === rowIndex.length ? rowIndex : undefined;
        if (!at) throw new Unsupported('a row result of another rank');
        builder.overrides.set(output, builder.value(output, at));
      }
    }
    builder.lines.push(...loops(builder, [width], 'c', ([c]) => stores(builder, kernel, [...rowIndex, c!], 'out', 'rootOut')));
    for (const { root, output } of kernel.rowReductions!) {
      builder.overrides.delete(root);
      builder.overrides.delete(output);
    }
  });
  return builder.compile(body, outputsOf(kernel, context), context.viewOf);
}

/**
 * A matrix product: its operands as stored float32 buffers (read in place through their
 * strides: a stored tensor or its transpose) or else computed into scratch first, the
 * product into the root's buffer or scratch, then the epilogue as an elementwise pass.
 */
function matmul(kernel: Kernel, context: KernelContext, label: string): CpuKernel {
  const root = kernel.root;
  const [a, b] = root.owner!.inputs as [Variable, Variable];
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Unsupported('integer products run on the reference');
  const left = a.ndim === 1 ? [1, a.shape[0]!] : (a.shape as number[]);
  const right = b.ndim === 1 ? [b.shape[0]!, 1] : (b.shape as number[]);
  const [n, k] = left.slice(-2) as [number, number];
  const m = right[right.length - 1]!;
  const batchShape = (root.shape as number[]).slice(0, root.ndim - (a.ndim > 1 ? 1 : 0) - (b.ndim > 1 ? 1 : 0));
  const batch = sizeOf(batchShape);
  const operandA = operand(a, left, batchShape, context);
  const operandB = operand(b, right, batchShape, context);
  const product = kernel.output === root || kernel.alsoStoresRoot ? context.viewOf(root) : context.scratch('float32', sizeOf(root.shape as number[])).view;
  const steps: (() => void)[] = [...operandA.prepare, ...operandB.prepare];
  let how: CpuKernel['how'] = 'js';
  if (context.gemm) {
    const gemm = context.gemm;
    const call = {
      a: { offset: context.offsetOf(operandA.view) / 4, strides: operandA.strides },
      b: { offset: context.offsetOf(operandB.view) / 4, strides: operandB.strides },
      c: { offset: context.offsetOf(product) / 4, strides: [n * m, m] as [number, number] },
      m: n, n: m, k, batch,
    };
    steps.push(() => gemm.run(call));
    how = 'wasm';
  } else {
    steps.push(jsProduct(operandA, operandB, product as Float32Array, n, k, m, batch));
  }
  if (kernel.output !== root) steps.push(epilogue(kernel, context, product));
  return { run: () => { for (const step of steps) step(); }, how, label };
}

/** A sliding-window op (cpu/window.ts) into the root's buffer or scratch, then the epilogue. */
function window(kernel: Kernel, context: KernelContext, label: string): CpuKernel {
  const root = kernel.root;
  const rootView = kernel.output === root || kernel.alsoStoresRoot ? context.viewOf(root) : context.scratch(root.dtype, sizeOf(root.shape as number[])).view;
  const { run, how } = windowOp(root, context, rootView);
  if (kernel.output === root) return { run, how, label };
  const then = epilogue(kernel, context, rootView);
  return { run: () => { run(); then(); }, how, label };
}

/**
 * `target` computed elementwise from stored buffers (`stored`, read through `viewOf`) into
 * `viewOf(target)`: as a WebAssembly SIMD kernel on the pool where the device has the
 * runner and that renderer a rule for it, else as JS.
 */
function elementwiseInto(role: string, target: Variable, context: KernelContext, stored: ReadonlySet<Variable>, viewOf: (variable: Variable) => TypedArray, writesInto?: Variable): () => void {
  if (context.wasm) {
    try {
      const kernel: Kernel = { kind: 'elementwise', root: target, output: target, ...(writesInto ? { writesInto } : {}) };
      return wasmKernel(kernel, { ...context, materialized: stored, viewOf }, context.wasm);
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
    }
  }
  context.jsPasses?.push(role);
  const builder = new JsBuilder(stored, new Set([target]));
  const shape = target.shape as number[];
  const body = loops(builder, shape, 'i', (index) => {
    builder.lines.push(`out[${offsetOf(index, shape)}] = ${builder.value(target, index)};`);
  });
  return builder.compile(body, { out: viewOf(target) }, viewOf);
}

/** A kernel's epilogue as an elementwise pass that reads its root from `rootView`. */
function epilogue(kernel: Kernel, context: KernelContext, rootView: TypedArray): () => void {
  const root = kernel.root;
  return elementwiseInto('epilogue', kernel.output, context, new Set(context.materialized).add(root), (variable) => (variable === root ? rootView : context.viewOf(variable)), kernel.writesInto);
}

interface Operand {
  view: TypedArray;
  /** Element strides: batch (0 where broadcast), row, column. */
  strides: [number, number, number];
  /** What computes it into scratch first, if it is not stored. */
  prepare: (() => void)[];
}

/**
 * An operand as a strided matrix: a stored tensor read in place, a transpose of one (its
 * last two axes swapped) read through swapped strides, anything else computed into scratch.
 */
function operand(variable: Variable, matrix: readonly number[], batchShape: readonly number[], context: KernelContext): Operand {
  const [rows, cols] = matrix.slice(-2) as [number, number];
  const batchOf = matrix.slice(0, -2);
  const batchStride = batchShape.length === 0 || sizeOf(batchOf) === 1 ? 0 : rows * cols;
  // Broadcasting over only some batch axes needs an expanded copy: computed below.
  const plainBatch = sizeOf(batchOf) === 1 || sameList(padLeft(batchOf, batchShape.length), batchShape);
  const node = variable.owner;
  if (plainBatch && context.materialized.has(variable)) return { view: context.viewOf(variable), strides: [batchStride, cols, 1], prepare: [] };
  // A reshape of a stored tensor is the same row-major data (a convolution's output flattened for a dense layer).
  if (plainBatch && node?.op === 'reshape' && context.materialized.has(node.inputs[0]!)) return { view: context.viewOf(node.inputs[0]!), strides: [batchStride, cols, 1], prepare: [] };
  if (plainBatch && node?.op === 'dimshuffle' && context.materialized.has(node.inputs[0]!)) {
    const pattern = (node.attrs as { pattern: readonly (number | 'x')[] }).pattern;
    const n = pattern.length;
    const swapped = n >= 2 && pattern.every((axis, i) => (i < n - 2 ? axis === i : i === n - 2 ? axis === n - 1 : axis === n - 2)) && node.inputs[0]!.ndim === n;
    if (swapped) return { view: context.viewOf(node.inputs[0]!), strides: [batchStride, 1, rows], prepare: [] };
  }
  // Computed into scratch, expanded to the full batch.
  const full = [...batchShape, rows, cols];
  const scratch = context.scratch('float32', sizeOf(full)).view;
  if (batchShape.length === 0 && variable.ndim === 2) {
    return { view: scratch, strides: [0, cols, 1], prepare: [elementwiseInto('operand', variable, context, context.materialized, (v) => (v === variable ? scratch : context.viewOf(v)))] };
  }
  context.jsPasses?.push('operand');
  const builder = new JsBuilder(context.materialized, new Set());
  const shaped = variable.ndim === 1 ? [variable.shape[0] as number] : (variable.shape as number[]);
  const body = loops(builder, full, 'i', (index) => {
    const inner = variable.ndim === 1 ? [matrix[0] === 1 ? index[index.length - 1]! : index[index.length - 2]!] : index.slice(index.length - shaped.length).map((expr, axis) => (shaped[axis] === 1 ? '0' : expr));
    builder.lines.push(`out[${offsetOf(index, full)}] = ${builder.value(variable, inner)};`);
  });
  const run = builder.compile(body, { out: scratch }, context.viewOf);
  return { view: scratch, strides: [batchShape.length === 0 ? 0 : rows * cols, cols, 1], prepare: [run] };
}

const padLeft = (shape: readonly number[], length: number): number[] => [...new Array<number>(Math.max(0, length - shape.length)).fill(1), ...shape];
const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The reference's product: a double accumulator row per output row, summing over k in order. */
function jsProduct(a: Operand, b: Operand, c: Float32Array, n: number, k: number, m: number, batch: number): () => void {
  const [A, B] = [a.view as Float32Array, b.view as Float32Array];
  const [sab, sar, sac] = a.strides;
  const [sbb, sbr, sbc] = b.strides;
  const row = new Float64Array(m);
  return () => {
    for (let t = 0; t < batch; t++) {
      for (let i = 0; i < n; i++) {
        row.fill(0);
        for (let p = 0; p < k; p++) {
          const x = A[t * sab + i * sar + p * sac]!;
          const base = t * sbb + p * sbr;
          for (let j = 0; j < m; j++) row[j]! += x * B[base + j * sbc]!;
        }
        c.set(row, (t * n + i) * m);
      }
    }
  };
}

/**
 * A scatter (advanced_inc_subtensor: the gradient of a gather) straight into its output
 * buffer: x's values copied there, then the values added or set at the gathered offsets,
 * with the reference's index checks (graph's advancedIncInto). Inputs the partition fused
 * into the kernel are computed into scratch first; an absorbed epilogue sends it to the
 * reference instead.
 */
function scatter(kernel: Kernel, context: KernelContext): () => void {
  const node = kernel.root.owner!;
  if (node.op !== 'advanced_inc_subtensor') throw new Unsupported(`a scatter kernel of ${node.op}`);
  if (kernel.output !== kernel.root || kernel.alsoStoresRoot) throw new Unsupported('a scatter with an epilogue');
  // Inputs the partition fused into the kernel are computed into scratch first.
  const prepare: (() => void)[] = [];
  const arrays = node.inputs.map((input) => {
    if (context.reads.has(input) || input instanceof T.Constant) return new NDArray(input.dtype, input.shape as number[], context.viewOf(input));
    const view = context.scratch(input.dtype, sizeOf(input.shape as number[])).view;
    prepare.push(elementwiseInto('input', input, context, context.materialized, (variable) => (variable === input ? view : context.viewOf(variable))));
    return new NDArray(input.dtype, input.shape as number[], view);
  });
  const out = context.viewOf(kernel.output);
  return () => {
    for (const step of prepare) step();
    T.advancedIncInto(node as T.Apply<'advanced_inc_subtensor'>, arrays, out);
  };
}

/**
 * The kernel's nodes on the reference evaluator, reading and writing the plan's buffers;
 * with `evaluate`, a scan node runs its loop on the reference but each step's graph through it.
 */
function onReference(kernel: Kernel, context: KernelContext, evaluate?: KernelContext['evaluate']): () => void {
  const reads = [...context.reads];
  const targets = kernel.alsoStoresRoot && kernel.root !== kernel.output ? [kernel.output, kernel.root] : [kernel.output];
  // The nodes between the buffers read and the targets, in an order that computes inputs first.
  const order: Variable[] = [];
  const seen = new Set<Variable>(reads);
  const visit = (variable: Variable): void => {
    if (seen.has(variable)) return;
    seen.add(variable);
    for (const input of variable.owner?.inputs ?? []) visit(input);
    order.push(variable);
  };
  targets.forEach(visit);
  // The views now, while the plan is built, so that their regions are the plan's (given back with it).
  const readViews = reads.map((variable) => [variable, context.viewOf(variable)] as const);
  const targetViews = targets.map((target) => context.viewOf(target));
  return () => {
    const values = new Map<Variable, NDArray>(readViews.map(([variable, view]) => [variable, new NDArray(variable.dtype, variable.shape as number[], view)]));
    for (const variable of order) {
      const node = variable.owner;
      if (node && evaluate && node.op === 'scan') {
        const { body, output } = node.attrs as { body: T.ScanBody; output: number };
        values.set(variable, body.run(node.inputs.map((input) => values.get(input)!), evaluate)[output]!);
      } else if (node) values.set(variable, T.performApply(variable, node.inputs.map((input) => values.get(input)!)));
      else if (variable instanceof T.Constant) values.set(variable, variable.value);
      else throw new Error(`codegen: the cpu kernel for ${kernel.output.type} reads ${variable}, which it was not given`);
    }
    targets.forEach((target, i) => targetViews[i]!.set(values.get(target)!.data));
  };
}
