// Instantiation: the graph rebuilt for one call signature (the concrete shapes of the
// inputs), so that every shape is static and every shape-derived integer (dim, arange's
// bounds, symbolic sizes) is a constant. Kernels are then rendered with their sizes
// baked in, the way XLA specializes per shape; a new batch size compiles again and is
// cached. Rewrites that need static shapes run here too (long reductions in two stages,
// split-K, gathers for row scatters), and small all-constant subgraphs are folded on the
// host by the reference evaluator. (Not the graph's 'specialize' rewrite pass, which
// needs no shapes.) Left out: shapes that depend on device data (an error names the node).

import * as T from '@theorbo/graph';
import { Constant, EvaluationError, GraphError, makeNode, performApply, type Variable } from '@theorbo/graph';
import { matmulWorkgroups } from '../render/matmul-tiles.ts';
import { defaultTuning, type Tuning } from '../tuning.ts';

/** Outputs at most this large are folded on the host when all their inputs are constants. */
const foldLimit = 64;

export interface Instantiated {
  outputs: Variable[];
  /** Original symbolic input → its static-shaped stand-in. */
  inputs: Map<Variable, Variable>;
}

/** The graph for one call signature; the tuning's workgroup target decides split-K. */
export function instantiate(outputs: readonly Variable[], inputShapes: ReadonlyMap<Variable, readonly number[]>, tuning: Tuning = defaultTuning('cpu-webgpu')): Instantiated {
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
    mapped.set(variable, rebuild(variable, newInputs, tuning));
  }
  const result = withoutRowScatters(outputs.map((output) => mapped.get(output)!));
  for (const variable of T.topologicalOrder(result)) {
    if (variable.shape.some((dim) => dim === null)) {
      throw new GraphError('compile', `the shape of this ${variable.owner?.op ?? variable.kind} node, ${variable.type}, depends on values only the device has; sizes must follow from input shapes and constants`, variable.location);
    }
  }
  return { outputs: result, inputs };
}

/**
 * A node rebuilt for the call's shapes. What its inference refuses now (a reduction over
 * an axis that turned out empty) is a run-time error, as on the reference evaluator.
 */
function remake(op: T.OpName, inputs: readonly Variable[], attrs: unknown, location: T.SourceLocation | undefined): Variable {
  try {
    return makeNode(op, inputs, attrs as never, location);
  } catch (error) {
    if (error instanceof GraphError) throw new EvaluationError(error.op, error.detail, error.location);
    throw error;
  }
}

/**
 * Zero-size tensors, as numpy has them, without kernels (WebGPU binds no empty buffer,
 * and a kernel over no elements computes nothing): a node with an empty result is an
 * empty constant; one whose inputs are all empty (a sum or product over an empty axis,
 * a matrix product over an empty inner dimension) is computed on the host from empty
 * values, so it gives numpy's identities (sum 0, prod 1) and the reference evaluator's
 * errors (max and argmax of nothing). Loops and random draws keep their nodes.
 */
function emptyResult(variable: Variable): Variable | undefined {
  const node = variable.owner!;
  if (node.op === 'scan' || node.op === 'random' || variable.type.size === null) return undefined;
  if (variable.type.size === 0) return new Constant(T.NDArray.zeros(variable.dtype, variable.shape as number[]), undefined, node.location);
  if (node.inputs.length === 0 || !node.inputs.every((input) => input.type.size === 0)) return undefined;
  const values = node.inputs.map((input) => T.NDArray.zeros(input.dtype, input.shape as number[]));
  return new Constant(performApply(variable, values), undefined, node.location);
}

/** Ops with a ShapeSpec attribute: its name, and the input its scalar sizes start at. */
const shapeSpecOps: Readonly<Record<string, { attr: string; first: number }>> = {
  reshape: { attr: 'shape', first: 1 },
  broadcast_to: { attr: 'shape', first: 1 },
  random: { attr: 'shape', first: 1 },
  conv_transpose: { attr: 'spatial', first: 2 },
  conv_weight_grad: { attr: 'spatial', first: 2 },
};

/** Elements per first-stage chunk of a long full reduction. */
const chunk = 4096;

