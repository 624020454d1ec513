// What an op's lowering sees of the kernel being built: the value of any variable at a
// multi-index, `let` bindings, and row-major offsets. KernelBuilder (builder.ts) is the
// one implementation; the lowering table (lowering.ts) is written against this
// interface, so neither module imports the other's values. Also the index helpers that
// both use: broadcasting an index, unflattening a flat index.

import type { SourceLocation, Variable } from '@theorbo/graph';

/** A place where a kernel checks an index: what the error names. */
export interface IndexCheck {
  op: string;
  axis: number;
  bound: number;
  shape: readonly number[];
  location: SourceLocation | undefined;
}

export interface ExpressionBuilder {
  /** The value of `variable` at `index`, as a WGSL expression of its dtype (bool as bool). */
  value(variable: Variable, index: readonly string[]): string;
  /** Emits `let name = expr;` (unless expr is already a name or literal) and returns the name. */
  bind(expr: string, prefix?: string): string;
  /** Row-major flat offset of `index` in a buffer of `shape`. */
  offset(index: readonly string[], shape: readonly number[]): string;
  /** Records that `index` is `flat` unflattened over `shape` (so offset() gives `flat` back). */
  noteFlat(index: readonly string[], shape: readonly number[], flat: string): void;
  /** Emits one statement in the current scope. */
  statement(line: string): void;
  /** Runs `build` in a nested scope (a loop or branch body) and returns its statements. */
  scoped(build: () => void): string[];
  /** A new variable name with `prefix`. */
  fresh(prefix?: string): string;
  /** Flags an i32 index (`wrapped`: negative ones wrapped) outside [0, check.bound) for the runtime to raise. */
  checkIndex(raw: string, wrapped: string, check: IndexCheck): void;
}

/** A fusable op's lowering: its node's value at `index`, asking the builder for its inputs'. */
export type Emit = (builder: ExpressionBuilder, variable: Variable, index: readonly string[]) => string;

/** The kernels an op's node is the root of, instead of fusing into its consumers. */
export type RootKind = 'reduce' | 'matmul' | 'scatter' | 'window' | 'scan';

/**
 * A sliding-window op's lowering: it roots a kernel of its own (its value loops over its
 * windows, so consumers must not recompute it), and `emit` computes its value at an index.
 */
export interface WindowLowering {
  readonly kernel: 'window';
  readonly emit: Emit;
}

export function broadcastIndex(index: readonly string[], inShape: readonly (number | null)[], outNdim: number): string[] {
  const offset = outNdim - inShape.length;
  return inShape.map((dim, axis) => (dim === 1 ? '0i' : index[axis + offset]!));
}

/** Multi-index expressions of a flat index over `shape` (row-major), bound as lets. */
export function unflatten(builder: Pick<ExpressionBuilder, 'bind' | 'noteFlat'>, flat: string, shape: readonly number[], prefix = 'i'): string[] {
  const index: string[] = [];
  // An empty tensor launches no element: any index will do.
  if (shape.includes(0)) return shape.map(() => '0i');
  let stride = shape.reduce((a, b) => a * b, 1);
  for (let axis = 0; axis < shape.length; axis++) {
    const size = shape[axis]!;
    stride /= size;
    if (size === 1) { index.push('0i'); continue; }
    const expr = axis === 0 ? (stride === 1 ? flat : `${flat} / ${stride}i`) : stride === 1 ? `${flat} % ${size}i` : `(${flat} / ${stride}i) % ${size}i`;
    index.push(builder.bind(expr, prefix));
  }
  builder.noteFlat(index, shape, flat);
  return index;
}
