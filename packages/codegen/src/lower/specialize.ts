// Specialization: the graph rebuilt for one call signature (the concrete shapes of the
// inputs), so that every shape is static and every shape-derived integer (dim, arange's
// bounds, symbolic sizes) is a constant. Kernels are then rendered with their sizes
// baked in, the way XLA specializes per shape; a new batch size compiles again and is
// cached. Small all-constant subgraphs are folded on the host by the reference
// evaluator. Left out: shapes that depend on device data (an error names the node).

import * as T from '@theorbo/graph';
import { Constant, GraphError, makeNode, performApply, type Variable } from '@theorbo/graph';
import { matmulWorkgroups } from '../render/matmul.ts';

/** Outputs at most this large are folded on the host when all their inputs are constants. */
const foldLimit = 64;

export interface Specialized {
  outputs: Variable[];
  /** Original symbolic input → its static-shaped stand-in. */
  inputs: Map<Variable, Variable>;
}

export interface SpecializeOptions {
  /** Workgroups a kernel should spread over (RenderOptions.workgroupTarget): decides split-K. */
  workgroupTarget: number;
}

export function specialize(outputs: readonly Variable[], inputShapes: ReadonlyMap<Variable, readonly number[]>, options: SpecializeOptions = { workgroupTarget: 1 }): Specialized {
  const mapped = new Map<Variable, Variable>();
  const inputs = new Map<Variable, Variable>();
  for (const [input, shape] of inputShapes) {
    const stand = T.tensor(input.dtype, shape, input.name);
    inputs.set(input, stand);
    mapped.set(input, stand);
  }
  for (const variable of T.topologicalOrder(outputs)) {
    if (mapped.has(variable)) continue;
    const node = variable.owner;
    if (!node) {
      mapped.set(variable, variable);
      continue;
    }
    const newInputs = node.inputs.map((input) => mapped.get(input)!);
    mapped.set(variable, rebuild(variable, newInputs, options));
  }
  const result = outputs.map((output) => mapped.get(output)!);
  for (const variable of T.topologicalOrder(result)) {
    if (variable.shape.some((dim) => dim === null)) {
      throw new GraphError('compile', `the shape of this ${variable.owner?.op ?? variable.kind} node, ${variable.type}, depends on values only the device has; sizes must follow from input shapes and constants`, variable.location);
    }
  }
  return { outputs: result, inputs };
}

const shapeSpecOps = new Set(['reshape', 'broadcast_to', 'random']);

const splittable = new Set(['sum', 'prod', 'max', 'min', 'any', 'all']);
/** Elements per first-stage chunk of a long full reduction. */
const chunk = 4096;

/**
 * A reduction of everything to a handful of values would run on one workgroup; over
 * 2¹⁶ elements it becomes two: chunks of `chunk` elements (padded with the op's
 * identity), then the chunks' results.
 */
function splitLongReduction(variable: Variable): Variable | undefined {
  const node = variable.owner!;
  if (!splittable.has(node.op)) return undefined;
  const x = node.inputs[0]!;
  const attrs = node.attrs as T.AttrsOf<'sum'>;
  const n = x.type.size ?? 0;
  if (attrs.axes.length !== x.ndim || n < 1 << 16) return undefined;
  const chunks = Math.ceil(n / chunk);
  const identity = reductionIdentity(node.op, x.dtype);
  let flat = T.reshape(x, [n]);
  if (chunks * chunk > n) flat = T.pad(flat, [[0, chunks * chunk - n]], { value: identity });
  const reduce = (input: Variable, axes: number[], keepdims: boolean): Variable => makeNode(node.op, [input], { axes, keepdims } as never, node.location);
  const partial = reduce(T.reshape(flat, [chunks, chunk]), [1], false);
  const total = reduce(partial, [0], false);
  return attrs.keepdims ? T.reshape(total, x.shape.map(() => 1)) : total;
}

