// The main job until the music package exists: the talk's Theano program, all four
// steps, in Theorbo — the network and its template-distance loss, symbolic gradients
// for the six parameters, the SGD update rule, and a compiled training function run on
// the best device this machine has (THEORBO_DEVICE overrides), on a synthetic batch.

import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { acquireDevice, compile, readShared } from '@theorbo/codegen';
import { buildTalkProgram, syntheticBatch } from './talk-network.ts';

const steps = Number(process.env.THEORBO_DEMO_STEPS ?? 200);
const device = await acquireDevice();
console.log(`Theorbo: the talk's program on ${device.describe()}\n`);

const started = performance.now();
const program = buildTalkProgram();
// Step 3. Compute update rules.
const eta = T.scalar('learning_rate');
const updates = program.params.map((param) => [param, param.sub(eta.mul(grad(program.scalarLoss, param)))] as [T.SharedVariable, T.Variable]);
// Step 4. Compile wicked fast functions.
const updateFx = compile({ inputs: [program.xInput, program.yTarget, eta], outputs: program.scalarLoss, updates, allowInputDowncast: true, device });
const built = performance.now();

const { x, y } = syntheticBatch(256);
const [first] = await updateFx(x, y, 0.5);
const compiled = performance.now();
let loss = (first as T.NDArray).data[0]!;
const trainStart = performance.now();
for (let step = 1; step < steps; step++) {
  const [value] = await updateFx(x, y, 0.5);
  loss = (value as T.NDArray).data[0]!;
  if (step % 50 === 0) console.log(`  step ${String(step).padStart(4)}  loss ${loss.toFixed(5)}`);
}
const trainMs = performance.now() - trainStart;

console.log(`\ngraph built with gradients in ${(built - started).toFixed(1)} ms; first call (compiling ${updateFx.kernelCount()} kernels) ${(compiled - built).toFixed(0)} ms`);
console.log(`loss ${(first as T.NDArray).data[0]!.toFixed(5)} → ${loss.toFixed(5)} after ${steps} SGD steps at batch 256`);
console.log(`${(trainMs / Math.max(steps - 1, 1)).toFixed(3)} ms per step (each step reads the loss back)`);
const w2 = await readShared(program.params[4]!);
const meanAbs = Array.from(w2.data).reduce((sum, v) => sum + Math.abs(v), 0) / w2.size;
console.log(`weights2 after training: ${w2.dtype}[${w2.shape.join(',')}], mean |w| ${meanAbs.toFixed(5)}`);
