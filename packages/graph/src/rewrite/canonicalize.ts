// The canonicalize pass: one spelling for each expression, so that the later passes'
// patterns see one form, and the neutral work removed.
//
// The canonical forms (what stabilize and specialize may rely on):
// - a constant operand of a commutative op comes second: add(x, 1), never add(1, x);
// - subtraction stays `sub`, except that subtracting a constant is adding its negation:
//   x − 3 is add(x, −3), while 1 − x stays sub(1, x); x + neg(y) is sub(x, y);
//   mul(x, −1) is neg(x). Division stays `div` (specialize turns division by a float
//   constant into a multiplication, which rounds differently, so it waits until then);
// - neutral operations are gone: x+0, x−0, x·1, x/1, x**1, neg(neg(x)), identity
//   dimshuffles and reshapes, reductions over no axes, broadcasts to the shape a value
//   already has (also as an operand of an elementwise op that broadcasts anyway);
// - chains collapse: dimshuffle of dimshuffle (transposes of transposes), reshape of
//   reshape, broadcast of broadcast, a reduction of the same reduction (axes joined and
//   renumbered), and a dimshuffle that only drops a reduction's kept axes.
// Every neutral-element rule fires only when the result's type is exactly x's: x + 0
// with a 0 of a larger shape broadcasts, and int32 x · 1.0 is float32, so neither is x.
// Left out: reassociating constants ((x + 1) + 2), which changes float rounding, and
// x·0 → 0, which is wrong for NaN and infinities.

import { applyOp } from '../build.ts';
import { isFloat } from '../dtype.ts';
import { Constant, type Variable } from '../graph.ts';
import { NDArray } from '../ndarray.ts';
import { binaryOps, commutativeOps, type ReduceOp, type ShapeSpec } from '../ops.ts';
import { add, neg, sub } from '../api/elementwise.ts';
import { pass, rule, type Rule } from './engine.ts';
import { anything, attrsOf, capture, constant, filledValue, ifSameType, nodeOf, oneOf, op, opFirst, sameType, uniform, type Captures } from './pattern.ts';

const x = capture('x');
const y = capture('y');

/** The result is x itself: same dtype and static shape, so the other operand neither broadcasts nor promotes. */
const resultIsX = (variable: Variable, { x }: Captures<'x'>): boolean => sameType(variable, x);

// ---- neutral elements ----

export const addZero = rule('add-zero', op('add', x, uniform(0)).where(resultIsX), ({ x }) => x);
export const subZero = rule('sub-zero', op('sub', x, uniform(0)).where(resultIsX), ({ x }) => x);
export const mulOne = rule('mul-one', op('mul', x, uniform(1)).where(resultIsX), ({ x }) => x);
export const divOne = rule('div-one', op('div', x, uniform(1)).where(resultIsX), ({ x }) => x);
export const powOne = rule('pow-one', op('pow', x, uniform(1)).where(resultIsX), ({ x }) => x);
export const negNeg = rule('neg-neg', op('neg', op('neg', x)).where(resultIsX), ({ x }) => x);
export const mulMinusOne = rule('mul-minus-one', op('mul', x, uniform(-1)).where(resultIsX), ({ x }) => neg(x));

// ---- one form for subtraction, constants second ----

/** x − c → x + (−c), for a constant c of x's own float or int32 dtype (the negation is then exact). */
export const subConstant = rule(
  'sub-constant',
  op('sub', x, constant.as('c')).where((variable, { x, c }) => !(x instanceof Constant) && c.dtype === variable.dtype && x.dtype === variable.dtype && (isFloat(c.dtype) || c.dtype === 'int32')),
  ({ x, c }) => {
    const value = (c as Constant).value;
    return add(x, new Constant(new NDArray(value.dtype, value.shape, value.data.map((v) => -v)), undefined, c.location));
  },
);

/** x + neg(y) → x − y (and neg(y) + x), so that subtraction has one spelling. */
export const addNeg = rule('add-neg', op('add', x, op('neg', y)).where((_, { y }) => y.dtype !== 'bool'), ({ x, y }) => sub(x, y));

const isConstantLike = (variable: Variable): boolean => variable instanceof Constant || filledValue(variable) !== null;

