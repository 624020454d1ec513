// Graph utilities: structural hashing and equality, clone with replacements (givens),
// and debugprint's text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import type { Variable } from '../src/index.ts';
import { assertClose, expectGraphError } from '../src/testing.ts';

// ---- structural hash and equality ----

/** The same small graph, built afresh each call over the given leaves. */
const model = (x: Variable, w: Variable, scale = 2): Variable => t.add(t.mul(t.exp(t.mul(x, w)), scale), t.sum(x, 1, true));

test('separately built equal graphs are structurally equal and hash equal', () => {
  const x = t.matrix('x');
  const w = t.shared(new Float32Array([1, 2, 3]), 'w');
  const a = model(x, w);
  const b = model(x, w);
  assert.ok(a !== b, 'the two builds should be distinct objects');
  assert.ok(t.structuralHash(a) === t.structuralHash(b), 'equal graphs hash differently');
  assert.ok(t.structuralHash(a) === t.structuralHash(a), 'a hash is not stable');
  assert.ok(t.structurallyEqual(a, b), 'equal graphs compare unequal');
  assert.ok(t.structurallyEqual(b, a), 'equality is not symmetric');
  // Constants compare by value, not identity; names do not count.
  const c1 = t.constant([1, 2, 3], { name: 'one' });
  const c2 = t.constant([1, 2, 3]);
  assert.ok(t.structurallyEqual(t.add(x, c1), t.add(x, c2)), 'equal constants compare unequal');
});

test('a changed attribute, input, constant or op makes graphs unequal', () => {
  const x = t.matrix('x');
  const y = t.matrix('y');
  const w = t.shared(new Float32Array([1, 2, 3]), 'w');
  const base = model(x, w);
  const variants: [string, Variable][] = [
    ['another input', model(y, w)],
    ['a same-looking input', model(t.matrix('x'), w)],
    ['another shared variable', model(x, t.shared(new Float32Array([1, 2, 3]), 'w'))],
    ['another constant', model(x, w, 3)],
    ['another op', t.add(t.mul(t.exp(t.mul(x, w)), 2), t.max(x, 1, true))],
    ['another attribute', t.add(t.mul(t.exp(t.mul(x, w)), 2), t.sum(x, 0, true))],
  ];
  for (const [label, variant] of variants) assert.ok(!t.structurallyEqual(base, variant), `${label}: compared equal`);
  assert.ok(!t.structurallyEqual(t.cast(x, 'float64'), t.cast(x, 'int32')), 'cast to different dtypes compared equal');
  assert.ok(!t.structurallyEqual(t.constant([1, 2], { dtype: 'int32' }), t.constant([1, 2], { dtype: 'float32' })), 'constants of different dtypes compared equal');
  assert.ok(!t.structurallyEqual(t.constant([1, 2, 3, 4], { shape: [2, 2] }), t.constant([1, 2, 3, 4])), 'constants of different shapes compared equal');
  assert.ok(t.structuralHash(t.cast(x, 'float64')) !== t.structuralHash(t.cast(x, 'int32')), 'different attributes hashed equal');
});

test('attributes compare independently of key order', () => {
  const state = new t.RandomStreams(1).state;
  const a = t.applyOp('random', [state], { distribution: 'uniform', draw: 3, shape: [2], dtype: 'float32' });
  const b = t.applyOp('random', [state], { dtype: 'float32', shape: [2], draw: 3, distribution: 'uniform' });
  const c = t.applyOp('random', [state], { dtype: 'float32', shape: [2], draw: 4, distribution: 'uniform' });
  assert.ok(t.structurallyEqual(a, b), 'key order changed equality');
  assert.ok(t.structuralHash(a) === t.structuralHash(b), 'key order changed the hash');
  assert.ok(!t.structurallyEqual(a, c), 'different draw numbers compared equal');
});

test('deep graphs hash, compare, clone and print without overflowing the stack', () => {
  const x = t.vector('x');
  const other = t.vector('other');
  let a: Variable = x;
  for (let i = 0; i < 15000; i++) a = t.add(a, 1);
  // A second, separately made chain over the same leaf: cloned there and back.
  const b = t.clone(t.clone(a, [[x, other]]), [[other, x]]);
  assert.ok(a !== b, 'the round trip should make new nodes');
  assert.ok(t.structurallyEqual(a, b), 'deep equal chains compared unequal');
  assert.ok(!t.structurallyEqual(a, t.add(b, 1)), 'chains of different lengths compared equal');
  const lines = t.debugprint(a, { depth: 2 }).split('\n');
  assert.ok(lines.length === 6 && lines[3] === ' | | |...', `depth-limited print:\n${lines.join('\n')}`);
});

