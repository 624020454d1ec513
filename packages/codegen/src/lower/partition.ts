// Partitioning a specialized graph into kernels. Every op is one of:
//  - fusable: elementwise, movement, writes into subtensors, gathers, arange, random —
//    all expressible as "the value at index i", so chains of them become one kernel;
//  - a reduction, a matmul or a scatter (advanced increment), each the root of its own
//    kernel, which also absorbs the elementwise prologue feeding it and an elementwise
//    epilogue at its result's flat layout (storing the result too when others read it).
// A fusable node is materialized (becomes a kernel root with a buffer) when it is an
// output or update, when kernels of different roots would each need it and it is not
// cheap to recompute, or when a matmul reads it (operands are read through views).
// Kernels are ordered by the buffers they read; refine.ts then fuses rows and writes
// updates in place. Left out: horizontal fusion of independent kernels, and cost models
// beyond "cheap".

import { elementwiseOps, movementOps, topologicalOrder, type OpName, type Variable } from '@theorbo/graph';
import { bindingCount, dependsOn, isInlineConstant, kernelKind, kernelReads, sortKernels, type Kernel, type Partition } from './kernel.ts';
import { amplifiedValues } from './amplified.ts';
import { fuseRows, updateInPlace } from './refine.ts';

const movement = new Set<OpName>(movementOps);
const convolutions = new Set<OpName>(['conv', 'conv_transpose', 'conv_weight_grad']);

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

/** Rounds of amplifiedValues (lower/amplified.ts): each stores the outermost amplified value of every kernel. */
const maxAmplifiedRounds = 8;

export interface PartitionOptions {
  maxBuffers: number;
  /** false: every op its own kernel, no epilogues (the unfused baseline benchmarks compare against). */
  fuse?: boolean;
  /**
   * Updates (shared variable, new value) that may be written in place; values must be
   * among `outputs`. `keepOld` lists shared variables whose old value a caller still
   * reads after the kernels (function outputs that are the variable itself).
   */
  updates?: readonly (readonly [Variable, Variable])[];
  keepOld?: ReadonlySet<Variable>;
}

export function partition(outputs: readonly Variable[], options: PartitionOptions): Partition {
  const order = topologicalOrder(outputs);
  const forced = new Set<Variable>(options.fuse === false ? order.filter((variable) => variable.owner) : partlyReadGathers(order));
  const noEpilogue = new Set<Variable>();
  let amplifiedRounds = 0;
  for (;;) {
    const result = attempt(order, outputs, forced, noEpilogue);
    for (const kernel of result.kernels) result.reads.set(kernel, kernelReads(kernel, result.materialized));
    const sorted = sortKernels(result);
    if (!Array.isArray(sorted)) {
      // An absorbed epilogue made two kernels wait for each other: keep that epilogue apart.
      noEpilogue.add(sorted.output);
      continue;
    }
    result.kernels = sorted;
    if (options.fuse !== false && amplifiedRounds < maxAmplifiedRounds) {
      const amplified = amplifiedValues(result).filter((variable) => !forced.has(variable));
      if (amplified.length > 0) {
        amplifiedRounds++;
        for (const variable of amplified) forced.add(variable);
        continue;
      }
    }
    const overfull = result.kernels.find((kernel) => bindingCount(kernel, result.reads.get(kernel)!, result.materialized) > options.maxBuffers);
    if (!overfull) {
      if (options.fuse !== false) fuseRows(result, options.maxBuffers);
      if (options.updates && options.fuse !== false) updateInPlace(result, options.updates, options.keepOld ?? new Set(), outputs);
      return result;
    }
    const split = splitCandidate(overfull, result.materialized, bindingCount(overfull, result.reads.get(overfull)!, result.materialized) - 1);
    if (!split) throw new Error(`codegen: a ${overfull.kind} kernel for ${overfull.root.type} needs more than ${options.maxBuffers} storage buffers and cannot be split`);
    forced.add(split);
  }
}

/** Ops that read only some elements of their first input. */
const selecting = new Set<OpName>(['subtensor', 'advanced_subtensor']);

/**
 * Gathers that a fused consumer would compute at only some positions (through a slice or
 * another gather): each becomes a kernel of its own, which computes every position and so
 * checks every index, as the reference evaluator does (render/builder.ts checkIndex).
 * Kernel roots (reductions, products, scatters) read all of their inputs.
 */
function partlyReadGathers(order: readonly Variable[]): Variable[] {
  const consumers = new Map<Variable, Variable[]>();
  for (const variable of order) for (const input of variable.owner?.inputs ?? []) consumers.set(input, [...(consumers.get(input) ?? []), variable]);
  const partly = (gather: Variable): boolean => {
    const stack = [gather];
    const seen = new Set<Variable>();
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (seen.has(current)) continue;
      seen.add(current);
      for (const consumer of consumers.get(current) ?? []) {
        const node = consumer.owner!;
        if (selecting.has(node.op) && node.inputs[0] === current) return true;
        if (kernelKind(node.op) === 'elementwise') stack.push(consumer);
      }
    }
    return false;
  };
  return order.filter((variable) => variable.owner?.op === 'advanced_subtensor' && partly(variable));
}

