// The update graph of one training step, from a model's loss and parameters and the
// optimizer options: the objective (loss + l2 weight decay + l1 sparsity penalties), its
// gradients, optional clipping by global norm, the chosen update rule from
// @theorbo/autodiff, and max-norm constraints on the new values. The learning rate is a
// symbolic scalar input, so that schedules need no recompilation.
// Weight decay has two meanings, as in the literature: for sgd, momentum and adam it is
// λ·Σw² added to the loss (Lasagne's l2, no factor ½); for adamw it is the decoupled
// decay of Loshchilov & Hutter, applied in the update and never through the moments.
// Left out: per-parameter learning rates, nesterov/rmsprop (autodiff has them; add a case
// here when a model needs one), and gradient accumulation over several batches.

import * as T from '@theorbo/graph';
import type { SharedVariable, Variable } from '@theorbo/graph';
import { adam, adamw, clipByGlobalNorm, constrainUpdates, grad, l1Penalty, l2Penalty, momentum, sgd, type Updates } from '@theorbo/autodiff';

export type UpdateRule = 'sgd' | 'momentum' | 'adam' | 'adamw';
export const updateRules: readonly UpdateRule[] = ['sgd', 'momentum', 'adam', 'adamw'];

export interface OptimizerOptions {
  /** Default 'adam'. */
  rule?: UpdateRule;
  /** The base learning rate; default 0.001 for adam and adamw, 0.01 for sgd and momentum. */
  learningRate?: number;
  /** Momentum's μ (default 0.9). */
  momentum?: number;
  /** Adam's β₁, β₂ and ε (defaults 0.9, 0.999, 1e-8). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** λ of weight decay: λ·Σw² added to the loss, or decoupled for adamw (default 0: none). */
  weightDecay?: number;
  /** The parameters weight decay applies to (default: those of 2 or more dimensions, i.e. weights, not biases). */
  weightDecayParams?: readonly SharedVariable[];
  /** An l1 sparsity penalty weight·Σ|w| added to the loss (default params: those of 2 or more dimensions). */
  l1?: { weight: number; params?: readonly SharedVariable[] };
  /** Rescales each unit's incoming weights to at most this l2 norm after every update (autodiff's maxNormConstraint). */
  maxNorm?: { limit: number; params?: readonly SharedVariable[]; normAxes?: number | readonly number[] };
  /** Scales all the gradients together so that their global l2 norm is at most this. */
  clipGlobalNorm?: number;
}

export function defaultLearningRate(rule: UpdateRule): number {
  return rule === 'adam' || rule === 'adamw' ? 0.001 : 0.01;
}

const weightsOf = (params: readonly SharedVariable[]): SharedVariable[] => params.filter((param) => param.ndim >= 2);

function checkSubset(what: string, chosen: readonly SharedVariable[], params: readonly SharedVariable[]): void {
  chosen.forEach((param) => {
    if (!params.includes(param)) throw new Error(`train: the ${what} lists ${param.name ?? 'a shared variable'} (${param.type}), which is not among the model's params`);
  });
}

function checkNumber(what: string, value: number | undefined, minimum = 0): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= minimum)) throw new Error(`train: ${what} must be a finite number ≥ ${minimum}, not ${value}`);
}

/** Checks the options against the parameters before any graph is built. */
export function checkOptimizerOptions(options: OptimizerOptions, params: readonly SharedVariable[]): void {
  const rule = options.rule ?? 'adam';
  if (!updateRules.includes(rule)) throw new Error(`train: unknown update rule '${String(rule)}' (choose one of ${updateRules.join(', ')})`);
  checkNumber('the learning rate', options.learningRate);
  checkNumber('the weight decay', options.weightDecay);
  checkNumber('the l1 weight', options.l1?.weight);
  checkNumber('the max-norm limit', options.maxNorm?.limit);
  if (options.clipGlobalNorm !== undefined && !(options.clipGlobalNorm > 0)) throw new Error(`train: clipGlobalNorm must be positive, not ${options.clipGlobalNorm}`);
  if (options.weightDecayParams) checkSubset('weightDecayParams', options.weightDecayParams, params);
  if (options.l1?.params) checkSubset('l1 params', options.l1.params, params);
  if (options.maxNorm?.params) checkSubset('maxNorm params', options.maxNorm.params, params);
}

/**
 * [shared, new value] pairs for one training step: the parameters, the optimizer's
 * state, in the order the rules make them. `learningRate` is a float32 scalar input.
 */
export function buildTrainingUpdates(loss: Variable, params: readonly SharedVariable[], options: OptimizerOptions, learningRate: Variable): Updates {
  checkOptimizerOptions(options, params);
  const rule = options.rule ?? 'adam';
  const decay = options.weightDecay ?? 0;
  const decayed = options.weightDecayParams ?? weightsOf(params);
  let objective = loss;
  if (decay > 0 && rule !== 'adamw' && decayed.length > 0) objective = T.add(objective, T.mul(decay, l2Penalty(decayed)));
  if (options.l1 && options.l1.weight > 0) {
    const sparse = options.l1.params ?? weightsOf(params);
    if (sparse.length > 0) objective = T.add(objective, T.mul(options.l1.weight, l1Penalty(sparse)));
  }
  let gradients = grad(objective, [...params]);
  if (options.clipGlobalNorm !== undefined) gradients = clipByGlobalNorm(gradients, options.clipGlobalNorm);

  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const epsilon = options.epsilon ?? 1e-8;
  let updates: Updates;
  switch (rule) {
    case 'sgd':
      updates = sgd(gradients, params, learningRate);
      break;
    case 'momentum':
      updates = momentum(gradients, params, learningRate, options.momentum ?? 0.9);
      break;
    case 'adam':
      updates = adam(gradients, params, learningRate, beta1, beta2, epsilon);
      break;
    case 'adamw': {
      // Decoupled decay only on the chosen parameters: the others take plain Adam steps
      // (with their own step counter, which counts the same steps).
      const withDecay = params.map((param) => decay > 0 && decayed.includes(param));
      const pick = <V>(list: readonly V[], flag: boolean): V[] => list.filter((_, i) => withDecay[i] === flag);
      updates = [];
      if (withDecay.some((flag) => flag)) updates.push(...adamw(pick(gradients, true), pick(params, true), learningRate, beta1, beta2, epsilon, decay));
      if (withDecay.some((flag) => !flag)) updates.push(...adam(pick(gradients, false), pick(params, false), learningRate, beta1, beta2, epsilon));
      break;
    }
  }
  if (options.maxNorm) {
    const constrained = options.maxNorm.params ?? weightsOf(params);
    if (constrained.length > 0) updates = constrainUpdates(updates, options.maxNorm.limit, constrained, { normAxes: options.maxNorm.normAxes });
  }
  return updates;
}
