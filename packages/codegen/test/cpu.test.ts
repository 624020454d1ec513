// The cpu device (JS and WebAssembly kernels over one shared memory): every op case of
// op-cases.ts compiled for it and compared with the reference evaluator, as ops.test.ts
// does for the WebGPU device; which kernels ran as JS or WebAssembly rather than on the
// reference evaluator; fused chains agree bit for bit with the reference (they compute
// op by op in its arithmetic); shared variables and updates; the device chain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import type { NDArray, Variable } from '@theorbo/graph';
import { compile, readShared } from '../src/index.ts';
import { JsBuilder, loops } from '../src/cpu/js-render.ts';
import { cases, f } from './op-cases.ts';
import { grad } from '@theorbo/autodiff';
import { cases as gradCases } from '../../autodiff/test/grad-cases.ts';

async function check(name: string, build: (...inputs: Variable[]) => Variable, values: NDArray[], rtol = 2e-5): Promise<void> {
  const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (dim === 1 ? 1 : null)), `in${i}`));
  const output = build(...inputs);
  const want = T.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
  const fn = compile({ inputs, outputs: [output], device: 'cpu' });
  const [got] = await fn(...values);
  assertClose(got as NDArray, want, { rtol, atol: rtol }, `${name} on cpu`);
}

for (const [name, build, values, rtol] of cases) {
  test(`cpu: ${name}`, () => check(name, build, values, rtol));
}

test('cpu: a JS kernel computes a value once per iteration of the loops it depends on (a scalar\'s power outside every loop)', () => {
  const builder = new JsBuilder(new Set(), new Set());
  const lines = loops(builder, [3, 1, 4], 'i', ([i0, , i2]) => {
    builder.lines.push('const a = h0(2, 3);', `const b = (${i0} * 2);`, 'let acc = 0;', 'const c = (acc + a);', `const d = (b + ${i2});`, `out[${i0} * 4 + ${i2}] = (c + d);`);
  });
  const at = (line: string) => lines.findIndex((text) => text.trim() === line);
  const depth = (line: string) => lines[at(line)]!.length - lines[at(line)]!.trimStart().length;
  assert.ok(at('const a = h0(2, 3);') < at('for (let i0 = 0; i0 < 3; i0++) {') && depth('const a = h0(2, 3);') === 0, lines.join('\n'));
  assert.ok(at('const b = (i0 * 2);') < at('for (let i2 = 0; i2 < 4; i2++) {') && depth('const b = (i0 * 2);') === 2, lines.join('\n'));
  // A const reading a let stays where the let changes; so do stores.
  assert.is(depth('const c = (acc + a);'), 4);
  assert.is(depth('const d = (b + i2);'), 4);
  assert.ok(at('let acc = 0;') < at('const c = (acc + a);'));
  // And the code runs: out[i0, i2] = 8 + 2·i0 + i2.
  const out = new Float64Array(12);
  new Function('h0', 'out', lines.join('\n'))(Math.pow, out);
  assert.equal(Array.from(out), Array.from({ length: 12 }, (_, k) => 8 + 2 * Math.floor(k / 4) + (k % 4)));
});

test('cpu: elementwise chains, reductions, softmax rows and matmul epilogues run as JS or WebAssembly, equal to the reference', async () => {
  const x = T.matrix('x');
  const w = T.matrix('w');
  const b = T.vector('b');
  const outputs = [
    T.tanh(T.add(T.mul(x, 2), T.exp(T.neg(x)))),
    T.sum(T.square(x), 1),
    T.softmax(x),
    T.relu(T.add(T.matmul(x, w), b)),
    T.matmul(T.transpose(x), x),
  ];
  const values = [f(33, 17), f(17, 9), f(9)];
  const fn = compile({ inputs: [x, w, b], outputs, device: 'cpu' });
  const got = (await fn(...values)) as NDArray[];
  const want = T.evaluate(outputs, [[x, values[0]!], [w, values[1]!], [b, values[2]!]]);
  got.forEach((value, i) => assertClose(value, want[i]!, { rtol: 1e-5, atol: 1e-6 }, `output ${i}`));
  const hows = fn.cpuPlan()!.kernels.map((kernel) => kernel.how);
  assert.ok(!hows.includes('reference'), `kernels on the reference: ${fn.cpuPlan()!.kernels.map((k) => `${k.label} [${k.how}]`).join('; ')}`);
  // Reductions of short rows (17 here) compute in the reference's arithmetic: equal, not close. Elementwise chains
  // too, but for exp and tanh: WebAssembly kernels take them from polynomials (cpu/wasm-math.ts).
  assertClose(got[0]!, want[0]!, { rtol: 3e-7, atol: 1e-7 }, 'tanh(2x + exp(−x))');
  assert.equal([...(got[1]!.data)], [...want[1]!.data]);
});

test('cpu: a parameter\'s host value is copied out when asked for: the newest, and a value taken earlier stays as it was', async () => {
  const w = T.shared(T.array(new Float32Array([1, 2, 3]), { shape: [3] }), 'w');
  const step = compile({ inputs: [], outputs: [], updates: [[w, T.add(T.mul(w, 2), 1)]], device: 'cpu' });
  await step();
  const first = w.get();
  assert.equal([...first.data], [3, 5, 7]);
  await step();
  await step();
  assert.equal([...first.data], [3, 5, 7], 'the earlier value is a snapshot');
  assert.equal([...w.get().data], [15, 23, 31]);
  assert.is(w.get(), w.get(), 'read once per update');
  w.set(new Float32Array([0, 0, 0]));
  await step();
  assert.equal([...w.get().data], [1, 1, 1], 'a host set() is uploaded before the next step');
});

