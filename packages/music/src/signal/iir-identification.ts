// System identification with the IIR filterbank: recover one biquad's coefficients from
// its input and output by gradient descent through the scan (output error: the mean of
// (bank(x) − y)² over every sample, Adam on the stable parameters b, ρ, θ). Segments are
// filtered from zero state, so a segment longer than the impulse response's decay holds
// all the information; several short segments make a short scan (the step count is what
// costs). On the reference evaluator the fit runs in float64; on a device in float32.
// Left out: noisy outputs (no regularization or early stopping), real poles (the stable
// parameters hold complex pairs), several biquads at once.
//
// Shapes: input, output [segments, samples].

import * as T from '@theorbo/graph';
import { adam } from '@theorbo/autodiff';
import { compile, readShared, type AcquiredDevice } from '@theorbo/codegen';
import { biquadsFromParameters, defaultMaxRadius, stableIirFilterbank, stableParameters, type Biquad } from './iir-filterbank.ts';

export interface IdentificationOptions {
  /** Where the fit starts (complex poles). */
  start: Biquad;
  /** Adam steps (default 300). */
  steps?: number;
  /** Adam's learning rate at a step (default 0.05, then 0.01 from half way, 0.002 from 80 %). */
  rate?: (step: number, steps: number) => number;
  /** Compile on this device (float32); default the reference evaluator in float64. */
  device?: AcquiredDevice;
  maxRadius?: number;
  /** Called with each step's loss (before that step's update). */
  onStep?: (step: number, loss: number) => void;
}

export interface Identification { biquad: Biquad; losses: Float64Array }

export const defaultIdentificationRate = (step: number, steps: number): number => (step < 0.5 * steps ? 0.05 : step < 0.8 * steps ? 0.01 : 0.002);

/** Fits one biquad to input → output pairs: [segments, samples] each, every segment from zero state. */
export async function identifyBiquad(input: T.NDArray, output: T.NDArray, options: IdentificationOptions): Promise<Identification> {
  const { start, steps = 300, rate = defaultIdentificationRate, device, maxRadius = defaultMaxRadius, onStep } = options;
  if (input.ndim !== 2 || output.ndim !== 2 || input.shape[0] !== output.shape[0] || input.shape[1] !== output.shape[1]) {
    throw new Error(`identifyBiquad: input and output must both be [segments, samples], but got [${input.shape.join(', ')}] and [${output.shape.join(', ')}]`);
  }
  const dtype = device === undefined || device.kind === 'reference' ? 'float64' : 'float32';
  const initial = stableParameters([start], dtype, maxRadius);
  const b = T.shared(initial.numerator, 'identified_b');
  const radiusLogit = T.shared(initial.radiusLogit, 'identified_radius_logit');
  const angle = T.shared(initial.angle, 'identified_angle');
  const x = T.tensor(dtype, [null, null], 'input');
  const target = T.tensor(dtype, [null, null], 'output');
  const responses = stableIirFilterbank(x, { numerator: b, radiusLogit, angle }, maxRadius);
  const difference = T.sub(T.reshape(responses, [T.dim(x, 0), T.dim(x, 1)]), target);
  const loss = T.mean(T.mul(difference, difference));
  const scalar = (value: number) => T.array(dtype === 'float64' ? new Float64Array([value]) : new Float32Array([value]), { shape: [], dtype });
  const learningRate = T.shared(scalar(rate(0, steps)), 'identification_rate');
  const spec = { inputs: [x, target], outputs: [loss], updates: adam(loss, [b, radiusLogit, angle], learningRate) };
  const step = device === undefined ? T.referenceFunction(spec) : compile({ ...spec, device });
  const data = [input.astype(dtype), output.astype(dtype)] as const;
  const losses = new Float64Array(steps);
  let current = rate(0, steps);
  for (let i = 0; i < steps; i++) {
    if (rate(i, steps) !== current) learningRate.set(scalar((current = rate(i, steps))));
    const [value] = (await step(...data)) as T.NDArray[];
    losses[i] = value!.data[0]!;
    onStep?.(i, losses[i]!);
  }
  const read = async (variable: T.SharedVariable) => (device === undefined ? variable.get() : readShared(variable));
  const values = { numerator: await read(b), radiusLogit: await read(radiusLogit), angle: await read(angle) };
  return { biquad: biquadsFromParameters(values, maxRadius)[0]!, losses };
}
