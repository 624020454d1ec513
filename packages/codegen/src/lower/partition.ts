// Partitioning a specialized graph into kernels. Every op is one of:
//  - fusable: elementwise, movement, writes into subtensors, gathers, arange, random —
//    all expressible as "the value at index i", so chains of them become one kernel;
//  - a reduction, a matmul or a scatter (advanced increment), each the root of its own
//    kernel, which also absorbs the elementwise prologue feeding it and, where the
//    result feeds only same-shape elementwise ops of one kernel, that epilogue too.
// A fusable node is materialized (becomes a kernel root with a buffer) when it is an
// output or update, when kernels of different roots would each need it and it is not
// cheap to recompute, or when a matmul reads it (operands are read through views).
// Left out: horizontal fusion of independent kernels, and cost models beyond "cheap".

import { elementwiseOps, movementOps, topologicalOrder, type OpName, type Variable } from '@theorbo/graph';

export type KernelKind = 'elementwise' | 'reduce' | 'matmul' | 'scatter';

export interface Kernel {
  kind: KernelKind;
  /** The node whose computation the kernel performs. */
  root: Variable;
  /** The variable the kernel stores: the root, or the epilogue it absorbed. */
  output: Variable;
}

export interface Partition {
  kernels: Kernel[];
  /** Variables that live in buffers: leaves read by kernels and every kernel output. */
  materialized: Set<Variable>;
}

const reduceOps = new Set<OpName>(['sum', 'prod', 'max', 'min', 'any', 'all', 'argmax', 'argmin']);
const movement = new Set<OpName>(movementOps);

export function kernelKind(op: OpName): KernelKind {
  if (reduceOps.has(op)) return 'reduce';
  if (op === 'matmul') return 'matmul';
  if (op === 'advanced_inc_subtensor') return 'scatter';
  return 'elementwise';
}

/** A scalar constant is inlined into the WGSL as a literal. */
export function isInlineConstant(variable: Variable): boolean {
  return variable.kind === 'constant' && variable.type.size === 1;
}

/** Cheap to recompute in every kernel that needs it: views of buffers, ranges, literals. */
function isCheap(variable: Variable, cache: Map<Variable, boolean>): boolean {
  const known = cache.get(variable);
  if (known !== undefined) return known;
  const node = variable.owner;
  const cheap = !node || node.op === 'arange' || node.op === 'dim' || (movement.has(node.op) && node.inputs.every((input) => isCheap(input, cache)));
  cache.set(variable, cheap);
  return cheap;
}

/** Fused elementwise work below a node (up to `limit`), not crossing reductions or matmuls. */
function fusedCost(variable: Variable, limit: number): number {
  let cost = 0;
  const seen = new Set<Variable>();
  const stack = [variable];
  while (stack.length > 0 && cost <= limit) {
    const current = stack.pop()!;
    if (seen.has(current) || !current.owner || kernelKind(current.owner.op) !== 'elementwise') continue;
    seen.add(current);
    if (!movement.has(current.owner.op)) cost++;
    stack.push(...current.owner.inputs);
  }
  return cost;
}

/**
 * Whether several kernels may each recompute `variable` rather than read it from a
 * buffer: small fused subtrees (a buffer round trip costs more than a few ALU ops),
 * unless some consumer broadcasts it, which would multiply the work.
 */
function recomputable(variable: Variable, consumers: readonly Variable[], cheap: Map<Variable, boolean>): boolean {
  if (isCheap(variable, cheap)) return true;
  const size = variable.type.size ?? 0;
  const amplified = consumers.some((consumer) => (consumer.type.size ?? 0) > size && kernelKind(consumer.owner!.op) === 'elementwise');
  return !amplified && fusedCost(variable, recomputeLimit) <= recomputeLimit;
}

const recomputeLimit = 8;

export function partition(outputs: readonly Variable[], options: { maxBuffers: number }): Partition {
  const order = topologicalOrder(outputs);
  const forced = new Set<Variable>();
  for (;;) {
    const result = attempt(order, outputs, forced);
    const overfull = result.kernels.find((kernel) => kernelReads(kernel, result.materialized).size + 1 > options.maxBuffers);
    if (!overfull) return result;
    const split = splitCandidate(overfull, result.materialized);
    if (!split) throw new Error(`codegen: a ${overfull.kind} kernel for ${overfull.root.type} needs more than ${options.maxBuffers} storage buffers and cannot be split`);
    forced.add(split);
  }
}

