// The stabilize pass: expressions that overflow, underflow or lose their precision in
// floating point become forms that do not, the way Theano's optimizer spared its users.
//
//   log(softmax(a))                 → a − log Σ exp(a)           (log-softmax)
//   log(softmax(a)[i, t])           → (a − log Σ exp(a))[i, t]   (cross-entropy of a softmax)
//   log Σ exp(a)                    → m + log Σ exp(a − m), m = max a (a constant to autodiff)
//   log(exp(x))                     → x
//   log(1 + x)                      → log1p(x)
//   exp(x) − 1                      → expm1(x)
//   log(sigmoid(x))                 → −softplus(−x)
//   log(1 − sigmoid(x))             → −softplus(x)
//   sqrt(x²)                        → |x|
//
// A softmax is recognised in the forms that build it: exp(a) / Σ exp(a) with the sum
// kept (keepdims, or a dimshuffle that puts the reduced axes back), which covers both
// nn.ts's softmax (a = x − stop_gradient(max x)) and the naive exp(x)/sum(exp(x)). Its
// logarithm becomes a − log Σ exp(a); where a is not already shifted by its maximum,
// the logsumexp rule then shifts it. The patterns assume canonicalize's forms (exp(x)
// − 1 is add(exp(x), −1)) and also accept the sub spelling. Rules fire only for float
// operands and where the constant does not broadcast the result.
// Gradients: taking grad of the optimized cost gives stable gradients; a gradient graph
// built from the unstable cost (g / softmax(x) ...) is not rewritten into a stable one.

import { applyOp } from '../build.ts';
import { isFloat } from '../dtype.ts';
import type { Variable } from '../graph.ts';
import { abs, add, exp, expm1, log, log1p, lt, neg, softplus, stopGradient, sub, where } from '../api/elementwise.ts';
import { maxOrMinusInfinity } from '../api/reduce.ts';
import { pass, rule } from './engine.ts';
import { attrsOf, capture, oneOf, op, opFirst, same, sameType, uniform } from './pattern.ts';

const x = capture('x');

// ---- softmax forms ----

interface SoftmaxParts {
  /** The exponent: softmax(a) = exp(a) / Σ exp(a). */
  readonly a: Variable;
  /** The sum node (with or without keepdims) and how it is put back to a's rank. */
  readonly total: Variable;
  readonly restore: readonly (number | 'x')[] | undefined;
}

/** The parts of `p` when it is exp(a) / (Σ exp(a) over some axes, kept), else undefined. */
export function softmaxParts(p: Variable): SoftmaxParts | undefined {
  if (p.owner?.op !== 'div') return undefined;
  const [e, denominator] = p.owner.inputs as [Variable, Variable];
  if (e.owner?.op !== 'exp' || !isFloat(e.owner.inputs[0]!.dtype)) return undefined;
  const a = e.owner.inputs[0]!;
  const restore = denominator.owner?.op === 'dimshuffle' ? attrsOf(denominator, 'dimshuffle').pattern : undefined;
  const total = restore ? denominator.owner!.inputs[0]! : denominator;
  if (total.owner?.op !== 'sum' || !same(total.owner.inputs[0]!, e)) return undefined;
  const { axes, keepdims } = attrsOf(total, 'sum');
  if (axes.length === 0 || keepdims === (restore !== undefined)) return undefined;
  if (restore) {
    // The dimshuffle must put 'x' exactly where the reduced axes were, the rest in order.
    let next = 0;
    const expected = e.shape.map((_, axis) => (axes.includes(axis) ? 'x' : next++));
    if (restore.length !== expected.length || restore.some((entry, i) => entry !== expected[i])) return undefined;
  }
  return { a, total, restore };
}

/** log(softmax) as a − log Σ exp(a), the sum node reused (its log then meets the logsumexp rule). */
function logSoftmaxOf({ a, total, restore }: SoftmaxParts): Variable {
  const logTotal = log(total);
  return sub(a, restore ? applyOp('dimshuffle', [logTotal], { pattern: restore }) : logTotal);
}

const softmax = capture('p').where((_, { p }) => softmaxParts(p) !== undefined);

export const logSoftmax = rule('log-softmax', op('log', softmax), ({ p }) => logSoftmaxOf(softmaxParts(p)!));

/** log(gather(softmax)) → gather(log-softmax): categorical cross-entropy of a softmax with class indices. */
export const logGatheredSoftmax = rule(
  'log-gathered-softmax',
  op('log', oneOf(opFirst('advanced_subtensor', softmax), opFirst('subtensor', softmax)).as('gathered')),
  ({ p, gathered }) => {
    const node = gathered.owner!;
    return applyOp(node.op, [logSoftmaxOf(softmaxParts(p)!), ...node.inputs.slice(1)], node.attrs as never);
  },
);

