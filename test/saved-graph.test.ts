// saveGraph / loadGraph round trips. Every shape case of the graph package (which covers
// every op, test/op-coverage.test.ts checks that) is saved, loaded and evaluated on the
// reference: the loaded graph gives the same values bit for bit, and saving it again
// gives the same JSON. A walk over the loaded graphs (scan bodies included) fails naming
// any op of T.opNames that no round trip went through, so a new op needs no new case
// here but cannot escape. Gradients of loaded graphs (every gradient-check case) equal
// those of the originals; a small training step compiled for the cpu device runs the
// same from the loaded graph. Bad files give errors naming the path in the JSON. Shared
// values kept in a side file (saveGraphParts) come back by member name, with errors naming
// both files when the side file's arrays are missing or do not fit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '@theorbo/graph';
import type { NDArray, OpName, Variable } from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { compile, readShared } from '@theorbo/codegen';
import { shapeCases } from '../packages/graph/test/shape-cases.ts';
import { cases as gradCases } from '../packages/autodiff/test/grad-cases.ts';
import { base64Bytes, bytesBase64 } from '../packages/graph/src/base64.ts';

/** The same dtype, shape and bits (NaN equal to NaN). */
function assertSame(got: NDArray, want: NDArray, label: string): void {
  assert.is(got.dtype, want.dtype, `${label}: dtype`);
  assert.equal([...got.shape], [...want.shape], `${label}: shape`);
  for (let i = 0; i < want.size; i++) {
    if (!Object.is(got.data[i], want.data[i])) assert.unreachable(`${label}: element ${i} is ${got.data[i]}, expected ${want.data[i]}`);
  }
}

/** The ops of a graph, the step graphs of its loops included. */
function opsIn(outputs: readonly Variable[], found = new Set<OpName>()): Set<OpName> {
  for (const variable of T.topologicalOrder(outputs)) {
    const node = variable.owner;
    if (!node) continue;
    if (node.op === 'scan' && !found.has('scan')) {
      found.add('scan');
      opsIn((node.attrs as { body: T.ScanBody }).body.outputs.map((output) => output.value), found);
    }
    found.add(node.op);
  }
  return found;
}

const roundTripped = new Set<OpName>();

for (const [name, build, values] of shapeCases) {
  test(`round trip: ${name}`, () => {
    for (const unknown of [true, false]) {
      const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape.map((dim) => (unknown && dim !== 1 ? null : dim)), `in${i}`));
      let output: Variable;
      try {
        output = build(...inputs);
      } catch (error) {
        if (unknown && error instanceof T.GraphError) continue; // needs static sizes (as shape-cases.test.ts allows)
        throw error;
      }
      const json = T.saveGraph([output], { inputs });
      const loaded = T.loadGraph(json);
      assert.is(loaded.inputs.length, inputs.length);
      assert.ok(loaded.outputs[0] !== output && loaded.inputs.every((input, i) => input !== inputs[i]), 'a new graph');
      assert.is(loaded.outputs[0]!.type.toString(), output.type.toString());
      const want = T.evaluate(output, inputs.map((input, i) => [input, values[i]!] as const));
      const got = T.evaluate(loaded.outputs[0]!, loaded.inputs.map((input, i) => [input, values[i]!] as const));
      assertSame(got, want, name);
      assert.is(T.saveGraph(loaded.outputs, { inputs: loaded.inputs }), json, 'saving the loaded graph gives the same file');
      opsIn(loaded.outputs, roundTripped);
    }
  });
}

test('every op of the graph package went through a round trip', () => {
  const missing = T.opNames.filter((op) => !roundTripped.has(op));
  assert.equal(missing, [], `ops no round trip covered (add a shape case): ${missing.join(', ')}`);
});

test('gradients of loaded graphs equal the originals\' (every gradient-check case)', () => {
  for (const [name, build, values] of gradCases) {
    const inputs = values.map((value, i) => T.tensor(value.dtype, value.shape, `in${i}`));
    const output = build(...inputs);
    const loaded = T.loadGraph(T.saveGraph(output, { inputs }));
    const floats = (list: readonly Variable[]) => list.filter((input) => input.dtype === 'float64');
    const cost = (y: Variable) => T.sum(T.mul(y, T.cos(y)));
    const want = T.evaluate(grad(cost(output), floats(inputs), { disconnected: 'zero' }), inputs.map((input, i) => [input, values[i]!] as const));
    const got = T.evaluate(grad(cost(loaded.outputs[0]!), floats(loaded.inputs), { disconnected: 'zero' }), loaded.inputs.map((input, i) => [input, values[i]!] as const));
    got.forEach((value, i) => assertSame(value, want[i]!, `${name}: gradient ${i}`));
  }
});

