// Theorbo's side of the benchmarks. `graphs` builds each case's graph from a workload
// (the reference evaluator checks these: run.ts --check-graphs); `compiledBuilder`
// compiles one for a device (a WebGPU one or the cpu device); `theorbo` and
// `theorboUnfused` list the rows the harness measures (registered at the end of this file).
// The harness times these rows; releaseOutputs and timeCalls also serve the
// separate scripts (profile-step.ts, host-overhead.ts, elementwise-probe.ts).
import * as T from '@theorbo/graph';
import { grad, sgd } from '@theorbo/autodiff';
import { compile, DeviceTensor, readShared, toDevice, type AcquiredDevice, type WebGpuDescriptor } from '@theorbo/codegen';
import { buildTalkProgram } from '../examples/talk-network.ts';
import type { CaseName, CheckResult, HostTensor, Prepared, Workload } from './harness.ts';

export interface TheorboContext {
  /** The device to compile for: the WebGPU device the chain acquired (THEORBO_DEVICE / --device), or the cpu device. */
  device: AcquiredDevice;
}
export type TheorboBuilder = (workload: Workload, context: TheorboContext) => Promise<Prepared>;

/** A case's graph: `values[i]` feeds `inputs[i]`; a training step also has updates. */
export interface BenchGraph {
  inputs: T.Variable[];
  values: T.NDArray[];
  outputs: T.Variable[];
  updates?: [T.SharedVariable, T.Variable][];
  /** Shared variables whose values after one call follow the outputs in the check (training). */
  readAfter?: T.SharedVariable[];
}

type GraphCase = Exclude<CaseName, 'compile-latency'>;
const hostValue = (input: HostTensor): T.NDArray => T.array(input.data, { shape: input.shape });

/** Each case's graph, with run-time sizes (null dims) as a Theano user would declare them. */
export const graphs: Record<GraphCase, (workload: Workload) => BenchGraph> = {
  'elementwise': (w) => {
    const x = T.matrix('x');
    const a = T.vector('a');
    const b = T.tensor('float32', [1, null], 'b'); // a static 1: broadcastable over rows
    const y = T.sub(T.mul(T.tanh(T.add(T.mul(x, a), b)), T.sigmoid(x)), T.exp(T.neg(T.square(x))));
    return { inputs: [x, a, b], values: w.inputs.map(hostValue), outputs: [y] };
  },
  'affine': (w) => {
    const [x, a] = [T.matrix('x'), T.vector('a')];
    const b = T.tensor('float32', [1, null], 'b');
    return { inputs: [x, a, b], values: w.inputs.map(hostValue), outputs: [T.add(T.mul(x, a), b)] };
  },
  'sum-last': (w) => {
    const x = T.matrix('x');
    return { inputs: [x], values: [hostValue(w.inputs[0]!)], outputs: [T.sum(x, -1)] };
  },
  'sum-all': (w) => {
    const x = T.matrix('x');
    return { inputs: [x], values: [hostValue(w.inputs[0]!)], outputs: [T.sum(x)] };
  },
  'softmax': (w) => {
    const x = T.matrix('x');
    return { inputs: [x], values: [hostValue(w.inputs[0]!)], outputs: [T.softmax(x, -1)] };
  },
  'matmul': (w) => {
    const a = T.matrix('a');
    const b = T.matrix('b');
    return { inputs: [a, b], values: w.inputs.map(hostValue), outputs: [T.matmul(a, b)] };
  },
  'conv2d': (w) => {
    const [x, filters] = [T.tensor4('x'), T.tensor4('w')];
    const { stride, padding } = w.params!;
    return { inputs: [x, filters], values: w.inputs.map(hostValue), outputs: [T.conv2d(x, filters, { stride, padding })] };
  },
  // Theano's way: the loss, T.grad of it, and one compiled function returning all three.
  'conv2d-train': (w) => {
    const [x, filters, g] = [T.tensor4('x'), T.tensor4('w'), T.tensor4('g')];
    const { stride, padding } = w.params!;
    const loss = T.sum(T.mul(T.conv2d(x, filters, { stride, padding }), g));
    const [dx, dw] = grad(loss, [x, filters]);
    return { inputs: [x, filters, g], values: w.inputs.map(hostValue), outputs: [loss, dx!, dw!] };
  },
  'conv1d-audio': (w) => {
    const [x, filters] = [T.tensor3('x'), T.tensor3('w')];
    const { stride, padding } = w.params!;
    return { inputs: [x, filters], values: w.inputs.map(hostValue), outputs: [T.conv1d(x, filters, { stride, padding })] };
  },
  // scan over the precomputed input projection, h0 = 0: every step's h.
  'rnn': (w) => {
    const [x, wx, wh, b] = [T.tensor3('x'), T.matrix('wx'), T.matrix('wh'), T.vector('b')];
    return { inputs: [x, wx, wh, b], values: w.inputs.map(hostValue), outputs: [rnnStates(x, wx, wh, b, w.sizes)] };
  },
  // The loss Σ h·g and T.grad of it: backpropagation through time, itself a scan.
  'rnn-train': (w) => {
    const [x, wx, wh, b, g] = [T.tensor3('x'), T.matrix('wx'), T.matrix('wh'), T.vector('b'), T.tensor3('g')];
    const loss = T.sum(T.mul(rnnStates(x, wx, wh, b, w.sizes), g));
    const [dwx, dwh, db] = grad(loss, [wx, wh, b]);
    return { inputs: [x, wx, wh, b, g], values: w.inputs.map(hostValue), outputs: [loss, dwx!, dwh!, db!] };
  },
  // The talk's program itself (examples/talk-network.ts), its parameters set to the
  // workload's initial values, and SGD as its step 3 writes it.
  'train-step': (w) => {
    const program = buildTalkProgram(1, 'float32');
    const [x, y, templates, ...initial] = w.inputs;
    program.templates.set(templates!.data);
    program.params.forEach((param, i) => param.set(initial[i]!.data));
    const updates = sgd(program.scalarLoss, program.params, w.params!.learningRate!) as [T.SharedVariable, T.Variable][];
    return {
      inputs: [program.xInput, program.yTarget], values: [hostValue(x!), hostValue(y!)], outputs: [program.scalarLoss],
      updates: [...updates], readAfter: program.params,
    };
  },
};

