// The lowering of each op to WGSL, one table keyed by OpName (a missing op does not
// compile). A fusable op's entry turns "v at index i" into an expression, asking the
// builder for its inputs' values at the indices it needs: elementwise ops broadcast the
// index, movement ops rewrite it (dimshuffle permutes, subtensor scales and shifts,
// reshape re-flattens, pad and concat select), gathers load their indices first.
// Reductions, matmul and scatter name the kernel they root instead (render.ts picks its
// renderer). Semantics follow the reference evaluator; the differences are stated
// where they are unavoidable (erf to 1.5e-7). Gathers flag out-of-range indices
// (builder.checkIndex) and read clamped ones.

import type { AttrsOf, BinaryOp, DType, OpName, ReduceOp, UnaryOp, Variable } from '@theorbo/graph';
import { binaryOps, comparisonOps, isFloat, logicalOps, promote, reduceOps, unaryOps } from '@theorbo/graph';
import { broadcastIndex, unflatten, type Emit, type ExpressionBuilder, type RootKind } from './emit.ts';
import { windowLowerings } from './window-lowering.ts';
import { convert, literal } from './wgsl.ts';

/** The value of input k of `variable`'s node, broadcast to the node's index, as `dtype`. */
function operand(builder: ExpressionBuilder, variable: Variable, k: number, index: readonly string[], dtype: DType): string {
  const input = variable.owner!.inputs[k]!;
  return convert(builder.value(input, broadcastIndex(index, input.shape, variable.ndim)), input.dtype, dtype);
}

type UnaryTemplate = (a: string, dtype: DType) => string;

const unaryTemplates: Record<Exclude<UnaryOp, 'cast' | 'stop_gradient'>, UnaryTemplate> = {
  neg: (a, t) => (t === 'uint32' ? `(0u - ${a})` : `(-${a})`),
  abs: (a, t) => (t === 'uint32' ? a : `abs(${a})`),
  sign: (a, t) => (t === 'float32' ? `th_sign(${a})` : t === 'int32' ? `th_sign_i(${a})` : `min(${a}, 1u)`),
  exp: (a) => `exp(${a})`,
  log: (a) => `log(${a})`,
  log1p: (a) => `th_log1p(${a})`,
  expm1: (a) => `th_expm1(${a})`,
  sqrt: (a) => `sqrt(${a})`,
  rsqrt: (a) => `inverseSqrt(${a})`,
  square: (a) => `(${a} * ${a})`,
  reciprocal: (a) => `(1.0f / ${a})`,
  sin: (a) => `sin(${a})`,
  cos: (a) => `cos(${a})`,
  tan: (a) => `tan(${a})`,
  tanh: (a) => `th_tanh(${a})`,
  sigmoid: (a) => `th_sigmoid(${a})`,
  softplus: (a) => `th_softplus(${a})`,
  erf: (a) => `th_erf(${a})`,
  floor: (a, t) => (t === 'float32' ? `floor(${a})` : a),
  ceil: (a, t) => (t === 'float32' ? `ceil(${a})` : a),
  round: (a, t) => (t === 'float32' ? `round(${a})` : a),
  logical_not: (a) => `(!${a})`,
};

function unary(op: UnaryOp): Emit {
  return (builder, variable, index) => {
    const input = variable.owner!.inputs[0]!;
    if (op === 'cast') return convert(builder.value(input, index), input.dtype, variable.dtype);
    if (op === 'stop_gradient') return builder.value(input, index);
    // The op computes in its output dtype (logical_not in bool).
    const computeIn: DType = op === 'logical_not' ? 'bool' : variable.dtype;
    return unaryTemplates[op](operand(builder, variable, 0, index, computeIn), computeIn);
  };
}

/** How each binary op computes, given its operands' expressions in the dtype it computes in. */
type BinaryTemplate = (a: string, b: string, dtype: DType) => string;
const infix = (symbol: string): BinaryTemplate => (a, b) => `(${a} ${symbol} ${b})`;
const byKind = (float: BinaryTemplate, int32: BinaryTemplate, uint32: BinaryTemplate): BinaryTemplate =>
  (a, b, t) => (isFloat(t) ? float : t === 'int32' ? int32 : uint32)(a, b, t);
const call = (name: string): BinaryTemplate => (a, b) => `${name}(${a}, ${b})`;

/**
 * A float literal zero: llvmpipe folds `x / 0.0` to 0 under fast math, so division by one
 * is written as a product with ±inf (through a private variable), which it leaves alone.
 */
const isZeroLiteral = (expr: string): boolean => /^\(?-?0(\.0)?f\)?$/.test(expr);