test('a training step with shared weights and updates compiles the same from the loaded graph (cpu device)', async () => {
  const make = () => {
    const x = T.matrix('x');
    const w = T.shared(T.array(Array.from({ length: 12 }, (_, i) => Math.sin(i) / 3), { shape: [4, 3] }), 'w');
    const b = T.shared(T.array([0.1, -0.2, 0.3]), 'b');
    const loss = T.mean(T.square(T.tanh(T.add(T.matmul(x, w), b))));
    const [gw, gb] = grad(loss, [w, b]);
    return { x, loss, updates: [[w, T.sub(w, T.mul(gw!, 0.5))], [b, T.sub(b, T.mul(gb!, 0.5))]] as [T.SharedVariable, Variable][] };
  };
  const original = make();
  const json = T.saveGraph([original.loss], { inputs: [original.x], updates: original.updates });
  const loaded = T.loadGraph(json);
  assert.equal(Object.keys(loaded.sharedByName).sort(), ['b', 'w']);
  const xs = T.array(Array.from({ length: 20 }, (_, i) => Math.cos(i * 1.3)), { shape: [5, 4] });
  const step = compile({ inputs: [original.x], outputs: [original.loss], updates: original.updates, device: 'cpu' });
  const stepLoaded = compile({ inputs: loaded.inputs, outputs: loaded.outputs, updates: loaded.updates, device: 'cpu' });
  for (let round = 0; round < 3; round++) {
    const [want] = await step(xs);
    const [got] = await stepLoaded(xs);
    assertSame(got as NDArray, want as NDArray, `loss at step ${round}`);
  }
  const [w] = original.updates[0]!;
  assertSame(await readBack(loaded.sharedByName.w!), await readBack(w), 'w after three steps');
});

const readBack = (shared: T.SharedVariable): Promise<NDArray> => readShared(shared);

test('base64 agrees with Node\'s Buffer at every length modulo 3, and refuses bad text', () => {
  for (const length of [0, 1, 2, 3, 4, 5, 6, 1000, 1001, 1002]) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 151 + 7) & 255);
    const text = bytesBase64(bytes);
    assert.is(text, Buffer.from(bytes).toString('base64'), `length ${length}`);
    assert.equal([...base64Bytes(text)], [...bytes], `length ${length} back`);
  }
  assert.throws(() => base64Bytes('AB*D'), /'\*' at character 2/);
  assert.throws(() => base64Bytes('ABC'), /not a multiple of 4/);
});

// ---- bad files ----

const small = () => {
  const x = T.vector('x');
  return JSON.parse(T.saveGraph(T.exp(T.add(x, T.constant([1, 2, 3]))), { inputs: [x] })) as T.SavedGraph;
};
const refuses = (json: unknown, pattern: RegExp) => {
  assert.throws(() => T.loadGraph(typeof json === 'string' ? json : JSON.stringify(json), { file: 'model/graph.json' }), (error: Error) => {
    assert.match(error.message, /model\/graph\.json/);
    assert.match(error.message, pattern);
    return true;
  });
};

test('bad files: malformed JSON, another format or version, an unknown op, an inconsistent shape, bad data', () => {
  refuses('{"format": "theorbo-graph", ', /not JSON/);
  refuses([1, 2], /expected an object/);
  refuses({ ...small(), format: 'onnx' }, /at format: .*not a saved Theorbo graph/);
  refuses({ ...small(), version: 99 }, /at version: version 99 is not one this Theorbo reads \(it reads version 1\)/);
  const unknownOp = small();
  unknownOp.variables.find((entry) => entry.op === 'exp')!.op = 'frobnicate' as OpName;
  refuses(unknownOp, /at variables\[\d+\]\.op: unknown op 'frobnicate'/);
  const inconsistent = small();
  const add = inconsistent.variables.findIndex((entry) => entry.op === 'add');
  inconsistent.variables[add]!.type = { dtype: 'float32', shape: [4], broadcastable: [false] };
  refuses(inconsistent, new RegExp(`at variables\\[${add}\\]\\.type: the add node was saved as float32\\[4\\] but its inputs .* give float32\\[3\\]`));
  const badData = small();
  badData.variables.find((entry) => entry.kind === 'constant')!.value!.data = 'AAAA';
  refuses(badData, /value\.data: holds 3 bytes, but a float32 array of shape \[3\] needs 12/);
  const forward = small();
  forward.variables.find((entry) => entry.op === 'exp')!.inputs = [forward.variables.length - 1];
  refuses(forward, /inputs\[0\]: variable \d+ is read before it is defined/);
  const m = T.matrix('m');
  const badAttrs = T.saveGraph(T.sum(m, 1), { inputs: [m] }).replace('"axes":[1]', '"axes":[5]');
  refuses(badAttrs, /variables\[1\]: the sum node cannot be made again/);
});