function attempt(order: readonly Variable[], outputs: readonly Variable[], forced: ReadonlySet<Variable>): Partition {
  const consumers = new Map<Variable, Variable[]>();
  for (const variable of order) {
    for (const input of variable.owner?.inputs ?? []) {
      const list = consumers.get(input) ?? [];
      if (!list.includes(variable)) list.push(variable);
      consumers.set(input, list);
    }
  }
  const roots = new Set<Variable>([...outputs.filter((output) => output.owner), ...forced]);
  const cheap = new Map<Variable, boolean>();
  for (const variable of order) {
    const node = variable.owner;
    if (!node) continue;
    if (kernelKind(node.op) !== 'elementwise') roots.add(variable);
    if (node.op === 'matmul') {
      // Operands are read through views; anything costlier is computed once, first.
      for (const operand of node.inputs) markBelowViews(operand, roots);
    }
  }
  // Reverse topological order: a node's consumers are settled before it.
  const owners = new Map<Variable, Set<Variable>>();
  for (let i = order.length - 1; i >= 0; i--) {
    const variable = order[i]!;
    if (!variable.owner || roots.has(variable)) continue;
    const reach = new Set<Variable>();
    for (const consumer of consumers.get(variable) ?? []) {
      if (roots.has(consumer)) reach.add(consumer);
      else for (const root of owners.get(consumer) ?? []) reach.add(root);
    }
    if (reach.size > 1 && !recomputable(variable, consumers.get(variable) ?? [], cheap)) {
      roots.add(variable);
    } else {
      owners.set(variable, reach);
    }
  }
  const absorbed = new Map<Variable, Variable>();
  const outputSet = new Set(outputs);
  for (const root of roots) {
    const kind = kernelKind(root.owner!.op);
    if ((kind !== 'reduce' && kind !== 'matmul') || outputSet.has(root)) continue;
    const epilogue = epilogueOf(root, roots, owners, consumers);
    if (epilogue && !absorbed.has(epilogue)) absorbed.set(epilogue, root);
  }
  const absorbedRoots = new Set(absorbed.values());
  const kernels: Kernel[] = [];
  const materialized = new Set<Variable>();
  for (const variable of order) {
    if (!roots.has(variable) || absorbedRoots.has(variable)) continue;
    const by = absorbed.get(variable);
    const root = by ?? variable;
    kernels.push({ kind: kernelKind(root.owner!.op), root, output: variable });
    materialized.add(variable);
  }
  for (const variable of order) if (!variable.owner && !isInlineConstant(variable)) materialized.add(variable);
  return { kernels, materialized };
}

/** Makes a matmul operand a view (movement ops only) of buffers, materializing what is not. */
function markBelowViews(operand: Variable, roots: Set<Variable>): void {
  const isView = (variable: Variable): boolean =>
    !variable.owner || roots.has(variable) || (movement.has(variable.owner.op) && variable.owner.inputs.every(isView));
  if (isView(operand)) return;
  let base = operand;
  while (base.owner && movement.has(base.owner.op) && base.owner.inputs.length === 1) base = base.owner.inputs[0]!;
  if (base.owner && !roots.has(base)) roots.add(base);
  if (!isView(operand)) roots.add(operand);
}

/**
 * The elementwise root E that can be computed in R's store phase: every consumer of R
 * belongs to E's kernel alone, and every path from E down to R is elementwise at R's shape.
 */
function epilogueOf(root: Variable, roots: ReadonlySet<Variable>, owners: ReadonlyMap<Variable, Set<Variable>>, consumers: ReadonlyMap<Variable, Variable[]>): Variable | undefined {
  const direct = consumers.get(root) ?? [];
  if (direct.length === 0) return undefined;
  let target: Variable | undefined;
  for (const consumer of direct) {
    const owner = roots.has(consumer) ? consumer : single(owners.get(consumer));
    if (!owner || (target && owner !== target)) return undefined;
    target = owner;
  }
  if (!target || kernelKind(target.owner!.op) !== 'elementwise' || !sameShape(target, root)) return undefined;
  // Walk down from the target through its kernel: R must only be met via same-shape elementwise ops.
  const ok = (variable: Variable, seen: Set<Variable>): boolean => {
    if (variable === root) return true;
    if (seen.has(variable)) return true;
    seen.add(variable);
    const node = variable.owner;
    if (!node || (variable !== target && roots.has(variable))) return true;
    const reachesRoot = (input: Variable): boolean => input === root || (!roots.has(input) && !!input.owner && dependsOn(input, root, roots));
    for (const input of node.inputs) {
      if (!reachesRoot(input)) continue;
      if (!elementwiseOps.has(node.op) || !sameShape(variable, root)) return false;
      if (!ok(input, seen)) return false;
    }
    return true;
  };
  return ok(target, new Set()) ? target : undefined;
}

function dependsOn(variable: Variable, root: Variable, roots: ReadonlySet<Variable>): boolean {
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

const single = (set: Set<Variable> | undefined): Variable | undefined => (set && set.size === 1 ? [...set][0] : undefined);
const sameShape = (a: Variable, b: Variable): boolean => a.shape.length === b.shape.length && a.shape.every((dim, i) => dim === b.shape[i]);

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
  return reads;
}

function splitCandidate(kernel: Kernel, materialized: ReadonlySet<Variable>): Variable | undefined {
  let best: Variable | undefined;
  let bestReads = 0;
  const total = kernelReads(kernel, materialized).size;
  const visit = (variable: Variable, seen: Set<Variable>): void => {
    if (seen.has(variable) || !variable.owner || (materialized.has(variable) && variable !== kernel.output)) return;
    seen.add(variable);
    if (variable !== kernel.output && variable !== kernel.root && kernelKind(variable.owner.op) === 'elementwise') {
      const reads = kernelReads({ kind: 'elementwise', root: variable, output: variable }, materialized).size;
      if (reads > bestReads && reads < total) { best = variable; bestReads = reads; }
    }
    for (const input of variable.owner.inputs) visit(input, seen);
  };
  visit(kernel.output, new Set());
  return best;
}
