// Device limits and device-side generation: kernels that would bind more storage buffers
// than the device allows are split; more than 65535 workgroups use a 2-D grid; random
// numbers drawn on the device are the reference's Philox stream.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose, randomArray } from '@theorbo/graph/testing';
import { acquireDevice, acquireWebGpuDevice, compile, type WebGpuDescriptor } from '../src/index.ts';

async function webgpu(): Promise<WebGpuDescriptor> {
  return acquireWebGpuDevice();
}

test('a fusion group reading more buffers than the device binds is split', async () => {
  const device = await webgpu();
  const count = device.limits.maxStorageBuffersPerShaderStage + 4;
  const inputs = Array.from({ length: count }, (_, i) => T.vector(`x${i}`));
  const total = inputs.reduce((sum, input, i) => T.add(sum, T.mul(input, i + 1)) as T.Variable, T.mul(inputs[0]!, 0));
  const values = inputs.map((_, i) => randomArray('float32', [50], { seed: i + 1 }));
  const fn = compile({ inputs, outputs: total, device });
  const [got] = await fn(...values);
  assertClose(got as T.NDArray, T.evaluate(total, inputs.map((input, i) => [input, values[i]!] as const)), { rtol: 1e-5, atol: 1e-5 });
  assert.ok(fn.kernelCount() >= 2, `${fn.kernelCount()} kernel for ${count} inputs`);
});

test('past 65535 workgroups: elementwise kernels loop over the elements, row kernels use a 2-D grid', async () => {
  const device = await webgpu();
  const n = 65535 * 256 + 777;
  const offset = T.iscalar('offset');
  const values = T.mod(T.add(T.arange(n), offset), 1000);
  const fn = compile({ inputs: [offset], outputs: values, device });
  const [got] = await fn(5);
  const data = (got as T.NDArray).data;
  assert.is(data.length, n);
  for (const i of [0, 1, 65535 * 256 - 1, 65535 * 256, n - 1]) assert.is(data[i], (i + 5) % 1000, `element ${i}`);
  // One workgroup per row (as a GPU plans them): 65535 + 9 rows.
  const x = T.matrix('x');
  const rows = 65535 + 9;
  const input = randomArray('float32', [rows, 3], { seed: 3 });
  const softmax = compile({ inputs: [x], outputs: T.softmax(x, -1), device, tuning: { workgroupTarget: 256 } });
  const [probabilities] = await softmax(input);
  assert.equal(softmax.lastPlan()!.kernels[0]!.passes[0]!.dispatch.slice(0, 2), [65535, 2]);
  assertClose(probabilities as T.NDArray, T.evaluate(T.softmax(x, -1), [[x, input]]), { rtol: 1e-5, atol: 1e-6 });
});

test('random streams draw the reference stream on the device, and advance per call', async () => {
  const device = await webgpu();
  const stream = new T.RandomStreams(1234);
  const u = stream.uniform([1000]);
  const z = stream.normal([7, 33], { mean: 1, std: 2 });
  const b = stream.bernoulli([500], 0.3);
  const outputs = [u, z, b];
  const deviceFn = compile({ inputs: [], outputs, device });
  const hostStream = new T.RandomStreams(1234);
  const hostOutputs = [hostStream.uniform([1000]), hostStream.normal([7, 33], { mean: 1, std: 2 }), hostStream.bernoulli([500], 0.3)];
  const hostFn = T.referenceFunction({ inputs: [], outputs: hostOutputs });
  for (let call = 0; call < 2; call++) {
    const got = (await deviceFn()) as T.NDArray[];
    const want = hostFn();
    assertClose(got[0]!, want[0]!, { rtol: 0, atol: 0 }, `uniform, call ${call}`);
    assertClose(got[1]!, want[1]!, { rtol: 1e-5, atol: 1e-5 }, `normal, call ${call}`);
    assertClose(got[2]!, want[2]!, { rtol: 0, atol: 0 }, `bernoulli, call ${call}`);
  }
});

test.run();
