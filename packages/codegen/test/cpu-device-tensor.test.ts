// Device tensors of the cpu device (cpu/calls.ts, runtime/to-device.ts): toDevice puts a
// value in the device's memory; a call binds such inputs without copying them (a plan per
// binding, up to a limit, then copies) and, with outputsOnDevice, returns outputs in
// regions of their own; every result equals the host-input call's; destroy() gives the
// region back, and a destroyed tensor is an error where it is used.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import type { NDArray } from '@theorbo/graph';
import { acquireDevice, compile, DeviceTensor, toDevice } from '../src/index.ts';
import { f } from './op-cases.ts';

import type { CpuDescriptor } from '../src/index.ts';

let cpu!: CpuDescriptor;
test.before(async () => {
  const device = await acquireDevice({ prefer: 'cpu' });
  if (device.kind !== 'cpu') throw new Error(`these tests need the cpu device, but the chain gave ${device.kind}`);
  cpu = device;
});

const x = T.matrix('x');
const a = T.vector('a');
const outputs = [T.softmax(T.add(x, a)), T.sum(x, 1)];
const scaled = (value: NDArray, by: number): NDArray => T.array(Float32Array.from(value.data as Float32Array, (v) => v * by), { shape: value.shape });

test('cpu device tensors: bound inputs and device outputs give the host call\'s results, for many different tensors', async () => {
  const host = compile({ inputs: [x, a], outputs, device: cpu });
  const onDevice = compile({ inputs: [x, a], outputs, device: cpu, outputsOnDevice: true });
  // More distinct tensors (all alive at once) than the plans that bind them: the later ones are copied in.
  const made: DeviceTensor[] = [];
  for (let round = 0; round < 5; round++) {
    const values = [scaled(f(37, 29), round + 1), f(29)];
    const want = (await host(...values)) as NDArray[];
    const tensors = values.map((value) => toDevice(cpu, value));
    const got = await onDevice(...tensors);
    // The first rounds' plans read the tensors where they are; later rounds copy them in.
    const plan = onDevice.cpuPlan()!;
    assert.is(plan.inputs[0]!.byteOffset === tensors[0]!.cpu!.view.byteOffset, round < 2, `round ${round}: input bound`);
    assert.is(plan.outputs[0]!.view!.byteOffset === (got[0] as DeviceTensor).cpu!.view.byteOffset, round < 2, `round ${round}: output written in place`);
    for (const [i, output] of got.entries()) {
      assert.ok(output instanceof DeviceTensor && output.cpu !== undefined, `output ${i} lives in the cpu device's memory`);
      assert.equal([...(await output.read()).data], [...want[i]!.data], `round ${round}, output ${i}`);
    }
    // Host inputs mixed with a device one, and the device outputs of one call fed to the next.
    const mixed = (await host(values[0]!, tensors[1]!)) as NDArray[];
    assert.equal([...mixed[0]!.data], [...want[0]!.data]);
    const again = (await host(tensors[0]!, tensors[1]!)) as NDArray[];
    assert.equal([...again[1]!.data], [...want[1]!.data]);
    made.push(...tensors, ...(got as DeviceTensor[]));
  }
  for (const tensor of made) tensor.destroy();
});

test('cpu device tensors: an output region is the caller\'s; the next call does not overwrite it', async () => {
  const fn = compile({ inputs: [x, a], outputs, device: cpu, outputsOnDevice: true });
  const first = await fn(f(5, 4), f(4));
  const kept = [...(await (first[1] as DeviceTensor).read()).data];
  const before = [...(first[1] as DeviceTensor).cpu!.view];
  await fn(scaled(f(5, 4), 3), f(4));
  assert.equal([...(first[1] as DeviceTensor).cpu!.view], before);
  assert.equal(before, kept);
});

test('cpu device tensors: a loop that gives its outputs back runs one bound plan', async () => {
  const fn = compile({ inputs: [x, a], outputs, device: cpu, outputsOnDevice: true });
  const tensors = [toDevice(cpu, f(9, 8)), toDevice(cpu, f(8))];
  const plans = new Set();
  for (let i = 0; i < 6; i++) {
    const got = await fn(...tensors);
    plans.add(fn.cpuPlan());
    assert.is(fn.cpuPlan()!.outputs[1]!.view!.byteOffset, (got[1] as DeviceTensor).cpu!.view.byteOffset);
    for (const output of got) (output as DeviceTensor).destroy();
  }
  assert.is(plans.size, 1);
  for (const tensor of tensors) tensor.destroy();
});

test('cpu device tensors: a destroyed tensor is an error naming the input; a wrong dtype too', async () => {
  const fn = compile({ inputs: [x, a], outputs, device: cpu });
  const tensor = toDevice(cpu, f(5, 4));
  tensor.destroy();
  try {
    await fn(tensor, f(4));
    assert.unreachable('a destroyed tensor was accepted');
  } catch (error) {
    assert.match((error as Error).message, /input x.*destroyed/);
  }
  try {
    await tensor.read();
    assert.unreachable('a destroyed tensor was read');
  } catch (error) {
    assert.match((error as Error).message, /destroyed/);
  }
  const ints = toDevice(cpu, T.array(new Int32Array(20), { shape: [5, 4] }));
  try {
    await fn(ints, f(4));
    assert.unreachable('an int32 tensor was accepted for a float32 input');
  } catch (error) {
    assert.match((error as Error).message, /input x is float32, but the device tensor given holds int32/);
  }
  ints.destroy();
});

test('cpu device tensors: destroy gives the region back for the next tensor of its size', () => {
  const one = toDevice(cpu, f(64, 64));
  const offset = one.cpu!.view.byteOffset;
  one.destroy();
  const two = toDevice(cpu, f(64, 64));
  assert.is(two.cpu!.view.byteOffset, offset);
  two.destroy();
});

test('cpu device tensors: the reference evaluator takes one as its host copy', async () => {
  const [value, row] = [f(6, 3), f(3)];
  const fn = compile({ inputs: [x, a], outputs, device: 'reference' });
  const want = (await fn(value, row)) as NDArray[];
  const got = (await fn(toDevice(cpu, value), row)) as NDArray[];
  assert.equal([...got[0]!.data], [...want[0]!.data]);
});

test('toDevice on a WebGPU device, and a cpu device tensor given to a WebGPU function', async () => {
  // Named, the kind is acquired or the call throws: a missing llvmpipe fails this test.
  const gpu = await acquireDevice({ prefer: 'cpu-webgpu' });
  const [value, row] = [f(7, 5), f(5)];
  const fn = compile({ inputs: [x, a], outputs, device: gpu });
  const want = (await fn(value, row)) as NDArray[];
  const uploaded = toDevice(gpu, value);
  const fromCpu = toDevice(cpu, value);
  for (const [name, tensor] of [['uploaded', uploaded], ['cpu tensor', fromCpu]] as const) {
    const got = (await fn(tensor, row)) as NDArray[];
    got.forEach((output, i) => assert.equal([...output.data], [...want[i]!.data], `${name}, output ${i}`));
  }
  uploaded.destroy();
  fromCpu.destroy();
});

test.run();
