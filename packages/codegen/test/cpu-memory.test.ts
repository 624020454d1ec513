// The cpu device's memory (cpu/memory.ts) and what compiled functions hold of it
// (cpu/calls.ts): freed regions merge with free neighbours and lower the top; a plan's
// buffers are recorded when it is built and release() gives them back, so a function
// called with many shapes and released between them stays within the memory it needed
// for one, and the next call builds again with the same results; shared variables keep
// their region (and value) through a release; reacquire releases too; under memory pressure
// (a region that does not fit) the plans of functions not in a call are given back first;
// a build that fails gives back what it took; kernels on the reference evaluator take their
// buffers with the plan; a scan's step plans never take a caller's device tensors as theirs;
// functions, shared variables and scan step graphs that are garbage-collected give their memory back (a
// child process with --expose-gc, cpu-memory-gc-child.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import type { NDArray } from '@theorbo/graph';
import { acquireDevice, compile, toDevice, type CpuDescriptor, type DeviceTensor } from '../src/index.ts';
import { CpuMemory } from '../src/cpu/memory.ts';
import { CpuCalls } from '../src/cpu/calls.ts';
import { CpuStore } from '../src/cpu/plan.ts';

let cpu!: CpuDescriptor;
test.before(async () => {
  const device = await acquireDevice({ prefer: 'cpu' });
  if (device.kind !== 'cpu') throw new Error(`these tests need the cpu device, but the chain gave ${device.kind}`);
  cpu = device;
});

test('CpuMemory: freed regions merge with their neighbours, reach the top and lower it, and are reused best fit', () => {
  const memory = new CpuMemory(65536);
  const start = memory.used;
  const [a, b, c] = [memory.take(100), memory.take(1000), memory.take(64)];
  assert.is(b, a + 128);
  assert.is(c, b + 1024);
  memory.give(b, 1000);
  // A smaller request takes the freed region (best fit) at its start.
  const d = memory.take(200);
  assert.is(d, b);
  memory.give(d, 200);
  memory.give(a, 100); // merges with b's region after it
  const e = memory.take(1100);
  assert.is(e, a, 'a and b merged hold 1152 bytes');
  memory.give(e, 1100);
  memory.give(c, 64); // the last region: everything is free again
  assert.is(memory.used, start);
  // Owned regions: those taken inside `owned`, not inside an inner `unowned`.
  const { value, regions } = memory.owned(() => {
    const first = memory.take(64);
    memory.unowned(() => memory.take(64));
    return first;
  });
  assert.equal(regions, [{ offset: value, bytes: 64 }]);
  // A plan's region that held values reads zeros again, as fresh pages do.
  const used = memory.owned(() => memory.region('float32', 100)).value;
  used.view.fill(7);
  memory.give(used.offset, 400);
  const again = memory.owned(() => memory.region('float32', 100)).value;
  assert.is(again.offset, used.offset);
  assert.ok(again.view.every((v) => v === 0), 'reused region cleared');
});

test('release(): a function called with many shapes gives its plans\' memory back, and the next call builds again with the same results', async () => {
  const x = T.vector('x');
  const fn = compile({ inputs: [x], outputs: [T.mul(T.exp(T.mul(x, 0.001)), 2), T.sum(T.square(x))], device: cpu });
  const memory = cpu.cpu.memory;
  const value = (n: number): NDArray => T.array(Float32Array.from({ length: n }, (_, i) => (i % 97) - 48));
  const expected = async (n: number) => (await compile({ inputs: [x], outputs: [T.mul(T.exp(T.mul(x, 0.001)), 2), T.sum(T.square(x))], device: 'reference' })(value(n))) as NDArray[];
  await fn(value(1000));
  const held = fn.cpuBytes();
  assert.ok(held >= 2 * 4000, `a plan for 1000 elements holds its input and its vector output: ${held} bytes`);
  fn.release();
  assert.is(fn.cpuBytes(), 0);
  const before = memory.used;
  // 40 shapes of up to 2 MB each, released after each: the memory does not grow past one plan's worth.
  for (let k = 1; k <= 40; k++) {
    const n = 200_000 + 7919 * k;
    const got = (await fn(value(n))) as NDArray[];
    if (k % 13 === 0) {
      const want = await expected(n);
      assert.ok(Math.abs(got[1]!.data[0]! - want[1]!.data[0]!) <= 1e-5 * Math.abs(want[1]!.data[0]!), `sum at ${n}`);
      assert.ok(Math.abs(got[0]!.data[n - 1]! - want[0]!.data[n - 1]!) <= 1e-5, `exp at ${n}`);
    }
    fn.release();
  }
  const grown = memory.used - before;
  assert.ok(grown <= 4 * 4 * (200_000 + 7919 * 40), `the memory grew by ${grown} bytes over 40 released shapes (one plan needs about ${2 * 4 * (200_000 + 7919 * 40)})`);
  // Without releases each shape keeps its plan.
  for (let k = 1; k <= 3; k++) await fn(value(1000 * k));
  assert.ok(fn.cpuBytes() >= 2 * 4 * (1000 + 2000 + 3000), `three shapes, three plans: ${fn.cpuBytes()} bytes`);
  fn.release();
});

