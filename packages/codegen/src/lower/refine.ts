// Passes over a finished partition. Row fusion: an elementwise kernel that reads
// reductions over the last axis computes them itself, one workgroup per row (softmax,
// log-softmax, layer norms in one pass). In-place updates: a kernel whose output is only
// an update's new value writes it into the shared variable's buffer, after every kernel
// that reads the old value. Both only change kernels that the checks here prove safe;
// the differential test (test/differential.test.ts) exercises them on random graphs.

import { arithmeticReductions, elementwiseOps, type ReduceOp, type Variable } from '@theorbo/graph';
import { bindingCount, dependsOn, sortKernels, type Kernel, type Partition } from './kernel.ts';

/**
 * Row fusion: an elementwise kernel over [..., N] that reads reductions over the last
 * axis of same-shaped expressions (read by it alone) computes them itself, one
 * workgroup per row, before writing the row — softmax, log-softmax and logsumexp-style
 * normalizations in one pass over memory instead of three.
 */
export function fuseRows(result: Partition, maxBuffers: number): void {
  const producer = new Map(result.kernels.map((kernel) => [kernel.output, kernel] as const));
  const readers = new Map<Variable, Kernel[]>();
  for (const kernel of result.kernels) for (const read of result.reads.get(kernel)!) readers.set(read, [...(readers.get(read) ?? []), kernel]);
  const removed = new Set<Kernel>();
  for (const kernel of result.kernels) {
    if (kernel.kind !== 'elementwise' || kernel.root !== kernel.output || kernel.writesInto || kernel.output.ndim === 0) continue;
    const shape = kernel.output.shape;
    // Reductions this kernel could compute, gathered through chains (sum(exp(x − max(x))) reads max).
    const chain: Kernel[] = [];
    const gather = (reads: ReadonlySet<Variable>): void => {
      for (const read of reads) {
        const reduce = producer.get(read);
        if (!reduce || reduce.kind !== 'reduce' || chain.includes(reduce)) continue;
        chain.push(reduce);
        gather(result.reads.get(reduce)!);
      }
    };
    gather(result.reads.get(kernel)!);
    const absorbable = (reduce: Kernel): boolean => {
      const node = reduce.root.owner!;
      if (reduce.alsoStoresRoot || !arithmeticReductions.has(node.op as ReduceOp) || removed.has(reduce)) return false;
      const input = node.inputs[0]!;
      const axes = (node.attrs as { axes: readonly number[] }).axes;
      if (!sameShapeOf(input, kernel.output) || axes.length !== 1 || axes[0] !== input.ndim - 1) return false;
      return (readers.get(reduce.output) ?? []).every((user) => user === kernel || chain.includes(user));
    };
    if (chain.length === 0 || !chain.every(absorbable)) continue;
    // The workgroup holds one row's results: every read of them must be at that row.
    const results = new Set(chain.map((reduce) => reduce.output));
    const inputs = chain.map((reduce) => reduce.root.owner!.inputs[0]!);
    if (![kernel.output, ...inputs].every((from) => readsOwnRow(from, results, result.materialized))) continue;
    const combined = new Set([...result.reads.get(kernel)!, ...chain.flatMap((reduce) => [...result.reads.get(reduce)!])]);
    for (const reduce of chain) combined.delete(reduce.output);
    if (Math.max(...[kernel, ...chain].map((part) => bindingCount(part, combined, result.materialized))) > maxBuffers || shape[shape.length - 1] === 0) continue;
    // Dependency order: a reduction after those it reads.
    const ordered: Kernel[] = [];
    const place = (reduce: Kernel): void => {
      if (ordered.includes(reduce)) return;
      for (const read of result.reads.get(reduce)!) {
        const before = producer.get(read);
        if (before && chain.includes(before)) place(before);
      }
      ordered.push(reduce);
    };
    chain.forEach(place);
    kernel.kind = 'rows';
    kernel.rowReductions = ordered.map((reduce) => ({ root: reduce.root, output: reduce.output }));
    const reads = new Set(result.reads.get(kernel)!);
    for (const reduce of ordered) {
      removed.add(reduce);
      result.materialized.delete(reduce.output);
      reads.delete(reduce.output);
      for (const read of result.reads.get(reduce)!) if (!ordered.some((other) => other.output === read)) reads.add(read);
    }
    result.reads.set(kernel, reads);
  }
  if (removed.size > 0) result.kernels = result.kernels.filter((kernel) => !removed.has(kernel));
}