/** h[t] = tanh(x[t]·Wx + b + h[t−1]·Wh) from h0 = 0, the input projection one product before the loop. */
function rnnStates(x: T.Variable, wx: T.Variable, wh: T.Variable, b: T.Variable, sizes: Record<string, number>): T.Variable {
  const projected = T.add(T.dot(x, wx), b);
  const { outputs: [h] } = T.scan({
    fn: (row, previous, recurrent) => T.tanh(T.add(row, T.dot(previous, recurrent))),
    sequences: projected,
    outputsInfo: [T.zeros([sizes.B!, sizes.H!])],
    nonSequences: [wh],
  });
  return h!;
}

/*
 * The compiled rows: every graph case fused (the default) and, where fusion is what the
 * comparison is about, the unfused baseline (`fusion: false`, one kernel per op).
 * 'compile-latency' needs no entry: cold-start.ts times theorbo['train-step'] (prepare
 * + first result) in a fresh process. The harness checks each entry's first result
 * against the host reference before it times anything, so a wrong kernel prints as
 * FAILED, never as a number. The registration follows compiledBuilder, at the end.
 */
export const theorbo: Partial<Record<CaseName, TheorboBuilder>> = {};
export const theorboUnfused: Partial<Record<CaseName, TheorboBuilder>> = {};

export const graphCases = Object.keys(graphs) as GraphCase[];
/** Cases with an unfused row (where fusion is what the comparison is about). */
export const unfusedCases: readonly CaseName[] = ['elementwise', 'softmax', 'train-step'];

/** Gives the buffers of a call's device outputs back to the runtime's pool. */
export function releaseOutputs(outputs: readonly (T.NDArray | DeviceTensor)[]): void {
  for (const output of outputs) if (output instanceof DeviceTensor) output.destroy();
}

