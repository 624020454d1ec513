// The closed vocabulary of primitive ops, as one table of their properties: the family
// each belongs to, what an elementwise op computes on one element (the reference
// evaluator's definition) and how its dtype follows from its inputs', the identity and
// combining kind of each reduction. Every group and set that other modules need (unary,
// pointwise, commutative, splittable reductions …) is derived from this table, so a new
// op is one entry here, not an edit to several hand-kept lists.
// Everything else users call (softmax, mean, clip, tensordot, stack, roll, one_hot, ...)
// is a composite built from these. Every table keyed by OpName (shape inference and
// reference here, gradients in autodiff, lowering in codegen) must cover all of them.

import type { DType } from './dtype.ts';
import { erf, floorDivide, integerPower, power, remainder, roundHalfEven, sigmoid, softplus } from './scalar.ts';

export type OpFamily = 'unary' | 'binary' | 'ternary' | 'reduce' | 'linalg' | 'window' | 'control' | 'movement' | 'indexing' | 'source';

/**
 * How an elementwise op's output dtype follows from its inputs' dtypes:
 * - keep: the input's dtype, bool becoming int32 (neg, floor …);
 * - identity: exactly the input's dtype, bool included (stop_gradient);
 * - float: the float dtype of the (promoted) inputs, float32 for integers and bool (exp, div);
 * - promote: the promoted dtype, bool becoming int32 (add, mul …);
 * - bool: comparisons and logic;
 * - attribute: the node's `dtype` attribute (cast);
 * - branches: the promoted dtype of the last two inputs (where).
 */
export type DTypeRule = 'keep' | 'identity' | 'float' | 'promote' | 'bool' | 'attribute' | 'branches';

type UnaryScalar = (x: number) => number;
type BinaryScalar = (a: number, b: number) => number;

interface ElementwiseInfo {
  readonly pointwise: true;
  readonly dtype: DTypeRule;
}
export interface UnaryInfo extends ElementwiseInfo {
  readonly family: 'unary';
  /** The op on one element, in doubles; the caller rounds to the output dtype. */
  readonly scalar: UnaryScalar;
  /** The op on an integer element, where it differs (wrapping products). */
  readonly integer?: UnaryScalar;
}
export interface BinaryInfo extends ElementwiseInfo {
  readonly family: 'binary';
  /** The op on one pair of elements, in doubles, for float operands (and, without `integer`, for all). */
  readonly scalar: BinaryScalar;
  /** The op on integer operands, where it differs (wrapping products, division by zero giving 0). */
  readonly integer?: BinaryScalar;
  readonly commutative?: true;
  /** The operands are read as truth values (nonzero, NaN included, is true). */
  readonly logical?: true;
}
export interface TernaryInfo extends ElementwiseInfo {
  readonly family: 'ternary';
}
export interface ReductionInfo {
  readonly family: 'reduce';
  /**
   * How partial results combine: arithmetic (sum, prod, max, min), logical (any, all), or
   * by comparing values and keeping an index (argmax, argmin). Arithmetic and logical
   * reductions are associative: a long one may be split into chunks, a row one fused.
   */
  readonly combine: 'arithmetic' | 'logical' | 'index';
  /**
   * The value every reduction starts from, by dtype (for argmax/argmin, the starting
   * value compared against): combining it changes nothing.
   */
  readonly identity: (dtype: DType) => number;
}
export interface OtherInfo {
  readonly family: 'linalg' | 'window' | 'control' | 'movement' | 'indexing' | 'source';
  /** Computes element i from element i of its inputs, broadcasting (broadcast_to). */
  readonly pointwise?: true;
}
export type OpInfo = UnaryInfo | BinaryInfo | TernaryInfo | ReductionInfo | OtherInfo;

const unary = (dtype: DTypeRule, scalar: UnaryScalar, more: { integer?: UnaryScalar } = {}) => ({ family: 'unary', pointwise: true, dtype, scalar, ...more }) as const satisfies UnaryInfo;
const binary = (dtype: DTypeRule, scalar: BinaryScalar, more: { integer?: BinaryScalar; commutative?: true; logical?: true } = {}) =>
  ({ family: 'binary', pointwise: true, dtype, scalar, ...more }) as const satisfies BinaryInfo;
const reduction = (combine: ReductionInfo['combine'], identity: (dtype: DType) => number) => ({ family: 'reduce', combine, identity }) as const satisfies ReductionInfo;
const other = <F extends OtherInfo['family']>(family: F) => ({ family }) as const;

