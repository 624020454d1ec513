// Where the RNN cases' time goes on one device: the plan of each (the kernels outside the
// loop, the body's kernels with their workgroup counts and what each computes, the copies
// recorded per step) and the wall time per call; then rnn-train's gradients written by
// hand as a backward scan, to price what T.grad's backward loop does differently:
//  - 'manual, accumulate in loop': reads the saved h (no recomputed forward step) and
//    accumulates ∂/∂Wh inside the loop, as T.grad does;
//  - 'manual, ∂/∂Wh after loop': the loop yields δ per step only; ∂/∂Wh, ∂/∂Wx, ∂/∂b are
//    single products over all steps afterwards (Theano's scan_pushout_dot1);
//  - 'forward only' and 'no-op step': the forward scan, and a loop whose step is one add,
//    for the per-step cost of recording a step (copies and a pass).
// Not part of the tests. Usage: npx tsx benchmarks/profile-rnn.ts [--device gpu|cpu-webgpu] [--steps T] [--calls N]
import { acquireDevice, compile, toDevice, type CompiledFunction } from '@theorbo/codegen';
import * as T from '@theorbo/graph';
import { rnnWorkloads } from './rnn.ts';
import { graphs, releaseOutputs, timeCalls } from './theorbo-impl.ts';

const argument = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const prefer = (argument('--device') ?? 'cpu-webgpu') as 'gpu' | 'cpu-webgpu';
const steps = Number(argument('--steps') ?? 100);
const calls = Number(argument('--calls') ?? 3);
const device = await acquireDevice({ prefer });
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
  const inputs = graph.values.map((value: T.NDArray) => toDevice(device, value));
  releaseOutputs(await fn(...inputs));
  await device.device.queue.onSubmittedWorkDone();
  console.log(`\n${caseName} at T = ${workload.sizes.T}: ${fn.kernelCount()} passes outside loops`);
  describePlan(fn);
  const line = await timeCalls(device, fn, inputs, calls);
  console.log(`  ${line.replace(/\/step/g, '/call')}`);
  for (const input of inputs) input.destroy();
}

/** The gradients of Σ h·g by hand: δ[t] = (g[t] + δ[t+1]·Whᵀ)·(1 − h[t]²) from the saved h. */
function manualTrain(pushOut: boolean) {
  const [x, wx, wh, b, g] = [T.tensor3('x'), T.matrix('wx'), T.matrix('wh'), T.vector('b'), T.tensor3('g')];
  return (sizes: Record<string, number>) => {
    const [B, H] = [sizes.B!, sizes.H!];
    const projected = T.add(T.dot(x, wx), b);
    const { outputs: [h] } = T.scan({ fn: (row, previous, recurrent) => T.tanh(T.add(row, T.dot(previous, recurrent))), sequences: projected, outputsInfo: [T.zeros([B, H])], nonSequences: [wh] });
    const loss = T.sum(T.mul(h!, g));
    const previous = T.concat([T.zeros([1, B, H]), T.get(h!, T.slice(0, -1))], 0);
    const whT = T.transpose(wh);
    let deltas: T.Variable, dwh: T.Variable;
    if (pushOut) {
      const { outputs } = T.scan({
        fn: (ht, gt, carry, w) => {
          const delta = T.mul(T.add(gt, carry), T.sub(1, T.square(ht)));
          return [delta, T.dot(delta, w)];
        },
        sequences: [h!, g], outputsInfo: [null, T.zeros([B, H])], nonSequences: [whT], goBackwards: true,
      });
      deltas = T.flip(outputs[0]!, 0);
      dwh = T.tensordot(previous, deltas, [[0, 1], [0, 1]]);
    } else {
      const { outputs } = T.scan({
        fn: (ht, hp, gt, carry, acc, w) => {
          const delta = T.mul(T.add(gt, carry), T.sub(1, T.square(ht)));
          return [delta, T.dot(delta, w), T.add(acc, T.dot(T.transpose(hp), delta))];
        },
        sequences: [h!, previous, g], outputsInfo: [null, T.zeros([B, H]), { initial: T.zeros([H, H]), keep: 'last' }], nonSequences: [whT], goBackwards: true,
      });
      deltas = T.flip(outputs[0]!, 0);
      dwh = outputs[2]!;
    }
    const dwx = T.tensordot(x, deltas, [[0, 1], [0, 1]]);
    const db = T.sum(deltas, [0, 1]);
    return { inputs: [x, wx, wh, b, g], outputs: [loss, dwx, dwh, db] };
  };
}

function forwardOnly() {
  const [x, wx, wh, b] = [T.tensor3('x'), T.matrix('wx'), T.matrix('wh'), T.vector('b')];
  return (sizes: Record<string, number>) => {
    const { outputs: [h] } = T.scan({ fn: (row, previous, recurrent) => T.tanh(T.add(row, T.dot(previous, recurrent))), sequences: T.add(T.dot(x, wx), b), outputsInfo: [T.zeros([sizes.B!, sizes.H!])], nonSequences: [wh] });
    return { inputs: [x, wx, wh, b], outputs: [h!] };
  };
}

function noOpStep() {
  const [x, wx, wh, b] = [T.tensor3('x'), T.matrix('wx'), T.matrix('wh'), T.vector('b')];
  return (sizes: Record<string, number>) => {
    const { outputs: [h] } = T.scan({ fn: (row, previous) => T.add(row, previous), sequences: T.add(T.dot(x, wx), b), outputsInfo: [T.zeros([sizes.B!, sizes.H!])] });
    return { inputs: [x, wx, wh, b], outputs: [T.add(h!, T.sum(wh))] };
  };
}

const train = rnnWorkloads('rnn-train', prefer === 'gpu', false).find((w) => w.sizes.T === steps) ?? rnnWorkloads('rnn-train', prefer === 'gpu', true)[0]!;
const variants: [string, (sizes: Record<string, number>) => { inputs: T.Variable[]; outputs: T.Variable[] }, boolean][] = [
  ['manual, accumulate in loop', manualTrain(false), true],
  ['manual, ∂/∂Wh after loop', manualTrain(true), true],
  ['forward only', forwardOnly(), false],
  ['no-op step', noOpStep(), false],
];
for (const [name, build, checked] of variants) {
  const graph = build(train.sizes);
  const fn = compile({ inputs: graph.inputs, outputs: graph.outputs, device, outputsOnDevice: true });
  const inputs = train.inputs.slice(0, graph.inputs.length).map((input) => toDevice(device, T.array(input.data, { shape: input.shape })));
  const outputs = await fn(...inputs);
  const host = await Promise.all(outputs.map((output) => ('read' in output ? output.read() : output)));
  releaseOutputs(outputs);
  const verdict = checked ? train.check(host.map((value) => Float32Array.from(value.data as Float32Array))) : undefined;
  console.log(`\n${name} at T = ${train.sizes.T}: ${fn.kernelCount()} passes outside loops${verdict ? `; check ${verdict.ok ? 'ok' : `FAILED (${verdict.detail})`}` : ''}`);
  describePlan(fn);
  console.log(`  ${(await timeCalls(device, fn, inputs, calls)).replace(/\/step/g, '/call')}`);
  for (const input of inputs) input.destroy();
}
process.exit(0);