test('cpu: scatters (a gather\'s gradient, incSubtensor with an index tensor) run natively and check their indices', async () => {
  const x = T.matrix('x');
  const rows = T.tensor('int32', [null], 'rows');
  const y = T.matrix('y');
  const outputs = [T.incSubtensor(T.mul(x, 2), [rows], T.exp(y)), T.setSubtensor(x, [rows], y)];
  const fn = compile({ inputs: [x, rows, y], outputs, device: 'cpu' });
  const values = [f(5, 3), T.array(new Int32Array([4, 0, 4, -1]), { shape: [4] }), f(4, 3)] as const;
  const got = (await fn(...values)) as NDArray[];
  const want = T.evaluate(outputs, [[x, values[0]], [rows, values[1]], [y, values[2]]]);
  got.forEach((value, i) => assertClose(value, want[i]!, { rtol: 1e-6, atol: 1e-6 }, `output ${i}`));
  const scatters = fn.cpuPlan()!.kernels.filter((kernel) => kernel.label.startsWith('scatter'));
  assert.ok(scatters.length >= 1 && scatters.every((kernel) => kernel.how === 'js'), fn.cpuPlan()!.kernels.map((k) => `${k.label} [${k.how}]`).join('; '));
  try {
    await fn(values[0], T.array(new Int32Array([5]), { shape: [1] }), f(1, 3));
    assert.unreachable('an index past the end was accepted');
  } catch (error) {
    assert.instance(error, T.EvaluationError);
    assert.match((error as Error).message, /advanced_inc_subtensor: index 5 is out of range for axis 0 of a value of shape \[5,3\]/);
  }
});

test('cpu: updates of shared variables stay on the device between calls, and the host copy follows', async () => {
  const w = T.shared(T.array(new Float32Array([1, 2, 3, 4]), { shape: [2, 2] }), 'w');
  const x = T.matrix('x');
  const loss = T.sum(T.square(T.matmul(x, w)));
  const step = compile({ inputs: [x], outputs: [loss], updates: [[w, T.sub(w, T.mul(0.01, T.add(w, 1)))]], device: 'cpu' });
  const xs = f(3, 2);
  let expected = w.get();
  for (let i = 0; i < 3; i++) {
    const [value] = (await step(xs)) as NDArray[];
    const want = T.evaluate(loss, [[x, xs]], );
    void want;
    assert.ok(Number.isFinite(value!.data[0]!));
    expected = T.evaluate(T.sub(T.constant(expected), T.mul(0.01, T.add(T.constant(expected), 1))));
  }
  assertClose(await readShared(w), expected, { rtol: 1e-6, atol: 1e-7 }, 'w after three steps');
  w.set(T.array(new Float32Array([0, 0, 0, 0]), { shape: [2, 2] }));
  const [zero] = (await step(xs)) as NDArray[];
  assert.is(zero!.data[0], 0, 'a host set() reaches the device');
});

// Every gradient case of the autodiff package (checked against finite differences on the
// reference evaluator in float64) as a float32 gradient graph compiled for the cpu device,
// against the same graph on the reference evaluator.
test('cpu: the gradient graph of every differentiable op case agrees with the reference evaluator', async () => {
  let ran = 0;
  const skipped: string[] = [];
  for (const [name, fn, values] of gradCases) {
    const inputs32 = values.map((value) => (T.isFloat(value.dtype) ? value.astype('float32') : value));
    const variables = inputs32.map((value, i) => T.tensor(value.dtype, value.shape, `in${i}`));
    const output = fn(...variables);
    if (output.dtype !== 'float32') {
      skipped.push(name);
      continue;
    }
    const projection = T.constant(T.array(Float32Array.from({ length: output.type.size ?? 0 }, (_, i) => 0.5 + ((i * 0.61) % 1)), { shape: output.shape as number[] }));
    const cost = output.ndim === 0 ? output : T.sum(T.mul(output, projection));
    const wrt = variables.filter((variable) => variable.dtype === 'float32');
    const gradients = grad(cost, wrt, { disconnected: 'zero' });
    if (T.topologicalOrder(gradients).some((variable) => variable.dtype === 'float64')) {
      skipped.push(name); // a float64 constant inside the case's function
      continue;
    }
    const want = T.evaluate(gradients, variables.map((variable, i) => [variable, inputs32[i]!] as const));
    const compiled = compile({ inputs: variables, outputs: gradients, device: 'cpu', onUnusedInput: 'ignore' });
    const got = (await compiled(...inputs32)) as NDArray[];
    got.forEach((value, i) => assertClose(value, want[i]!, { rtol: 1e-4, atol: 1e-5 }, `gradient ${i} of ${name} on cpu`));
    ran++;
  }
  console.log(`  ${ran} of ${gradCases.length} gradient cases ran on cpu (float64 inside: ${skipped.join(", ") || "none"})`);
  assert.ok(ran >= gradCases.length - 5, `only ${ran} of ${gradCases.length} gradient cases ran in float32; skipped ${skipped.join(', ')}`);
});

test('cpu: an index out of range raises the reference\'s error, naming the op', async () => {
  const x = T.vector('x');
  const i = T.tensor('int32', [null], 'i');
  const fn = compile({ inputs: [x, i], outputs: [T.get(x, i)], device: 'cpu' });
  const error = await fn(f(5), T.array(new Int32Array([1, 7]), { shape: [2] })).then(() => undefined, (caught: unknown) => caught as Error);
  assert.ok(error instanceof T.EvaluationError && /advanced_subtensor: index 7 is out of range for axis 0/.test(error.message), String(error));
});

test.run();
