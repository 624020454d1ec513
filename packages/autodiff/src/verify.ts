// verifyGrad: checks symbolic gradients against central finite differences, in
// float64 through the reference evaluator (Theano's verify_grad). A non-scalar output
// is reduced with a fixed random projection, so every element's gradient is checked.
// A failure reports the input, the worst element, both values and the error.

import * as T from '@theorbo/graph';
import { seededRandom, unravel } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import { grad } from './grad.ts';

export interface VerifyGradOptions {
  /** Finite-difference step (default 1e-5: truncation ~1e-10, round-off ~1e-11 in float64). */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Seed of the random projection of non-scalar outputs. */
  seed?: number;
  /** Declare the symbolic inputs with unknown dimensions instead of their values' shapes. */
  unknownShapes?: boolean;
}

export interface VerifyGradReport {
  /** Largest |analytic − numeric| / (atol + rtol·|numeric|) over all checked elements (≤ 1 passes). */
  worstRatio: number;
  checkedElements: number;
}

export class GradientCheckError extends Error {
  override name = 'GradientCheckError';
}

/**
 * Checks the gradient of `fn` at `inputs`. Float inputs are promoted to float64 and
 * differentiated; integer and bool inputs are passed through unchanged (indices, masks).
 */
export function verifyGrad(fn: (...inputs: Variable[]) => Variable, inputs: readonly NDArray[], options: VerifyGradOptions = {}): VerifyGradReport {
  const { eps = 1e-5, rtol = 1e-6, atol = 1e-8, seed = 42 } = options;
  const values = inputs.map((value) => (T.isFloat(value.dtype) ? value.astype('float64') : value));
  const variables = values.map((value, i) =>
    T.tensor(value.dtype, options.unknownShapes ? value.shape.map(() => null) : value.shape, `input${i}`));
  const output = fn(...variables);
  const outValue = T.evaluate(output, variables.map((v, i) => [v, values[i]!] as const));
  const random = seededRandom(seed);
  const projection = T.array(Float64Array.from({ length: outValue.size }, () => 0.5 + random()), { shape: outValue.shape });
  const cost = output.ndim === 0 ? T.cast(output, 'float64') : T.sum(T.mul(T.cast(output, 'float64'), T.constant(projection)));
  const differentiable = variables.map((v, i) => i).filter((i) => T.isFloat(values[i]!.dtype));
  const gradients = grad(cost, differentiable.map((i) => variables[i]!), { disconnected: 'zero' });
  const givens = () => variables.map((v, i) => [v, values[i]!] as const);
  const analytic = T.evaluate(gradients, givens());
  const evaluateCost = () => T.evaluate(cost, givens()).data[0]!;

  let worstRatio = 0;
  let checked = 0;
  differentiable.forEach((inputIndex, k) => {
    const data = values[inputIndex]!.data as Float64Array;
    const symbolic = analytic[k]!;
    for (let element = 0; element < data.length; element++) {
      const saved = data[element]!;
      data[element] = saved + eps;
      const up = evaluateCost();
      data[element] = saved - eps;
      const down = evaluateCost();
      data[element] = saved;
      const numeric = (up - down) / (2 * eps);
      const got = symbolic.data[element]!;
      const ratio = Math.abs(got - numeric) / (atol + rtol * Math.abs(numeric));
      checked++;
      if (!(ratio <= 1)) {
        const index = unravel(element, values[inputIndex]!.shape);
        throw new GradientCheckError(
          `verifyGrad: the gradient with respect to input ${inputIndex} (${variables[inputIndex]!.type}) is wrong at [${index.join(',')}]: ` +
          `symbolic ${got}, finite differences ${numeric} (|difference| ${Math.abs(got - numeric).toExponential(2)}, rtol ${rtol}, atol ${atol}, eps ${eps})`,
        );
      }
      worstRatio = Math.max(worstRatio, ratio);
    }
  });
  return { worstRatio, checkedElements: checked };
}
