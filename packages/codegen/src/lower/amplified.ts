// Values a fused kernel would compute at many different places per element. A kernel
// computes "the value at index i" by asking its inputs for their values at the indices
// they need; movement ops (shifted slices, pads, concatenations, writes into regions)
// rewrite the index, so one fused value can be wanted at several indices per element —
// the gradient of a sliding maximum asks for each window's running maximum at every
// shift, and each of those for the log-power below it at every shift again. The
// renderers cache a value per (variable, index) but not across indices, so such a
// kernel recomputes the whole subtree once per distinct index: on the cpu device a
// kernel of a thousand lines per element that V8 will not optimize, on a GPU the same
// work many times over. This pass walks each kernel's fused nodes with symbolic indices
// (affine in the output's index, as the renderers build them; clamps left out) and
// names the values wanted at `minIndices` or more distinct indices whose own fused work
// is at least `minWork` ops: partition.ts stores those in a buffer of their own.

import { kernelKind, type Kernel, type Partition } from './kernel.ts';
import { resolveSlice } from '../render/lowering.ts';
import { movementOps, type OpName, type SliceItem, type Variable } from '@theorbo/graph';

/** One axis of a symbolic index: constant + Σ coefs·i over the output's axes, or an opaque token. */
type Axis = { coefs: number[]; constant: number } | string;

const movement = new Set<OpName>(movementOps);
export const amplification = { minIndices: 3, minWork: 4, maxVisits: 20000 } as const;

const keyOf = (index: readonly Axis[]): string => index.map((a) => (typeof a === 'string' ? a : `${a.coefs.join(' ')}+${a.constant}`)).join(',');
const shifted = (a: Axis, by: number): Axis => (typeof a === 'string' ? a : { coefs: a.coefs, constant: a.constant + by });
const scaled = (a: Axis, step: number, start: number): Axis => (typeof a === 'string' ? `${a}*${step}+${start}` : { coefs: a.coefs.map((c) => c * step), constant: a.constant * step + start });

/** Non-movement fused ops at or below `variable` (up to `limit`). */
function work(variable: Variable, materialized: ReadonlySet<Variable>, limit: number): number {
  let count = 0;
  const seen = new Set<Variable>();
  const stack = [variable];
  while (stack.length > 0 && count < limit) {
    const current = stack.pop()!;
    if (seen.has(current) || !current.owner || kernelKind(current.owner.op) !== 'elementwise') continue;
    if (current !== variable && materialized.has(current)) continue;
    seen.add(current);
    if (!movement.has(current.owner.op)) count++;
    stack.push(...current.owner.inputs);
  }
  return count;
}

/** The fused values of `partition`'s kernels that are recomputed at too many indices; outermost first. */
export function amplifiedValues(partition: Partition): Variable[] {
  const found: Variable[] = [];
  for (const kernel of partition.kernels) {
    const chosen = amplifiedIn(kernel, partition.materialized);
    if (chosen) found.push(chosen);
  }
  return found;
}

