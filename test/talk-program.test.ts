// The talk's program, steps 1 and 2, evaluated by the reference evaluator, against the
// same computation written as plain loops in double precision.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import { buildTalkProgram, chordTemplates, layerShapes, syntheticBatch } from '../examples/talk-network.ts';

/** Forward pass and loss by plain loops over the shared variables' current values. */
function plainLoops(params: T.SharedVariable[], x: T.NDArray, y: Int32Array): { output: number[][]; loss: number } {
  const batch = x.shape[0]!;
  let activations: number[][] = [];
  for (let row = 0; row < batch; row++) activations.push(Array.from(x.data.subarray(row * 1025, (row + 1) * 1025)));
  layerShapes.forEach(([nIn, nOut], layer) => {
    const weights = params[2 * layer]!.get().data;
    const bias = params[2 * layer + 1]!.get().data;
    activations = activations.map((input) => {
      const out = new Array<number>(nOut).fill(0);
      for (let j = 0; j < nOut; j++) {
        let total = bias[j]!;
        for (let k = 0; k < nIn; k++) total += input[k]! * weights[k * nOut + j]!;
        out[j] = total > 0 ? total : 0;
      }
      return out;
    });
  });
  const templates = chordTemplates();
  let loss = 0;
  for (let row = 0; row < batch; row++) {
    for (let c = 0; c < 12; c++) loss += (activations[row]![c]! - templates[y[row]!]![c]!) ** 2;
  }
  return { output: activations, loss: loss / (batch * 12) };
}

test('steps 1 and 2 equal plain loops within 1e-5', () => {
  const program = buildTalkProgram(3);
  // Larger weights than the talk's 0.01 so that every layer has live units and the
  // comparison is not between zeros.
  for (const param of program.params) {
    if (param.ndim === 2) param.set(T.array(param.get().data.map((v) => v * 8), { shape: param.get().shape }));
  }
  const { x, y } = syntheticBatch(16, 11);
  const [loss, output] = T.evaluate([program.scalarLoss, program.zOutput], [[program.xInput, x], [program.yTarget, y]]);
  const want = plainLoops(program.params, x, y);
  const live = want.output.flat().filter((v) => v > 0).length;
  assert.ok(live > 16, `only ${live} live outputs: the comparison would be vacuous`);
  assertClose(output!, T.array(want.output), { rtol: 1e-5, atol: 1e-6 }, 'z_output');
  assertClose(loss!, T.array(want.loss), { rtol: 1e-5, atol: 0 }, 'scalar_loss');
});

test('the graph has the talk\'s types', () => {
  const program = buildTalkProgram();
  assert.is(program.zOutput.type.toString(), 'float32[?,12]');
  assert.is(program.distance.type.toString(), 'float32[?,24,12]');
  assert.is(program.scalarLoss.type.toString(), 'float32[]');
});

test('a batch of another size runs on the same graph', () => {
  const program = buildTalkProgram();
  const { x, y } = syntheticBatch(3, 5);
  const loss = T.evaluate(program.scalarLoss, [[program.xInput, x], [program.yTarget, y]]);
  assertClose(loss, T.array(plainLoops(program.params, x, y).loss), { rtol: 1e-5 });
});

test.run();
