// The host's share of a training step: the talk's step compiled for the device and
// called in a loop at a tiny batch, so that the kernels themselves cost little and the
// time per call is mostly JavaScript, Dawn's encoding and the driver's launches. On a
// GPU this is the floor under the training-step benchmark, which is host-bound there.
// --count-calls prints how often each WebGPU method was called; --no-submit turns
// queue.submit into a no-op (nothing runs, and no result is right), which leaves what
// JavaScript and Dawn's encoding cost per call on their own.
// Not part of the tests. Usage: npx tsx benchmarks/host-overhead.ts [--device gpu|cpu-webgpu] [--steps N] [--batch B] [--count-calls] [--no-submit]
import { acquireDevice, compile, toDevice } from '@theorbo/codegen';
import * as T from '@theorbo/graph';
import { sgd } from '@theorbo/autodiff';
import { buildTalkProgram } from '../examples/talk-network.ts';
import { releaseOutputs, timeCalls } from './theorbo-impl.ts';

const argument = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const prefer = (argument('--device') ?? 'gpu') as 'gpu' | 'cpu-webgpu';
const steps = Number(argument('--steps') ?? 2000);
const batch = Number(argument('--batch') ?? 2);

const device = await acquireDevice({ prefer });
console.log(`device: ${device.describe()}`);

const program = buildTalkProgram(1, 'float32');
const updates = sgd(program.scalarLoss, program.params, 0.01) as [T.SharedVariable, T.Variable][];
const fn = compile({ inputs: [program.xInput, program.yTarget], outputs: [program.scalarLoss], updates, device, outputsOnDevice: true });
const x = T.array(Float32Array.from({ length: batch * 1025 }, (_, i) => Math.sin(i) ** 2), { shape: [batch, 1025] });
const y = T.array(Int32Array.from({ length: batch }, (_, i) => i % 24), { shape: [batch], dtype: 'int32' });
const inputs = [toDevice(device, x), toDevice(device, y)];
for (let i = 0; i < 20; i++) releaseOutputs(await fn(...inputs));
await device.device.queue.onSubmittedWorkDone();

const counts: Record<string, number> = {};
if (process.argv.includes('--count-calls')) {
  const encoder = device.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.end();
  encoder.finish();
  for (const target of [device.device, device.device.queue, encoder, pass].map((object) => Object.getPrototypeOf(object))) {
    for (const name of Object.getOwnPropertyNames(target)) {
      const method = Object.getOwnPropertyDescriptor(target, name)?.value;
      if (typeof method !== 'function' || name === 'constructor') continue;
      target[name] = function (this: unknown, ...args: unknown[]) {
        counts[name] = (counts[name] ?? 0) + 1;
        return method.apply(this, args);
      };
    }
  }
}
if (process.argv.includes('--no-submit')) Object.getPrototypeOf(device.device.queue).submit = () => {};
for (let round = 0; round < 3; round++) {
  console.log(`batch ${batch}, ${fn.kernelCount()} kernels, ${steps} steps: ${await timeCalls(device, fn, inputs, steps)}`);
}
if (process.argv.includes('--count-calls')) console.log('WebGPU calls in the timed loops:', counts);
process.exit(0);
