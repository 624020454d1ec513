// Reading stored float32 rows four elements at a time: which buffers an expression can
// read as vec4s along its last axis, and the loads that give each of the four lanes its
// values. The elementwise kernels use it, and on the CPU device the reductions and the
// matmul's epilogue.

import { pointwiseOps, type Variable } from '@theorbo/graph';
import { isInlineConstant, type Kernel } from '../lower/kernel.ts';
import { VectorReadConflict, type KernelBuilder } from './builder.ts';
import { broadcastIndex } from './emit.ts';

/**
 * Renders a kernel with vec4 reads where `render` finds them, and again without any
 * where one buffer turns out to be read both ways (VectorReadConflict).
 */
export function withScalarFallback<R>(render: (vectorize: boolean) => R): R {
  try {
    return render(true);
  } catch (error) {
    if (error instanceof VectorReadConflict) return render(false);
    throw error;
  }
}

export interface VectorReadOptions {
  /** Variables the kernel supplies itself (the matmul's product, a row's reductions): read as they are. */
  leaves?: ReadonlySet<Variable>;
  /** The kernel's in-place target may be read as vec4s (its output binding is a vec4 array too). */
  writesInto?: boolean;
  /** An expression that reads no buffer as vec4s still counts (its stores are vec4s). */
  none?: boolean;
}

/**
 * The stored float32 buffers that the expressions `roots` read along their last axis
 * (of length `width`), through pointwise ops only: each can be read as vec4s, four
 * consecutive elements of a row at a time. Undefined where anything else is read (views,
 * other widths, the kernel's own output), or nothing is read that way.
 */
export function vectorReadsOf(roots: readonly Variable[], width: number, materialized: ReadonlySet<Variable>, kernel: Kernel, options: VectorReadOptions = {}): Set<Variable> | undefined {
  const vectors = new Set<Variable>();
  /** Stored tensors read one value at a time (a last axis of 1, broadcast along the row). */
  const scalars = new Set<Variable>();
  const seen = new Set<Variable>();
  const visit = (variable: Variable): boolean => {
    if (seen.has(variable)) return true;
    seen.add(variable);
    if (isInlineConstant(variable) || options.leaves?.has(variable)) return true;
    const last = variable.ndim === 0 ? 1 : variable.shape[variable.ndim - 1];
    if (variable !== kernel.output && materialized.has(variable)) {
      if (last === 1) {
        scalars.add(variable);
        return true;
      }
      if (last !== width || variable.dtype !== 'float32' || (variable === kernel.writesInto && !options.writesInto)) return false;
      vectors.add(variable);
      return true;
    }
    const node = variable.owner;
    // A reshape of a stored tensor reads it at the same flat offsets: rows of `width` are
    // as contiguous there (the long full reductions' chunks).
    const stored = node?.op === 'reshape' ? reshaped(variable, materialized) : undefined;
    const own = stored !== undefined && (stored === kernel.output || stored === kernel.writesInto || stored === kernel.root || options.leaves?.has(stored));
    if (stored && !own && last === width && materialized.has(stored) && stored.dtype === 'float32') {
      vectors.add(variable);
      return true;
    }
    if (!node || !pointwiseOps.has(node.op) || (last !== 1 && last !== width)) return false;
    return node.inputs.every(visit);
  };
  if (!roots.every(visit) || (vectors.size === 0 && !options.none)) return undefined;
  // One buffer cannot be both: a tensor read as vec4s through a reshape and as itself one value at a time.
  return [...vectors].some((vector) => scalars.has(storageOf(vector, materialized))) ? undefined : vectors;
}

/** The stored tensor whose buffer a vec4 read of `vector` (vectorReadsOf) loads from. */
export function storageOf(vector: Variable, materialized: ReadonlySet<Variable>): Variable {
  return materialized.has(vector) ? vector : reshaped(vector, materialized);
}

/** The stored tensor under a chain of reshapes (the tensor itself where it is stored). */
function reshaped(variable: Variable, materialized: ReadonlySet<Variable>): Variable {
  let source = variable;
  while (!materialized.has(source) && source.owner?.op === 'reshape') source = source.owner.inputs[0]!;
  return source;
}

/**
 * Loads the vec4s of `vectors` holding the four elements of a row from `index` on (its
 * last entry a multiple of 4), then gives each lane's values to `lane` (0 … 3) as the
 * builder's values of those buffers at index + lane.
 */
export function withVectorLanes(builder: KernelBuilder, vectors: ReadonlySet<Variable>, index: readonly string[], lane: (laneIndex: readonly string[], k: number) => void): void {
  const loaded = new Map<Variable, string>();
  for (const vector of vectors) {
    // A reshape of a stored tensor (vectorReadsOf) is read from that tensor's buffer.
    const binding = builder.vectorBinding(storageOf(vector, builder.materialized));
    const at = builder.offset(broadcastIndex(index, vector.shape, index.length), vector.shape as number[]);
    loaded.set(vector, builder.bind(`${binding.name}[(${at}) / 4i]`, `${binding.name}_q`));
  }
  for (let k = 0; k < 4; k++) {
    for (const vector of vectors) builder.overrides.set(vector, `${loaded.get(vector)}[${k}]`);
    lane(k === 0 || index.length === 0 ? index : [...index.slice(0, -1), `(${index[index.length - 1]} + ${k}i)`], k);
  }
  for (const vector of vectors) builder.overrides.delete(vector);
}

