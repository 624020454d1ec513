// Elementwise, reduce and rows kernels of the cpu device as WebAssembly SIMD: the kernel
// description lowered by cpu/wasm-lower.ts (the same walk the JS renderer makes), rendered
// by cpu/wasm-render.ts, compiled once per distinct module (cached by its bytes, so plans
// with the same kernel share it) and run on the thread pool: rows (or, for elementwise
// kernels with few rows, column ranges) split into a few tasks per thread; kernels under
// `serialElements` run on the calling thread. A kernel the lowering cannot express raises
// Unsupported, and cpu/kernels.ts renders it as JS instead.
// Left out: f64 graphs, integer buffers (bool ones are masks: where's condition, a comparison's output), reductions split within a row (a full
// sum of one long row runs on one thread).

import * as T from '@theorbo/graph';
import { sizeOf, type ReduceOp, type Variable } from '@theorbo/graph';
import type { Kernel } from '../lower/kernel.ts';
import { Unsupported } from './js-render.ts';
import type { ThreadPool } from './threads.ts';
import { affineAxis, affineConstant, VectorLowering, type Affine } from './wasm-lower.ts';
import { renderProgram, type VectorProgram } from './wasm-render.ts';
import type { Entry, KernelContext, WasmRunner } from './kernel-context.ts';

export type { WasmRunner } from './kernel-context.ts';


/** Kernels with fewer elements than this run on the calling thread (benchmarks/cpu-wasm-probe.ts measures it). */
let serialElements = 1 << 15;
/** For measurements: the serial threshold of kernels built from now on. */
export function setSerialElements(elements: number): void {
  serialElements = elements;
}
const tasksPerThread = 3;

export function createWasmRunner(pool: ThreadPool): WasmRunner {
  const cache = new Map<string, { id: number; entry: Entry }>();
  return {
    threads: pool.threads,
    load(bytes) {
      let key = '';
      for (let i = 0; i < bytes.length; i += 4096) key += String.fromCharCode(...bytes.subarray(i, i + 4096));
      let hit = cache.get(key);
      if (!hit) {
        const id = pool.registerModule(new WebAssembly.Module(bytes));
        hit = { id, entry: pool.exports(id).kernel as Entry };
        cache.set(key, hit);
      }
      return hit;
    },
    run: (id, tasks) => pool.run(id, 'kernel', tasks),
  };
}

const reducible = new Set<string>(['sum', 'prod', 'max', 'min']);
const computedBy = (kernel: Kernel): Set<Variable> => new Set([kernel.root, kernel.output]);
const sameShape = (a: Variable, b: Variable): boolean => a.ndim === b.ndim && a.shape.every((dim, axis) => dim === b.shape[axis]);
const identityIndex = (ndim: number): Affine[] => Array.from({ length: ndim }, (_, axis) => affineAxis(ndim, axis));

/** The kernel as a vector program, or Unsupported. */
export function lowerKernel(kernel: Kernel, context: Pick<KernelContext, 'materialized'>): VectorProgram {
  const output = kernel.output;
  if (output.dtype !== 'float32' && !(output.dtype === 'bool' && kernel.kind === 'elementwise')) throw new Unsupported(`a ${output.dtype} output`);
  const alsoRoot = kernel.alsoStoresRoot && kernel.root !== output;
  switch (kernel.kind) {
    case 'elementwise': {
      try {
        return elementwiseProgram(kernel, context, output.shape as number[]);
      } catch (error) {
        if (!(error instanceof Unsupported) || alsoRoot) throw error;
        // A reshape that regroups axes inside (a convolution's output with its bias and
        // relu, flattened and dropped out for a dense layer): loops over the reshape's
        // input shape instead, everything after the reshape read at row-major positions.
        for (const shape of regroupedShapes(output, context.materialized)) {
          try {
            return elementwiseProgram(kernel, context, shape);
          } catch (inner) {
            if (!(inner instanceof Unsupported)) throw inner;
          }
        }
        throw error;
      }
    }
    case 'rows': {
      const ndim = output.ndim;
      if (ndim === 0) throw new Unsupported('a rows kernel of a scalar');
      const lowering = new VectorLowering(ndim, context.materialized, computedBy(kernel));
      const index = identityIndex(ndim);
      const rowIndex = index.slice(0, -1);
      const reductions: VectorProgram['reductions'] = [];
      for (const { root, output: reduced } of kernel.rowReductions!) {
        const node = root.owner!;
        const input = node.inputs[0]!;
        if (!reducible.has(node.op) || input.dtype !== 'float32' || root.dtype !== 'float32' || input.ndim !== ndim) throw new Unsupported(`a ${node.op} row reduction of ${input.type}`);
        reductions.push({ op: node.op as 'sum', input: lowering.value(input, index), identity: T.reductionIdentity(node.op as ReduceOp, 'float32') });
        lowering.overrides.set(root, lowering.accumulator(reductions.length - 1));
        if (reduced !== root) {
          const at = reduced.ndim === ndim ? [...rowIndex, affineConstant(ndim, 0)] : reduced.ndim === ndim - 1 ? rowIndex : undefined;
          if (!at) throw new Unsupported('a row result of another rank');
          lowering.overrides.set(reduced, lowering.value(reduced, at));
        }
      }
      const stores: VectorProgram['stores'] = [{ access: lowering.access(output, index), value: lowering.value(output, index), phase: 'column' }];
      if (alsoRoot) {
        if (!sameShape(kernel.root, output) || kernel.root.dtype !== 'float32') throw new Unsupported('a stored root of another shape');
        stores.push({ access: lowering.access(kernel.root, index), value: lowering.value(kernel.root, index), phase: 'column' });
      }
      return { axisSizes: output.shape as number[], inner: [ndim - 1], reductions, stores, inPlace: kernel.writesInto !== undefined };
    }
    case 'reduce': {
      const root = kernel.root;
      const node = root.owner!;
      const input = node.inputs[0]!;
      if (!reducible.has(node.op) || input.dtype !== 'float32' || root.dtype !== 'float32') throw new Unsupported(`a ${node.op} reduction of ${input.type}`);
      if (!sameShape(output, root)) throw new Unsupported('an epilogue of another shape');
      const { axes, keepdims } = node.attrs as { axes: readonly number[]; keepdims: boolean };
      const ndim = input.ndim;
      const lowering = new VectorLowering(ndim, context.materialized, computedBy(kernel));
      const index = identityIndex(ndim);
      const rootIndex = index.flatMap((affine, axis) => (axes.includes(axis) ? (keepdims ? [affineConstant(ndim, 0)] : []) : [affine]));
      const reductions: VectorProgram['reductions'] = [{ op: node.op as 'sum', input: lowering.value(input, index), identity: T.reductionIdentity(node.op as ReduceOp, 'float32') }];
      lowering.overrides.set(root, lowering.accumulator(0));
      const stores: VectorProgram['stores'] = [{ access: lowering.access(output, rootIndex), value: lowering.value(output, rootIndex), phase: 'row' }];
      if (alsoRoot) stores.push({ access: lowering.access(root, rootIndex), value: lowering.accumulator(0), phase: 'row' });
      return { axisSizes: input.shape as number[], inner: [...axes].sort((a, b) => a - b), reductions, stores };
    }
    default:
      throw new Unsupported(`no WebAssembly rule for ${kernel.kind} kernels`);
  }
}