const binaryTemplates: Record<BinaryOp, BinaryTemplate> = {
  add: infix('+'),
  sub: infix('-'),
  mul: infix('*'),
  div: (a, b, t) => (isFloat(t) && isZeroLiteral(b) ? `(${a} * ${literal(Object.is(Number.parseFloat(b.replace(/[()]/g, '')), -0) ? -Infinity : Infinity, t)})` : `(${a} / ${b})`),
  int_div: byKind(call('th_floordiv_f'), call('th_floordiv_i'), call('th_div_u')),
  mod: byKind(call('th_mod_f'), call('th_mod_i'), call('th_mod_u')),
  pow: byKind(call('th_pow'), call('th_pow_i'), call('th_pow_u')),
  maximum: byKind(call('th_max'), call('max'), call('max')),
  minimum: byKind(call('th_min'), call('min'), call('min')),
  atan2: call('th_atan2'),
  eq: infix('=='), ne: infix('!='), lt: infix('<'), le: infix('<='), gt: infix('>'), ge: infix('>='),
  logical_and: infix('&&'), logical_or: infix('||'), logical_xor: infix('!='),
};

function binary(op: BinaryOp): Emit {
  return (builder, variable, index) => {
    const [x, y] = variable.owner!.inputs as [Variable, Variable];
    // Comparisons compare in the promoted dtype; logic works on bools; the rest in the output dtype.
    let computeIn: DType = variable.dtype;
    if (logicalOps.has(op)) computeIn = 'bool';
    else if (comparisonOps.has(op)) computeIn = promote(x.dtype, y.dtype);
    const a = operand(builder, variable, 0, index, computeIn);
    const b = operand(builder, variable, 1, index, computeIn);
    return binaryTemplates[op](a, b, computeIn);
  };
}

// ---- movement: index arithmetic ----

function dimshuffle(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const input = variable.owner!.inputs[0]!;
  const { pattern } = variable.owner!.attrs as AttrsOf<'dimshuffle'>;
  const inputIndex = input.shape.map((_, axis) => {
    const at = pattern.indexOf(axis);
    return at < 0 ? '0i' : index[at]!;
  });
  return builder.value(input, inputIndex);
}

function reshape(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const input = variable.owner!.inputs[0]!;
  const flat = builder.bind(builder.offset(index, variable.shape as number[]), 'f');
  // Unflattened over the input's shape; a buffer read there turns it straight back into
  // `flat` (ExpressionBuilder.offset), so reshaping a stored tensor costs no index arithmetic.
  return builder.value(input, unflatten(builder, flat, input.shape as number[], 'r'));
}

function broadcastTo(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const input = variable.owner!.inputs[0]!;
  return builder.value(input, broadcastIndex(index, input.shape, variable.ndim));
}

/** numpy slice resolution on a static size: the first index and the step. */
export function resolveSlice(item: { start: number | null; stop: number | null; step: number }, size: number): { start: number; step: number } {
  const step = item.step;
  let start = item.start;
  if (start === null) start = step > 0 ? 0 : size - 1;
  else if (start < 0) start = Math.max(start + size, step > 0 ? 0 : -1);
  else start = Math.min(start, step > 0 ? size : size - 1);
  return { start, step };
}

/**
 * The input index that a basic subtensor reads, axis by axis, in a renderer's own index
 * terms: an axis without an item takes the next output index, an index item its (wrapped)
 * position, a slice start + i · step (start resolved as the reference does). The WGSL,
 * JS and WebAssembly renderers share it.
 */
export function subtensorSource<I>(
  items: AttrsOf<'subtensor'>['items'], shape: readonly (number | null)[], index: readonly I[],
  render: { constant: (value: number) => I; slice: (i: I, start: number, step: number) => I },
): I[] {
  let out = 0;
  return shape.map((size, axis) => {
    const item = items[axis];
    if (!item) return index[out++]!;
    if (item.kind === 'index') return render.constant(item.index < 0 ? item.index + size! : item.index);
    const { start, step } = resolveSlice(item, size!);
    return render.slice(index[out++]!, start, step);
  });
}

function subtensor(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const input = variable.owner!.inputs[0]!;
  const { items } = variable.owner!.attrs as AttrsOf<'subtensor'>;
  return builder.value(input, subtensorSource(items, input.shape, index, {
    constant: (value) => `${value}i`,
    slice: (i, start, step) => (step === 1 ? (start === 0 ? i : `(${i} + ${start}i)`) : `(${start}i + (${i}) * ${step}i)`),
  }));
}

