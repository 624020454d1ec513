// Bad calls, each provoked, each asserting the error class and that the message names
// the culprit: values that are not numbers, floats and out-of-range numbers for integer
// inputs, inputs listed twice or unused, two updates of one shared variable, updates of
// the wrong shape, JavaScript operators on Variables, float64 on the reference device,
// and (on the device) out-of-range gather indices, size-1 dimensions that are not
// declared broadcastable, and zero-size tensors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { EvaluationError, GraphError } from '@theorbo/graph';
import { expectEvaluationError, expectGraphError } from '@theorbo/graph/testing';
import { grad } from '@theorbo/autodiff';
import { acquireDevice, acquireWebGpuDevice, compile, type WebGpuDescriptor } from '../src/index.ts';

async function webgpu(): Promise<WebGpuDescriptor> {
  return acquireWebGpuDevice();
}

/** Awaits a rejection of class `kind` whose message holds every fragment. */
async function rejects(promise: Promise<unknown>, kind: new (...args: never[]) => Error, ...fragments: string[]): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, kind, `expected a ${kind.name}, got ${String(error)}`);
    const message = (error as Error).message;
    for (const fragment of fragments) assert.ok(message.includes(fragment), `message lacks ${fragment}:\n${message}`);
    return error as Error;
  }
  throw new Error(`expected a ${kind.name} mentioning ${fragments.join(', ')}, but the call resolved`);
}

const garbage: [unknown, string][] = [[undefined, 'undefined'], ['3', 'the string "3"'], [{ a: 1 }, 'an Object'], [null, 'null']];

test('values that are not numbers: T.evaluate, T.constant, shared, set and referenceFunction name the input', () => {
  const x = T.vector('x');
  for (const [value, phrase] of garbage) {
    expectEvaluationError(() => T.evaluate(T.exp(x), [[x, [1, value as number, 3]]]), "input 'x'", `${phrase} at [1]`);
    expectGraphError(() => T.constant([[1, 2], [3, value as number]], { name: 'table' }), 'constant', "'table'", `${phrase} at [1][1]`);
    expectGraphError(() => T.shared(value as number, 'w'), 'shared', "'w'", `is ${phrase}`);
    expectGraphError(() => T.shared([1, 2], 'w').set([value as number, 2]), 'shared.set', "'w'", phrase);
    expectEvaluationError(() => T.referenceFunction({ inputs: [x], outputs: T.exp(x) })(value as number[]), "input 'x'", phrase);
  }
  // A weak operand of an op becomes a constant, which refuses it the same way.
  expectGraphError(() => T.add(x, undefined as unknown as number), 'constant', 'undefined');
});

test('values that are not numbers: compiled calls name the input, on the device and on the reference', async () => {
  const x = T.vector('x');
  const y = T.matrix('y');
  for (const device of [await webgpu(), 'reference' as const]) {
    const fn = compile({ inputs: [x, y], outputs: T.add(T.sum(x), T.sum(y)), device });
    for (const [value, phrase] of garbage) {
      await rejects(fn([1, 2], [[1, value as number]]), EvaluationError, "input 'y'", `${phrase} at [0][1]`);
      await rejects(fn(value as number[], [[1]]), EvaluationError, "input 'x'", `is ${phrase}`);
    }
  }
});

test('floats given to integer inputs are refused unless allowInputDowncast: true; numbers out of range always', async () => {
  const k = T.ivector('k');
  const u = T.tensor('uint32', [null], 'u');
  for (const device of [await webgpu(), 'reference' as const]) {
    const fn = compile({ inputs: [k], outputs: T.mul(k, 2), device });
    await rejects(fn([1, 2.5, 3]), EvaluationError, "input 'k'", '2.5 at element [1]', 'allowInputDowncast: true');
    await rejects(fn(new Float32Array([1, 2.5])), EvaluationError, "input 'k'", 'float32', 'allowInputDowncast: true');
    await rejects(fn([1, 3e9]), EvaluationError, "input 'k'", '3000000000', 'int32 range');
    await rejects(fn([NaN]), EvaluationError, "input 'k'", 'NaN');
    const lenient = compile({ inputs: [k], outputs: T.mul(k, 2), device, allowInputDowncast: true });
    assert.equal(Array.from(((await lenient([1, 2.5, -3.7]))[0] as T.NDArray).data), [2, 4, -6]);
    assert.equal(Array.from(((await lenient(new Float64Array([7.9])))[0] as T.NDArray).data), [14]);
    await rejects(lenient([1, -3e9]), EvaluationError, "input 'k'", '-3000000000', 'int32 range');
    await rejects(lenient(new Float64Array([1, 5e9])), EvaluationError, "input 'k'", '5000000000');
    const unsigned = compile({ inputs: [u], outputs: T.add(u, 1), device });
    await rejects(unsigned([1, -1]), EvaluationError, "input 'u'", '-1', 'uint32 range');
  }
  expectEvaluationError(() => T.evaluate(T.mul(k, 2), [[k, [1.5]]]), "input 'k'", '1.5', 'T.evaluate does not convert');
  expectGraphError(() => T.constant([1, 3e9], { dtype: 'int32', name: 'big' }), 'constant', "'big'", '3000000000', 'int32 range');
  expectGraphError(() => T.shared([5e9], 'count', { dtype: 'uint32' }), 'shared', "'count'", '5000000000', 'uint32 range');
});