/**
 * `count` calls of `fn` back to back, each awaited (device outputs resolve once the call
 * is submitted, so the device stays busy) and its outputs released: per call, the time
 * until the last call was submitted, the wall time until the device finished, and this
 * process's CPU time (JavaScript and Dawn's encoding), as a line of text.
 */
export async function timeCalls(device: WebGpuDescriptor, fn: (...inputs: DeviceTensor[]) => Promise<(T.NDArray | DeviceTensor)[]>, inputs: DeviceTensor[], count: number): Promise<string> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) releaseOutputs(await fn(...inputs));
  const issued = performance.now() - t0;
  await device.device.queue.onSubmittedWorkDone();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const perCall = (ms: number) => `${((1000 * ms) / count).toFixed(1)} µs`;
  return `issuing ${perCall(issued)}/step, wall ${perCall(wall)}/step, process CPU ${perCall((cpu.user + cpu.system) / 1000)}/step`;
}

/**
 * One case compiled for the acquired device. On a WebGPU device inputs are uploaded once,
 * as DeviceTensors, as the peers' inputs are; a timed step issues one call without
 * awaiting it and keeps its outputs on the device, and the sync waits for the queue. On
 * the cpu device inputs are device tensors in its memory too, and a step is one awaited
 * call (the work is done when it resolves: there is no queue to wait for) whose outputs,
 * device tensors, are given back.
 * The check reads the outputs and, for the training step, the parameters after the call.
 */
export function compiledBuilder(caseName: GraphCase, options: { fusion: boolean }): TheorboBuilder {
  return async (workload, { device }) => {
    if (device.kind === 'reference') return { unavailable: 'no WebGPU or cpu device (the reference evaluator is not timed)' };
    const graph = graphs[caseName](workload);
    const fn = compile({ inputs: graph.inputs, outputs: graph.outputs, updates: graph.updates ?? [], device, fusion: options.fusion, outputsOnDevice: true });
    const firstResult = async (inputs: (T.NDArray | DeviceTensor)[]) => {
      const outputs = await fn(...inputs);
      const host = await Promise.all(outputs.map((output) => (output instanceof DeviceTensor ? output.read() : output)));
      releaseOutputs(outputs);
      const after = await Promise.all((graph.readAfter ?? []).map((shared) => readShared(shared)));
      return [...host, ...after].map((value) => Float32Array.from(value.data as Float32Array));
    };
    if (device.kind === 'cpu') {
      // Inputs made device tensors once (toDevice): each call binds their regions of the
      // cpu device's memory instead of copying them in, as jax-js/wasm's arrays live in its memory.
      const inputs = graph.values.map((value) => toDevice(device, value));
      return {
        result: () => firstResult(inputs),
        async step() {
          releaseOutputs(await fn(...inputs));
        },
        async sync() {},
        dispose() {
          for (const input of inputs) input.destroy();
        },
      };
    }
    const inputs = graph.values.map((value) => toDevice(device, value));
    let inflight: Promise<void>[] = [];
    return {
      result: () => firstResult(inputs),
      step() {
        inflight.push(fn(...inputs).then(releaseOutputs));
      },
      async sync() {
        await Promise.all(inflight);
        inflight = [];
        await device.device.queue.onSubmittedWorkDone();
      },
      dispose() {
        for (const input of inputs) input.destroy();
      },
    };
  };
}

/**
 * Evaluates one case's graph with the reference evaluator and applies the workload's
 * check: proof that the graph handed to compile() computes what the peers compute.
 */
export function checkGraph(workload: Workload): CheckResult {
  const graph = graphs[workload.caseName as GraphCase](workload);
  const fn = T.referenceFunction({ inputs: graph.inputs, outputs: graph.outputs, updates: graph.updates ?? [] });
  const outputs = fn(...graph.values).map((value) => Float32Array.from(value.data as Float32Array));
  const after = (graph.readAfter ?? []).map((shared) => Float32Array.from(shared.get().data as Float32Array));
  return workload.check([...outputs, ...after]);
}

for (const name of graphCases) {
  theorbo[name] = compiledBuilder(name, { fusion: true });
  if (unfusedCases.includes(name)) theorboUnfused[name] = compiledBuilder(name, { fusion: false });
}
