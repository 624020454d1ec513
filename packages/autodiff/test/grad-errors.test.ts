// The sentences grad raises, each checked for its fragments: 'grad', the type, the
// variable's name, and this file as the place the user asked (a non-scalar or integer
// cost, an integer or bool wrt, a disconnected wrt, a wrt reached only through argmax
// or stopGradient), and what { disconnected: 'zero' } gives instead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, expectGraphError } from '@theorbo/graph/testing';
import { grad, hessian, jacobian } from '../src/index.ts';

const here = 'grad-errors.test.ts';

test('the gradient of a non-scalar cost', () => {
  const x = T.tensor('float32', [3, 4], 'x');
  const loss = T.sum(T.square(x), 1);
  loss.name = 'loss';
  expectGraphError(() => grad(loss, x), 'grad', "'loss'", 'float32[3]', 'must be a scalar', 'sum or mean', here);
  // Unnamed, and with a shape known only at run time.
  expectGraphError(() => grad(T.exp(T.matrix('m')), T.matrix('w')), 'grad', 'float32[?,?]', 'must be a scalar', here);
});

test('the gradient of an integer cost', () => {
  const x = T.vector('x');
  const count = T.sum(T.cast(T.gt(x, 0), 'int32'));
  count.name = 'count';
  expectGraphError(() => grad(count, x), 'grad', "'count'", 'int32[]', 'float scalar', here);
});

test('the gradient with respect to an integer or bool input', () => {
  const x = T.vector('x');
  const indices = T.ivector('indices');
  const cost = T.sum(T.get(x, indices));
  expectGraphError(() => grad(cost, indices), 'grad', "'indices'", 'int32[?]', 'only float variables have gradients', here);
  const mask = T.tensor('bool', [4], 'mask');
  expectGraphError(() => grad(T.sum(T.where(mask, x, 0)), [x, mask]), 'grad', "'mask'", 'bool[4]', here);
  // Unnamed: the sentence says what kind of variable it is instead.
  expectGraphError(() => grad(cost, T.add(indices, 1)), 'grad', 'an output of type int32[?]', here);
});

test('the gradient of a disconnected input raises by default, naming it', () => {
  const x = T.vector('x');
  const bias = T.tensor('float64', [3], 'bias');
  const cost = T.sum(T.square(x));
  expectGraphError(() => grad(cost, [x, bias]), 'grad', "'bias'", 'float64[3]', 'does not depend on', "{ disconnected: 'zero' }", here);
  // A considered-constant path counts as disconnected too.
  const hidden = T.mul(bias, 2);
  expectGraphError(() => grad(T.sum(hidden), bias, { considerConstant: [hidden] }), 'grad', "'bias'", 'does not depend on', here);
  // An unnamed variable is described by its kind and type.
  expectGraphError(() => grad(cost, T.tensor('float32', [2, 2])), 'grad', 'an input of type float32[2,2]', here);
});

test("{ disconnected: 'zero' } returns zeros of the input's type", () => {
  const x = T.vector('x');
  const bias = T.tensor('float64', [3], 'bias');
  const weights = T.matrix('weights');
  const cost = T.sum(T.square(x));
  const [gx, gBias, gWeights] = grad(cost, [x, bias, weights], { disconnected: 'zero' });
  assert.is(gBias!.type.toString(), 'float64[3]');
  assert.is(gWeights!.dtype, 'float32');
  assert.is(gWeights!.ndim, 2);
  const [vx, vBias, vWeights] = T.evaluate([gx!, gBias!, gWeights!], [
    [x, T.array([1, 2])],
    [bias, T.array([1, 2, 3], { dtype: 'float64' })],
    [weights, T.NDArray.zeros('float32', [2, 5])],
  ]);
  assertClose(vx!, [2, 4]);
  assertClose(vBias!, [0, 0, 0]);
  assertClose(vWeights!, T.NDArray.zeros('float32', [2, 5]));
});

test('the gradient through a non-differentiable op only (argmax, stopGradient)', () => {
  const x = T.tensor('float32', [5], 'scores');
  const winner = T.cast(T.argmax(x), 'float32');
  expectGraphError(() => grad(winner, x), 'grad', "'scores'", 'float32[5]', 'only through ops without a gradient', here);
  expectGraphError(() => grad(T.sum(T.stopGradient(T.exp(x))), x), 'grad', "'scores'", 'does not depend on', here);
  // With zeros asked for, argmax's path gives zeros, not an error.
  const g = grad(T.add(winner, T.sum(T.mul(x, 0))), x, { disconnected: 'zero' });
  assertClose(T.evaluate(g, [[x, T.array([1, 5, 2, 0, 3])]]), [0, 0, 0, 0, 0]);
});

test('jacobian and hessian of an expression whose size is not static', () => {
  const x = T.vector('x');
  expectGraphError(() => jacobian(T.exp(x), x), 'jacobian', 'float32[?]', 'static', here);
  expectGraphError(() => hessian(T.sum(T.exp(x)), x), 'jacobian', 'float32[?]', here);
  // hessian checks its cost the way grad does.
  expectGraphError(() => hessian(T.exp(x), x), 'grad', 'must be a scalar', here);
});

test.run();
