// Update rules in Lasagne's style: each builder returns the ordered [shared, new value]
// pairs that a compiled function writes after every call (referenceFunction's
// `updates`). An optimizer's state (velocities, moment estimates, Adam's step counter)
// lives in shared variables made here with the parameter's shape and dtype and named
// after it (`weights0.velocity`), so it persists from call to call. Also here: the
// global norm of a list of gradients and clipping by it, whose result is a gradient
// list that every builder accepts in place of a loss.
// Left out: learning-rate schedules (pass a symbolic learning rate instead), Adagrad,
// Adadelta, Adamax, AMSGrad, and per-element hyperparameter tensors (scalars only).
//
// Notation of the equations below: w a parameter, g its gradient, η the learning rate,
// t the step number (1 on the first call); every state starts at zero. Hyperparameters
// given as JS numbers are weak constants of each parameter's dtype; Variables must be
// scalars and are cast to it.

import * as T from '@theorbo/graph';
import { GraphError, NDArray, SharedVariable, Variable, captureLocation, type DType } from '@theorbo/graph';
import { grad } from './grad.ts';

/** Ordered [shared variable, its new value] pairs, for a function's `updates`. */
export type Updates = [SharedVariable, Variable][];
/** A scalar hyperparameter: a JS number (a weak constant) or a scalar Variable (e.g. a symbolic learning rate). */
export type Hyperparameter = number | Variable;
/** A scalar loss to differentiate, or one gradient per parameter (e.g. from clipByGlobalNorm). */
export type LossOrGrads = Variable | readonly Variable[];

function fail(op: string, detail: string): never {
  throw new GraphError(op, detail, captureLocation());
}

const describe = (variable: Variable): string => (variable.name ? `'${variable.name}' (${variable.type})` : `${variable.type}`);

/** Checks the parameters, then returns grad(loss, params) or the given gradients after checking they match. */
function gradientsFor(op: string, lossOrGrads: LossOrGrads, params: readonly SharedVariable[]): Variable[] {
  params.forEach((param, i) => {
    if (!(param instanceof SharedVariable)) {
      const kind = (param as Variable).kind;
      fail(op, `parameter ${i}, ${describe(param)}, is ${kind === 'input' || kind === 'output' ? 'an' : 'a'} ${kind}, not a shared variable; updates can only write shared variables (make it with shared(value, name))`);
    }
    if (!T.isFloat(param.dtype)) fail(op, `parameter ${i}, ${describe(param)}, is not a float tensor; only float parameters can be trained`);
    if (params.indexOf(param) !== i) fail(op, `parameter ${i}, ${describe(param)}, is listed twice (also at ${params.indexOf(param)}); list each parameter once`);
  });
  if (lossOrGrads instanceof Variable) return grad(lossOrGrads, params);
  if (lossOrGrads.length !== params.length) {
    fail(op, `was given ${lossOrGrads.length} gradients for ${params.length} parameters; pass one gradient per parameter, in the same order (or the scalar loss)`);
  }
  lossOrGrads.forEach((g, i) => {
    const param = params[i]!;
    const fits = g instanceof Variable && g.ndim === param.ndim && g.shape.every((size, axis) => size === null || size === param.shape[axis]);
    if (!fits || g.dtype !== param.dtype) {
      fail(op, `gradient ${i} has type ${g instanceof Variable ? g.type : typeof g} but parameter ${i}, ${describe(param)}, needs a gradient of its own dtype and shape`);
    }
  });
  return [...lossOrGrads];
}

/** Validates a hyperparameter now and returns its value in a given dtype, made once per dtype. */
function hyperparameter(op: string, name: string, value: Hyperparameter): (dtype: DType) => Variable {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(op, `the ${name} must be a finite number, but it is ${value}`);
  } else if (!(value instanceof Variable) || value.ndim !== 0) {
    fail(op, `the ${name} must be a number or a scalar Variable, but it is ${value instanceof Variable ? describe(value) : typeof value}`);
  }
  const made = new Map<DType, Variable>();
  return (dtype) => {
    let result = made.get(dtype);
    if (!result) {
      result = typeof value === 'number' ? T.scalarConstant(value, dtype) : T.cast(value, dtype);
      made.set(dtype, result);
    }
    return result;
  };
}

const optimizerStates = new WeakSet<SharedVariable>();

/** Whether a shared variable holds an update rule's state (so constrainUpdates leaves it alone by default). */
export function isOptimizerState(variable: Variable): boolean {
  return variable instanceof SharedVariable && optimizerStates.has(variable);
}

/** A zero-filled state variable shaped like `param`, named after it. */
function stateFor(param: SharedVariable, index: number, role: string): SharedVariable {
  const state = T.shared(NDArray.zeros(param.dtype, param.shape as number[]), `${param.name ?? `param${index}`}.${role}`);
  optimizerStates.add(state);
  return state;
}