function concat(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const { axis } = variable.owner!.attrs as AttrsOf<'concat'>;
  const inputs = variable.owner!.inputs;
  const i = index[axis]!;
  let offset = 0;
  const parts = inputs.map((input) => {
    const size = input.shape[axis] as number;
    const local = `clamp(${i} - ${offset}i, 0i, ${Math.max(size - 1, 0)}i)`;
    const at = [...index];
    at[axis] = builder.bind(local, 'c');
    const value = convert(builder.value(input, at), input.dtype, variable.dtype);
    const part = { value, end: offset + size };
    offset += size;
    return part;
  });
  let expr = parts[parts.length - 1]!.value;
  for (let k = parts.length - 2; k >= 0; k--) expr = `select(${expr}, ${parts[k]!.value}, ${i} < ${parts[k]!.end}i)`;
  return expr;
}

function pad(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const input = variable.owner!.inputs[0]!;
  const { widths, mode, value } = variable.owner!.attrs as AttrsOf<'pad'>;
  const conditions: string[] = [];
  const inputIndex = input.shape.map((size, axis) => {
    const before = widths[axis]?.[0] ?? 0;
    const n = size as number;
    const shifted = before === 0 ? index[axis]! : `(${index[axis]} - ${before}i)`;
    if ((widths[axis]?.[0] ?? 0) === 0 && (widths[axis]?.[1] ?? 0) === 0) return index[axis]!;
    if (mode === 'constant') {
      const j = builder.bind(shifted, 'p');
      conditions.push(`(${j} >= 0i && ${j} < ${n}i)`);
      return `clamp(${j}, 0i, ${Math.max(n - 1, 0)}i)`;
    }
    if (mode === 'edge') return `clamp(${shifted}, 0i, ${n - 1}i)`;
    // reflect: −j for j < 0, 2(n−1) − j for j ≥ n (widths < n, checked at build time).
    const j = builder.bind(shifted, 'p');
    return builder.bind(`select(select(${j}, ${2 * (n - 1)}i - ${j}, ${j} >= ${n}i), -${j}, ${j} < 0i)`, 'p');
  });
  const inner = builder.value(input, inputIndex);
  return conditions.length === 0 ? inner : `select(${literal(value, variable.dtype)}, ${inner}, ${conditions.join(' && ')})`;
}

// ---- writes into subtensors and gathers ----

function incSubtensor(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const [x, y] = variable.owner!.inputs as [Variable, Variable];
  const { items, mode } = variable.owner!.attrs as AttrsOf<'inc_subtensor'>;
  const conditions: string[] = [];
  const regionIndex: string[] = [];
  x.shape.forEach((size, axis) => {
    const item = items[axis];
    const i = index[axis]!;
    if (!item) { regionIndex.push(i); return; }
    if (item.kind === 'index') { conditions.push(`${i} == ${item.index < 0 ? item.index + size! : item.index}i`); return; }
    const { start, step } = resolveSlice(item, size!);
    const count = sliceLength(item, size!);
    const rel = builder.bind(step > 0 ? `(${i} - ${start}i)` : `(${start}i - ${i})`, 's');
    const magnitude = Math.abs(step);
    conditions.push(magnitude === 1 ? `(${rel} >= 0i && ${rel} < ${count}i)` : `(${rel} >= 0i && ${rel} % ${magnitude}i == 0i && ${rel} / ${magnitude}i < ${count}i)`);
    regionIndex.push(`clamp(${magnitude === 1 ? rel : `${rel} / ${magnitude}i`}, 0i, ${Math.max(count - 1, 0)}i)`);
  });
  const base = builder.value(x, index);
  const inside = conditions.length === 0 ? 'true' : conditions.join(' && ');
  const yValue = convert(builder.value(y, broadcastIndex(regionIndex, y.shape, regionIndex.length)), y.dtype, variable.dtype);
  const written = mode === 'inc' ? `(${base} + ${yValue})` : yValue;
  return `select(${base}, ${written}, ${inside})`;
}

export function sliceLength(item: { start: number | null; stop: number | null; step: number }, size: number): number {
  const { step } = item;
  const clampIndex = (value: number | null, fallback: number, low: number, high: number): number =>
    value === null ? fallback : value < 0 ? Math.max(value + size, low) : Math.min(value, high);
  const start = step > 0 ? clampIndex(item.start, 0, 0, size) : clampIndex(item.start, size - 1, -1, size - 1);
  const stop = step > 0 ? clampIndex(item.stop, size, 0, size) : clampIndex(item.stop, -1, -1, size - 1);
  return Math.max(0, Math.ceil((stop - start) / step));
}

/** numpy's placement: index dims replace the first indexed axis if the indexed axes are adjacent, else go first. */
export function advancedLayout(xNdim: number, items: readonly ('index' | 'all')[], indexNdim: number) {
  const indexed = items.flatMap((item, axis) => (item === 'index' ? [axis] : []));
  const adjacent = indexed.every((axis, k) => k === 0 || axis === indexed[k - 1]! + 1);
  const insertAt = adjacent ? indexed[0]! : 0;
  const kept = Array.from({ length: xNdim }, (_, axis) => axis).filter((axis) => items[axis] !== 'index');
  return { indexed, insertAt, kept, indexNdim };
}