/** op(c, x) → op(x, c) for commutative ops: swapping is exact, and later patterns look for the constant second. */
export const constantSecond = rule(
  'constant-second',
  nodeOf(...binaryOps.filter((name) => commutativeOps.has(name))).where((variable) => {
    const [first, second] = variable.owner!.inputs as [Variable, Variable];
    return isConstantLike(first) && !isConstantLike(second);
  }),
  (_, { variable }) => {
    const node = variable.owner!;
    return applyOp(node.op, [node.inputs[1]!, node.inputs[0]!], {});
  },
);

// ---- movement chains ----

export const dimshuffleDimshuffle = rule('dimshuffle-dimshuffle', op('dimshuffle', op('dimshuffle', x).as('inner')), ({ x, inner }, { variable }) => {
  const first = attrsOf(inner, 'dimshuffle').pattern;
  const pattern = attrsOf(variable, 'dimshuffle').pattern.map((entry) => (entry === 'x' ? 'x' : first[entry]!));
  return applyOp('dimshuffle', [x], { pattern });
});

export const dimshuffleIdentity = rule(
  'dimshuffle-identity',
  op('dimshuffle', x).attrs(({ pattern }, variable) => pattern.length === variable.owner!.inputs[0]!.ndim && pattern.every((entry, i) => entry === i)),
  ({ x }) => x,
);

/** reshape(reshape(x, s1), s2) → reshape(x, s2), keeping the outer node's size inputs. */
export const reshapeReshape = rule('reshape-reshape', opFirst('reshape', opFirst('reshape', x)), ({ x }, { variable }) =>
  applyOp('reshape', [x, ...variable.owner!.inputs.slice(1)], { shape: attrsOf(variable, 'reshape').shape }),
);

/**
 * Whether a ShapeSpec with its size inputs provably gives x's own shape: each entry is
 * x's static size, or a size input that is dim(x, axis) for the same axis, or (for
 * reshape) the one −1 where every other entry is proven and none is 0.
 */
function specIsShapeOf(x: Variable, spec: ShapeSpec, sizes: readonly Variable[], allowInferred: boolean): boolean {
  if (spec.length !== x.ndim) return false;
  let next = 0;
  let inferred = 0;
  for (let axis = 0; axis < spec.length; axis++) {
    const entry = spec[axis];
    if (entry === null) {
      const size = sizes[next++]!;
      const node = size.owner;
      if (!(node?.op === 'dim' && node.inputs[0] === x && attrsOf(size, 'dim').axis === axis)) return false;
    } else if (entry === -1 && allowInferred) {
      inferred++;
    } else if (entry !== x.shape[axis]) {
      return false;
    }
  }
  return inferred === 0 || (inferred === 1 && !spec.includes(0));
}

export const reshapeIdentity = rule(
  'reshape-identity',
  opFirst('reshape', x).where((variable, { x }) => sameType(variable, x) && specIsShapeOf(x, attrsOf(variable, 'reshape').shape, variable.owner!.inputs.slice(1), true)),
  ({ x }) => x,
);

// ---- broadcasts ----

export const broadcastIdentity = rule(
  'broadcast-identity',
  opFirst('broadcast_to', x).where((variable, { x }) => sameType(variable, x) && specIsShapeOf(x, attrsOf(variable, 'broadcast_to').shape, variable.owner!.inputs.slice(1), false)),
  ({ x }) => x,
);

/** broadcast_to(broadcast_to(x, s1), s2) → broadcast_to(x, s2): x fits s2 wherever it fits s1 and s1 fits s2. */
export const broadcastBroadcast = rule('broadcast-broadcast', opFirst('broadcast_to', opFirst('broadcast_to', x)), ({ x }, { variable }) =>
  ifSameType(applyOp('broadcast_to', [x, ...variable.owner!.inputs.slice(1)], { shape: attrsOf(variable, 'broadcast_to').shape }), variable),
);

/** broadcast_to(dimshuffle(x, 'x', …, 'x', 0, 1, …), s) → broadcast_to(x, s): broadcasting adds the leading axes itself. */
export const broadcastOfExpand = rule(
  'broadcast-of-expand',
  opFirst('broadcast_to', op('dimshuffle', x).attrs(({ pattern }, inner) => {
    const lead = pattern.length - inner.owner!.inputs[0]!.ndim;
    return lead > 0 && pattern.every((entry, i) => (i < lead ? entry === 'x' : entry === i - lead));
  })),
  ({ x }, { variable }) => ifSameType(applyOp('broadcast_to', [x, ...variable.owner!.inputs.slice(1)], { shape: attrsOf(variable, 'broadcast_to').shape }), variable),
);