test('compile refuses an input listed twice, two updates of one shared variable and an update of the wrong shape', () => {
  const x = T.vector('x');
  const w = T.shared(new Float32Array([1, 2, 3]), 'w');
  expectGraphError(() => compile({ inputs: [x, x], outputs: T.exp(x) }), 'compile', "input 'x'", 'listed twice', 'positions 0 and 1');
  expectGraphError(() => compile({ inputs: [x], outputs: T.sum(x), updates: [[w, T.mul(w, 2)], [w, T.add(w, 1)]] }), 'compile', "shared variable 'w'", 'two updates');
  expectGraphError(() => compile({ inputs: [x], outputs: T.sum(x), updates: [[w, T.concat([w, w], 0)]] }), 'compile', 'update of w', 'float32[6]');
});

test('an update whose run-time shape differs from the shared variable\'s is refused at the call', async () => {
  const x = T.vector('x');
  const w = T.shared(new Float32Array([1, 2, 3]), 'w');
  for (const device of [await webgpu(), 'reference' as const]) {
    const fn = compile({ inputs: [x], outputs: T.sum(x), updates: [[w, T.mul(x, 2)]], device });
    await rejects(fn([1, 2]), EvaluationError, 'update of w', 'float32[2]');
    await fn([1, 2, 3]);
  }
});

test("an input no output depends on: raised by default, warned or ignored by onUnusedInput", async () => {
  const x = T.vector('x');
  const unused = T.vector('unused');
  expectGraphError(() => compile({ inputs: [x, unused], outputs: T.exp(x) }), 'compile', "input 'unused'", 'not used', "onUnusedInput: 'warn'");
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
  try {
    compile({ inputs: [x, unused], outputs: T.exp(x), onUnusedInput: 'warn' });
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0]!.includes("input 'unused'"), warnings[0]);
  const fn = compile({ inputs: [x, unused], outputs: T.exp(x), onUnusedInput: 'ignore', device: 'reference' });
  assert.equal(((await fn([0], [5, 6]))[0] as T.NDArray).toArray(), [1]);
  // Used through an update only counts as used; optimized away does too (x·0 still names x).
  const w = T.shared(new Float32Array([1]), 'w2');
  compile({ inputs: [x, unused], outputs: T.exp(x), updates: [[w, T.sum(unused, 0, true)]] });
  compile({ inputs: [x], outputs: T.mul(x, 0) });
});

test('JavaScript operators on Variables throw, pointing to T.add and .add', () => {
  const x = T.vector('x');
  const y = T.vector('y');
  const error = expectGraphError(() => (x as unknown as number) + (y as unknown as number), 'valueOf', 'x float32', 'T.add(a, b)', 'a.add(b)', 'bad-calls.test.ts:');
  assert.instance(error, GraphError);
  expectGraphError(() => (x as unknown as number) * 2, 'valueOf');
  expectGraphError(() => (x as unknown as number) < 2, 'valueOf');
  // Strings still work: template literals and String() use toString.
  assert.is(`${x}`, 'x float32[?]');
  assert.is(String(y), 'y float32[?]');
});

test("compile({ device: 'reference' }) runs float64; WebGPU devices refuse it, naming the node", async () => {
  const x = T.dvector('x');
  const fn = compile({ inputs: [x], outputs: T.mul(x, 1 + 1e-12), device: 'reference' });
  const [result] = (await fn(new Float64Array([3]))) as T.NDArray[];
  assert.is(result!.dtype, 'float64');
  assert.is(result!.data[0], 3 * (1 + 1e-12));
  expectGraphError(() => compile({ inputs: [x], outputs: T.exp(x), device: 'cpu-webgpu' }), 'compile', 'float64', "device: 'reference'");
});

