// compile()'s errors and modes, each provoked: float64, bad inputs, a tensor larger than
// a storage binding, a WGSL compile error, nanguard, debug and profile output, and a
// lost device re-acquired with shared variables restored from their host copies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import { expectGraphError } from '@theorbo/graph/testing';
import { acquireDevice, acquireWebGpuDevice, compile, createPipeline, defaultTuning, DeviceLostError, readShared, runtimeFor, WgslError, type WebGpuDescriptor } from '../src/index.ts';
import { compilePipelines } from '../src/runtime/plan.ts';

async function webgpu(): Promise<WebGpuDescriptor> {
  return acquireWebGpuDevice();
}

async function rejects(promise: Promise<unknown>, ...fragments: (string | RegExp)[]): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    const message = String((error as Error).message);
    for (const fragment of fragments) {
      assert.ok(typeof fragment === 'string' ? message.includes(fragment) : fragment.test(message), `message lacks ${fragment}:\n${message}`);
    }
    return error as Error;
  }
  throw new Error(`expected a rejection mentioning ${fragments.join(', ')}`);
}

test('float64 is refused at compile time, naming the node', () => {
  const x = T.dvector('x');
  expectGraphError(() => compile({ inputs: [x], outputs: T.exp(x) }), 'compile', 'float64', 'WebGPU', 'errors.test.ts:');
});

test('an input the outputs need but the function does not list', () => {
  const x = T.vector('x');
  const y = T.vector('y');
  expectGraphError(() => compile({ inputs: [x], outputs: T.add(x, y) }), 'compile', "input 'y'", 'not among');
});

test('bad calls: count, dtype and shape of inputs', async () => {
  const device = await webgpu();
  const x = T.tensor('float32', [null, 3], 'x');
  const fn = compile({ inputs: [x], outputs: T.exp(x), device });
  await rejects(fn(), 'expects 1 inputs', 'x');
  await rejects(fn(new Int32Array(6)), "input 'x'", 'float32', 'int32');
  await rejects(fn([[1, 2], [3, 4]]), "input 'x'", '[?,3]', '[2,2]');
  const [ok] = await compile({ inputs: [x], outputs: T.exp(x), device, allowInputDowncast: true })(T.array(new Int32Array([0, 0, 0, 1, 1, 1]), { shape: [2, 3] }));
  assert.ok(Math.abs((ok as T.NDArray).data[5]! - Math.E) < 1e-5);
});

test('a tensor larger than one storage binding is a clear error', async () => {
  const device = await webgpu();
  const s = T.scalar('s');
  const big = T.broadcastTo(s, [device.limits.maxStorageBufferBindingSize / 4 + 1]);
  await rejects(compile({ inputs: [s], outputs: T.exp(big), device })(1), 'compile', `float32[${device.limits.maxStorageBufferBindingSize / 4 + 1}]`, 'bytes', 'storage buffer');
});

test('a WGSL compile error names the line and the kernel', async () => {
  const device = await webgpu();
  device.device.pushErrorScope('validation');
  createPipeline(device.device, '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_name; }', 'elementwise[exp,add] → float32[3]');
  const error = await device.device.popErrorScope();
  assert.ok(error, 'Dawn accepted broken WGSL');
  assert.ok(/undefined_name/.test(error!.message) && /elementwise\[exp,add\]/.test(error!.message), error!.message);
});

test('a kernel that does not compile is a WgslError naming its ops and the generated line', async () => {
  const device = await webgpu();
  const context = runtimeFor(device).planContext(defaultTuning(device.kind));
  const code = '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = undefined_name;\n}\n';
  const rendered = { code, label: 'elementwise[exp,add] → float32[3]', bindings: [], dispatch: [1, 1, 1] as [number, number, number] };
  const draft = { rendered: new Map([[{} as never, [rendered]]]), loops: new Map() } as unknown as Parameters<typeof compilePipelines>[1];
  const error = await rejects(compilePipelines(context, draft), 'elementwise[exp,add]', 'line 3', 'undefined_name', 'let x: f32 = undefined_name;');
  assert.ok(error instanceof WgslError, `${error.name}: not a WgslError`);
});

