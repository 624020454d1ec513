// Dropout whose behaviour depends on a training flag: a float32 shared scalar that is 1
// while training and 0 at evaluation. The flag holds 0, so a function compiled
// outside train() (inference, the CLI) sees the identity; train() compiles its step with
// the flag replaced by the constant 1 and its evaluation with the constant 0 (compile's
// `givens`), so neither compiled function reads the flag at run time and the evaluation
// graph folds the random draw away.
//   training:   x · m / (1 − rate), m ~ Bernoulli(1 − rate) per element ("inverted" dropout)
//   evaluation: x
// The mask comes from a RandomStreams, so it is the same on every device and its state
// (a shared `random_state`) is saved in checkpoints like any other shared variable.
// Left out: spatial dropout (masks shared along axes), gaussian dropout, alpha dropout.

import * as T from '@theorbo/graph';
import { NDArray, SharedVariable, type RandomStreams, type Variable } from '@theorbo/graph';

/** The flag that dropout layers read: float32 scalar, 0 (evaluation) until train() substitutes 1. */
export function trainingFlag(name = 'training'): SharedVariable {
  return T.shared(NDArray.scalar(0, 'float32'), name);
}

/** x with each element zeroed with probability `rate` and the rest scaled by 1/(1 − rate) while the flag is 1; x itself while it is 0. */
export function dropout(x: Variable, rate: number, stream: RandomStreams, flag: SharedVariable): Variable {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: the rate is the probability of dropping an element and must be in [0, 1), not ${rate}`);
  if (!(flag instanceof SharedVariable) || flag.ndim !== 0) {
    throw new Error(`dropout: the training flag must be a scalar shared variable made with trainingFlag(), not ${flag instanceof T.Variable ? flag.type : typeof flag}`);
  }
  if (rate === 0) return x;
  const keep = 1 - rate;
  const shape = x.shape.map((size, axis) => size ?? x.dim(axis));
  const mask = stream.bernoulli(shape, keep, x.dtype);
  const dropped = T.mul(x, T.mul(mask, T.scalarConstant(1 / keep, x.dtype)));
  return T.where(T.gt(flag, 0), dropped, x);
}
