// What a partition is made of: kernels (a root node, the variable stored, what they
// fused), the variables that live in buffers, and the facts about them that the passes
// over a partition share (which buffers a kernel reads, an order that respects those
// reads, whether one node depends on another below the kernel roots). A leaf module:
// partition.ts builds partitions, refine.ts rewrites them, render/ reads them.

import type { OpName, Variable } from '@theorbo/graph';
import type { RootKind } from '../render/emit.ts';
import { lowerings } from '../render/lowering.ts';

export type KernelKind = 'elementwise' | 'rows' | RootKind;

/** The kernel an op's node roots: its lowering's (a reduction, matmul, scatter), else a fused elementwise one. */
export function kernelKind(op: OpName): KernelKind {
  const lowering = lowerings[op];
  return typeof lowering === 'function' ? 'elementwise' : lowering.kernel;
}

export interface Kernel {
  kind: KernelKind;
  /** The node whose computation the kernel performs. */
  root: Variable;
  /** The variable the kernel stores: the root, or the epilogue it absorbed. */
  output: Variable;
  /** Set when an absorbed root is needed elsewhere too: the kernel stores it as well. */
  alsoStoresRoot?: boolean;
  /**
   * The shared variable whose buffer this kernel writes its output into (an update
   * computed in place); reads of that variable inside the kernel use the same binding.
   */
  writesInto?: Variable;
  /**
   * 'rows' kernels: reductions over the last axis, in dependency order, that one
   * workgroup per row computes before the row's elementwise output (softmax in one pass).
   */
  rowReductions?: { root: Variable; output: Variable }[];
}

export interface Partition {
  kernels: Kernel[];
  /** Variables that live in buffers: leaves read by kernels and every kernel output. */
  materialized: Set<Variable>;
  /** The buffers each kernel reads (kernelReads), found once per partition. */
  reads: Map<Kernel, Set<Variable>>;
}

/** A scalar constant is inlined into the WGSL as a literal. */
export function isInlineConstant(variable: Variable): boolean {
  return variable.kind === 'constant' && variable.type.size === 1;
}

/**
 * Kernels in an order where each runs after the kernels whose buffers it reads (an
 * epilogue can move a root's kernel later than the topological position of the root),
 * or the kernel with an absorbed epilogue that closes a cycle.
 */
export function sortKernels(result: Partition, after: ReadonlyMap<Kernel, readonly Kernel[]> = new Map()): Kernel[] | Kernel {
  const writer = new Map<Variable, Kernel>();
  for (const kernel of result.kernels) {
    writer.set(kernel.output, kernel);
    if (kernel.alsoStoresRoot) writer.set(kernel.root, kernel);
  }
  const state = new Map<Kernel, 'open' | 'done'>();
  const sorted: Kernel[] = [];
  let cycle: Kernel | undefined;
  const visit = (kernel: Kernel): void => {
    if (cycle || state.get(kernel) === 'done') return;
    if (state.get(kernel) === 'open') {
      cycle = kernel;
      return;
    }
    state.set(kernel, 'open');
    for (const read of result.reads.get(kernel)!) {
      const before = writer.get(read);
      if (before && before !== kernel) visit(before);
    }
    for (const before of after.get(kernel) ?? []) visit(before);
    state.set(kernel, 'done');
    sorted.push(kernel);
  };
  for (const kernel of result.kernels) visit(kernel);
  if (cycle) return [cycle, ...result.kernels].find((kernel) => kernel.root !== kernel.output) ?? cycle;
  return sorted;
}

export function dependsOn(variable: Variable, root: Variable, roots: ReadonlySet<Variable>): boolean {
  const stack = [variable];
  const seen = new Set<Variable>();
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current === root) return true;
    if (seen.has(current) || (current !== variable && roots.has(current))) continue;
    seen.add(current);
    stack.push(...(current.owner?.inputs ?? []));
  }
  return false;
}

/**
 * Storage buffers a kernel binds: what it reads, what it writes, and the flags of
 * out-of-range indices where it gathers (render/builder.ts checkIndex).
 */
export function bindingCount(kernel: Kernel, reads: ReadonlySet<Variable>, materialized: ReadonlySet<Variable>): number {
  return reads.size + 1 + (gathers(kernel, materialized) ? 1 : 0);
}

function gathers(kernel: Kernel, materialized: ReadonlySet<Variable>): boolean {
  if (kernel.kind === 'scatter') return true;
  const seen = new Set<Variable>();
  const visit = (variable: Variable, top: boolean): boolean => {
    if (seen.has(variable) || !variable.owner || (!top && materialized.has(variable) && variable !== kernel.root)) return false;
    seen.add(variable);
    return variable.owner.op === 'advanced_subtensor' || variable.owner.inputs.some((input) => visit(input, false));
  };
  return visit(kernel.output, true) || visit(kernel.root, true);
}

/** The buffers a kernel reads: materialized variables reached through its fused nodes. */
export function kernelReads(kernel: Kernel, materialized: ReadonlySet<Variable>): Set<Variable> {
  const reads = new Set<Variable>();
  const seen = new Set<Variable>();
  const visit = (variable: Variable, top: boolean): void => {
    if (seen.has(variable)) return;
    seen.add(variable);
    if (!top && materialized.has(variable) && variable !== kernel.root) {
      reads.add(variable);
      return;
    }
    if (!variable.owner) {
      if (materialized.has(variable)) reads.add(variable);
      return;
    }
    for (const input of variable.owner.inputs) visit(input, false);
  };
  visit(kernel.output, true);
  if (kernel.output !== kernel.root) visit(kernel.root, true);
  reads.delete(kernel.root);
  return reads;
}

