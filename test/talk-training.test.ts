// The talk's program, step 3: the update rule for all six parameters. The gradient of
// the loss with respect to each parameter is checked against central finite
// differences (float64, on a sample of elements per parameter), and one hundred SGD
// steps under the reference evaluator lower the loss on a fixed synthetic batch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { seededRandom } from '@theorbo/graph/testing';
import { grad } from '@theorbo/autodiff';
import { buildTalkProgram, syntheticBatch } from '../examples/talk-network.ts';

test('the gradient of the talk loss matches finite differences for every parameter', () => {
  const program = buildTalkProgram(5, 'float64');
  // Weights large enough that every layer has live units (the talk's 0.01 leaves
  // the output layer mostly rectified to zero, which would make the check vacuous).
  for (const param of program.params) {
    const value = param.get();
    param.set(T.array(value.data.map((v, i) => (param.ndim === 2 ? v * 10 : 0.05 * Math.sin(i))), { shape: value.shape, dtype: 'float64' }));
  }
  const { x, y } = syntheticBatch(6, 3);
  const givens = [[program.xInput, x.astype('float64')], [program.yTarget, y]] as const;
  const gradients = grad(program.scalarLoss, program.params);
  const analytic = T.evaluate(gradients, givens);
  const random = seededRandom(9);
  const eps = 1e-6;
  program.params.forEach((param, k) => {
    const data = param.get().data as Float64Array;
    let nonzero = 0;
    for (let sample = 0; sample < 12; sample++) {
      const i = Math.floor(random() * data.length);
      const saved = data[i]!;
      data[i] = saved + eps;
      const up = T.evaluate(program.scalarLoss, givens).data[0]!;
      data[i] = saved - eps;
      const down = T.evaluate(program.scalarLoss, givens).data[0]!;
      data[i] = saved;
      const numeric = (up - down) / (2 * eps);
      const symbolic = analytic[k]!.data[i]!;
      if (symbolic !== 0) nonzero++;
      assert.ok(Math.abs(symbolic - numeric) <= 1e-7 + 1e-5 * Math.abs(numeric), `${param.name}[${i}]: symbolic ${symbolic}, numeric ${numeric}`);
    }
    // Some sampled elements must have a gradient, and the whole gradient must not be zero
    // (a check of zeros against zeros would pass above).
    assert.ok(nonzero > 0, `${param.name}: every sampled element has a zero gradient`);
    assert.ok(analytic[k]!.data.some((v) => v !== 0), `${param.name}: the gradient is all zeros`);
  });
});

test('one hundred SGD steps lower the loss (reference evaluator)', () => {
  const program = buildTalkProgram(1);
  // Step 3. Compute update rules.
  const eta = T.scalar('learning_rate');
  const updates = program.params.map((param) => [param, param.sub(eta.mul(grad(program.scalarLoss, param)))] as [T.SharedVariable, T.Variable]);
  // Step 4. Compile (here: for the reference evaluator).
  const updateFx = T.referenceFunction({ inputs: [program.xInput, program.yTarget, eta], outputs: program.scalarLoss, updates, allowDowncast: true });
  const { x, y } = syntheticBatch(16, 4);
  const losses: number[] = [];
  for (let step = 0; step < 100; step++) losses.push(updateFx(x, y, 0.5)[0]!.data[0]!);
  const first = losses[0]!;
  const last = losses[losses.length - 1]!;
  assert.ok(Number.isFinite(last), `loss became ${last}`);
  assert.ok(last < 0.9 * first, `loss went from ${first} to ${last}`);
});

test.run();