test('release() keeps shared variables: an update\'s target keeps its value and region, and training goes on', async () => {
  const w = T.shared(T.array(Float32Array.of(1, 2, 3)), 'w');
  const x = T.vector('x');
  const step = compile({ inputs: [x], outputs: [T.sum(T.mul(w, x))], updates: [[w, T.add(w, x)]], device: cpu });
  const one = T.array(Float32Array.of(1, 1, 1));
  assert.is(((await step(one)) as NDArray[])[0]!.data[0], 6);
  step.release();
  assert.is(((await step(one)) as NDArray[])[0]!.data[0], 9, 'w became 2 3 4 before the release');
  assert.equal(Array.from(w.get().data), [3, 4, 5]);
});

test('reacquire() gives the plans back as release() does', async () => {
  const x = T.vector('x');
  const fn = compile({ inputs: [x], outputs: [T.tanh(x)], device: cpu });
  await fn(T.array(new Float32Array(5000)));
  assert.ok(fn.cpuBytes() > 0);
  await fn.reacquire();
  assert.is(fn.cpuBytes(), 0);
  const got = (await fn(T.array(Float32Array.of(0, 1)))) as NDArray[];
  assert.ok(Math.abs(got[0]!.data[1]! - Math.tanh(1)) < 1e-6);
});

test('memory pressure: a plan that does not fit makes the other functions give theirs back (not the calling one), then fits', async () => {
  const small = new CpuMemory(65536, 4 * 2 ** 20);
  const parts = { memory: small, store: new CpuStore(small) };
  const x = T.vector('x');
  const tuning = await compile({ inputs: [x], outputs: [T.neg(x)], device: cpu }).tuning();
  const spec = { inputs: [x], outputs: [T.mul(T.exp(T.mul(x, 0.5)), 3)], updates: [], fuse: true, outputsOnDevice: false };
  const [first, second] = [new CpuCalls(spec), new CpuCalls(spec)];
  const n = 300_000; // 1.2 MB a buffer: one plan (input and output) takes 2.4 MB of the 4 MB
  const value = T.array(Float32Array.from({ length: n }, (_, i) => (i % 5) - 2));
  const run = (calls: CpuCalls) => calls.call(parts, tuning, [value], `${n}`, 'fast', new Map())[0] as NDArray;
  run(first);
  assert.ok(first.heldBytes >= 2 * 4 * n);
  const got = run(second);
  assert.is(first.heldBytes, 0, 'the idle function gave its plan back');
  assert.ok(second.heldBytes >= 2 * 4 * n, 'the calling function kept the plan it built');
  assert.ok(Math.abs(got.data[4]! - 3 * Math.exp(1)) < 1e-5 && Math.abs(got.data[0]! - 3 * Math.exp(-1)) < 1e-6);
  // The first builds again when called; the second is idle then and gives way.
  assert.ok(Math.abs((run(first).data[4]!) - 3 * Math.exp(1)) < 1e-5);
  assert.is(second.heldBytes, 0);
  // A plan larger than the whole memory is still an error that says how much it needed.
  const huge = T.array(new Float32Array(800_000));
  assert.throws(() => second.call(parts, tuning, [huge], 'huge', 'fast', new Map()), /needs [\d.]+ MiB of memory, more than the 4\.0 MiB this memory was made with/);
});