/** x's index at a gathered element; `node` (the gather or scatter) is what an out-of-range index names. */
function gatherIndex(builder: ExpressionBuilder, node: Variable, x: Variable, indices: readonly Variable[], items: readonly ('index' | 'all')[], outIndex: readonly string[]): string[] {
  const indexNdim = Math.max(0, ...indices.map((v) => v.ndim));
  const { indexed, insertAt, kept } = advancedLayout(x.ndim, items, indexNdim);
  const broadcastPart = outIndex.slice(insertAt, insertAt + indexNdim);
  const keptPart = [...outIndex.slice(0, insertAt), ...outIndex.slice(insertAt + indexNdim)];
  const xIndex = new Array<string>(x.ndim);
  kept.forEach((axis, k) => (xIndex[axis] = keptPart[k]!));
  indexed.forEach((axis, k) => {
    const source = indices[k]!;
    const raw = convert(builder.value(source, broadcastIndex(broadcastPart, source.shape, indexNdim)), source.dtype, 'int32');
    const size = x.shape[axis] as number;
    const wrapped = builder.bind(`select(${raw}, ${raw} + ${size}i, ${raw} < 0i)`, 'g');
    builder.checkIndex(raw, wrapped, { op: node.owner!.op, axis, bound: size, shape: x.shape as number[], location: node.location });
    xIndex[axis] = `clamp(${wrapped}, 0i, ${Math.max(size - 1, 0)}i)`;
  });
  return xIndex;
}

function advancedSubtensor(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const [x, ...indices] = variable.owner!.inputs as Variable[];
  const { items } = variable.owner!.attrs as AttrsOf<'advanced_subtensor'>;
  const fullItems = Array.from({ length: x!.ndim }, (_, axis) => items[axis] ?? 'all');
  return builder.value(x!, gatherIndex(builder, variable, x!, indices, fullItems, index));
}

export { gatherIndex };

// ---- sources ----

function arange(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const [start, , step] = variable.owner!.inputs as Variable[];
  const t = variable.dtype;
  const s = convert(builder.value(start!, []), start!.dtype, t);
  const d = convert(builder.value(step!, []), step!.dtype, t);
  return `(${s} + ${convert(index[0]!, 'int32', t)} * ${d})`;
}

function random(builder: ExpressionBuilder, variable: Variable, index: readonly string[]): string {
  const [state] = variable.owner!.inputs as Variable[];
  const { distribution, draw } = variable.owner!.attrs as AttrsOf<'random'>;
  const key = builder.value(state!, ['0i']);
  const counter = builder.value(state!, ['1i']);
  const flat = builder.offset(index, variable.shape as number[]);
  const words = builder.bind(`th_philox(vec4<u32>(u32(${flat}), ${counter}, 0u, 0u), vec2<u32>(${key}, ${draw}u))`, 'w');
  const uniform = (word: string) => `(f32(${word} >> 8u) * 5.9604644775390625e-8f)`;
  if (distribution === 'uniform') return uniform(`${words}.x`);
  return `(sqrt(-2.0f * log(1.0f - ${uniform(`${words}.x`)})) * cos(6.283185307179586f * ${uniform(`${words}.y`)}))`;
}

/** The lowering of each op: an Emit for fusable ops, or the kind of kernel its node roots. */
export const lowerings = {
  ...(Object.fromEntries(unaryOps.map((op) => [op, unary(op)])) as Record<UnaryOp, Emit>),
  ...(Object.fromEntries(binaryOps.map((op) => [op, binary(op)])) as Record<BinaryOp, Emit>),
  where: (builder, variable, index) => {
    const condition = operand(builder, variable, 0, index, 'bool');
    const a = operand(builder, variable, 1, index, variable.dtype);
    const b = operand(builder, variable, 2, index, variable.dtype);
    return `select(${b}, ${a}, ${condition})`;
  },
  ...(Object.fromEntries(reduceOps.map((op) => [op, { kernel: 'reduce' }])) as Record<ReduceOp, { kernel: 'reduce' }>),
  matmul: { kernel: 'matmul' },
  ...windowLowerings,
  scan: { kernel: 'scan' },
  reshape, dimshuffle, broadcast_to: broadcastTo, subtensor, concat, pad,
  inc_subtensor: incSubtensor,
  advanced_subtensor: advancedSubtensor,
  advanced_inc_subtensor: { kernel: 'scatter' },
  arange,
  dim: () => {
    throw new Error('codegen: dim must be folded to a constant by specialization');
  },
  random,
} satisfies Record<OpName, Emit | { kernel: RootKind; emit?: Emit }>;