function attempt(order: readonly Variable[], outputs: readonly Variable[], forced: ReadonlySet<Variable>, noEpilogue: ReadonlySet<Variable>): Partition {
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
    if (node.op === 'matmul' || convolutions.has(node.op)) {
      // Operands are read through views; anything costlier is computed once, first (a
      // convolution reads each input element once per filter and tap).
      for (const operand of node.inputs) markBelowViews(operand, roots);
    } else if (node.op === 'scan') {
      // A loop copies rows of its inputs by byte offsets: every computed input is stored first.
      for (const input of node.inputs) if (input.owner) roots.add(input);
    } else if (kernelKind(node.op) === 'window') {
      // A pool reads each element once per window holding it: a cheap activation is
      // computed in its loop, anything more is stored first.
      for (const operand of node.inputs) if (operand.owner && kernelKind(operand.owner.op) === 'elementwise' && fusedCost(operand, 3) > 2) roots.add(operand);
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
  const absorbed = new Map<Variable, { root: Variable; alsoStoresRoot: boolean }>();
  const outputSet = new Set(outputs);
  // Every node forced to be a root (unfused) means no epilogues either.
  const everyNodeForced = forced.size === order.filter((variable) => variable.owner).length;
  for (const root of roots) {
    const kind = kernelKind(root.owner!.op);
    if (kind !== 'reduce' && kind !== 'matmul' && kind !== 'window') continue;
    const epilogue = everyNodeForced ? undefined : epilogueOf(root, roots, owners, consumers);
    if (epilogue && !absorbed.has(epilogue.target) && !noEpilogue.has(epilogue.target)) {
      absorbed.set(epilogue.target, { root, alsoStoresRoot: epilogue.elsewhere || outputSet.has(root) });
    }
  }
  const absorbedRoots = new Map([...absorbed.values()].map((entry) => [entry.root, entry] as const));
  const kernels: Kernel[] = [];
  const materialized = new Set<Variable>();
  for (const variable of order) {
    if (!roots.has(variable) || absorbedRoots.has(variable)) continue;
    const by = absorbed.get(variable);
    const root = by?.root ?? variable;
    kernels.push({ kind: kernelKind(root.owner!.op), root, output: variable, alsoStoresRoot: by?.alsoStoresRoot });
    materialized.add(variable);
    if (by?.alsoStoresRoot) materialized.add(root);
  }
  for (const variable of order) if (!variable.owner && !isInlineConstant(variable)) materialized.add(variable);
  return { kernels, materialized, reads: new Map() };
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
 * The elementwise root E that R's kernel can compute in its store phase: E owns some
 * consumer of R, has R's size, and meets R only through elementwise ops and movement
 * that keeps the flat layout (reshape, dimshuffle adding or dropping size-1 axes), so
 * the thread holding R's element o computes E's element o. `elsewhere` says whether
 * other kernels read R too (then the kernel stores R as well).
 */
function epilogueOf(root: Variable, roots: ReadonlySet<Variable>, owners: ReadonlyMap<Variable, Set<Variable>>, consumers: ReadonlyMap<Variable, Variable[]>): { target: Variable; elsewhere: boolean } | undefined {
  const direct = consumers.get(root) ?? [];
  const tally = new Map<Variable, number>();
  const ownersOf = (consumer: Variable): Variable[] => (roots.has(consumer) ? [consumer] : [...(owners.get(consumer) ?? [])]);
  for (const consumer of direct) for (const owner of ownersOf(consumer)) tally.set(owner, (tally.get(owner) ?? 0) + 1);
  const candidates = [...tally.entries()].sort((a, b) => b[1] - a[1]).map(([owner]) => owner);
  for (const target of candidates) {
    if (kernelKind(target.owner!.op) !== 'elementwise' || target.type.size !== root.type.size) continue;
    if (!meetsInLayout(target, root, roots)) continue;
    const elsewhere = direct.some((consumer) => ownersOf(consumer).some((owner) => owner !== target));
    return { target, elsewhere };
  }
  return undefined;
}

/** Movement that leaves the flat order alone: reshape, and dimshuffles that only add or drop size-1 axes. */
function keepsLayout(variable: Variable): boolean {
  const node = variable.owner!;
  if (node.op === 'reshape') return true;
  if (node.op !== 'dimshuffle') return false;
  const axes = (node.attrs as { pattern: readonly (number | 'x')[] }).pattern.filter((entry): entry is number => entry !== 'x');
  return axes.every((axis, i) => i === 0 || axis > axes[i - 1]!);
}

function meetsInLayout(target: Variable, root: Variable, roots: ReadonlySet<Variable>): boolean {
  const seen = new Set<Variable>();
  const ok = (variable: Variable): boolean => {
    if (variable === root || seen.has(variable)) return true;
    seen.add(variable);
    const node = variable.owner;
    if (!node || (variable !== target && roots.has(variable))) return true;
    for (const input of node.inputs) {
      if (input !== root && (roots.has(input) || !input.owner || !dependsOn(input, root, roots))) continue;
      const layoutSafe = variable.type.size === root.type.size && (elementwiseOps.has(node.op) || keepsLayout(variable));
      if (!layoutSafe || !ok(input)) return false;
    }
    return true;
  };
  return ok(target);
}

function splitCandidate(kernel: Kernel, materialized: ReadonlySet<Variable>, total: number): Variable | undefined {
  let best: Variable | undefined;
  let bestReads = 0;
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