test('commands the device refuses fail the call (or, for device outputs, their read and their next use) instead of returning stale values', async () => {
  const device = await webgpu();
  const x = T.vector('x');
  const double = compile({ inputs: [x], outputs: T.mul(x, 2), device, outputsOnDevice: true });
  const [tensor] = (await double([1, 2, 3])) as import('../src/index.ts').DeviceTensor[];
  tensor!.buffer.destroy(); // a destroyed buffer in a submit is a validation error
  // Device outputs resolve at once; the refusal reaches whoever reads or uses them.
  const [stale] = (await double(tensor!)) as import('../src/index.ts').DeviceTensor[];
  await rejects(stale!.read(), 'WebGPU refused', 'destroyed');
  await rejects(double(stale!), 'never written', 'WebGPU refused');
  const hostDouble = compile({ inputs: [x], outputs: T.mul(x, 2), device });
  await rejects(hostDouble(tensor!), 'WebGPU refused', 'destroyed');
  // Passed on before the refusal is known, a stale output taints what is computed from it.
  const [early] = (await double(tensor!)) as import('../src/index.ts').DeviceTensor[];
  const [next] = (await double(early!)) as import('../src/index.ts').DeviceTensor[];
  await rejects(next!.read(), 'WebGPU refused', 'destroyed');
  const [fine] = await compile({ inputs: [x], outputs: T.mul(x, 3), device })([1, 2]);
  assert.equal(Array.from((fine as T.NDArray).data), [3, 6]);
});

test('nanguard names the kernel that produced a NaN', async () => {
  const device = await webgpu();
  const x = T.vector('x');
  const fn = compile({ inputs: [x], outputs: T.mul(T.sqrt(T.sub(x, 1)), 2), device, mode: 'nanguard' });
  await rejects(fn([4, 0.5, 9]), 'nanguard', 'NaN', 'sqrt', 'float32[3]');
  const [fine] = await fn([4, 5, 10]);
  assert.ok(Math.abs((fine as T.NDArray).data[2]! - 6) < 1e-5);
});

test('debug prints the partition and each kernel\'s WGSL; profile gives a table', async () => {
  const device = await webgpu();
  const x = T.matrix('x');
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.join(' '));
  try {
    await compile({ inputs: [x], outputs: T.sum(T.exp(x), 1), device, mode: 'debug' })([[1, 2], [3, 4]]);
  } finally {
    console.log = log;
  }
  const text = printed.join('\n');
  assert.ok(text.includes('kernels for input shapes') && text.includes('@compute') && text.includes('reduce[sum,exp]'), text);
  const profiled = compile({ inputs: [x], outputs: [T.softmax(x), T.matmul(T.exp(x), T.transpose(x))], device, mode: 'profile' });
  for (let i = 0; i < 3; i++) await profiled([[1, 2, 3], [4, 5, 6]]);
  const table = profiled.profile();
  assert.ok(/ms\/call/.test(table) && table.split('\n').length >= 3 && /\s3\s/.test(table), table);
});

test('a lost device is re-acquired, shared variables restored from their host copies', async () => {
  const device = await webgpu();
  const w = T.shared([1, 2, 3], 'w');
  const step = compile({ inputs: [], outputs: [T.sum(w)], updates: [[w, T.mul(w, 2)]], device });
  await step();
  assert.equal(Array.from((await readShared(w)).data), [2, 4, 6]);
  await step(); // w is now [4, 8, 12] on the device only
  device.device.destroy();
  await new Promise((resolve) => setTimeout(resolve, 10));
  await rejects(step(), 'lost', 'reacquire', 'w');
  const fresh = await step.reacquire();
  assert.ok(fresh.kind === device.kind);
  const [total] = await step();
  // Restarted from the last host copy [2, 4, 6].
  assert.is((total as T.NDArray).data[0], 12);
  assert.equal(Array.from((await readShared(w)).data), [4, 8, 12]);
  assert.ok(DeviceLostError.name === 'DeviceLostError');
});

test('a plan still compiling when the device is lost is not kept for the new device', async () => {
  const device = await webgpu();
  const x = T.vector('x');
  const step = compile({ inputs: [x], outputs: [T.tanh(T.mul(T.exp(x), 3))], device });
  await step([1, 2]);
  const inFlight = step([1, 2, 3]); // a new shape: its plan compiles on the old device
  inFlight.catch(() => {});
  device.device.destroy();
  await step.reacquire();
  await new Promise((resolve) => setTimeout(resolve, 100)); // the old plan finishes compiling
  for (let i = 0; i < 2; i++) {
    const [y] = await step([1, 2, 3]);
    assertClose(y as T.NDArray, T.array(new Float32Array([1, 2, 3].map((v) => Math.tanh(3 * Math.exp(v))))), { rtol: 1e-5, atol: 1e-6 });
  }
});

test.run();
