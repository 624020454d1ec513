// VJP rules of the elementwise ops. Conventions at non-smooth points, as in JAX and
// PyTorch: abs'(0) = 0 and sign' = floor' = ceil' = round' = 0; maximum/minimum split
// the gradient evenly between equal operands; where routes to the chosen branch only
// (so relu = where(x > 0, x, 0) has relu'(0) = 0); pow's exponent gets 0 where the base
// is not positive instead of NaN from log.

import * as T from '@theorbo/graph';
import type { BinaryOp, UnaryOp, Variable } from '@theorbo/graph';
import { notDifferentiable, type VjpContext, type VjpTable } from './rule.ts';

const twoOverSqrtPi = 2 / Math.sqrt(Math.PI);

type Unary = (g: Variable, x: Variable, y: Variable, context: VjpContext<UnaryOp>) => Variable | null;

const unaryRules: { [P in UnaryOp]: Unary | typeof notDifferentiable } = {
  neg: (g) => T.neg(g),
  abs: (g, x) => T.mul(g, T.sign(x)),
  sign: (g) => T.zerosLike(g),
  exp: (g, _x, y) => T.mul(g, y),
  log: (g, x) => T.div(g, x),
  log1p: (g, x) => T.div(g, T.add(x, 1)),
  expm1: (g, _x, y) => T.mul(g, T.add(y, 1)),
  sqrt: (g, _x, y) => T.div(T.mul(g, 0.5), y),
  rsqrt: (g, _x, y) => T.mul(T.mul(g, -0.5), T.mul(y, T.square(y))),
  square: (g, x) => T.mul(T.mul(g, 2), x),
  reciprocal: (g, _x, y) => T.neg(T.mul(g, T.square(y))),
  sin: (g, x) => T.mul(g, T.cos(x)),
  cos: (g, x) => T.neg(T.mul(g, T.sin(x))),
  tan: (g, _x, y) => T.mul(g, T.add(T.square(y), 1)),
  tanh: (g, _x, y) => T.mul(g, T.sub(1, T.square(y))),
  sigmoid: (g, _x, y) => T.mul(g, T.mul(y, T.sub(1, y))),
  softplus: (g, x) => T.mul(g, T.sigmoid(x)),
  erf: (g, x) => T.mul(g, T.mul(twoOverSqrtPi, T.exp(T.neg(T.square(x))))),
  floor: (g) => T.zerosLike(g),
  ceil: (g) => T.zerosLike(g),
  round: (g) => T.zerosLike(g),
  logical_not: notDifferentiable,
  // A cast passes the gradient back in the input's dtype; from an integer input, none.
  cast: (g, x) => (T.isFloat(x.dtype) ? T.cast(g, x.dtype) : null),
  stop_gradient: notDifferentiable,
};

type Binary = (g: Variable, a: Variable, b: Variable, y: Variable) => readonly (Variable | null)[];

const half = (g: Variable, mask: Variable): Variable => T.mul(g, T.where(mask, 0.5, 1));

const binaryRules: { [P in BinaryOp]: Binary | typeof notDifferentiable } = {
  add: (g) => [g, g],
  sub: (g) => [g, T.neg(g)],
  mul: (g, a, b) => [T.mul(g, b), T.mul(g, a)],
  div: (g, _a, b, y) => [T.div(g, b), T.neg(T.div(T.mul(g, y), b))],
  int_div: notDifferentiable,
  // a mod b = a − b·floor(a/b): d/da = 1, d/db = −floor(a/b).
  mod: (g, a, b) => [g, T.neg(T.mul(g, T.floor(T.div(a, b))))],
  pow: (g, a, b, y) => [
    T.mul(g, T.mul(b, T.pow(a, T.sub(b, 1)))),
    T.where(T.gt(a, 0), T.mul(g, T.mul(y, T.log(T.where(T.gt(a, 0), a, 1)))), 0),
  ],
  maximum: (g, a, b) => {
    const tie = T.eq(a, b);
    return [T.where(T.ge(a, b), half(g, tie), 0), T.where(T.ge(b, a), half(g, tie), 0)];
  },
  minimum: (g, a, b) => {
    const tie = T.eq(a, b);
    return [T.where(T.le(a, b), half(g, tie), 0), T.where(T.le(b, a), half(g, tie), 0)];
  },
  atan2: (g, a, b) => {
    const r2 = T.add(T.square(a), T.square(b));
    return [T.div(T.mul(g, b), r2), T.neg(T.div(T.mul(g, a), r2))];
  },
  eq: notDifferentiable, ne: notDifferentiable, lt: notDifferentiable, le: notDifferentiable,
  gt: notDifferentiable, ge: notDifferentiable,
  logical_and: notDifferentiable, logical_or: notDifferentiable, logical_xor: notDifferentiable,
};

function liftUnary(rule: Unary | typeof notDifferentiable) {
  if (rule === notDifferentiable) return notDifferentiable;
  return (context: VjpContext<UnaryOp>) => [rule(context.g, context.inputs[0]!, context.output, context)];
}

function liftBinary(rule: Binary | typeof notDifferentiable) {
  if (rule === notDifferentiable) return notDifferentiable;
  return (context: VjpContext<BinaryOp>) => rule(context.g, context.inputs[0]!, context.inputs[1]!, context.output);
}

export const elementwiseVjps = {
  ...(Object.fromEntries(Object.entries(unaryRules).map(([op, rule]) => [op, liftUnary(rule)])) as VjpTable<UnaryOp>),
  ...(Object.fromEntries(Object.entries(binaryRules).map(([op, rule]) => [op, liftBinary(rule)])) as VjpTable<BinaryOp>),
  where: ({ g, inputs }) => [null, T.where(inputs[0]!, g, 0), T.where(inputs[0]!, 0, g)],
} satisfies VjpTable<UnaryOp | BinaryOp | 'where'>;