// ---- clone ----

test('clone with a replacement changes what the graph computes', () => {
  const x = t.vector('x');
  const z = t.vector('z');
  const y = t.add(t.mul(x, 2), 1);
  const [cloned] = t.clone([y], [[x, z]]);
  const value = t.array([1, 2, 3]);
  assertClose(t.evaluate(cloned!, [[z, value]]), [3, 5, 7]);
  assertClose(t.evaluate(y, [[x, t.array([0, 0, 0])]]), [1, 1, 1]); // the original is untouched
  // A replacement may be any expression, including one of the replaced variable (not rewritten).
  const doubled = t.clone(y, new Map([[x, t.mul(x, 10)]]));
  assertClose(t.evaluate(doubled, [[x, value]]), [21, 41, 61]);
});

test('clone shares subgraphs that depend on no replaced variable', () => {
  const x = t.vector('x');
  const w = t.vector('w');
  const left = t.exp(x);
  const right = t.tanh(t.mul(w, 3));
  const y = t.add(left, right);
  y.name = 'y';
  const replaced = t.clone(y, [[x, t.vector('v')]]);
  assert.ok(replaced !== y, 'the output should be rebuilt');
  assert.ok(replaced.owner!.inputs[1] === right, 'the untouched subgraph was copied');
  assert.ok(replaced.owner!.inputs[0] !== left, 'the touched subgraph was not rebuilt');
  assert.ok(replaced.name === 'y', 'the name was lost');
  assert.ok(replaced.owner!.location === y.owner!.location, 'the location was not kept');
  assert.ok(t.clone(y, [[t.vector('unrelated'), t.vector('other')]]) === y, 'a graph without replaced variables should come back as is');
  assert.ok(t.clone(y, [[y, right]]) === right, 'a replaced output should be its replacement');
});

test('clone re-runs inference: static shapes follow the replacement', () => {
  const x = t.tensor('float32', [null, 3], 'x');
  const y = t.sum(t.exp(x), 1);
  assert.ok(y.shape[0] === null, 'the original is unknown-length');
  const fixed = t.clone(y, [[x, t.tensor('float32', [5, 3], 'fixed')]]);
  assert.ok(fixed.shape.join(',') === '5', `static shape [${fixed.shape}], expected [5]`);
  // arange's length becomes static when its stop becomes a constant.
  const n = t.iscalar('n');
  const range = t.arange(n);
  const known = t.clone(range, [[n, t.constant(4, { dtype: 'int32' })]]);
  assert.ok(known.shape.join(',') === '4', `arange after clone has shape [${known.shape}], expected [4]`);
  assertClose(t.evaluate(known), t.array([0, 1, 2, 3], { dtype: 'int32' }));
});

test('clone refuses replacements of another dtype, ndim or static shape', () => {
  const x = t.tensor('float32', [null, 3], 'x');
  const y = t.exp(x);
  expectGraphError(() => t.clone(y, [[x, t.dmatrix('d')]]), 'clone', "'x'", 'float64[?,?]', 'dtype float32', 'graph-utils.test.ts:');
  expectGraphError(() => t.clone(y, [[x, t.vector('v')]]), 'clone', 'float32[?]', 'number of dimensions (2)', 'graph-utils.test.ts:');
  expectGraphError(() => t.clone(y, [[x, t.tensor('float32', [2, 4])]]), 'clone', 'float32[2,4]', 'dimension 1 is 4', 'graph-utils.test.ts:');
  // A replacement that fits its variable but not a later node fails at that node, at its place.
  const a = t.vector('a');
  const sum = t.add(a, t.tensor('float32', [4], 'b'));
  const error = expectGraphError(() => t.clone(sum, [[a, t.tensor('float32', [5])]]), 'add', 'float32[5]', 'float32[4]', 'after clone');
  assert.ok(error.location === sum.owner!.location, 'the error should point at the node that no longer fits');
});

// ---- debugprint ----