const elementwiseWithBroadcast = nodeOf(...binaryOps, 'where').where((variable) => variable.owner!.inputs.some((input) => input.owner?.op === 'broadcast_to'));

/**
 * An elementwise operand broadcast_to(z, s) → z where the op's own broadcasting gives
 * the same result type. Only for z of fully static shape: a z of unknown size 1 would
 * stretch under broadcast_to but is refused by elementwise ops (evaluate.ts).
 */
export const elementwiseBroadcast = rule('elementwise-broadcast', elementwiseWithBroadcast, (_, { variable }) => {
  const node = variable.owner!;
  for (let i = 0; i < node.inputs.length; i++) {
    const input = node.inputs[i]!;
    const source = input.owner?.op === 'broadcast_to' ? input.owner.inputs[0]! : undefined;
    if (!source || source.shape.includes(null)) continue;
    const candidate = ifSameType(applyOp(node.op, node.inputs.map((other, k) => (k === i ? source : other)), {}), variable);
    if (candidate) return candidate;
  }
  return undefined;
});

// ---- reductions ----

const reductions = ['sum', 'prod', 'max', 'min', 'any', 'all'] as const satisfies readonly ReduceOp[];
type AxesReduction = (typeof reductions)[number];

/**
 * reduce(reduce(x, a), b) → reduce(x, a ∪ b) for the same op. The outer axes b count
 * the inner result's axes, so they are renumbered to x's first; the result keeps x's
 * axes that the two nodes kept, through keepdims or a dimshuffle that drops the rest.
 */
function joinReductions(name: AxesReduction): Rule {
  return rule(`${name}-of-${name}`, op(name, op(name, x).as('inner')), ({ x, inner }, { variable }) => {
    const first = attrsOf(inner, name);
    const second = attrsOf(variable, name);
    const survivors = x.shape.map((_, axis) => axis).filter((axis) => first.keepdims || !first.axes.includes(axis));
    const outerAxes = second.axes.map((axis) => survivors[axis]!);
    const union = [...new Set([...first.axes, ...outerAxes])].sort((a, b) => a - b);
    const present = (axis: number): boolean => (!union.includes(axis) ? true : outerAxes.includes(axis) ? second.keepdims : first.keepdims);
    const kept = union.filter(present);
    if (kept.length === union.length) return applyOp(name, [x], { axes: union, keepdims: true });
    if (kept.length === 0) return applyOp(name, [x], { axes: union, keepdims: false });
    const pattern = x.shape.map((_, axis) => axis).filter(present);
    return applyOp('dimshuffle', [applyOp(name, [x], { axes: union, keepdims: true })], { pattern });
  });
}

export const reductionOfReduction: readonly Rule[] = reductions.map(joinReductions);

/** A reduction over no axes is its input, where the dtype rule keeps the dtype (sum of bool counts in int32). */
export const reduceNothing = rule(
  'reduce-nothing',
  oneOf(...reductions.map((name) => op(name, x).attrs(({ axes }) => axes.length === 0))).where(resultIsX),
  ({ x }) => x,
);

/** dimshuffle(reduce(x, axes, keepdims), kept axes in order) → reduce(x, axes) without keepdims. */
export const dropKeptDims = rule(
  'drop-kept-dims',
  op('dimshuffle', oneOf(...reductions.map((name) => op(name, anything))).as('reduced')),
  ({ reduced }, { variable }) => {
    const node = reduced.owner!;
    const { axes, keepdims } = node.attrs as { axes: readonly number[]; keepdims: boolean };
    const pattern = attrsOf(variable, 'dimshuffle').pattern;
    const remaining = reduced.shape.map((_, axis) => axis).filter((axis) => !axes.includes(axis));
    if (!keepdims || axes.length === 0 || pattern.length !== remaining.length || pattern.some((entry, i) => entry !== remaining[i])) return undefined;
    return applyOp(node.op as AxesReduction, node.inputs, { axes, keepdims: false });
  },
);

export const canonicalizePass = pass('canonicalize', [
  addZero, subZero, mulOne, divOne, powOne, negNeg, mulMinusOne,
  subConstant, addNeg, constantSecond,
  dimshuffleDimshuffle, dimshuffleIdentity, reshapeReshape, reshapeIdentity,
  broadcastIdentity, broadcastBroadcast, broadcastOfExpand, elementwiseBroadcast,
  ...reductionOfReduction, reduceNothing, dropKeptDims,
]);