/** An elementwise kernel over loops of `shape`: the output's own, or as many elements in another (lowering's flat()). */
function elementwiseProgram(kernel: Kernel, context: Pick<KernelContext, 'materialized'>, shape: number[]): VectorProgram {
  const output = kernel.output;
  const ndim = shape.length;
  const lowering = new VectorLowering(ndim, context.materialized, computedBy(kernel));
  const index = identityIndex(ndim);
  const own = sameDims(shape, output.shape);
  const stores: VectorProgram['stores'] = [{ access: lowering.access(output, index, shape), value: own ? lowering.value(output, index) : lowering.flat(output, index, shape), phase: 'column' }];
  if (kernel.alsoStoresRoot && kernel.root !== output) {
    if (!own || !sameShape(kernel.root, output) || kernel.root.dtype !== 'float32') throw new Unsupported('a stored root of another shape');
    stores.push({ access: lowering.access(kernel.root, index), value: lowering.value(kernel.root, index), phase: 'column' });
  }
  return { axisSizes: shape, inner: [], reductions: [], stores };
}

const sameDims = (a: readonly (number | null)[], b: readonly (number | null)[]): boolean => a.length === b.length && a.every((dim, axis) => dim === b[axis]);

/** Input shapes of the regrouping reshapes computed in `output`'s kernel with its element count. */
function regroupedShapes(output: Variable, materialized: ReadonlySet<Variable>): number[][] {
  const shapes: number[][] = [];
  const seen = new Set<Variable>();
  const visit = (variable: Variable): void => {
    if (seen.has(variable) || !variable.owner || (variable !== output && materialized.has(variable))) return;
    seen.add(variable);
    const node = variable.owner;
    const input = node.inputs[0];
    if (node.op === 'reshape' && input && input.type.size === output.type.size && !sameDims(input.shape, output.shape)
      && !shapes.some((shape) => sameDims(shape, input.shape))) shapes.push(input.shape as number[]);
    node.inputs.forEach(visit);
  };
  visit(output);
  return shapes;
}

/** The kernel as a WebAssembly function over the plan's buffers, split over the pool; throws Unsupported. */
export function wasmKernel(kernel: Kernel, context: KernelContext, runner: WasmRunner): () => void {
  const rendered = renderProgram(lowerKernel(kernel, context));
  const { rows, columns, splitColumns } = rendered;
  if (sizeOf(kernel.output.shape as number[]) === 0 || rows === 0) return () => {};
  const { id, entry } = runner.load(rendered.bytes);
  const bases = rendered.buffers.map((buffer) => context.offsetOf(context.viewOf(buffer)));
  const elements = rows * Math.max(columns, 1);
  if (runner.threads === 1 || elements < serialElements) {
    const args = [0, rows, 0, columns, ...bases];
    return () => entry(...args);
  }
  const wanted = Math.min(runner.threads * tasksPerThread, Math.ceil(elements / (serialElements / 2)));
  const tasks: number[][] = [];
  if (rows >= wanted || !splitColumns) {
    const step = Math.ceil(rows / wanted);
    for (let start = 0; start < rows; start += step) tasks.push([start, Math.min(rows, start + step), 0, columns, ...bases]);
  } else {
    const perRow = Math.ceil(wanted / rows);
    const step = Math.ceil(columns / perRow / 16) * 16;
    for (let r = 0; r < rows; r++) for (let start = 0; start < columns; start += step) tasks.push([r, r + 1, start, Math.min(columns, start + step), ...bases]);
  }
  return () => runner.run(id, tasks);
}
