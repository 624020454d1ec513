// Every differentiable op's gradient against finite differences (float64, reference
// evaluator), one line per case through verifyGrad, over several shapes with
// broadcasting, size-1 axes and unknown static shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import type { Variable } from '@theorbo/graph';
import { verifyGrad, grad } from '../src/index.ts';
import { cases, r } from './grad-cases.ts';

for (const [name, fn, inputs] of cases) {
  test(`grad of ${name}`, () => {
    verifyGrad(fn, inputs);
  });
}

test('grad of cast through float32', () => {
  // The function is linear but rounds to float32 (relative steps of 6e-8), so finite
  // differences need a wide step to see the slope rather than the rounding.
  verifyGrad((x) => T.mul(T.cast(T.cast(x, 'float32'), 'float64'), 3), [r(5)], { eps: 1e-2, rtol: 1e-4 });
});

for (const [name, fn, inputs] of cases.filter(([name]) => /^(add \[3,4\] \[4\]|sum axis 1|matmul 2-D|reshape|concat|softmax|advanced gather with repeats|slice|pad reflect)/.test(name))) {
  test(`grad of ${name} with unknown static shapes`, () => {
    verifyGrad(fn, inputs, { unknownShapes: true });
  });
}

test('verifyGrad catches a wrong gradient', () => {
  // stop_gradient hides x² from the gradient but not from finite differences.
  let threw = false;
  try {
    verifyGrad((x) => T.add(x, T.stopGradient(T.square(x))), [r(3)]);
  } catch (error) {
    threw = /wrong at \[\d\]/.test(String(error));
  }
  assert.ok(threw, 'verifyGrad accepted a gradient that ignores half of the function');
});

test('gradients have the dtypes and shapes of wrt', () => {
  const x = T.matrix('x');
  const b = T.tensor('float32', [1, 3], 'b');
  const [gx, gb] = grad(T.sum(T.mul(x, b)), [x, b]);
  // A gradient's static shape may know more than wrt's (here that x has 3 columns), never less.
  const fits = (g: Variable, w: Variable) => g.dtype === w.dtype && g.ndim === w.ndim && w.shape.every((d, i) => d === null || d === g.shape[i]);
  assert.ok(fits(gx!, x) && fits(gb!, b) && gb!.type.toString() === 'float32[1,3]', `${gx!.type} ${gb!.type}`);
});

test.run();
