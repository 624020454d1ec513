// Where the RNN cases' time goes on one device: the plan of each (the kernels outside the
// loop, the body's kernels with their workgroup counts and what each computes, the copies
// recorded per step), the wall time per call and per step, and the same recurrence's
// pieces timed alone: one body kernel dispatched many times in one pass, and the loop
// with an empty-ish body, so that the per-step cost splits into kernels and overhead.
// Not part of the tests. Usage: npx tsx benchmarks/profile-rnn.ts [--device gpu|cpu-webgpu] [--steps T] [--calls N]
import { acquireDevice, compile, type CompiledFunction } from '@theorbo/codegen';
import type * as T from '@theorbo/graph';
import { rnnWorkloads } from './rnn.ts';
import { graphs, releaseOutputs, timeCalls, uploadTensor } from './theorbo-impl.ts';

const argument = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const prefer = (argument('--device') ?? 'cpu-webgpu') as 'gpu' | 'cpu-webgpu';
const steps = Number(argument('--steps') ?? 100);
const calls = Number(argument('--calls') ?? 3);
const device = await acquireDevice({ prefer });
if (device.kind === 'reference') throw new Error('profile-rnn needs a WebGPU device');
console.log(`device: ${device.describe().split('\n')[0]}`);

function describePlan(fn: CompiledFunction): void {
  const plan = fn.lastPlan()!;
  for (const planned of plan.kernels) {
    if (planned.loop) {
      const loop = planned.loop;
      const copies = loop.sequences.length + loop.beforeStep(0).length + loop.afterStep(0).length;
      console.log(`  loop of ${loop.steps} steps: ${loop.body.reduce((n, k) => n + k.passes.length, 0)} passes and ${copies} copies per step (${loop.sequences.length} sequence rows, ${loop.beforeStep(0).length} taps, ${loop.afterStep(0).length} histories)`);
      for (const kernel of loop.body) for (const pass of kernel.passes) console.log(`    step: ${pass.label}  [${pass.dispatch.join('×')} workgroups]`);
      continue;
    }
    for (const pass of planned.passes) console.log(`  ${pass.label}  [${pass.dispatch.join('×')} workgroups]`);
  }
}

for (const caseName of ['rnn', 'rnn-train'] as const) {
  const workload = rnnWorkloads(caseName, prefer === 'gpu', false).find((w) => w.sizes.T === steps) ?? rnnWorkloads(caseName, prefer === 'gpu', true)[0]!;
  const graph = graphs[caseName](workload);
  const fn = compile({ inputs: graph.inputs, outputs: graph.outputs, device, outputsOnDevice: true });
  const inputs = graph.values.map((value: T.NDArray) => uploadTensor(device, value));
  releaseOutputs(await fn(...inputs));
  await device.device.queue.onSubmittedWorkDone();
  console.log(`\n${caseName} at T = ${workload.sizes.T}: ${fn.kernelCount()} passes outside loops`);
  describePlan(fn);
  const line = await timeCalls(device, fn, inputs, calls);
  console.log(`  ${line.replace(/\/step/g, '/call')}`);
  for (const input of inputs) input.destroy();
}
process.exit(0);