/**
 * A reduction of everything to a handful of values would run on one workgroup; over
 * 2¹⁶ elements it becomes two: chunks of `chunk` elements (padded with the op's
 * identity), then the chunks' results.
 */
function splitLongReduction(variable: Variable): Variable | undefined {
  const node = variable.owner!;
  if (!T.associativeReductions.has(node.op as T.ReduceOp)) return undefined;
  const x = node.inputs[0]!;
  const attrs = node.attrs as T.AttrsOf<'sum'>;
  const n = x.type.size ?? 0;
  if (attrs.axes.length !== x.ndim || n < 1 << 16) return undefined;
  const chunks = Math.ceil(n / chunk);
  const identity = T.reductionIdentity(node.op as T.ReduceOp, x.dtype);
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
 */
function splitMatmulDepth(variable: Variable, tuning: Tuning): Variable | undefined {
  const node = variable.owner!;
  const { workgroupTarget } = tuning;
  if (node.op !== 'matmul' || workgroupTarget <= 1) return undefined;
  const [a, b] = node.inputs as [Variable, Variable];
  if (a.ndim !== 2 || b.ndim !== 2) return undefined;
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1] as number;
  if (K < 128) return undefined;
  const groups = matmulWorkgroups(M, N, 1, tuning);
  if (2 * groups >= workgroupTarget) return undefined;
  const want = Math.ceil(workgroupTarget / groups);
  const divisors = [2, 3, 4, 5, 6, 7, 8].filter((s) => K % s === 0 && K / s >= 32);
  const S = divisors.find((s) => s >= want) ?? divisors[divisors.length - 1];
  if (S === undefined) return undefined;
  const parts = makeNode('matmul', [T.dimshuffle(T.reshape(a, [M, S, K / S]), 1, 0, 2), T.reshape(b, [S, K / S, N])], node.attrs as never, node.location);
  return makeNode('sum', [parts], { axes: [0], keepdims: false } as never, node.location);
}

/**
 * The gradient of x[arange(n), y] is a scatter of g into zeros; summed over the indexed
 * second axis after a product with h, every row keeps one term:
 *   sum(scatter(zeros[n, m, …], g, [arange(n), y]) · h, axis 1) = g · h[arange(n), y].
 * With static shapes the arange is seen to cover the n rows once each, so the scatter
 * (two passes over n·m·… elements) and the reduction become one gather in the consumer's
 * kernel. The talk's template-distance loss and cross-entropy with integer labels both
 * build this. (Where h holds an infinity outside the gathered positions the sum gave NaN,
 * 0·∞; the gather gives the finite term.)
 */
function gatherForScatterSum(variable: Variable): Variable | undefined {
  const node = variable.owner!;
  if (node.op !== 'sum') return undefined;
  const { axes, keepdims } = node.attrs as T.AttrsOf<'sum'>;
  const product = node.inputs[0]!;
  if (keepdims || axes.length !== 1 || axes[0] !== 1 || product.owner?.op !== 'mul' || !T.isFloat(product.dtype)) return undefined;
  // The product's factors, through nested products: exactly one scatter among them.
  const factors: Variable[] = [];
  const collect = (factor: Variable): void => {
    if (factor.owner?.op === 'mul' && factor.dtype === product.dtype) factor.owner.inputs.forEach(collect);
    else factors.push(factor);
  };
  collect(product);
  const scatters = factors.filter((factor) => factor.owner?.op === 'advanced_inc_subtensor');
  if (scatters.length !== 1) return undefined;
  const scatter = scatters[0]!;
  const found = rowScatter(scatter);
  const shape = scatter.shape as number[];
  if (!found || !T.sameShape(product.shape, shape)) return undefined;
  const { values, rows, columns, items } = found;
  if (values.dtype !== product.dtype || factors.some((factor) => factor.dtype !== product.dtype)) return undefined;
  // Every other factor at the scattered positions (a broadcast factor through a view of it).
  let result = values;
  for (const factor of factors) {
    if (factor === scatter) continue;
    const full = factor.ndim === 0 ? factor : T.sameShape(factor.shape, shape) ? factor : makeNode('broadcast_to', [factor], { shape } as never, node.location);
    const at = factor.ndim === 0 ? factor : makeNode('advanced_subtensor', [full, rows, columns], { items } as never, node.location);
    result = makeNode('mul', [result, at], {} as never, node.location);
  }
  return T.sameShape(result.shape, variable.shape) ? result : undefined;
}