/**
 * Split-K: a matrix product with few output tiles and a long inner dimension (the talk's
 * 256×1025 · 1025×256) would keep most of a GPU idle while each workgroup walks K alone.
 * It becomes S products over K/S each (a batched matmul of views, no copies) and a sum of
 * the S partial results, which takes the product's epilogue. S divides K, at most 8.
 * THEORBO_SPLIT_K=0 turns it off (benchmarks compare).
 */
function splitMatmulDepth(variable: Variable, workgroupTarget: number): Variable | undefined {
  const node = variable.owner!;
  if (node.op !== 'matmul' || workgroupTarget <= 1 || process.env.THEORBO_SPLIT_K === '0') return undefined;
  const [a, b] = node.inputs as [Variable, Variable];
  if (a.ndim !== 2 || b.ndim !== 2) return undefined;
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1] as number;
  if (K < 128) return undefined;
  const groups = matmulWorkgroups(M, N, 1, workgroupTarget);
  if (2 * groups >= workgroupTarget) return undefined;
  const want = Math.ceil(workgroupTarget / groups);
  const divisors = [2, 3, 4, 5, 6, 7, 8].filter((s) => K % s === 0 && K / s >= 32);
  const S = divisors.find((s) => s >= want) ?? divisors[divisors.length - 1];
  if (S === undefined) return undefined;
  const parts = makeNode('matmul', [T.dimshuffle(T.reshape(a, [M, S, K / S]), 1, 0, 2), T.reshape(b, [S, K / S, N])], node.attrs as never, node.location);
  return makeNode('sum', [parts], { axes: [0], keepdims: false } as never, node.location);
}

function reductionIdentity(op: string, dtype: T.DType): number {
  switch (op) {
    case 'sum': case 'any': return 0;
    case 'prod': case 'all': return 1;
    case 'max': return dtype === 'float32' || dtype === 'float64' ? -Infinity : dtype === 'uint32' ? 0 : -2147483648;
    default: return dtype === 'float32' || dtype === 'float64' ? Infinity : dtype === 'uint32' ? 4294967295 : 2147483647;
  }
}

/** Moves constant symbolic sizes (ShapeSpec nulls fed by constant scalars) into the attributes. */
function staticSizes(op: string, inputs: readonly Variable[], attrs: unknown): [readonly Variable[], unknown] {
  if (!shapeSpecOps.has(op)) return [inputs, attrs];
  const spec = (attrs as { shape: readonly (number | null)[] }).shape;
  const sizes = inputs.slice(1);
  if (!sizes.some((size) => size instanceof Constant)) return [inputs, attrs];
  let next = 0;
  const kept: Variable[] = [];
  const shape = spec.map((entry) => {
    if (entry !== null) return entry;
    const size = sizes[next++]!;
    if (size instanceof Constant) return size.value.data[0]!;
    kept.push(size);
    return null;
  });
  return [[inputs[0]!, ...kept], { ...(attrs as object), shape }];
}

function rebuild(original: Variable, inputs: readonly Variable[], options: SpecializeOptions): Variable {
  const node = original.owner!;
  if (node.op === 'dim' && inputs[0]!.shape.every((dim) => dim !== null)) {
    const axis = (node.attrs as T.AttrsOf<'dim'>).axis;
    return T.scalarConstant(inputs[0]!.shape[axis] as number, 'int32');
  }
  const [ownInputs, attrs] = staticSizes(node.op, inputs, node.attrs);
  const unchanged = attrs === node.attrs && ownInputs.every((input, i) => input === node.inputs[i]);
  const rebuilt = unchanged ? original : makeNode(node.op, ownInputs, attrs as never, node.location);
  const split = splitLongReduction(rebuilt) ?? splitMatmulDepth(rebuilt, options.workgroupTarget);
  if (split) return split;
  const size = rebuilt.type.size;
  if (node.op !== 'random' && size !== null && size <= foldLimit && inputs.length > 0 && inputs.every((input) => input instanceof Constant)) {
    return new Constant(performApply(rebuilt, inputs.map((input) => (input as Constant).value)), undefined, node.location);
  }
  return rebuilt;
}
