// The canonicalize pass, rule by rule: each fires on its pattern (and the rewritten
// graph keeps the values on random inputs) and stays quiet on near misses, above all
// where a "neutral" constant broadcasts or changes the dtype.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import type { Variable } from '../src/index.ts';
import { assertSameValues, randomGivens, runRules } from '../src/rewrite/check.ts';

const pass = t.canonicalizePass;

/** Asserts that `rule` fires on the graph, that the values stay, and returns the rewritten output. */
function fires(rule: string, output: Variable): Variable {
  const { output: after, fired } = runRules(output, [pass]);
  assert.ok(fired.includes(rule), `${rule} did not fire on\n${t.debugprint(output)}\n(fired: ${fired.join(', ') || 'nothing'})`);
  assertSameValues([output], [after], randomGivens([output]), {}, rule);
  return after;
}

function misses(rule: string, output: Variable): void {
  const { fired } = runRules(output, [pass]);
  assert.ok(!fired.includes(rule), `${rule} fired on a near miss:\n${t.debugprint(output)}`);
}

const opOf = (v: Variable): string => v.owner?.op ?? v.kind;
const x = t.tensor('float32', [null, 3], 'x');
const y = t.tensor('float32', [null, 3], 'y');
const v3 = t.tensor('float32', [3], 'v');
const iv = t.ivector('i');

test('neutral elements: x+0, 0+x, x−0, x·1, 1·x, x/1, x**1, neg(neg(x)) become x', () => {
  const cases: [string, Variable, Variable][] = [
    ['add-zero', t.add(x, 0), x], ['add-zero', t.add(0, x), x], ['add-zero', t.add(x, t.zeros([t.dim(x, 0), 3])), x],
    ['sub-zero', t.sub(x, 0), x], ['mul-one', t.mul(x, 1), x], ['mul-one', t.mul(1, x), x], ['mul-one', t.mul(iv, 1), iv],
    ['div-one', t.div(x, 1), x], ['pow-one', t.pow(x, 1), x], ['neg-neg', t.neg(t.neg(x)), x], ['neg-neg', t.neg(t.neg(iv)), iv],
  ];
  for (const [rule, graph, expected] of cases) assert.ok(fires(rule, graph) === expected, `${rule} did not give the input itself`);
});

test('neutral elements that broadcast, promote or are not neutral stay', () => {
  misses('add-zero', t.add(v3, t.zeros([2, 3]))); // the 0 broadcasts v to [2,3]
  misses('add-zero', t.add(iv, t.constant(0, { dtype: 'float32' }))); // int32 + float32 0 is float32
  misses('add-zero', t.add(x, 1));
  misses('sub-zero', t.sub(0, x));
  misses('mul-one', t.mul(v3, t.ones([2, 3])));
  misses('mul-one', t.mul(x, 2));
  misses('div-one', t.div(1, x));
  misses('div-one', t.div(iv, 1)); // int32 / 1 is float32
  misses('pow-one', t.pow(1, x));
  misses('pow-one', t.pow(x, 2));
  misses('neg-neg', t.neg(t.abs(x)));
  misses('neg-neg', t.neg(t.neg(t.bvector('b')))); // neg of bool is int32
});

test('mul(x, −1) becomes neg(x)', () => {
  assert.ok(opOf(fires('mul-minus-one', t.mul(x, -1))) === 'neg', 'not a neg');
  misses('mul-minus-one', t.mul(x, -2));
});

test('subtracting a constant becomes adding its negation; x + neg(y) becomes x − y', () => {
  const after = fires('sub-constant', t.sub(x, 3));
  assert.ok(opOf(after) === 'add' && (after.owner!.inputs[1] as t.Constant).value.data[0] === -3, 'not add(x, −3)');
  fires('sub-constant', t.sub(iv, 2));
  misses('sub-constant', t.sub(3, x));
  misses('sub-constant', t.sub(x, y));
  misses('sub-constant', t.sub(iv, t.constant(2.5))); // promotes to float32: −c would be taken in the wrong dtype
  assert.ok(opOf(fires('add-neg', t.add(x, t.neg(y)))) === 'sub', 'not a sub');
  assert.ok(fires('add-neg', t.add(t.neg(y), x)).owner!.inputs[0] === x, 'neg(y) + x is not x − y');
  misses('add-neg', t.add(x, t.abs(y)));
});

test('a constant operand of a commutative op moves second', () => {
  const after = fires('constant-second', t.maximum(2, x));
  assert.ok(after.owner!.inputs[0] === x, 'the constant is not second');
  fires('constant-second', t.mul(t.full([t.dim(x, 0), 3], 2), t.exp(x)));
  misses('constant-second', t.add(x, 2));
  misses('constant-second', t.sub(2, x)); // not commutative
  misses('constant-second', t.add(t.constant(1), t.constant([1, 2])));
});

test('dimshuffles compose and identities vanish (transposes of transposes)', () => {
  const m = t.tensor('float32', [2, 3, 4], 'm');
  assert.ok(fires('dimshuffle-dimshuffle', t.transpose(t.transpose(m))) === m, 'transpose of transpose is not m');
  const composed = fires('dimshuffle-dimshuffle', t.dimshuffle(t.dimshuffle(m, 2, 'x', 0, 1), 1, 0, 3, 2));
  assert.ok(composed.owner?.op === 'dimshuffle' && composed.owner.inputs[0] === m, 'not one dimshuffle of m');
  fires('dimshuffle-dimshuffle', t.dimshuffle(t.dimshuffle(v3, 'x', 0), 1)); // adds then drops the new axis
  assert.ok(fires('dimshuffle-identity', t.dimshuffle(m, 0, 1, 2)) === m, 'identity dimshuffle stayed');
  misses('dimshuffle-identity', t.dimshuffle(m, 1, 0, 2));
  misses('dimshuffle-dimshuffle', t.dimshuffle(t.exp(t.dimshuffle(m, 2, 1, 0)), 2, 1, 0));
});