/**
 * A scatter of v into zeros at [arange(n), y] puts one row of v in each row i, at column
 * y[i]: it is where(column == y[i], v[i], 0), elementwise, so it fuses into its readers
 * instead of running as a copy and a scatter (cross-entropy with integer labels builds it;
 * gatherForScatterSum has already taken the scatters that a sum over columns reads).
 * Negative labels count from the end, as in the scatter.
 */
function withoutRowScatters(outputs: Variable[]): Variable[] {
  const replacements = new Map<Variable, Variable>();
  for (const variable of T.topologicalOrder(outputs)) {
    const found = rowScatter(variable);
    const shape = variable.shape as number[];
    if (!found) continue;
    const { values, columns } = found;
    if (columns.ndim !== 1 || columns.shape[0] !== shape[0] || columns.dtype !== 'int32') continue;
    const [n, m] = [shape[0]!, shape[1]!];
    const rest = shape.slice(2);
    const label = T.where(T.lt(columns, 0), T.add(columns, m), columns);
    const hit = T.eq(T.reshape(T.arange(m), [1, m, ...rest.map(() => 1)]), T.reshape(label, [n, 1, ...rest.map(() => 1)]));
    const row = T.reshape(T.broadcastTo(values, [n, ...rest]), [n, 1, ...rest]);
    const replacement = T.where(hit, row, T.cast(T.scalarConstant(0, 'int32'), variable.dtype));
    if (T.sameShape(replacement.shape, shape) && replacement.dtype === variable.dtype) replacements.set(variable, replacement);
  }
  return replacements.size === 0 ? outputs : T.clone(outputs, replacements);
}

/**
 * advanced_inc_subtensor(zeros, values, [arange(n), columns], ':' …) with static shapes:
 * values added into zeros, one row each, at the rows' columns; undefined for any other node.
 */
function rowScatter(variable: Variable): { values: Variable; rows: Variable; columns: Variable; items: T.AttrsOf<'advanced_inc_subtensor'>['items'] } | undefined {
  const node = variable.owner;
  if (node?.op !== 'advanced_inc_subtensor' || node.inputs.length !== 4) return undefined;
  const { items, mode } = node.attrs as T.AttrsOf<'advanced_inc_subtensor'>;
  const [zeros, values, rows, columns] = node.inputs as [Variable, Variable, Variable, Variable];
  if (mode !== 'inc' || items[0] !== 'index' || items[1] !== 'index' || items.slice(2).some((item) => item !== 'all')) return undefined;
  if (!isZeros(zeros) || !isArangeOf(rows, variable.shape[0] as number)) return undefined;
  return { values, rows, columns, items };
}

/** A constant of zeros, or one broadcast. */
function isZeros(variable: Variable): boolean {
  const source = variable.owner?.op === 'broadcast_to' ? variable.owner.inputs[0]! : variable;
  return source instanceof Constant && source.value.data.every((v) => v === 0);
}

/** arange(0, n, 1) with constant bounds (or folded to 0, 1, …, n − 1): every row of an axis of length n, once. */
function isArangeOf(variable: Variable, n: number): boolean {
  if (variable.ndim !== 1 || variable.shape[0] !== n) return false;
  if (variable instanceof Constant) return variable.value.data.every((v, i) => v === i);
  const node = variable.owner;
  if (node?.op !== 'arange') return false;
  const bounds = node.inputs.map((input) => (input instanceof Constant ? input.value.data[0] : undefined));
  return bounds.length === 3 && bounds[0] === 0 && bounds[1] === n && bounds[2] === 1;
}

/** Static bodies of loops, by their symbolic body and the step's input shapes (a loop's output nodes share one). */
const staticBodies = new WeakMap<T.ScanBody, Map<string, T.ScanBody>>();

/**
 * A scan node's attributes with its body instantiated for the step's shapes (from the
 * node's static inputs), so that the loop's outputs get static shapes and its body is a
 * static graph like any other.
 */
