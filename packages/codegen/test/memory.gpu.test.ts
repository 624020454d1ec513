// Needs a real GPU (run by scripts/run-tests.mjs only when the device is 'gpu' or
// THEORBO_GPU_TESTS=1; otherwise counted as not run): a plan that asks for more device
// memory than the GPU has fails with a DeviceMemoryError sentence, and the device stays
// usable afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { acquireDevice, compile, DeviceMemoryError } from '../src/index.ts';

test('asking for more memory than the GPU has is a DeviceMemoryError', async () => {
  const device = await acquireDevice();
  if (device.kind !== 'gpu') throw new Error(`this test needs the gpu device, got ${device.kind}`);
  const s = T.scalar('s');
  const elements = Math.floor(device.limits.maxStorageBufferBindingSize / 4);
  // 2 GiB each: enough of them to exceed any current GPU's memory (H200: 141 GB).
  const outputs = Array.from({ length: 96 }, (_, i) => T.exp(T.mul(T.broadcastTo(s, [elements]), i + 1)));
  const fn = compile({ inputs: [s], outputs, device, outputsOnDevice: true });
  let caught: unknown;
  try {
    await fn(1);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DeviceMemoryError, `expected a DeviceMemoryError, got ${String(caught)}`);
  assert.match(String((caught as Error).message), /out of device memory while building the kernels/);
  const x = T.vector('x');
  const [y] = await compile({ inputs: [x], outputs: T.mul(x, 2), device })([1, 2, 3]);
  assert.equal(Array.from((y as T.NDArray).data), [2, 4, 6]);
});

test.run();