test('a failed build gives back what it took; a reference kernel\'s buffers are its plan\'s', async () => {
  const small = new CpuMemory(65536, 4 * 2 ** 20);
  const parts = { memory: small, store: new CpuStore(small) };
  const x = T.vector('x');
  const tuning = await compile({ inputs: [x], outputs: [T.neg(x)], device: cpu }).tuning();
  const calls = new CpuCalls({ inputs: [x], outputs: [T.mul(T.exp(x), 3), T.sqrt(T.abs(x))], updates: [], fuse: false, outputsOnDevice: false });
  const before = small.used;
  assert.throws(() => calls.call(parts, tuning, [T.array(new Float32Array(400_000))], 'big', 'fast', new Map()), /this memory was made with/);
  assert.is(small.used, before, 'the failed plan\'s regions are free again');
  const got = calls.call(parts, tuning, [T.array(Float32Array.of(1, 4))], 'small', 'fast', new Map()) as NDArray[];
  assert.ok(Math.abs(got[1]!.data[1]! - 2) < 1e-6);
  // int32 matrix products run on the reference evaluator inside the plan: release() gives their buffers back too.
  const m = T.imatrix('m');
  const products = compile({ inputs: [m], outputs: [T.dot(T.dot(m, m), m)], device: cpu });
  const memory = cpu.cpu.memory;
  const start = memory.used;
  const value = T.array(Int32Array.from({ length: 64 * 64 }, (_, i) => (i % 3) - 1), { shape: [64, 64] });
  const first = ((await products(value)) as NDArray[])[0]!;
  products.release();
  assert.ok(memory.used <= start, `the memory's top went back: ${memory.used} after, ${start} before`);
  assert.equal(Array.from(((await products(value)) as NDArray[])[0]!.data), Array.from(first.data));
  products.release();
});

test('scan called first with device tensors: the step plan does not take them as its buffers (they keep their values; results equal the host call\'s)', async () => {
  const xs = T.matrix('xs');
  const w = T.matrix('w');
  const h0 = T.vector('h0');
  const hs = T.scan({ fn: (xt, hp) => T.tanh(T.add(T.matmul(T.reshape(xt, [1, -1]), w), hp)), sequences: xs, outputsInfo: [T.reshape(h0, [1, -1])] }).outputs[0]!;
  const values = [T.array(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), { shape: [6, 4] }), T.array(Float32Array.from({ length: 16 }, (_, i) => Math.cos(i) / 2), { shape: [4, 4] }), T.array(new Float32Array(4))];
  const want = T.evaluate([hs], [[xs, values[0]!], [w, values[1]!], [h0, values[2]!]])[0]!;
  const fn = compile({ inputs: [xs, w, h0], outputs: [hs], device: cpu });
  const tensors = values.map((value) => toDevice(cpu, value)) as DeviceTensor[];
  const got = ((await fn(...tensors)) as NDArray[])[0]!;
  for (const [i, tensor] of tensors.entries()) assert.equal(Array.from((await tensor.read()).data), Array.from(values[i]!.data), `input ${i} unchanged`);
  const close = (a: NDArray, what: string) => a.data.forEach((v, i) => assert.ok(Math.abs(v - want.data[i]!) < 1e-5, `${what} ${i}: ${v} vs ${want.data[i]}`));
  close(got, 'device-tensor call');
  close(((await fn(...values)) as NDArray[])[0]!, 'host call after it');
  for (const tensor of tensors) tensor.destroy();
  fn.release();
});

test('collected functions, shared variables and scan step graphs give their memory back: a second round of twenty fits where the first was', () => {
  const root = join(import.meta.dirname, '..', '..', '..');
  const child = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['--expose-gc', join(import.meta.dirname, 'cpu-memory-gc-child.ts')], { encoding: 'utf8', env: { ...process.env, THEORBO_DEVICE: 'cpu' } });
  assert.is(child.status, 0, child.stderr);
  const { start, first, second } = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { start: number; first: number; second: number };
  const mb = 2 ** 20;
  assert.ok(first - start >= 50 * mb, `the first round took ${(first - start) / mb} MB`);
  assert.ok(second - first <= 20 * mb, `the second round grew the memory by ${(second - first) / mb} MB (the first took ${(first - start) / mb} MB)`);
});

test.run();
