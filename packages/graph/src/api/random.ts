// Random streams (Theano's RandomStreams): seeded, reproducible draws that advance on
// every call of a compiled function. A stream holds one uint32[2] shared state
// [key, counter]; the k-th draw made from the stream is the `random` op with draw
// number k, and the state's defaultUpdate adds 1 to the counter, so each call sees
// fresh numbers while one call's draws stay distinct through their draw numbers.
// The generator and its element mapping (Philox4x32-10) are specified in ../random.ts.
// Left out: integer distributions other than bernoulli, and per-draw seeding.

import { composite, buildError, applyOp } from '../build.ts';
import type { DType } from '../dtype.ts';
import { constant, shared, type SharedVariable, type Variable } from '../graph.ts';
import { asVariable, type TensorLike } from './convert.ts';
import { sizesToShapeSpec, type SizeLike } from './construct.ts';
import { add, cast, lt, mul, sub } from './elementwise.ts';

export { philox4x32, philoxKeyBumps, philoxMultipliers, philoxRounds } from '../random.ts';

export type RandomDType = 'float32' | 'float64';

export interface UniformOptions {
  low?: TensorLike;
  high?: TensorLike;
  dtype?: RandomDType;
}

export interface NormalOptions {
  mean?: TensorLike;
  std?: TensorLike;
  dtype?: RandomDType;
}

function checkSeed(seed: number): number {
  if (!Number.isInteger(seed)) throw buildError('RandomStreams', `seed ${String(seed)} is not an integer`);
  return seed >>> 0;
}

export class RandomStreams {
  /** `[key, counter]`: key from the seed, counter advanced by one per function call. */
  readonly state: SharedVariable;
  #draws = 0;

  constructor(seed: number) {
    this.state = shared(new Uint32Array([checkSeed(seed), 0]), 'random_state');
    this.state.defaultUpdate = add(this.state, constant(new Uint32Array([0, 1])));
  }

  /** Restarts the stream: key from `seed`, counter 0. Graphs already built keep their draw numbers. */
  seed(seed: number): void {
    this.state.set(new Uint32Array([checkSeed(seed), 0]));
  }

  /** Uniform values in [low, high). */
  uniform(shape: readonly SizeLike[], options: UniformOptions = {}): Variable {
    const { low = 0, high = 1, dtype = 'float32' } = options;
    return composite('uniform', () => {
      const unit = this.#draw('uniform', shape, dtype);
      if (low === 0 && high === 1) return unit;
      const width = typeof low === 'number' && typeof high === 'number' ? high - low : sub(asVariable(high, dtype), asVariable(low, dtype));
      return add(mul(unit, width), low);
    });
  }

  /** Normal values with the given mean and standard deviation. */
  normal(shape: readonly SizeLike[], options: NormalOptions = {}): Variable {
    const { mean = 0, std = 1, dtype = 'float32' } = options;
    return composite('normal', () => {
      const unit = this.#draw('normal', shape, dtype);
      if (mean === 0 && std === 1) return unit;
      return add(mul(unit, std), mean);
    });
  }

  /** 1 with probability p, else 0 (p may be a tensor that broadcasts against shape). */
  bernoulli(shape: readonly SizeLike[], p: TensorLike, dtype: DType = 'float32'): Variable {
    return composite('bernoulli', () => cast(lt(this.#draw('uniform', shape, 'float32'), p), dtype));
  }

  #draw(distribution: 'uniform' | 'normal', shape: readonly SizeLike[], dtype: RandomDType): Variable {
    if (dtype !== 'float32' && dtype !== 'float64') throw buildError(distribution, `draws float32 or float64 values, not ${String(dtype)}`);
    const { spec, inputs } = sizesToShapeSpec(distribution, shape);
    const draw = this.#draws++;
    return applyOp('random', [this.state, ...inputs], { distribution, draw, shape: spec, dtype });
  }
}
