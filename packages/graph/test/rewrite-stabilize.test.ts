// The stabilize pass: each rule fires on its pattern (values kept on random inputs)
// and not on near misses; then the expressions that overflow or lose their precision
// without it give finite, correct values after the whole pipeline. Gradients of these
// are checked in test/rewrite-stability.test.ts (they need autodiff).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import type { Variable } from '../src/index.ts';
import { assertClose } from '../src/testing.ts';
import { assertSameValues, randomGivens, runRules } from '../src/rewrite/check.ts';

const pass = t.stabilizePass;

function fires(rule: string, output: Variable): Variable {
  const { output: after, fired } = runRules(output, [pass]);
  assert.ok(fired.includes(rule), `${rule} did not fire on\n${t.debugprint(output)}\n(fired: ${fired.join(', ') || 'nothing'})`);
  assertSameValues([output], [after], randomGivens([output], { low: -1.5, high: 1.5 }), { rtol: 1e-5, atol: 1e-6 }, rule);
  return after;
}

function misses(rule: string, output: Variable): void {
  const { fired } = runRules(output, [pass]);
  assert.ok(!fired.includes(rule), `${rule} fired on a near miss:\n${t.debugprint(output)}`);
}

const ops = (v: Variable): string[] => t.topologicalOrder([v]).flatMap((u) => (u.owner ? [u.owner.op] : []));
const x = t.tensor('float32', [null, 4], 'x');
const y = t.tensor('float32', [null, 4], 'y');
const v3 = t.tensor('float32', [3], 'v');
const labels = t.ivector('labels');

test('log(softmax) becomes log-softmax, for the composite and the naive forms', () => {
  const composite = fires('log-softmax', t.log(t.softmax(x)));
  assert.ok(!ops(composite).includes('div'), 'the division stayed');
  const e = t.exp(x);
  fires('log-softmax', t.log(t.div(e, t.sum(e, 1, true))));
  fires('log-softmax', t.log(t.div(e, t.dimshuffle(t.sum(e, 1), 0, 'x'))));
  fires('log-softmax', t.log(t.softmax(t.tensor('float64', [2, 3, 4]), 1)));
  misses('log-softmax', t.log(t.div(e, t.sum(t.exp(y), 1, true)))); // another sum
  misses('log-softmax', t.log(t.div(t.exp(t.tensor('float32', [4, 4])), t.sum(t.exp(t.tensor('float32', [4, 4])), 1)))); // no keepdims: wrong axis
  misses('log-softmax', t.log(t.div(e, t.dimshuffle(t.sum(e, 1), 'x', 0)))); // the axis put back in the wrong place
  misses('log-softmax', t.log(t.div(e, t.sum(e, [], true))));
});

test('cross-entropy of a softmax with class indices becomes a gathered log-softmax', () => {
  const loss = t.categoricalCrossentropy(t.softmax(x), labels);
  const after = fires('log-gathered-softmax', loss);
  assert.ok(!ops(after).includes('div'), 'the softmax division stayed');
  fires('log-gathered-softmax', t.log(t.get(t.softmax(x), ':', 2)));
  misses('log-gathered-softmax', t.log(t.get(t.exp(x), t.arange(t.dim(labels, 0)), labels)));
});

test('log Σ exp(a) gets its maximum subtracted, unless it already has', () => {
  for (const keepdims of [false, true]) fires('logsumexp', t.log(t.sum(t.exp(x), 1, keepdims)));
  fires('logsumexp', t.log(t.sum(t.exp(x))));
  misses('logsumexp', t.logsumexp(x, 1)); // the composite is stable already
  misses('logsumexp', t.logSoftmax(x));
  misses('logsumexp', t.log(t.sum(t.exp(x), [])));
  misses('logsumexp', t.log(t.add(t.sum(t.exp(x), 1), 1)));
  // The two-step path: naive log-softmax, then its logsumexp.
  const { fired } = runRules(t.log(t.div(t.exp(x), t.sum(t.exp(x), 1, true))), [pass]);
  assert.ok(fired.join(',') === 'log-softmax,logsumexp', `fired ${fired.join(',')}`);
});

test('log(exp(x)) becomes x', () => {
  assert.ok(fires('log-exp', t.log(t.exp(x))) === x, 'not x');
  misses('log-exp', t.log(t.exp(labels))); // exp of int32 is float32
  misses('log-exp', t.log(t.add(t.exp(x), 2)));
});

test('log(1 + x) becomes log1p(x); exp(x) − 1 becomes expm1(x)', () => {
  for (const graph of [t.log(t.add(x, 1)), t.log(t.add(1, x))]) assert.ok(ops(fires('log1p', graph)).join() === 'log1p', 'not log1p(x)');
  misses('log1p', t.log(t.add(x, 2)));
  misses('log1p', t.log(t.add(v3, t.ones([2, 3])))); // the 1 broadcasts
  misses('log1p', t.log(t.add(labels, 1))); // int32 x + 1 wraps at the top; log1p would not
  for (const graph of [t.add(t.exp(x), -1), t.sub(t.exp(x), 1), t.add(-1, t.exp(x))]) assert.ok(ops(fires('expm1', graph)).join() === 'expm1', 'not expm1(x)');
  misses('expm1', t.sub(t.exp(x), 2));
  misses('expm1', t.add(t.exp(x), 1));
  misses('expm1', t.sub(t.exp(v3), t.ones([2, 3])));
  misses('expm1', t.sub(1, t.exp(x)));
});

