// What an elementwise kernel's time is made of: single ops and the benchmark's chain over
// one large input, each compiled into one kernel and timed over back-to-back calls (the
// device tensors of benchmarks/theorbo-impl.ts), beside a plain x·a copy-like kernel.
// Not part of the tests. Usage: npx tsx benchmarks/elementwise-probe.ts [--device gpu] [--side 8192]
import * as T from '@theorbo/graph';
import { acquireDevice, compile, toDevice } from '@theorbo/codegen';
import { releaseOutputs } from './theorbo-impl.ts';

const argument = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const prefer = (argument('--device') ?? 'gpu') as 'gpu' | 'cpu-webgpu';
const side = Number(argument('--side') ?? 8192);
const device = await acquireDevice({ prefer });
console.log(`device: ${device.describe()}; x[${side},${side}]`);

const x = T.matrix('x');
const a = T.vector('a');
const b = T.tensor('float32', [1, null], 'b');
const graphs: [string, T.Variable][] = [
  ['x·a', T.mul(x, a)],
  ['x·a + b', T.add(T.mul(x, a), b)],
  ['exp(x)', T.exp(x)],
  ['tanh(x)', T.tanh(x)],
  ['sigmoid(x)', T.sigmoid(x)],
  ['exp(−x²)', T.exp(T.neg(T.square(x)))],
  ['chain', T.sub(T.mul(T.tanh(T.add(T.mul(x, a), b)), T.sigmoid(x)), T.exp(T.neg(T.square(x))))],
];
const upload = (value: T.NDArray) => toDevice(device, value);
const data = new Float32Array(side * side);
for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 2;
const inputs = [upload(T.array(data, { shape: [side, side] })), upload(T.array(new Float32Array(side).fill(0.5))), upload(T.array(new Float32Array(side).fill(0.1), { shape: [1, side] }))];
const bytes = 2 * 4 * side * side;
for (const [name, y] of graphs) {
  const used = [x, a, b].filter((input) => T.topologicalOrder([y]).includes(input));
  const fn = compile({ inputs: used, outputs: [y], device, outputsOnDevice: true });
  const args = used.map((input) => inputs[[x, a, b].indexOf(input)]!);
  releaseOutputs(await fn(...args));
  await device.device.queue.onSubmittedWorkDone();
  const times: number[] = [];
  for (let repeat = 0; repeat < 5; repeat++) {
    const count = 40;
    const t0 = performance.now();
    // Each call's outputs resolve once its commands are submitted, not run: awaiting them
    // keeps the device busy while the buffers cycle through the pool.
    for (let i = 0; i < count; i++) releaseOutputs(await fn(...args));
    await device.device.queue.onSubmittedWorkDone();
    times.push((performance.now() - t0) / count);
  }
  const median = times.sort((p, q) => p - q)[2]!;
  console.log(`${name.padEnd(12)} ${(1000 * median).toFixed(1).padStart(8)} µs  ${(bytes / median / 1e6).toFixed(0).padStart(6)} GB/s`);
}
process.exit(0);
