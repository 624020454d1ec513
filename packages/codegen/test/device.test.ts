// Smoke test of the device chain: acquires whatever THEORBO_DEVICE or the chain picks,
// prints it, and runs small WGSL kernels whose every output element is checked against
// values computed here. Falling through to 'reference' fails, naming what is missing,
// unless THEORBO_DEVICE=reference asked for it. Left out: speed, and anything only a
// real GPU has (subgroups, large sizes): those belong in *.gpu.test.ts files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireDevice, releaseDevices, requestedKind } from '../src/index.ts';
import { runWgsl } from './run-wgsl.ts';
import type { AcquiredDevice, WebGpuDescriptor } from '../src/index.ts';

const pinned = requestedKind();
// Under THEORBO_DEVICE=reference the kernel tests cannot run: they are registered as
// skipped, so the summary says so, rather than passing without checking anything.
const kernelTest = pinned === 'reference' ? test.skip : test;
let acquired: AcquiredDevice | undefined;

async function webGpuDevice(): Promise<WebGpuDescriptor> {
  acquired ??= await acquireDevice();
  if (acquired.kind === 'reference') {
    assert.unreachable(`no WebGPU device; the chain fell to the reference evaluator:\n${acquired.describe()}`);
  }
  return acquired as WebGpuDescriptor;
}

/** Deterministic values in [-100, 100), exact in f32. */
function pseudoRandomFloats(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = Math.fround((state / 2 ** 32) * 200 - 100);
  }
  return out;
}

test.after(async () => {
  await releaseDevices();
});

test('acquires a WebGPU device, or the reference device only when THEORBO_DEVICE asks for it', async () => {
  acquired = await acquireDevice();
  console.log(`\n  device (THEORBO_DEVICE=${pinned ?? 'unset'}):\n  ${acquired.describe().replaceAll('\n', '\n  ')}`);
  console.log(`  adapter info: ${JSON.stringify(acquired.adapterInfo)}`);
  if (pinned === 'reference') {
    assert.is(acquired.kind, 'reference');
    assert.is(acquired.device, undefined);
    await runWgsl(acquired, { code: '', inputs: [], outputLength: 1, workgroups: 1 }).then(
      () => assert.unreachable('runWgsl ran without a WebGPU device'),
      (error: Error) => assert.match(error.message, /needs a WebGPU device/),
    );
    return;
  }
  const device = await webGpuDevice();
  assert.ok(pinned === undefined || device.kind === pinned, `asked for ${pinned}, got ${device.kind}`);
  assert.is(await acquireDevice(), device, 'a second acquireDevice() returns the cached device');
});

kernelTest('y[i] = x[i]*2 + (i mod 7)/4 over 1000 elements in workgroups of 64, bounds checked', async () => {
  const target = await webGpuDevice();
  const length = 1000;
  const workgroups = Math.ceil(length / 64);
  const x = pseudoRandomFloats(length, 7);
  // The output has one slot per invocation (1024), so a kernel without its bounds check
  // would write the 24 slots past `length`, which must stay zero.
  const y = await runWgsl(target, {
    code: /* wgsl */ `
      @group(0) @binding(0) var<storage, read> x: array<f32>;
      @group(0) @binding(1) var<storage, read_write> y: array<f32>;
      @compute @workgroup_size(64)
      fn main(@builtin(global_invocation_id) id: vec3u) {
        let i = id.x;
        if (i >= arrayLength(&x)) { return; }
        y[i] = x[i] * 2.0 + f32(i % 7u) * 0.25;
      }`,
    inputs: [x],
    outputLength: workgroups * 64,
    workgroups,
  });
  for (let i = 0; i < y.length; i++) {
    const expected = i < length ? Math.fround(Math.fround(x[i]! * 2) + (i % 7) * 0.25) : 0;
    if (y[i] !== expected) assert.unreachable(`y[${i}] = ${y[i]}, expected ${expected} (x[${i}] = ${x[i]})`);
  }
});

kernelTest('a 256-thread workgroup sums its block in workgroup memory (needs the raised limits)', async () => {
  const target = await webGpuDevice();
  assert.ok(target.limits.maxComputeInvocationsPerWorkgroup >= 256, `maxComputeInvocationsPerWorkgroup is ${target.limits.maxComputeInvocationsPerWorkgroup}`);
  const blocks = 5;
  const values = Uint32Array.from({ length: blocks * 256 }, (_, i) => (i * 2654435761) % 100003);
  const sums = await runWgsl(target, {
    code: /* wgsl */ `
      @group(0) @binding(0) var<storage, read> values: array<u32>;
      @group(0) @binding(1) var<storage, read_write> sums: array<u32>;
      var<workgroup> partial: array<u32, 256>;
      @compute @workgroup_size(256)
      fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) group: vec3u) {
        partial[lane] = values[group.x * 256u + lane];
        workgroupBarrier();
        for (var stride = 128u; stride > 0u; stride = stride / 2u) {
          if (lane < stride) { partial[lane] += partial[lane + stride]; }
          workgroupBarrier();
        }
        if (lane == 0u) { sums[group.x] = partial[0]; }
      }`,
    inputs: [values],
    outputLength: blocks,
    outputType: 'u32',
    workgroups: blocks,
  });
  assert.instance(sums, Uint32Array);
  for (let block = 0; block < blocks; block++) {
    let expected = 0;
    for (let lane = 0; lane < 256; lane++) expected += values[block * 256 + lane]!;
    assert.is(sums[block], expected, `sum of block ${block}`);
  }
});

kernelTest('a WGSL error is reported with its line', async () => {
  const target = await webGpuDevice();
  const code = '@compute @workgroup_size(1)\nfn main() {\n  let a: f32 = undefined_name;\n}';
  await runWgsl(target, { code, inputs: [], outputLength: 1, workgroups: 1 }).then(
    () => assert.unreachable('invalid WGSL ran'),
    (error: Error) => assert.match(error.message, /line 3:.*undefined_name/),
  );
});

test.run();
