// Where one training step's time goes: the talk's step compiled for the device, timed
// three ways — wall time per step in a loop of back-to-back calls (what the benchmark
// reports; "issuing" is the time until the last call was submitted), the host CPU time
// this process spends per call (JavaScript plus Dawn's encoding), and each kernel's time
// on the GPU's own clock ('profile' mode, where the adapter has timestamp queries). Not part of the tests; run it beside `pnpm bench`.
// Usage: npx tsx benchmarks/profile-step.ts [--device gpu|cpu-webgpu] [--steps N]
import { acquireDevice, compile, toDevice } from '@theorbo/codegen';
import type * as T from '@theorbo/graph';
import { graphs, releaseOutputs, timeCalls } from './theorbo-impl.ts';
import { trainStepWorkload } from './training.ts';

const argument = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const prefer = (argument('--device') ?? 'gpu') as 'gpu' | 'cpu-webgpu';
const steps = Number(argument('--steps') ?? (prefer === 'gpu' ? 2000 : 20));

const device = await acquireDevice({ prefer });
console.log(`device: ${device.describe()}`);
const workload = trainStepWorkload();

for (const fusion of [true, false]) {
  for (const mode of ['fast', 'profile'] as const) {
    const graph = graphs['train-step'](workload);
    const fn = compile({ inputs: graph.inputs, outputs: graph.outputs, updates: graph.updates ?? [], device, fusion, mode, outputsOnDevice: true });
    const inputs = graph.values.map((value: T.NDArray) => toDevice(device, value));
    releaseOutputs(await fn(...inputs));
    await device.device.queue.onSubmittedWorkDone();
    const count = mode === 'profile' ? Math.min(steps, 200) : steps;
    console.log(`\n${fusion ? 'fused' : 'unfused'}, ${mode}: ${fn.kernelCount()} kernels; ${count} steps: ${await timeCalls(device, fn, inputs, count)}`);
    if (mode === 'profile') console.log(fn.profile());
    for (const input of inputs) input.destroy();
  }
}
process.exit(0);
