// The host's cost of a call to a compiled scan, against the number of steps: the
// recurrence h[t] = tanh(x[t] + h[t−1]·W) (and its gradient) at a tiny size, inputs
// resident on the device, outputs left there, so that a call's time before it returns
// is JavaScript and Dawn's encoding of every step (the steps themselves run later). The
// issue's claim is that this grows only by the cost of recording a step, with no host
// round trip per step: the µs per step printed should stay flat as the steps grow, and
// far below a submit-and-wait round trip.
// Not part of the tests. Usage: npx tsx benchmarks/scan-host.ts [--device gpu|cpu-webgpu] [--calls N]
import { acquireDevice, compile, DeviceTensor, toDevice } from '@theorbo/codegen';
import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { randomArray } from '@theorbo/graph/testing';

const argument = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const device = await acquireDevice({ prefer: (argument('--device') ?? 'cpu-webgpu') as 'gpu' | 'cpu-webgpu' });
console.log(`device: ${device.describe().split('\n')[0]}`);
const calls = Number(argument('--calls') ?? 5);
const [batch, units] = [2, 8];

for (const withGradient of [false, true]) {
  for (const steps of [10, 100, 1000]) {
    const xs = T.tensor('float32', [steps, batch, units], 'xs');
    const w = T.shared(randomArray('float32', [units, units], { seed: 1, low: -0.3, high: 0.3 }), 'w');
    const { outputs: [h] } = T.scan({ fn: (x, previous) => T.tanh(T.add(x, T.dot(previous, w))), sequences: xs, outputsInfo: [T.zeros([batch, units])] });
    const loss = T.mean(T.square(h!));
    const fn = compile({ inputs: [xs], outputs: withGradient ? [loss, grad(loss, w)] : [loss], device, outputsOnDevice: true });
    const input = toDevice(device, randomArray('float32', [steps, batch, units], { seed: 2 }));
    // Warm up: the plan, the pipelines, one run.
    for (const output of await fn(input)) (output as DeviceTensor).destroy();
    await device.device.queue.onSubmittedWorkDone();
    const times: number[] = [];
    for (let call = 0; call < calls; call++) {
      const started = performance.now();
      const pending = fn(input); // returns once the call's commands are recorded and submitted
      times.push(performance.now() - started);
      for (const output of await pending) (output as DeviceTensor).destroy();
      await device.device.queue.onSubmittedWorkDone();
    }
    const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    console.log(`${withGradient ? 'forward+backward' : 'forward'}, ${String(steps).padStart(4)} steps: ${median.toFixed(2)} ms on the host per call, ${((1000 * median) / steps).toFixed(1)} µs per step`);
  }
}
process.exit(0);