test('log(sigmoid(x)) and log(1 − sigmoid(x)) become softplus forms', () => {
  assert.ok(ops(fires('log-sigmoid', t.log(t.sigmoid(x)))).join() === 'neg,softplus,neg', 'not −softplus(−x)');
  misses('log-sigmoid', t.log(t.tanh(x)));
  assert.ok(ops(fires('log-one-minus-sigmoid', t.log(t.sub(1, t.sigmoid(x))))).join() === 'softplus,neg', 'not −softplus(x)');
  fires('log-one-minus-sigmoid', t.log(t.add(t.neg(t.sigmoid(x)), 1)));
  misses('log-one-minus-sigmoid', t.log(t.sub(2, t.sigmoid(x))));
  misses('log-one-minus-sigmoid', t.log(t.sub(1, t.tanh(x))));
  misses('log-one-minus-sigmoid', t.log(t.sub(t.ones([2, 3]), t.sigmoid(v3))));
});

test('sqrt(x²) becomes |x|', () => {
  for (const graph of [t.sqrt(t.square(x)), t.sqrt(t.mul(x, x)), t.sqrt(t.pow(x, 2))]) assert.ok(ops(fires('sqrt-square', graph)).join() === 'abs', 'not abs(x)');
  misses('sqrt-square', t.sqrt(t.mul(x, y)));
  misses('sqrt-square', t.sqrt(t.pow(x, 3)));
  misses('sqrt-square', t.sqrt(t.square(labels))); // sqrt of int32 is float32, |x| int32
});

// ---- what the rewrites are for ----

const finite = (values: ArrayLike<number>): boolean => Array.from(values).every(Number.isFinite);

test('log Σ exp(x) at x ≈ 1000 is finite and right after optimize (float32 and float64)', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const input = t.tensor(dtype, [2, 3], 'x');
    const naive = t.log(t.sum(t.exp(input), 1));
    const values = t.array([[1000, 1001, 1002], [-1000, -1001, -1002]], { dtype });
    const before = t.evaluate(naive, [[input, values]]);
    assert.ok(!finite(before.data), 'the naive form should overflow here (else the test shows nothing)');
    const after = t.evaluate(t.optimize(naive), [[input, values]]);
    const tail = Math.log(1 + Math.exp(-1) + Math.exp(-2));
    assertClose(after, t.array([1002 + tail, -1000 + tail], { dtype }), { rtol: 1e-6 });
  }
});

test('log(softmax) of logits ±200 is finite and right after optimize', () => {
  const input = t.tensor('float32', [1, 3], 'x');
  const naive = t.log(t.softmax(input));
  const values = t.array([[200, -200, 0]]);
  assert.ok(!finite(t.evaluate(naive, [[input, values]]).data), 'the softmax form should underflow to log(0) here');
  const after = t.evaluate(t.optimize(naive), [[input, values]]);
  const lse = 200 + Math.log1p(Math.exp(-400) + Math.exp(-200));
  assertClose(after, t.array([[200 - lse, -200 - lse, -lse]]), { rtol: 1e-6 });
  // The naive user-written softmax overflows in exp; its log is fine after optimize too.
  const e = t.exp(input);
  const handWritten = t.optimize(t.log(t.div(e, t.sum(e, 1, true))));
  assertClose(t.evaluate(handWritten, [[input, values]]), t.array([[200 - lse, -200 - lse, -lse]]), { rtol: 1e-6 });
});

test('log(1 + 1e−10) keeps its precision after optimize', () => {
  const input = t.dscalar('x');
  const naive = t.log(t.add(1, input));
  const value = t.array(1e-10, { dtype: 'float64' });
  const exact = 1e-10 - 5e-21;
  const before = t.evaluate(naive, [[input, value]]).data[0]!;
  assert.ok(Math.abs(before - exact) / exact > 1e-9, 'the naive form should lose precision here');
  assertClose(t.evaluate(t.optimize(naive), [[input, value]]), t.array(exact, { dtype: 'float64' }), { rtol: 1e-15, atol: 0 });
});

test('cross-entropy of a saturated softmax is finite and right after optimize', () => {
  const logits = t.tensor('float32', [2, 3], 'logits');
  const loss = t.mean(t.categoricalCrossentropy(t.softmax(logits), labels));
  const givens = [[logits, t.array([[0, 200, 0], [-150, 0, 150]])], [labels, new Int32Array([0, 2])]] as const;
  assert.ok(!finite(t.evaluate(loss, givens).data), 'the softmax form should give log(0) here');
  const expected = (200 + Math.log1p(2 * Math.exp(-200)) + Math.log1p(Math.exp(-150) + Math.exp(-300))) / 2;
  assertClose(t.evaluate(t.optimize(loss), givens), t.array(expected), { rtol: 1e-6 });
});

test.run();
