// The runtime's contract: calls issued back to back without awaiting run in order;
// updates read the values from before the call; outputs can stay on the device and feed
// the next call; host-side `set` reaches the device, and a device-updated shared variable
// refuses a stale host read until `readShared`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { acquireDevice, compile, DeviceTensor, readShared } from '../src/index.ts';

test('calls queued back to back run in order, updates read the old values', async () => {
  const device = await acquireDevice();
  const counter = T.shared(new Float32Array([0]), 'counter');
  const other = T.shared(new Float32Array([100]), 'other');
  // Both updates read the values from before the call: a swap-like dependency.
  const step = compile({ inputs: [], outputs: [counter, other], updates: [[counter, T.add(counter, 1)], [other, T.add(other, counter)]], device });
  const pending = Array.from({ length: 10 }, () => step());
  const results = await Promise.all(pending);
  assert.equal(results.map((r) => (r[0] as T.NDArray).data[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(results.map((r) => (r[1] as T.NDArray).data[0]), [100, 100, 101, 103, 106, 110, 115, 121, 128, 136]);
  assert.throws(() => counter.get(), /updated on the device/);
  assert.is((await readShared(counter)).data[0], 10);
  assert.is(counter.get().data[0], 10);
});

test('calls run in the order they are made, also while a new input shape is still compiling', async () => {
  const device = await acquireDevice();
  const total = T.shared(new Float32Array([0]), 'total');
  const x = T.vector('x');
  const next = T.add(T.mul(total, 10), T.sum(x));
  const step = compile({ inputs: [x], outputs: next, updates: [[total, next]], device });
  await step([1]); // builds the plan for one element: total = 1
  const a = step([1, 1]); // a new shape: waits for its plan
  const b = step([2]); // a ready plan, but made after a
  const c = step([1, 2, 3]); // another new shape
  const d = step([0]);
  const results = await Promise.all([a, b, c, d]);
  assert.equal(results.map((r) => (r[0] as T.NDArray).data[0]), [12, 122, 1226, 12260]);
  assert.is((await readShared(total)).data[0], 12260);
});

test('calls run in order in nanguard and profile modes (which wait between kernels) and across compiled functions', async () => {
  const device = await acquireDevice();
  for (const mode of ['nanguard', 'profile'] as const) {
    const total = T.shared(new Float32Array([0]), 'total');
    const x = T.vector('x');
    const next = T.add(T.mul(total, 10), T.sum(T.log(T.exp(x))));
    const step = compile({ inputs: [x], outputs: next, updates: [[total, next]], device, mode });
    const results = await Promise.all([1, 2, 3, 4].map((v) => step([v])));
    assert.equal(results.map((r) => Math.round((r[0] as T.NDArray).data[0]!)), [1, 12, 123, 1234], mode);
  }
  // Two functions sharing a variable: the one made first runs first, even while its plan compiles.
  const counter = T.shared(new Float32Array([1]), 'counter');
  const increment = compile({ inputs: [], outputs: counter, updates: [[counter, T.add(counter, 1)]], device });
  await increment(); // counter = 2; this plan is ready
  const read = compile({ inputs: [], outputs: T.mul(counter, 1), device });
  const [seen, incremented] = await Promise.all([read(), increment()]);
  assert.is((seen[0] as T.NDArray).data[0], 2);
  assert.is((incremented[0] as T.NDArray).data[0], 2);
  assert.is((await readShared(counter)).data[0], 3);
});

test('updates written in place keep Theano semantics: every update reads the old values', async () => {
  const device = await acquireDevice();
  const make = () => {
    const w = T.shared(new Float32Array([1, 2, 3, 4]), 'w');
    const v = T.shared(new Float32Array([0]), 'v');
    const u = T.shared(new Float32Array([5, 6, 7, 8]), 'u');
    // w in place by itself; v reads all of the old w; u reads w at other elements (a roll).
    const updates: [T.SharedVariable, T.Variable][] = [[w, T.add(T.mul(w, 2), 1)], [v, T.sum(w, 0, true)], [u, T.add(u, T.roll(w, 1))]];
    return { w, v, u, updates };
  };
  const a = make();
  const b = make();
  const compiled = compile({ inputs: [], outputs: [T.sum(a.w)], updates: a.updates, device });
  const reference = T.referenceFunction({ inputs: [], outputs: [T.sum(b.w)], updates: b.updates });
  for (let call = 0; call < 3; call++) {
    const [got] = await compiled();
    const [want] = reference();
    assert.is((got as T.NDArray).data[0], want!.data[0]);
  }
  for (const name of ['w', 'v', 'u'] as const) {
    assert.equal(Array.from((await readShared(a[name])).data), Array.from(b[name].get().data), name);
  }
});

test('an update whose value is another updated shared variable reads its old value (a swap; one side in place)', async () => {
  const device = await acquireDevice();
  const make = () => {
    const a = T.shared(new Float32Array([1, 2, 3]), 'a');
    const b = T.shared(new Float32Array([10, 20, 30]), 'b');
    const c = T.shared(new Float32Array([5, 6, 7]), 'c');
    const d = T.shared(new Float32Array([0, 0, 0]), 'd');
    // a and b swap (two copies); c is computed in place while d takes its old value.
    const updates: [T.SharedVariable, T.Variable][] = [[a, b], [b, a], [c, T.add(T.mul(c, 0.5), 1)], [d, c]];
    return { a, b, c, d, updates };
  };
  const ours = make();
  const theirs = make();
  const compiled = compile({ inputs: [], outputs: [T.sum(ours.a)], updates: ours.updates, device });
  const reference = T.referenceFunction({ inputs: [], outputs: [T.sum(theirs.a)], updates: theirs.updates });
  for (let call = 0; call < 3; call++) {
    await compiled();
    reference();
  }
  for (const name of ['a', 'b', 'c', 'd'] as const) {
    assert.equal(Array.from((await readShared(ours[name])).data), Array.from(theirs[name].get().data), name);
  }
});

test('a row kernel (softmax) computing an update in place reads the old value through its output binding', async () => {
  const device = await acquireDevice();
  const x = T.matrix('x');
  const make = () => T.shared([[0.1, 0.2, 0.3, 0.4, 0.5], [0.6, 0.7, 0.8, 0.9, 1]], 's');
  const [ours, theirs] = [make(), make()];
  const value = (s: T.SharedVariable) => T.add(T.mul(s, 0.5), T.softmax(x));
  const compiled = compile({ inputs: [x], outputs: [], updates: [[ours, value(ours)]], device });
  const reference = T.referenceFunction({ inputs: [x], outputs: [], updates: [[theirs, value(theirs)]] });
  const xs = [[0.5, -1, 2, 0, 1], [3, 1, -2, 0.25, 0]];
  for (let call = 0; call < 3; call++) {
    await compiled(xs);
    reference(xs);
  }
  assert.is(compiled.lastPlan()!.kernels[0]!.kernel.kind, 'rows');
  const [got, want] = [(await readShared(ours)).data, theirs.get().data];
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `element ${i}: ${v}, expected ${want[i]}`));
});

test('outputs kept on the device feed the next call without a round trip', async () => {
  const device = await acquireDevice();
  const x = T.vector('x');
  const double = compile({ inputs: [x], outputs: T.mul(x, 2), device, outputsOnDevice: true });
  let value: T.NDArray | DeviceTensor = T.array(new Float32Array([1, 2, 3]));
  for (let i = 0; i < 5; i++) value = ((await double(value)) as DeviceTensor[])[0]!;
  assert.ok(value instanceof DeviceTensor);
  assert.equal(Array.from((await (value as DeviceTensor).read()).data), [32, 64, 96]);
});

test('device outputs are written in place into buffers of their own, also when calls overlap and buffers are recycled', async () => {
  const device = await acquireDevice();
  const x = T.vector('x');
  const w = T.shared(new Float32Array([1, 1, 1]), 'w');
  const doubled = T.mul(x, 2);
  // An output read by another output's kernel, the same output twice, a shared variable,
  // an input passed through, and an update whose new value is also an output.
  const next = T.add(w, doubled);
  const fn = compile({ inputs: [x], outputs: [doubled, T.exp(doubled), doubled, w, x, next], updates: [[w, next]], device, outputsOnDevice: true });
  const calls = Array.from({ length: 6 }, (_, i) => fn([i, i + 1, i + 2]));
  const results = await Promise.all(calls);
  let wBefore = [1, 1, 1];
  for (const [i, outputs] of results.entries()) {
    const tensors = outputs as DeviceTensor[];
    assert.is(new Set(tensors.map((t) => t.buffer)).size, tensors.length, 'every output has a buffer of its own');
    const host = await Promise.all(tensors.map(async (t) => Array.from((await t.read()).data)));
    const input = [i, i + 1, i + 2];
    const want = [input.map((v) => 2 * v), input.map((v) => Math.exp(2 * v)), input.map((v) => 2 * v), wBefore, input, wBefore.map((v, j) => v + 2 * input[j]!)];
    host.forEach((got, o) => got.forEach((v, j) => assert.ok(Math.abs(v - want[o]![j]!) <= 1e-5 * Math.max(1, Math.abs(want[o]![j]!)), `call ${i}, output ${o}, element ${j}: ${v}, expected ${want[o]![j]}`)));
    wBefore = want[5]!;
    assert.ok(fn.lastPlan()!.outputs[0]!.ownBuffer && !fn.lastPlan()!.outputs[3]!.ownBuffer && !fn.lastPlan()!.outputs[4]!.ownBuffer);
    tensors.forEach((t) => t.destroy()); // back to the pool: the next calls' outputs reuse them
  }
  // Recycled buffers (and the bind groups kept for them) give fresh, correct values.
  for (let round = 0; round < 3; round++) {
    const outputs = (await fn([round, 0, -round])) as DeviceTensor[];
    assert.equal(Array.from((await outputs[0]!.read()).data), [2 * round, 0, -2 * round]);
    outputs.forEach((t) => t.destroy());
  }
});

test('a device tensor destroyed twice goes back to the pool once: later outputs never share a buffer', async () => {
  const device = await acquireDevice();
  const x = T.vector('x');
  const fn = compile({ inputs: [x], outputs: T.add(x, 1), device, outputsOnDevice: true });
  const [first] = (await fn([1, 2, 3, 4, 5, 6, 7])) as DeviceTensor[];
  first!.destroy();
  first!.destroy();
  first!.runtime.releaseBuffer(first!.buffer); // given back directly, too
  const [a] = (await fn([1, 1, 1, 1, 1, 1, 1])) as DeviceTensor[];
  const [b] = (await fn([2, 2, 2, 2, 2, 2, 2])) as DeviceTensor[];
  assert.ok(a!.buffer !== b!.buffer);
  assert.equal(Array.from((await a!.read()).data), [2, 2, 2, 2, 2, 2, 2]);
  assert.equal(Array.from((await b!.read()).data), [3, 3, 3, 3, 3, 3, 3]);
});

test('a host-side set reaches the device before the next call', async () => {
  const device = await acquireDevice();
  const w = T.shared([1, 2], 'w');
  const total = compile({ inputs: [], outputs: T.sum(w), device });
  assert.is(((await total())[0] as T.NDArray).data[0], 3);
  w.set([10, 20]);
  assert.is(((await total())[0] as T.NDArray).data[0], 30);
});

test('one plan per input-shape signature, reused', async () => {
  const device = await acquireDevice();
  const x = T.matrix('x');
  const fn = compile({ inputs: [x], outputs: T.sum(x, 1), device });
  await fn([[1, 2]]);
  const first = fn.lastPlan();
  await fn([[1, 2], [3, 4]]);
  const second = fn.lastPlan();
  const [again] = await fn([[5, 6]]);
  assert.ok(first !== second && fn.lastPlan() === first);
  assert.is((again as T.NDArray).data[0], 11);
});

test.run();