// ---- logsumexp ----

/** Whether `a` is y − m (or y − stop_gradient(m)) with m the max of y over `axes` (or logsumexp's guarded max). */
function shiftedByMax(a: Variable, axes: readonly number[]): boolean {
  if (a.owner?.op !== 'sub') return false;
  const [y, shift] = a.owner.inputs as [Variable, Variable];
  let peak = shift.owner?.op === 'stop_gradient' ? shift.owner.inputs[0]! : shift;
  if (peak.owner?.op === 'where') peak = peak.owner.inputs[1]!;
  if (peak.owner?.op !== 'max') return false;
  let maxed = peak.owner.inputs[0]!;
  if (maxed.owner?.op === 'pad' && attrsOf(maxed, 'pad').value === -Infinity) maxed = maxed.owner.inputs[0]!;
  if (!same(maxed, y)) return false;
  const attrs = attrsOf(peak, 'max');
  return attrs.keepdims && attrs.axes.length === axes.length && attrs.axes.every((axis, i) => axis === axes[i]);
}

/**
 * log Σ exp(a) → log Σ exp(a − m) + m with m the max over the same axes, taken as 0
 * where it is not finite (so an all −∞ slice gives −∞, not NaN), as api/reduce.ts's
 * logsumexp does. Not applied to an `a` that is already shifted, nor over an axis of
 * static size 0; over an axis of unknown size the max is padded with −∞, so that one
 * that is 0 at run time gives log 0 = −∞ as the sum would have.
 */
export const logSumExp = rule(
  'logsumexp',
  op('log', op('sum', op('exp', capture('a'))).as('total')).where((_, { a, total }) => {
    const { axes } = attrsOf(total, 'sum');
    return isFloat(a.dtype) && axes.length > 0 && axes.every((axis) => a.shape[axis] !== 0) && !shiftedByMax(a, axes);
  }),
  ({ a, total }) => {
    const { axes, keepdims } = attrsOf(total, 'sum');
    const peak = maxOrMinusInfinity(a, axes);
    const shift = stopGradient(where(lt(abs(peak), Infinity), peak, 0));
    const shifted = log(applyOp('sum', [exp(sub(a, shift))], { axes, keepdims }));
    const kept = a.shape.map((_, axis) => axis).filter((axis) => !axes.includes(axis));
    return add(shifted, keepdims ? shift : applyOp('dimshuffle', [shift], { pattern: kept }));
  },
);

export const logExp = rule('log-exp', op('log', op('exp', x)).where((variable, { x }) => sameType(variable, x)), ({ x }) => x);

// ---- log1p, expm1 ----

const floatX = (_: Variable, { x }: { readonly x: Variable }): boolean => isFloat(x.dtype);

export const log1pRule = rule(
  'log1p',
  op('log', op('add', x, uniform(1)).as('sum')).where((_, { x, sum }) => isFloat(x.dtype) && sameType(sum, x)),
  ({ x }) => log1p(x),
);

export const expm1Rule = rule(
  'expm1',
  oneOf(op('add', op('exp', x).as('e'), uniform(-1)), op('sub', op('exp', x).as('e'), uniform(1))).where((variable, { e }) => sameType(variable, e)),
  ({ x }) => expm1(x),
);

// ---- sigmoid ----

export const logSigmoid = rule('log-sigmoid', op('log', op('sigmoid', x)).where(floatX), ({ x }) => neg(softplus(neg(x))));

export const logOneMinusSigmoid = rule(
  'log-one-minus-sigmoid',
  op('log', oneOf(op('sub', uniform(1), op('sigmoid', x).as('s')), op('add', op('neg', op('sigmoid', x).as('s')), uniform(1))).as('difference'))
    .where((_, { x, s, difference }) => isFloat(x.dtype) && sameType(difference, s)),
  ({ x }) => neg(softplus(x)),
);

// ---- sqrt of a square ----

export const sqrtSquare = rule(
  'sqrt-square',
  op('sqrt', oneOf(op('square', x), op('mul', x, x), op('pow', x, uniform(2)))).where((variable, { x }) => isFloat(x.dtype) && sameType(variable, x)),
  ({ x }) => abs(x),
);

export const stabilizePass = pass('stabilize', [
  logSoftmax, logGatheredSoftmax, logSumExp, logExp, logOneMinusSigmoid, log1pRule, expm1Rule, logSigmoid, sqrtSquare,
]);
