// The talk's complete Theano program (all four steps) compiled for the acquired WebGPU
// device (llvmpipe in CI): one hundred SGD steps on a fixed synthetic batch lower the
// loss, and the parameters equal those of the reference evaluator within 1e-4 relative.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { compile, readShared, acquireDevice, type TuningOptions } from '@theorbo/codegen';
import { buildTalkProgram, syntheticBatch } from '../examples/talk-network.ts';

function trainingStep(program: ReturnType<typeof buildTalkProgram>) {
  // Step 3. Compute update rules.
  const eta = T.scalar('learning_rate');
  const updates = program.params.map((param) => [param, param.sub(eta.mul(grad(program.scalarLoss, param)))] as [T.SharedVariable, T.Variable]);
  return { eta, updates };
}

async function trainAndCompare(batch: number, steps: number, label = '', tuning?: TuningOptions): Promise<void> {
  const device = await acquireDevice();
  assert.ok(device.kind !== 'reference', `no WebGPU device: ${device.skipped.map((s) => s.reason).join('; ')}`);
  const onDevice = buildTalkProgram(1);
  const onHost = buildTalkProgram(1);
  const { x, y } = syntheticBatch(batch, 4);
  const a = trainingStep(onDevice);
  // Step 4. Compile.
  const updateFx = compile({ inputs: [onDevice.xInput, onDevice.yTarget, a.eta], outputs: onDevice.scalarLoss, updates: a.updates, allowInputDowncast: true, device, tuning });
  const b = trainingStep(onHost);
  const referenceFx = T.referenceFunction({ inputs: [onHost.xInput, onHost.yTarget, b.eta], outputs: onHost.scalarLoss, updates: b.updates, allowDowncast: true });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [loss] = await updateFx(x, y, 0.5);
    losses.push((loss as T.NDArray).data[0]!);
    referenceFx(x, y, 0.5);
  }
  console.log(`  ${device.kind}${label}: loss ${losses[0]!.toFixed(5)} → ${losses[steps - 1]!.toFixed(5)} in ${steps} steps; ${updateFx.kernelCount()} kernels per step`);
  assert.ok(losses[steps - 1]! < (steps >= 100 ? 0.9 : 1) * losses[0]!, `loss went from ${losses[0]} to ${losses[steps - 1]}`);
  for (let k = 0; k < onDevice.params.length; k++) {
    const got = await readShared(onDevice.params[k]!);
    const want = onHost.params[k]!.get();
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < want.size; i++) {
      worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!));
      scale = Math.max(scale, Math.abs(want.data[i]!));
    }
    assert.ok(worst <= 1e-4 * scale, `${onDevice.params[k]!.name}: largest difference ${worst} against values up to ${scale}`);
  }
}

test('one hundred compiled SGD steps match the reference evaluator', () => trainAndCompare(32, 100));

// The plan a GPU gets (small matmul tiles, split-K products summed by a reduction that
// takes their epilogues and in-place updates), run on whatever device this is.
test('the GPU-shaped plan of the training step matches the reference evaluator', async () => {
  await trainAndCompare(64, 10, ' (GPU-shaped plan: split-K)', { workgroupTarget: 256 });
});

test.run();