test('reshape chains collapse; reshapes and broadcasts to the same shape vanish', () => {
  const a = t.tensor('float32', [2, 6], 'a');
  const r = fires('reshape-reshape', t.reshape(t.reshape(a, [3, 4]), [12]));
  assert.ok(r.owner?.op === 'reshape' && r.owner.inputs[0] === a, 'not one reshape of a');
  fires('reshape-reshape', t.reshape(t.reshape(x, [-1]), [t.dim(x, 0), 3]));
  misses('reshape-reshape', t.reshape(t.transpose(t.reshape(a, [3, 4])), [12]));
  assert.ok(fires('reshape-identity', t.reshape(a, [2, 6])) === a, 'static identity reshape stayed');
  assert.ok(fires('reshape-identity', t.reshape(x, [t.dim(x, 0), 3])) === x, 'symbolic identity reshape stayed');
  assert.ok(fires('reshape-identity', t.reshape(x, [-1, 3])) === x, '−1 identity reshape stayed');
  misses('reshape-identity', t.reshape(a, [6, 2]));
  misses('reshape-identity', t.reshape(x, [t.dim(y, 0), 3])); // y's size, not x's: a run-time check stays
  assert.ok(fires('broadcast-identity', t.broadcastTo(a, [2, 6])) === a, 'static identity broadcast stayed');
  assert.ok(fires('broadcast-identity', t.broadcastTo(x, [t.dim(x, 0), 3])) === x, 'symbolic identity broadcast stayed');
  misses('broadcast-identity', t.broadcastTo(t.tensor('float32', [1, 3]), [2, 3]));
  misses('broadcast-identity', t.broadcastTo(x, [t.dim(y, 0), 3]));
});

test('broadcasts of broadcasts and of added leading axes collapse; elementwise ops broadcast themselves', () => {
  const twice = fires('broadcast-broadcast', t.broadcastTo(t.broadcastTo(v3, [2, 3]), [4, 2, 3]));
  assert.ok(twice.owner?.op === 'broadcast_to' && twice.owner.inputs[0] === v3, 'not one broadcast of v');
  misses('broadcast-broadcast', t.broadcastTo(t.exp(t.broadcastTo(v3, [2, 3])), [4, 2, 3]));
  fires('broadcast-of-expand', t.broadcastTo(t.dimshuffle(v3, 'x', 0), [2, 3]));
  misses('broadcast-of-expand', t.broadcastTo(t.dimshuffle(v3, 0, 'x'), [3, 2]));
  const s = t.tensor('float32', [1, 1], 's');
  const product = fires('elementwise-broadcast', t.mul(x, t.broadcastTo(s, [t.dim(x, 0), 3])));
  assert.ok(product.owner?.inputs[1] === s, 'the broadcast operand stayed');
  misses('elementwise-broadcast', t.add(v3, t.broadcastTo(t.tensor('float32', [3]), [2, 3]))); // it sets the result's shape
  misses('elementwise-broadcast', t.mul(x, t.broadcastTo(t.vector('z'), [t.dim(x, 0), 3]))); // z of unknown size
});

test('reductions of reductions join their axes, renumbered, with keepdims handled', () => {
  const m = t.tensor('float32', [2, 3, 4, 5], 'm');
  const cases: [string, Variable][] = [
    ['sum-of-sum', t.sum(t.sum(m, 1), 1)], // axes 1, then 2 of x: [1, 2]
    ['sum-of-sum', t.sum(t.sum(m, [0, 3], true), 1, true)],
    ['sum-of-sum', t.sum(t.sum(m, [0, 3], true), 1)], // mixed: keeps 0 and 3 as size 1
    ['sum-of-sum', t.sum(t.sum(m, 2), 0, true)],
    ['max-of-max', t.max(t.max(m, 3), null)],
    ['prod-of-prod', t.prod(t.prod(m, 0), 0)],
    ['all-of-all', t.all(t.all(t.gt(m, 0), 1), 0)],
  ];
  for (const [rule, graph] of cases) {
    const after = fires(rule, graph);
    const reductions = t.topologicalOrder([after]).filter((v) => v.owner && ['sum', 'max', 'prod', 'all'].includes(v.owner.op));
    assert.ok(reductions.length === 1, `${rule}: ${reductions.length} reductions left`);
  }
  const joined = fires('sum-of-sum', t.sum(t.sum(m, 1), 1));
  assert.ok(t.structurallyEqual(joined, t.sum(m, [1, 2])), 'sum(sum(m, 1), 1) is not sum(m, [1, 2])');
  misses('sum-of-sum', t.max(t.sum(m, 1), 0));
  misses('sum-of-sum', t.sum(t.exp(t.sum(m, 1)), 0));
});

test('a reduction over no axes vanishes where the dtype stays, and kept axes dropped by dimshuffle fold into the reduction', () => {
  assert.ok(fires('reduce-nothing', t.sum(x, [])) === x, 'sum over no axes stayed');
  misses('reduce-nothing', t.sum(t.bvector('b'), [])); // sum of bool counts in int32
  const folded = fires('drop-kept-dims', t.dimshuffle(t.sum(x, 1, true), 0));
  assert.ok(t.structurallyEqual(folded, t.sum(x, 1)), 'not sum(x, 1)');
  misses('drop-kept-dims', t.dimshuffle(t.sum(x, 1, true), 1, 0));
  misses('drop-kept-dims', t.dimshuffle(t.sum(x, 1), 0, 'x'));
});

test.run();