test('debugprint of a small graph, line by line', () => {
  const x = t.tensor('float32', [null, 256], 'x');
  const w = t.shared(new Float32Array(256), 'w');
  const m = t.mul(x, w);
  const y = t.add(m, t.exp(m));
  y.name = 'y';
  const z = t.cast(t.add(t.sum(y, 1, true), 2), 'float64');
  z.name = 'z';
  const expected = [
    "cast{float64} [id A] float64[?,1] 'z'",
    ' |add [id B] float32[?,1]',
    '   |sum{axes=[1], keepdims} [id C] float32[?,1]',
    "   | |add [id D] float32[?,256] 'y'",
    '   |   |mul [id E] float32[?,256]',
    '   |   | |x [id F] float32[?,256]',
    '   |   | |shared{w} [id G] float32[256]',
    '   |   |exp [id H] float32[?,256]',
    '   |     |mul [id E]',
    '   |constant{2} [id I] float32[]',
  ];
  const lines = t.debugprint(z).split('\n');
  expected.forEach((line, i) => assert.ok(lines[i] === line, `line ${i + 1} is\n  ${lines[i]}\nexpected\n  ${line}`));
  assert.ok(lines.length === expected.length, `${lines.length} lines, expected ${expected.length}`);
});

test('debugprint options and several outputs', () => {
  const x = t.vector('x');
  const e = t.exp(x);
  const text = t.debugprint([t.neg(e), t.add(e, t.constant([[1.5, 0.1], [-2, 3]]))], { ids: false });
  const want = ['neg float32[?]', ' |exp float32[?]', '   |x float32[?]', 'add float32[2,2]', ' |exp', ' |constant{[[1.5,0.1],[-2,3]]} float32[2,2]'];
  const lines = text.split('\n');
  assert.ok(lines.length === want.length && want.every((line, i) => lines[i] === line), `got\n${text}\nexpected\n${want.join('\n')}`);
  const located = t.debugprint(e, { locations: true }).split('\n');
  assert.ok(located.every((line) => /at .*graph-utils\.test\.ts:\d+:\d+$/.test(line)), `locations missing:\n${located.join('\n')}`);
  assert.ok(t.debugprint(t.constant(new Float32Array(100))).startsWith('constant [id A] float32[100]'), 'a large constant should print without its values');
  assert.ok(t.debugprint(t.iscalar()).startsWith('input [id A] int32[]'), 'an unnamed input should print as input');
});

test('debugprint labels carry the key attributes of each op', () => {
  const x = t.tensor('float32', [4, 1, 3], 'x');
  const node = <K extends t.OpName>(op: K, attrs: t.AttrsOf<K>): string =>
    t.debugprint(new t.Apply(op, attrs, [x], new t.TensorType('float32', []), undefined).output, { ids: false }).split('\n')[0]!.split(' ')[0]!;
  const cases: [string, string][] = [
    [node('dimshuffle', { pattern: [0, 'x', 2] }), 'dimshuffle{0,x,2}'],
    [node('sum', { axes: [0, 2], keepdims: false }), 'sum{axes=[0,2]}'],
    [node('argmax', { axis: null, keepdims: false }), 'argmax{axis=all}'],
    [node('reshape', { shape: [null, 3] }), 'reshape{shape=[?,3]}'],
    [node('subtensor', { items: [{ kind: 'slice', start: 1, stop: 3, step: 1 }, { kind: 'index', index: 0 }, { kind: 'slice', start: null, stop: null, step: -1 }] }), 'subtensor{1:3,'],
    [node('arange', { dtype: 'int32' }), 'arange{int32}'],
    [node('dim', { axis: 1 }), 'dim{1}'],
    [node('exp', {}), 'exp'],
  ];
  for (const [got, want] of cases) assert.ok(got === want, `label ${got}, expected ${want}`);
  const full = t.debugprint(new t.Apply('subtensor', { items: [{ kind: 'slice', start: 1, stop: 3, step: 1 }, { kind: 'index', index: 0 }, { kind: 'slice', start: null, stop: null, step: -1 }] }, [x], new t.TensorType('float32', [2, 3]), undefined).output, { ids: false });
  assert.ok(full.startsWith('subtensor{1:3, 0, ::-1} float32[2,3]'), `subtensor label: ${full}`);
  const draw = new t.RandomStreams(0).uniform([t.iscalar('n'), 2]);
  assert.ok(t.debugprint(draw).startsWith('random{uniform, draw=0, shape=[?,2], float32} [id A] float32[?,2]'), t.debugprint(draw));
});

test.run();