const isFloatDType = (dtype: DType): boolean => dtype === 'float32' || dtype === 'float64';
/** The smallest value of a dtype (the identity of max), and the largest (of min). */
const lowest = (dtype: DType): number => (isFloatDType(dtype) ? -Infinity : dtype === 'int32' ? -2147483648 : 0);
const highest = (dtype: DType): number => (isFloatDType(dtype) ? Infinity : dtype === 'int32' ? 2147483647 : dtype === 'uint32' ? 4294967295 : 1);

/** Nonzero is true, NaN included (numpy's and WGSL's rule). */
export const truthy = (x: number): boolean => x !== 0;
const flag = (condition: boolean): number => (condition ? 1 : 0);

export const opTable = {
  // ---- elementwise, one input (cast and stop_gradient are the identity on values) ----
  neg: unary('keep', (x) => -x),
  abs: unary('keep', Math.abs),
  sign: unary('keep', (x) => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0)),
  exp: unary('float', Math.exp),
  log: unary('float', Math.log),
  log1p: unary('float', Math.log1p),
  expm1: unary('float', Math.expm1),
  sqrt: unary('float', Math.sqrt),
  rsqrt: unary('float', (x) => 1 / Math.sqrt(x)),
  square: unary('keep', (x) => x * x, { integer: (x) => Math.imul(x, x) }),
  reciprocal: unary('float', (x) => 1 / x),
  sin: unary('float', Math.sin),
  cos: unary('float', Math.cos),
  tan: unary('float', Math.tan),
  tanh: unary('float', Math.tanh),
  sigmoid: unary('float', sigmoid),
  softplus: unary('float', softplus),
  erf: unary('float', erf),
  floor: unary('keep', Math.floor),
  ceil: unary('keep', Math.ceil),
  round: unary('keep', roundHalfEven),
  logical_not: unary('bool', (x) => flag(x === 0)),
  cast: unary('attribute', (x) => x),
  /** The identity that autodiff treats as a constant. */
  stop_gradient: unary('identity', (x) => x),

  // ---- elementwise, two inputs, numpy broadcasting. Division and modulo follow numpy
  // (floor division; mod takes the sign of the divisor; infinite divisors and float
  // division by zero as numpy's npy_divmod); integers by zero give 0. ----
  add: binary('promote', (a, b) => a + b, { commutative: true }),
  sub: binary('promote', (a, b) => a - b),
  mul: binary('promote', (a, b) => a * b, { integer: (a, b) => Math.imul(a, b), commutative: true }),
  div: binary('float', (a, b) => a / b),
  int_div: binary('promote', floorDivide, { integer: (a, b) => (b === 0 ? 0 : Math.floor(a / b)) }),
  mod: binary('promote', remainder, { integer: (a, b) => (b === 0 ? 0 : a - Math.floor(a / b) * b) }),
  pow: binary('promote', power, { integer: integerPower }),
  maximum: binary('promote', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), { commutative: true }),
  minimum: binary('promote', (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)), { commutative: true }),
  atan2: binary('float', Math.atan2),
  eq: binary('bool', (a, b) => flag(a === b), { commutative: true }),
  ne: binary('bool', (a, b) => flag(a !== b), { commutative: true }),
  lt: binary('bool', (a, b) => flag(a < b)),
  le: binary('bool', (a, b) => flag(a <= b)),
  gt: binary('bool', (a, b) => flag(a > b)),
  ge: binary('bool', (a, b) => flag(a >= b)),
  logical_and: binary('bool', (a, b) => flag(truthy(a) && truthy(b)), { commutative: true, logical: true }),
  logical_or: binary('bool', (a, b) => flag(truthy(a) || truthy(b)), { commutative: true, logical: true }),
  logical_xor: binary('bool', (a, b) => flag(truthy(a) !== truthy(b)), { commutative: true, logical: true }),

  // ---- elementwise, three inputs: where(condition, then, else) ----
  where: { family: 'ternary', pointwise: true, dtype: 'branches' },

  // ---- reductions over a set of axes (argmax/argmin over one axis or all) ----
  sum: reduction('arithmetic', () => 0),
  prod: reduction('arithmetic', () => 1),
  max: reduction('arithmetic', lowest),
  min: reduction('arithmetic', highest),
  any: reduction('logical', () => 0),
  all: reduction('logical', () => 1),
  argmax: reduction('index', lowest),
  argmin: reduction('index', highest),

  // ---- numpy matmul: 1-D promotion, batched with broadcasting ----
  matmul: other('linalg'),

  // ---- sliding windows over the trailing (spatial) axes of x [N, C, ...spatial] ----
  /** Cross-correlation with filters w [F, C/groups, ...kernel]. */
  conv: other('window'),
  /** The adjoint of conv in its input (the gradient of conv with respect to x). */
  conv_transpose: other('window'),
  /** The adjoint of conv in its filters (the gradient of conv with respect to w). */
  conv_weight_grad: other('window'),
  /** Max or average over each window. */
  pool: other('window'),
  /** The gradient of pool with respect to its input. */
  pool_grad: other('window'),

  // ---- a loop over a step graph (Theano's scan), one node per output of the loop ----
  scan: other('control'),

  // ---- movement: index arithmetic in codegen, not copies ----
  reshape: other('movement'),
  dimshuffle: other('movement'),
  broadcast_to: { family: 'movement', pointwise: true },
  subtensor: other('movement'),
  concat: other('movement'),
  pad: other('movement'),

  // ---- writes into (a copy of) a tensor, and gathers by integer tensors ----
  inc_subtensor: other('indexing'),
  advanced_subtensor: other('indexing'),
  advanced_inc_subtensor: other('indexing'),

  // ---- values made from nothing but scalars and shapes ----
  arange: other('source'),
  dim: other('source'),
  random: other('source'),
} as const satisfies Record<string, OpInfo>;