/**
 * Whether `from`, computed at a row's element [...row, c], reads each of `results`
 * (reductions over the last axis, [...rows, 1] or [...rows]) at that same row: through
 * elementwise ops whose operands keep the row axes (the last may broadcast from 1), or a
 * dimshuffle appending the dropped axis. A flip, roll, slice or gather of rows, or a
 * right-aligned broadcast of [...rows], would read another row's result.
 */
function readsOwnRow(from: Variable, results: ReadonlySet<Variable>, materialized: ReadonlySet<Variable>): boolean {
  const rows = from.shape.slice(0, -1);
  const reachesCache = new Map<Variable, boolean>();
  const reaches = (variable: Variable): boolean => {
    if (results.has(variable)) return true;
    if (!variable.owner || (variable !== from && materialized.has(variable))) return false;
    let known = reachesCache.get(variable);
    if (known === undefined) reachesCache.set(variable, (known = variable.owner.inputs.some(reaches)));
    return known;
  };
  const keepsRows = (variable: Variable): boolean => variable.ndim === rows.length + 1 && rows.every((size, i) => variable.shape[i] === size);
  const seen = new Set<Variable>();
  const aligned = (variable: Variable): boolean => {
    if (results.has(variable) || !reaches(variable) || seen.has(variable)) return true;
    seen.add(variable);
    const node = variable.owner!;
    if (elementwiseOps.has(node.op)) return node.inputs.every((input) => !reaches(input) || (keepsRows(input) && aligned(input)));
    const pattern = node.op === 'dimshuffle' ? (node.attrs as { pattern: readonly (number | 'x')[] }).pattern : [];
    const appendsAxis = pattern.length === rows.length + 1 && pattern.every((entry, i) => (i < rows.length ? entry === i : entry === 'x'));
    return appendsAxis && results.has(node.inputs[0]!);
  };
  return aligned(from);
}

/**
 * Updates computed in place: a kernel whose output is only an update's new value writes
 * it straight into the shared variable's buffer (no copy after the kernels), once every
 * other kernel that reads the old value has run. Its own reads of the variable must be
 * at the element it writes (same-shape elementwise paths), so no thread reads what
 * another overwrote.
 */
export function updateInPlace(result: Partition, updates: readonly (readonly [Variable, Variable])[], keepOld: ReadonlySet<Variable>, outputs: readonly Variable[]): void {
  const values = new Map<Variable, number>();
  for (const output of outputs) values.set(output, (values.get(output) ?? 0) + 1);
  const producer = new Map(result.kernels.map((kernel) => [kernel.output, kernel] as const));
  const after = new Map<Kernel, Kernel[]>();
  const chosen: [Kernel, Variable][] = [];
  for (const [target, value] of updates) {
    const kernel = producer.get(value);
    if (!kernel || keepOld.has(target) || values.get(value) !== 1 || kernel.alsoStoresRoot) continue;
    if (result.kernels.some((other) => other !== kernel && result.reads.get(other)!.has(value))) continue;
    if (!readsOnlyAtOwnElement(kernel, target, result.materialized)) continue;
    const readers = result.kernels.filter((other) => other !== kernel && result.reads.get(other)!.has(target));
    const trial = new Map(after);
    trial.set(kernel, readers);
    if (!Array.isArray(sortKernels(result, trial))) continue;
    after.set(kernel, readers);
    chosen.push([kernel, target]);
  }
  const sorted = sortKernels(result, after);
  if (!Array.isArray(sorted)) return;
  result.kernels = sorted;
  for (const [kernel, target] of chosen) kernel.writesInto = target;
}

function readsOnlyAtOwnElement(kernel: Kernel, target: Variable, materialized: ReadonlySet<Variable>): boolean {
  if (kernel.kind !== 'elementwise' && kernel.root !== kernel.output && !sameShapeOf(kernel.output, kernel.root)) return false;
  const seen = new Set<Variable>();
  const ok = (variable: Variable): boolean => {
    if (variable === target) return true;
    if (seen.has(variable) || !variable.owner || (variable !== kernel.output && variable !== kernel.root && materialized.has(variable))) return true;
    seen.add(variable);
    if (variable === kernel.root && kernel.root !== kernel.output && kernel.kind !== 'elementwise') return !dependsOn(variable, target, materialized);
    for (const input of variable.owner.inputs) {
      if (!dependsOn(input, target, materialized)) continue;
      if (!elementwiseOps.has(variable.owner.op) || !sameShapeOf(input, kernel.output) || !sameShapeOf(variable, kernel.output)) return false;
      if (!ok(input)) return false;
    }
    return true;
  };
  return ok(kernel.output);
}

const sameShapeOf = (a: Variable, b: Variable): boolean => a.ndim === b.ndim && a.shape.every((dim, i) => dim === b.shape[i]);