/** w ← w − η·g */
export function sgd(lossOrGrads: LossOrGrads, params: readonly SharedVariable[], learningRate: Hyperparameter): Updates {
  const grads = gradientsFor('sgd', lossOrGrads, params);
  const eta = hyperparameter('sgd', 'learning rate', learningRate);
  return T.composite('sgd', () => params.map((w, i): [SharedVariable, Variable] => [w, T.sub(w, T.mul(eta(w.dtype), grads[i]!))]));
}

/** v ← μ·v − η·g;  w ← w + v   (classical momentum, Lasagne's `momentum`) */
export function momentum(lossOrGrads: LossOrGrads, params: readonly SharedVariable[], learningRate: Hyperparameter, momentum: Hyperparameter = 0.9): Updates {
  const grads = gradientsFor('momentum', lossOrGrads, params);
  const eta = hyperparameter('momentum', 'learning rate', learningRate);
  const mu = hyperparameter('momentum', 'momentum', momentum);
  return T.composite('momentum', () => params.flatMap((w, i): Updates => {
    const velocity = stateFor(w, i, 'velocity');
    const newVelocity = T.sub(T.mul(mu(w.dtype), velocity), T.mul(eta(w.dtype), grads[i]!));
    return [[w, T.add(w, newVelocity)], [velocity, newVelocity]];
  }));
}

/**
 * v ← μ·v − η·g;  w ← w + μ·v − η·g, with the new v   (Nesterov momentum in the
 * reformulation of Bengio et al. 2013 that Lasagne's `nesterov_momentum` uses: the
 * stored w is the look-ahead point, so g is taken there and no second evaluation is needed)
 */
export function nesterovMomentum(lossOrGrads: LossOrGrads, params: readonly SharedVariable[], learningRate: Hyperparameter, momentum: Hyperparameter = 0.9): Updates {
  const grads = gradientsFor('nesterov_momentum', lossOrGrads, params);
  const eta = hyperparameter('nesterov_momentum', 'learning rate', learningRate);
  const mu = hyperparameter('nesterov_momentum', 'momentum', momentum);
  return T.composite('nesterov_momentum', () => params.flatMap((w, i): Updates => {
    const velocity = stateFor(w, i, 'velocity');
    const step = T.mul(eta(w.dtype), grads[i]!);
    const newVelocity = T.sub(T.mul(mu(w.dtype), velocity), step);
    return [[w, T.sub(T.add(w, T.mul(mu(w.dtype), newVelocity)), step)], [velocity, newVelocity]];
  }));
}

/** a ← ρ·a + (1 − ρ)·g²;  w ← w − η·g / √(a + ε)   (Lasagne's `rmsprop`: ε inside the root) */
export function rmsprop(lossOrGrads: LossOrGrads, params: readonly SharedVariable[], learningRate: Hyperparameter = 1.0, rho: Hyperparameter = 0.9, epsilon: Hyperparameter = 1e-6): Updates {
  const grads = gradientsFor('rmsprop', lossOrGrads, params);
  const eta = hyperparameter('rmsprop', 'learning rate', learningRate);
  const decay = hyperparameter('rmsprop', 'rho', rho);
  const eps = hyperparameter('rmsprop', 'epsilon', epsilon);
  return T.composite('rmsprop', () => params.flatMap((w, i): Updates => {
    const g = grads[i]!;
    const accumulator = stateFor(w, i, 'accumulator');
    const r = decay(w.dtype);
    const newAccumulator = T.add(T.mul(r, accumulator), T.mul(T.sub(1, r), T.square(g)));
    const newW = T.sub(w, T.div(T.mul(eta(w.dtype), g), T.sqrt(T.add(newAccumulator, eps(w.dtype)))));
    return [[w, newW], [accumulator, newAccumulator]];
  }));
}

/**
 * t ← t + 1;  m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;
 * w ← w − η·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)
 * (Kingma & Ba's Adam with the bias correction folded into the step size, as in their
 * section 2 and Lasagne's `adam`; ε sits beside √v, not √v̂). t is one int32 shared
 * step counter for all the parameters, named `adam.t`.
 */
export function adam(lossOrGrads: LossOrGrads, params: readonly SharedVariable[], learningRate: Hyperparameter = 0.001, beta1: Hyperparameter = 0.9, beta2: Hyperparameter = 0.999, epsilon: Hyperparameter = 1e-8): Updates {
  return adamFamily('adam', lossOrGrads, params, learningRate, beta1, beta2, epsilon, undefined);
}