test('out-of-range indices raise on the device as on the reference, naming the op, the index and the bound', async () => {
  const device = await webgpu();
  const x = T.vector('x');
  const m = T.matrix('m');
  const k = T.ivector('k');
  const cases: [string, T.Variable[], T.Variable, T.ArrayLike[], string, string][] = [
    ['a gather', [x, k], T.mul(x.at(k), 2), [[1, 2, 3], [0, 5, 1]], 'advanced_subtensor', 'index 5 is out of range for axis 0'],
    ['a negative index past the start', [x, k], T.exp(x.at(k)), [[1, 2, 3], [-4]], 'advanced_subtensor', 'index -4'],
    ['a gathered row fused into a reduction', [m, k], T.sum(m.at(k), 1), [[[1, 2], [3, 4]], [1, 2]], 'advanced_subtensor', 'index 2 is out of range for axis 0'],
    ['a gather along the second axis', [m, k], T.add(m.at(':', k), 1), [[[1, 2], [3, 4]], [7]], 'advanced_subtensor', 'axis 1'],
    ['a scatter', [x, k], T.incSubtensor(x, [k], 1), [[1, 2, 3], [3]], 'advanced_inc_subtensor', 'index 3'],
  ];
  for (const [what, inputs, output, values, op, phrase] of cases) {
    const want = await rejects(compile({ inputs, outputs: output, device: 'reference' })(...values), EvaluationError, op, phrase);
    const got = await rejects(compile({ inputs, outputs: output, device })(...values), EvaluationError, op, phrase, 'bad-calls.test.ts:', 'checkIndices: false');
    assert.ok(got.message.includes('(size '), `${what}: ${got.message}`);
    assert.ok(want.message.includes('(size '), `${what}: ${want.message}`);
  }
  // In range (negative indices wrap once), the same function runs on; the flags are per call.
  const gather = compile({ inputs: [x, k], outputs: T.mul(x.at(k), 2), device });
  await rejects(gather([1, 2, 3], [3]), EvaluationError, 'index 3');
  assert.equal(((await gather([1, 2, 3], [2, -1, 0]))[0] as T.NDArray).toArray(), [6, 6, 2]);
  // checkIndices: false clamps instead (the README's deviation), with no flags bound.
  const unchecked = compile({ inputs: [x, k], outputs: T.mul(x.at(k), 2), device, checkIndices: false });
  assert.equal(((await unchecked([1, 2, 3], [5]))[0] as T.NDArray).toArray(), [6]);
  assert.not.ok(unchecked.lastPlan()!.indexErrors);
});

test('out-of-range indices: device outputs fail at read() and at their next use', async () => {
  const device = await webgpu();
  const x = T.vector('x');
  const k = T.ivector('k');
  const gather = compile({ inputs: [x, k], outputs: x.at(k), device, outputsOnDevice: true });
  const [tensor] = (await gather([1, 2, 3], [9])) as import('../src/index.ts').DeviceTensor[];
  await rejects(tensor!.read(), EvaluationError, 'advanced_subtensor', 'index 9', '(size 3)');
  const double = compile({ inputs: [x], outputs: T.mul(x, 2), device });
  await rejects(double(tensor!), EvaluationError, 'made by a call that failed', 'index 9');
});

test('a size-1 dimension not declared broadcastable does not broadcast on the device either', async () => {
  const device = await webgpu();
  const x = T.matrix('x');
  const row = T.matrix('row');
  const declared = T.tensor('float32', [1, null], 'declared');
  for (const target of [device, 'reference' as const]) {
    const add = compile({ inputs: [x, row], outputs: T.add(x, row), device: target });
    await rejects(add([[1, 2], [3, 4]], [[10, 20]]), EvaluationError, 'add', "input 1 'row' (float32[?,?])", 'size 1 in dimension 0', 'broadcastable', 'bad-calls.test.ts:');
    // Its gradient would have come back with the wrong shape: the call refuses instead.
    const loss = T.sum(T.mul(x, row));
    const [gradient] = grad(loss, [row]);
    await rejects(compile({ inputs: [x, row], outputs: [loss, gradient!], device: target })([[1, 2], [3, 4]], [[10, 20]]), EvaluationError, 'mul', 'size 1 in dimension 0');
    const fine = compile({ inputs: [x, declared], outputs: T.add(x, declared), device: target });
    assert.equal(((await fine([[1, 2], [3, 4]], [[10, 20]]))[0] as T.NDArray).toArray(), [11, 22, 13, 24]);
  }
});

test('zero-size tensors work as in numpy on the device: sum of nothing 0, prod 1, mean NaN, max and argmax refused', async () => {
  const device = await webgpu();
  const x = T.matrix('x');
  const outputs: [string, T.Variable][] = [
    ['sum', T.sum(x, 1)], ['prod', T.prod(x, 1)], ['mean', T.mean(x, 1)], ['mean of all', T.mean(x)], ['exp', T.exp(x)],
    ['dot', T.dot(x, T.transpose(x))], ['sum over the empty rows', T.sum(T.transpose(x), 0)],
  ];
  for (const shape of [[80, 0], [0, 3]]) {
    const value = T.NDArray.zeros('float32', shape);
    for (const [name, output] of outputs) {
      const [want] = T.referenceFunction({ inputs: [x], outputs: output })(value);
      const [got] = (await compile({ inputs: [x], outputs: output, device })(value)) as T.NDArray[];
      assert.equal(got!.shape, want!.shape, `${name} of ${shape}`);
      assert.equal(got!.toArray(), want!.toArray(), `${name} of ${shape}`);
    }
  }
  const nothing = T.NDArray.zeros('float32', [80, 0]);
  assert.equal(((await compile({ inputs: [x], outputs: T.sum(x, 1), device })(nothing))[0] as T.NDArray).toArray(), new Array(80).fill(0));
  assert.ok(((await compile({ inputs: [x], outputs: T.mean(x, 1), device })(nothing))[0] as T.NDArray).toArray().every(Number.isNaN));
  for (const [op, output] of [['max', T.max(x, 1)], ['argmax', T.argmax(x, 1)]] as const) {
    await rejects(compile({ inputs: [x], outputs: output, device })(nothing), EvaluationError, op, 'float32[80,0]');
  }
});

test.run();
