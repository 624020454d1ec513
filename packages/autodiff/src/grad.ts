// Reverse-mode differentiation (Theano's T.grad): a reverse topological walk over the
// cost's graph, one table look-up per node, and an accumulation of gradients per
// variable. The gradient is itself a graph of ordinary ops, so it can be rewritten,
// compiled and differentiated again. Broadcasting is undone here, once, by summing a
// gradient over the axes its variable was stretched along.

import * as T from '@theorbo/graph';
import { GraphError, captureLocation, type Variable } from '@theorbo/graph';
import { notDifferentiable, type VjpRule } from './rules/rule.ts';
import { vjpTable } from './rules/table.ts';

export interface GradOptions {
  /** Variables treated as constants: no gradient flows through them (Theano's consider_constant). */
  considerConstant?: readonly Variable[];
  /** Gradients already known for intermediate variables; they are added to what flows in. */
  knownGrads?: ReadonlyMap<Variable, Variable> | readonly (readonly [Variable, Variable])[];
  /** What to do with a `wrt` the cost does not depend on: raise (default) or return zeros. */
  disconnected?: 'raise' | 'zero';
}

/** Sums `g` over the axes along which `target` was broadcast, and casts it to target's dtype. */
export function unbroadcast(g: Variable, target: Variable): Variable {
  let result = g;
  const extra = result.ndim - target.ndim;
  const axes: number[] = [];
  for (let axis = 0; axis < result.ndim; axis++) {
    if (axis < extra) axes.push(axis);
    else if (target.shape[axis - extra] === 1 && result.shape[axis] !== 1) axes.push(axis);
  }
  if (axes.length > 0) {
    result = T.sum(result, axes, true);
    if (extra > 0) result = T.dimshuffle(result, ...target.shape.map((_, axis) => axis + extra));
  }
  return result.dtype === target.dtype ? result : T.cast(result, target.dtype);
}

function fail(detail: string): never {
  throw new GraphError('grad', detail, captureLocation());
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');
const label = (variable: Variable): string =>
  (variable.name ? `'${variable.name}' (${variable.type})` : `${article(variable.kind)} ${variable.kind} of type ${variable.type}`);

export function grad(cost: Variable, wrt: Variable, options?: GradOptions): Variable;
export function grad(cost: Variable, wrt: readonly Variable[], options?: GradOptions): Variable[];
export function grad(cost: Variable, wrt: Variable | readonly Variable[], options: GradOptions = {}): Variable | Variable[] {
  const targets = Array.isArray(wrt) ? (wrt as readonly Variable[]) : [wrt as Variable];
  const costName = cost.name ? ` '${cost.name}'` : '';
  if (cost.ndim !== 0) fail(`the cost${costName} must be a scalar, but it is ${cost.type}; reduce it first (sum or mean)`);
  if (!T.isFloat(cost.dtype)) fail(`the cost${costName} must be a float scalar, but it is ${cost.type}`);
  for (const target of targets) {
    if (!T.isFloat(target.dtype)) fail(`cannot differentiate with respect to ${label(target)}: only float variables have gradients`);
  }
  const gradients = backpropagate(cost, targets, options);
  const results = targets.map((target) => {
    const found = gradients.get(target);
    if (found) return refineShape(found, target);
    if (options.disconnected === 'zero') return T.zerosLike(target);
    return fail(`the cost does not depend on ${label(target)} (or only through ops without a gradient); pass { disconnected: 'zero' } to get zeros`);
  });
  return Array.isArray(wrt) ? results : results[0]!;
}

/**
 * A gradient has its variable's shape; where the graph could not prove a size that the
 * variable's type knows (x·w with x of unknown size), a reshape to that static shape
 * (free: index arithmetic) says so, so that updates and optimizers see exact types.
 */
function refineShape(gradient: Variable, target: Variable): Variable {
  const loose = target.shape.some((dim, axis) => dim !== null && gradient.shape[axis] === null);
  return loose ? T.reshape(gradient, target.shape.map((dim, axis) => dim ?? T.dim(gradient, axis))) : gradient;
}

/** Gradients of `targets` in an inner graph from gradients known for some of its variables (VjpContext.differentiate). */
function differentiate(known: ReadonlyMap<Variable, Variable>, targets: readonly Variable[]): Map<Variable, Variable> {
  const total = backpropagate(T.constant(0, { dtype: 'float32' }), targets, { knownGrads: known });
  return new Map(targets.flatMap((target) => (total.has(target) ? [[target, total.get(target)!] as const] : [])));
}

/**
 * The reverse walk. Returns the accumulated gradient of every variable on a path from
 * the targets to the cost (and of nothing else).
 */
export function backpropagate(cost: Variable, targets: readonly Variable[], options: GradOptions = {}): Map<Variable, Variable> {
  const constants = new Set(options.considerConstant ?? []);
  const known = new Map(options.knownGrads instanceof Map ? options.knownGrads : (options.knownGrads as [Variable, Variable][] | undefined) ?? []);
  // Known gradients count even for variables the cost does not reach (as in Theano).
  const order = T.topologicalOrder([cost, ...known.keys()]);
  // Only nodes that lie between a target and the cost (or a known gradient) need a gradient.
  const wanted = new Set<Variable>(targets);
  for (const variable of known.keys()) wanted.add(variable);
  const relevant = new Set<Variable>();
  for (const variable of order) {
    if (wanted.has(variable) || variable.owner?.inputs.some((input) => relevant.has(input))) relevant.add(variable);
  }
  const contributions = new Map<Variable, Variable[]>();
  const push = (variable: Variable, g: Variable) => {
    const list = contributions.get(variable);
    if (list) list.push(g);
    else contributions.set(variable, [g]);
  };
  push(cost, T.onesLike(cost));
  for (const [variable, g] of known) push(variable, g);
  const total = new Map<Variable, Variable>();
  for (let i = order.length - 1; i >= 0; i--) {
    const variable = order[i]!;
    const parts = contributions.get(variable);
    if (!parts || !relevant.has(variable)) continue;
    const g = parts.reduce((sum, part) => T.add(sum, part));
    total.set(variable, g);
    const node = variable.owner;
    if (!node || constants.has(variable)) continue;
    const entry = vjpTable[node.op];
    if (entry === notDifferentiable) continue;
    const inputGrads = (entry as VjpRule)({ node, inputs: node.inputs, output: variable, g, differentiate });
    node.inputs.forEach((input, k) => {
      const inputGrad = inputGrads[k];
      if (!inputGrad || !relevant.has(input) || !T.isFloat(input.dtype)) return;
      push(input, unbroadcast(inputGrad, input));
    });
  }
  return total;
}