function staticLoop(attrs: T.ScanAttrs, inputs: readonly Variable[], tuning: Tuning): T.ScanAttrs {
  const body = attrs.body as T.ScanBody;
  const { sequences, initials, nonSequences } = body.split(inputs);
  const shapes = new Map<Variable, readonly number[]>();
  body.sequences.forEach((placeholder, j) => shapes.set(placeholder, (sequences[j]!.shape as number[]).slice(1)));
  body.recurrent.forEach((k, r) => {
    const initial = initials[r]!.shape as number[];
    for (const tapInput of body.outputs[k]!.tapInputs) shapes.set(tapInput, body.tapsAxis(k) ? initial.slice(1) : initial);
  });
  body.nonSequences.forEach((placeholder, j) => shapes.set(placeholder, nonSequences[j]!.shape as number[]));
  if ([...shapes.values()].every((shape, i) => shape.every((size, axis) => size === [...shapes.keys()][i]!.shape[axis]))) {
    if (body.outputs.every((output) => output.value.shape.every((size) => size !== null))) return attrs;
  }
  const key = [...shapes.values()].map((shape) => shape.join('x')).join('|');
  let known = staticBodies.get(body);
  if (!known) staticBodies.set(body, (known = new Map()));
  let instantiated = known.get(key);
  if (!instantiated) {
    const { outputs, inputs: stands } = instantiate(body.outputs.map((output) => output.value), shapes, tuning);
    const stand = (placeholder: Variable) => stands.get(placeholder)!;
    instantiated = new T.ScanBody(
      body.sequences.map(stand),
      body.outputs.map((output, k) => ({ ...output, value: outputs[k]!, tapInputs: output.tapInputs.map(stand) })),
      body.nonSequences.map(stand),
      body.goBackwards, body.truncateGradient, body.userOutputs, body.updateTargets, body.name,
    );
    known.set(key, instantiated);
  }
  return { ...attrs, body: instantiated };
}

/** Moves constant symbolic sizes (ShapeSpec nulls fed by constant scalars) into the attributes. */
function staticSizes(op: string, inputs: readonly Variable[], attrs: unknown): [readonly Variable[], unknown] {
  const where = shapeSpecOps[op];
  if (!where) return [inputs, attrs];
  const spec = (attrs as Record<string, readonly (number | null)[]>)[where.attr]!;
  const sizes = inputs.slice(where.first);
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
  return [[...inputs.slice(0, where.first), ...kept], { ...(attrs as object), [where.attr]: shape }];
}

function rebuild(original: Variable, inputs: readonly Variable[], tuning: Tuning): Variable {
  const node = original.owner!;
  if (node.op === 'dim' && inputs[0]!.shape.every((dim) => dim !== null)) {
    const axis = (node.attrs as T.AttrsOf<'dim'>).axis;
    return T.scalarConstant(inputs[0]!.shape[axis] as number, 'int32');
  }
  // Broadcasting follows the original static types, as on the reference evaluator.
  if (T.elementwiseOps.has(node.op) && inputs.every((input) => input.shape.every((dim) => dim !== null))) {
    const refused = T.staticBroadcastError(original, inputs.map((input) => input.shape as number[]));
    if (refused) throw refused;
  }
  const [ownInputs, attrs] = node.op === 'scan' ? [inputs, staticLoop(node.attrs as T.ScanAttrs, inputs, tuning)] : staticSizes(node.op, inputs, node.attrs);
  const unchanged = attrs === node.attrs && ownInputs.every((input, i) => input === node.inputs[i]);
  const rebuilt = unchanged ? original : remake(node.op, ownInputs, attrs, node.location);
  const empty = emptyResult(rebuilt);
  if (empty) return empty;
  const split = splitLongReduction(rebuilt) ?? splitMatmulDepth(rebuilt, tuning) ?? gatherForScatterSum(rebuilt);
  if (split) return split;
  const size = rebuilt.type.size;
  if (node.op !== 'random' && size !== null && size <= foldLimit && inputs.length > 0 && inputs.every((input) => input instanceof Constant)) {
    return new Constant(performApply(rebuilt, inputs.map((input) => (input as Constant).value)), undefined, node.location);
  }
  return rebuilt;
}