type Table = typeof opTable;
export type OpName = keyof Table;
/** The ops of one family. */
export type OpsOf<F extends OpFamily> = { [K in OpName]: Table[K]['family'] extends F ? K : never }[OpName];

export type UnaryOp = OpsOf<'unary'>;
export type BinaryOp = OpsOf<'binary'>;
export type TernaryOp = OpsOf<'ternary'>;
export type ReduceOp = OpsOf<'reduce'>;
export type MovementOp = OpsOf<'movement'>;
export type IndexingOp = OpsOf<'indexing'>;
export type ElementwiseOp = UnaryOp | BinaryOp | TernaryOp;

export const opNames = Object.keys(opTable) as OpName[];
const namesWhere = <K extends OpName>(test: (info: OpInfo) => boolean): K[] => opNames.filter((name) => test(opTable[name])) as K[];
const ofFamily = <F extends OpFamily>(family: F): OpsOf<F>[] => namesWhere((info) => info.family === family);

export const unaryOps: readonly UnaryOp[] = ofFamily('unary');
export const binaryOps: readonly BinaryOp[] = ofFamily('binary');
export const ternaryOps: readonly TernaryOp[] = ofFamily('ternary');
export const reduceOps: readonly ReduceOp[] = ofFamily('reduce');
export const linalgOps: readonly OpsOf<'linalg'>[] = ofFamily('linalg');
export const movementOps: readonly MovementOp[] = ofFamily('movement');
export const indexingOps: readonly IndexingOp[] = ofFamily('indexing');
export const sourceOps: readonly OpsOf<'source'>[] = ofFamily('source');

export const elementwiseOps: ReadonlySet<OpName> = new Set<OpName>([...unaryOps, ...binaryOps, ...ternaryOps]);
/** Ops that compute each element from the same element of their inputs, broadcasting included. */
export const pointwiseOps: ReadonlySet<OpName> = new Set(namesWhere((info) => 'pointwise' in info && info.pointwise === true));
export const commutativeOps: ReadonlySet<OpName> = new Set(namesWhere((info) => info.family === 'binary' && info.commutative === true));
export const logicalOps: ReadonlySet<OpName> = new Set<OpName>([...namesWhere((info) => info.family === 'binary' && info.logical === true), 'logical_not']);
export const comparisonOps: ReadonlySet<OpName> = new Set(namesWhere((info) => info.family === 'binary' && info.dtype === 'bool' && !info.logical));
/** Reductions that combine associatively: splittable into chunks, and fusable into row kernels when arithmetic. */
export const associativeReductions: ReadonlySet<ReduceOp> = new Set(reduceOps.filter((op) => opTable[op].combine !== 'index'));
export const arithmeticReductions: ReadonlySet<ReduceOp> = new Set(reduceOps.filter((op) => opTable[op].combine === 'arithmetic'));