// ---- values in a side file (saveGraphParts) ----

/** A small model: two named shared variables, one unnamed, one whose name repeats and one whose name cannot be a member. */
const sideModel = () => {
  const x = T.matrix('x');
  const w = T.shared(T.array(Array.from({ length: 12 }, (_, i) => Math.sin(i)), { shape: [4, 3] }), 'w');
  const b = T.shared(T.array([0.5, -1, 2]), 'b');
  const unnamed = T.shared(T.array([3, 4, 5]));
  const again = T.shared(T.array([[7, 8, 9]]), 'w');
  const path = T.shared(T.array([1, 1, 1]), '../x');
  return { x, out: T.mul(T.add(T.add(T.matmul(x, w), T.mul(b, unnamed)), again), path) };
};

test('saveGraphParts keeps shared values out of the JSON, by member name; loadGraph with those arrays gives the same graph', () => {
  const { x, out } = sideModel();
  const { json, values } = T.saveGraphParts(out, { inputs: [x], metadata: { feature: { hop: 512 } } });
  const parsed = JSON.parse(json) as T.SavedGraph;
  assert.is(parsed.valuesFile, 'values.npz');
  const shared = parsed.variables.filter((entry) => entry.kind === 'shared');
  assert.is(shared.length, 5);
  assert.ok(shared.every((entry) => entry.value!.data === undefined && typeof entry.value!.member === 'string'), 'no inline data for shared values');
  const byIndex = shared.filter((entry) => entry.name === undefined || entry.name === '../x').map((entry) => entry.value!.member!);
  assert.equal(byIndex.map((member) => /^shared\d+$/.test(member)), [true, true], `unnamed and '../x' are named by their id: ${byIndex}`);
  assert.equal(Object.keys(values).sort(), ['b', ...byIndex, 'w', 'w_'].sort());
  assert.is(new Set(shared.map((entry) => entry.value!.member)).size, 5, 'distinct members');
  const loaded = T.loadGraph(json, { values });
  assert.equal(loaded.metadata, { feature: { hop: 512 } });
  const xs = T.array(Array.from({ length: 8 }, (_, i) => i / 3 - 1), { shape: [2, 4] });
  assertSame(T.evaluate(loaded.outputs[0]!, [[loaded.inputs[0]!, xs]]), T.evaluate(out, [[x, xs]]), 'output');
  assert.equal(T.loadGraph(T.saveGraph(out, { inputs: [x] })).metadata, undefined);
});

test('side values: missing, absent member, wrong shape or dtype, and an array no variable names are errors naming both files', () => {
  const { x, out } = sideModel();
  const { json, values } = T.saveGraphParts(out, { inputs: [x], valuesFile: 'weights/values.npz' });
  const fails = (options: T.LoadOptions, pattern: RegExp) => assert.throws(() => T.loadGraph(json, { file: 'model/graph.json', ...options }), (error: Error) => {
    assert.match(error.message, /^loadGraph: model\/graph\.json/);
    assert.match(error.message, pattern);
    return true;
  });
  fails({}, /value\.member: the value is the array '\w+' of weights\/values\.npz, which was not given/);
  const { b: _dropped, ...withoutB } = values;
  fails({ values: withoutB, valuesFile: 'm/v.npz' }, /value\.member: m\/v\.npz has no array 'b' \(it holds '/);
  fails({ values: { ...values, b: T.array([1, 2]) } }, /weights\/values\.npz's array 'b' is float32\[2\], but the graph expects float32\[3\]/);
  fails({ values: { ...values, b: T.array([1, 2, 3], { dtype: 'int32' }) } }, /array 'b' is int32\[3\], but the graph expects float32\[3\]/);
  fails({ values: { ...values, extra: T.array([1]) } }, /weights\/values\.npz holds 'extra', which no variable of the graph names/);
});

test('saveGraph refuses inputs that the outputs read but options.inputs leaves out', () => {
  const x = T.vector('x');
  const y = T.vector('y');
  assert.throws(() => T.saveGraph(T.add(x, y), { inputs: [x] }), /saveGraph: the outputs read y float32\[\?\], which options.inputs does not list/);
});

test.run();