function amplifiedIn(kernel: Kernel, materialized: ReadonlySet<Variable>): Variable | undefined {
  const keys = new Map<Variable, Set<string>>();
  const order: Variable[] = [];
  let visits = 0;
  const start = kernel.kind === 'elementwise' ? [kernel.output] : kernel.root.owner!.inputs.filter((input) => input.owner && !materialized.has(input));
  const visit = (variable: Variable, index: readonly Axis[]): void => {
    const node = variable.owner;
    if (!node || visits > amplification.maxVisits) return;
    const fused = variable === kernel.output ? kernel.kind === 'elementwise' : !materialized.has(variable) && kernelKind(node.op) === 'elementwise';
    if (!fused) return;
    let seen = keys.get(variable);
    if (!seen) { keys.set(variable, (seen = new Set())); order.push(variable); }
    const key = keyOf(index);
    if (seen.has(key)) return;
    seen.add(key);
    visits++;
    const token = (k: number) => `${variable.id}:${k}@${key}`;
    // Numpy broadcasting aligns trailing axes; an input with more axes than the output
    // (not a broadcast: a random draw's state) is read at places unrelated to the index.
    const broadcast = (input: Variable): Axis[] => {
      const offset = variable.ndim - input.ndim;
      return input.shape.map((dim, axis) => (dim === 1 ? { coefs: [], constant: 0 } : index[axis + offset] ?? token(axis)));
    };
    const attrs = node.attrs as Record<string, unknown>;
    switch (node.op) {
      case 'random': {
        // Every element reads the two words of the state [key, counter].
        const state = node.inputs[0]!;
        for (let word = 0; word < 2; word++) visit(state, [{ coefs: [], constant: word }]);
        for (const input of node.inputs.slice(1)) visit(input, input.shape.map((_, axis) => token(100 + axis)));
        return;
      }
      case 'dimshuffle': {
        const pattern = attrs.pattern as readonly (number | 'x')[];
        const input = node.inputs[0]!;
        visit(input, input.shape.map((_, axis) => (pattern.indexOf(axis) >= 0 ? index[pattern.indexOf(axis)]! : { coefs: [], constant: 0 })));
        return;
      }
      case 'subtensor': {
        const input = node.inputs[0]!;
        const items = attrs.items as readonly SliceItem[];
        let out = 0;
        visit(input, input.shape.map((size, axis) => {
          const item = items[axis];
          if (!item) return index[out++]!;
          if (item.kind === 'index') return { coefs: [], constant: item.index };
          const { start, step } = resolveSlice(item, size!);
          return scaled(index[out++]!, step, start);
        }));
        return;
      }
      case 'pad': {
        const input = node.inputs[0]!;
        const widths = attrs.widths as readonly (readonly [number, number])[];
        visit(input, input.shape.map((_, axis) => shifted(index[axis]!, -(widths[axis]?.[0] ?? 0))));
        return;
      }
      case 'concat': {
        const axis = attrs.axis as number;
        let offset = 0;
        for (const input of node.inputs) {
          visit(input, index.map((a, k) => (k === axis ? shifted(a, -offset) : a)));
          offset += input.shape[axis] as number;
        }
        return;
      }
      case 'inc_subtensor': {
        const [x, y] = node.inputs as [Variable, Variable];
        visit(x, index);
        const items = attrs.items as readonly ({ kind: 'slice'; start: number | null; stop: number | null; step: number } | { kind: 'index'; index: number } | undefined)[];
        const region: Axis[] = [];
        x.shape.forEach((size, axis) => {
          const item = items[axis];
          if (!item) region.push(index[axis]!);
          else if (item.kind === 'slice') {
            const { start, step } = resolveSlice(item, size!);
            region.push(step === 1 ? shifted(index[axis]!, -start) : token(axis));
          }
        });
        const offset = region.length - y.ndim;
        visit(y, y.shape.map((dim, axis) => (dim === 1 ? { coefs: [], constant: 0 } : region[axis + offset]!)));
        return;
      }
      case 'reshape': {
        const input = node.inputs[0]!;
        visit(input, input.shape.map((_, axis) => token(axis)));
        return;
      }
      case 'advanced_subtensor': {
        node.inputs.forEach((input, k) => visit(input, input.shape.map((_, axis) => token(100 * k + axis))));
        return;
      }
      default:
        for (const input of node.inputs) visit(input, broadcast(input));
    }
  };
  const rootIndex = (v: Variable): Axis[] => v.shape.map((_, axis) => ({ coefs: v.shape.map((__, k) => (k === axis ? 1 : 0)), constant: 0 }));
  for (const variable of start) visit(variable, rootIndex(variable));
  // Outermost first: the first amplified value met from the output down (its subtree's
  // repetitions go with it).
  for (const variable of order) {
    if (variable === kernel.output || (keys.get(variable)?.size ?? 0) < amplification.minIndices) continue;
    if (movement.has(variable.owner!.op)) continue;
    if (work(variable, materialized, amplification.minWork) >= amplification.minWork) return variable;
  }
  return undefined;
}