/**
 * Adam's step plus decoupled weight decay (Loshchilov & Hutter's AdamW):
 * w ← w − η·(√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε) + λ·w), with t, m and v updated as in
 * `adam` and λ the weight decay. The decay is scaled by η as in PyTorch's AdamW and
 * never passes through m and v (unlike an l2 penalty added to the loss). It applies to
 * every parameter given: leave biases out or give them their own `adam`.
 */
export function adamw(lossOrGrads: LossOrGrads, params: readonly SharedVariable[], learningRate: Hyperparameter = 0.001, beta1: Hyperparameter = 0.9, beta2: Hyperparameter = 0.999, epsilon: Hyperparameter = 1e-8, weightDecay: Hyperparameter = 0.01): Updates {
  return adamFamily('adamw', lossOrGrads, params, learningRate, beta1, beta2, epsilon, weightDecay);
}

function adamFamily(
  op: 'adam' | 'adamw',
  lossOrGrads: LossOrGrads,
  params: readonly SharedVariable[],
  learningRate: Hyperparameter,
  beta1: Hyperparameter,
  beta2: Hyperparameter,
  epsilon: Hyperparameter,
  weightDecay: Hyperparameter | undefined,
): Updates {
  const grads = gradientsFor(op, lossOrGrads, params);
  const eta = hyperparameter(op, 'learning rate', learningRate);
  const b1 = hyperparameter(op, 'beta1', beta1);
  const b2 = hyperparameter(op, 'beta2', beta2);
  const eps = hyperparameter(op, 'epsilon', epsilon);
  const decay = weightDecay === undefined ? undefined : hyperparameter(op, 'weight decay', weightDecay);
  return T.composite(op, () => {
    // An int32 counter counts exactly; each dtype gets its own float copy of t and step size.
    const counter = T.shared(NDArray.scalar(0, 'int32'), `${op}.t`);
    optimizerStates.add(counter);
    const t = T.add(counter, 1);
    const stepSizes = new Map<DType, Variable>();
    const stepSize = (dtype: DType): Variable => {
      let size = stepSizes.get(dtype);
      if (!size) {
        const tFloat = T.cast(t, dtype);
        const correction = T.div(T.sqrt(T.sub(1, T.pow(b2(dtype), tFloat))), T.sub(1, T.pow(b1(dtype), tFloat)));
        size = T.mul(eta(dtype), correction);
        stepSizes.set(dtype, size);
      }
      return size;
    };
    const updates = params.flatMap((w, i): Updates => {
      const g = grads[i]!;
      const firstMoment = stateFor(w, i, 'm');
      const secondMoment = stateFor(w, i, 'v');
      const beta1Value = b1(w.dtype);
      const beta2Value = b2(w.dtype);
      const newFirst = T.add(T.mul(beta1Value, firstMoment), T.mul(T.sub(1, beta1Value), g));
      const newSecond = T.add(T.mul(beta2Value, secondMoment), T.mul(T.sub(1, beta2Value), T.square(g)));
      let step = T.div(T.mul(stepSize(w.dtype), newFirst), T.add(T.sqrt(newSecond), eps(w.dtype)));
      if (decay) step = T.add(step, T.mul(T.mul(eta(w.dtype), decay(w.dtype)), w));
      return [[w, T.sub(w, step)], [firstMoment, newFirst], [secondMoment, newSecond]];
    });
    updates.push([counter, t]);
    return updates;
  });
}

/** √(Σ over every gradient of Σ g²): the l2 norm of all the gradients as one vector, in the widest dtype among them. */
export function totalNorm(grads: readonly Variable[]): Variable {
  if (grads.length === 0) fail('total_norm', 'was given no gradients; pass at least one');
  grads.forEach((g, i) => {
    if (!(g instanceof Variable) || !T.isFloat(g.dtype)) fail('total_norm', `gradient ${i} is ${g instanceof Variable ? describe(g) : typeof g}; only float tensors have a norm here`);
  });
  return T.composite('total_norm', () => T.sqrt(grads.map((g) => T.sum(T.square(g))).reduce((sum, part) => T.add(sum, part))));
}

/**
 * g ← g · min(1, c / (‖g‖ + ε)) for every gradient, with ‖g‖ the total norm of all of
 * them and c the largest norm allowed: the list is scaled as a whole, so its direction
 * is kept. Below the limit the gradients pass unchanged. The result can be passed to
 * any builder in place of a loss.
 */
export function clipByGlobalNorm(grads: readonly Variable[], maxNorm: Hyperparameter, epsilon = 1e-7): Variable[] {
  const norm = totalNorm(grads);
  const limit = hyperparameter('clip_by_global_norm', 'maximum norm', maxNorm);
  return T.composite('clip_by_global_norm', () => {
    const scale = T.minimum(1, T.div(limit(norm.dtype), T.add(norm, epsilon)));
    return grads.map((g) => T.mul(g, T.cast(scale, g.dtype)));
  });
}