/** The value a reduction starts from (and pads with), for a dtype. */
export function reductionIdentity(op: ReduceOp, dtype: DType): number {
  return opTable[op].identity(dtype);
}

/**
 * A static size, or null where the size comes from the next scalar input of the node
 * (symbolic shapes: `zeros([x.dim(0), 3])`).
 */
export type ShapeSpec = readonly (number | null)[];

/** One axis of basic indexing: a slice keeps the axis, an index drops it. */
export type SliceItem =
  | { readonly kind: 'slice'; readonly start: number | null; readonly stop: number | null; readonly step: number }
  | { readonly kind: 'index'; readonly index: number };

/** One axis of advanced indexing: gathered by the next integer tensor input, or kept whole. */
export type AdvancedItem = 'index' | 'all';

export type PadMode = 'constant' | 'reflect' | 'edge';

export interface OpAttributes {
  cast: { readonly dtype: DType };
  sum: ReduceAttrs; prod: ReduceAttrs; max: ReduceAttrs; min: ReduceAttrs; any: ReduceAttrs; all: ReduceAttrs;
  argmax: ArgReduceAttrs; argmin: ArgReduceAttrs;
  reshape: { readonly shape: ShapeSpec };
  dimshuffle: { readonly pattern: readonly (number | 'x')[] };
  broadcast_to: { readonly shape: ShapeSpec };
  subtensor: { readonly items: readonly SliceItem[] };
  concat: { readonly axis: number };
  pad: { readonly widths: readonly (readonly [number, number])[]; readonly mode: PadMode; readonly value: number };
  inc_subtensor: { readonly items: readonly SliceItem[]; readonly mode: 'inc' | 'set' };
  advanced_subtensor: { readonly items: readonly AdvancedItem[] };
  advanced_inc_subtensor: { readonly items: readonly AdvancedItem[]; readonly mode: 'inc' | 'set' };
  conv: ConvAttrs;
  conv_transpose: ConvAdjointAttrs;
  conv_weight_grad: ConvAdjointAttrs;
  pool: PoolAttrs;
  pool_grad: PoolAttrs;
  scan: ScanAttrs;
  arange: { readonly dtype: DType };
  dim: { readonly axis: number };
  random: { readonly distribution: 'uniform' | 'normal'; readonly draw: number; readonly shape: ShapeSpec; readonly dtype: 'float32' | 'float64' };
}

export interface ReduceAttrs { readonly axes: readonly number[]; readonly keepdims: boolean }

/** Where windows sit along each spatial axis (one entry per spatial axis). */
export interface WindowAttrs {
  readonly stride: readonly number[];
  /** Implicit zeros (conv) or ignored positions (pool) before and after each spatial axis. */
  readonly padding: readonly (readonly [number, number])[];
  readonly dilation: readonly number[];
}
export interface ConvAttrs extends WindowAttrs {
  /** Channels and filters split into this many independent groups (groups = C: depthwise). */
  readonly groups: number;
}
/**
 * conv_transpose: the output's spatial sizes; conv_weight_grad: the kernel's. A null entry
 * is the next scalar input after the two tensor inputs (sizes known only at run time).
 */
export interface ConvAdjointAttrs extends ConvAttrs {
  readonly spatial: ShapeSpec;
}
/**
 * A scan node: the loop's step graph (shared by every output node of one loop; see
 * ops/scan.ts) and which of its outputs this node is.
 */
export interface ScanAttrs {
  readonly body: ScanBodyLike;
  readonly output: number;
}

/** What ops.ts needs to know of a scan body (ops/scan.ts defines it): a key for hashing and printing. */
export interface ScanBodyLike {
  readonly structuralKey: string;
}

export interface PoolAttrs {
  readonly mode: 'max' | 'avg';
  readonly size: readonly number[];
  readonly stride: readonly number[];
  readonly padding: readonly (readonly [number, number])[];
  /** Output sizes round up: a last window may start in the input and run past its end. */
  readonly ceilMode: boolean;
  /** Average pooling divides by the whole window, padding included (else by the input elements it covers). */
  readonly countIncludePad: boolean;
}
export interface ArgReduceAttrs { readonly axis: number | null; readonly keepdims: boolean }

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type NoAttrs = {};
export type AttrsOf<K extends OpName> = K extends keyof OpAttributes ? OpAttributes[K] : NoAttrs;
