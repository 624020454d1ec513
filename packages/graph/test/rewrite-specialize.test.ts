// The specialize pass: powers, self-products, reciprocals, division by constants and
// sums of products that are exact matrix products. Each rule fires on its pattern
// (values kept on random inputs) and not on near misses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import type { Variable } from '../src/index.ts';
import { assertSameValues, randomGivens, runRules } from '../src/rewrite/check.ts';

const pass = t.specializePass;

function fires(rule: string, output: Variable, low = -2): Variable {
  const { output: after, fired } = runRules(output, [pass]);
  assert.ok(fired.includes(rule), `${rule} did not fire on\n${t.debugprint(output)}\n(fired: ${fired.join(', ') || 'nothing'})`);
  assertSameValues([output], [after], randomGivens([output], { low }), { rtol: 1e-5, atol: 1e-6 }, rule);
  return after;
}

function misses(rule: string, output: Variable): void {
  const { fired } = runRules(output, [pass]);
  assert.ok(!fired.includes(rule), `${rule} fired on a near miss:\n${t.debugprint(output)}`);
}

const ops = (v: Variable): string[] => t.topologicalOrder([v]).flatMap((u) => (u.owner ? [u.owner.op] : []));
const x = t.tensor('float32', [null, 3], 'x');
const y = t.tensor('float32', [null, 3], 'y');
const v3 = t.tensor('float32', [3], 'v');
const iv = t.ivector('i');

test('powers with the constant exponents 2, 0.5, −1 and −0.5 become square, sqrt, reciprocal and rsqrt', () => {
  assert.ok(ops(fires('pow-two', t.pow(x, 2))).join() === 'square', 'not square');
  fires('pow-two', t.pow(iv, 2));
  assert.ok(ops(fires('pow-half', t.pow(x, 0.5), 0.1)).join() === 'sqrt', 'not sqrt');
  assert.ok(ops(fires('pow-minus-one', t.pow(x, -1), 0.1)).join() === 'reciprocal', 'not reciprocal');
  assert.ok(ops(fires('pow-minus-half', t.pow(x, -0.5), 0.1)).join() === 'rsqrt', 'not rsqrt');
  misses('pow-two', t.pow(x, 3));
  misses('pow-two', t.pow(2, x));
  misses('pow-two', t.pow(v3, t.full([2, 3], 2))); // the exponent broadcasts
  misses('pow-half', t.pow(x, 0.25));
  misses('pow-minus-one', t.pow(iv, -1)); // integer powers stay integer
  misses('pow-minus-half', t.pow(x, 0.5));
});

test('x · x becomes square(x); 1 / x becomes reciprocal(x)', () => {
  assert.ok(ops(fires('mul-self', t.mul(x, x))).join() === 'square', 'not square');
  misses('mul-self', t.mul(x, y));
  misses('mul-self', t.mul(t.bvector('b'), t.bvector('b')));
  assert.ok(ops(fires('one-over', t.div(1, x), 0.1)).join() === 'reciprocal', 'not reciprocal');
  misses('one-over', t.div(2, x));
  misses('one-over', t.div(1, iv)); // int32 → float32: reciprocal(int32) would be float32 too, but x is not that type
});

test('division by a float constant becomes multiplication by its reciprocal, where that is safe', () => {
  const after = fires('div-by-constant', t.div(x, 4));
  assert.ok(ops(after).join() === 'mul' && (after.owner!.inputs[1] as t.Constant).value.data[0] === 0.25, 'not x · 0.25');
  fires('div-by-constant', t.div(x, t.constant([1, 3, -7])));
  fires('div-by-constant', t.div(t.dvector('d'), 3));
  misses('div-by-constant', t.div(x, y));
  misses('div-by-constant', t.div(x, 0)); // 1/0 is not finite
  misses('div-by-constant', t.div(x, t.constant([1, 2, 1e-40]))); // 1/1e-40 overflows float32
  misses('div-by-constant', t.div(x, 1e38)); // its reciprocal is subnormal in float32
  misses('div-by-constant', t.div(iv, 2)); // int32 / int32 is float32: x is not of the result's dtype
  misses('div-by-constant', t.div(4, x));
});

test('sums of products that are exact matrix products become matmul', () => {
  const a = t.tensor('float32', [4], 'a');
  const b = t.tensor('float32', [4], 'b');
  const A = t.tensor('float32', [null, 4], 'A');
  const B = t.tensor('float32', [4, 5], 'B');
  const cases: [string, Variable][] = [
    ['vector · vector', t.sum(t.mul(a, b))],
    ['matrix · vector', t.sum(t.mul(A, b), 1)],
    ['vector · matrix', t.sum(t.mul(t.dimshuffle(a, 0, 'x'), B), 0)],
    ['matrix · matrix', t.sum(t.mul(t.dimshuffle(A, 0, 1, 'x'), t.dimshuffle(B, 'x', 0, 1)), 1)],
    ['matrix · matrix, right operand first', t.sum(t.mul(t.dimshuffle(B, 'x', 0, 1), t.dimshuffle(A, 0, 1, 'x')), 1)],
    ['transposed result', t.sum(t.mul(t.dimshuffle(B, 1, 0, 'x'), t.dimshuffle(A, 'x', 1, 0)), 1)],
    ['reduced first axis', t.sum(t.mul(t.dimshuffle(A, 1, 0, 'x'), t.dimshuffle(B, 0, 'x', 1)), 0)],
  ];
  for (const [label, graph] of cases) {
    const after = fires('sum-of-product', graph);
    assert.ok(ops(after).includes('matmul') && !ops(after).includes('sum'), `${label}: not a matmul`);
  }
  misses('sum-of-product', t.sum(t.mul(a, b), 0, true));
  misses('sum-of-product', t.sum(t.mul(A, t.tensor('float32', [null, 4])), 1)); // a batch axis in both
  misses('sum-of-product', t.sum(t.mul(t.dimshuffle(A, 0, 1, 'x'), t.dimshuffle(B, 'x', 0, 1)), [1, 2]));
  misses('sum-of-product', t.sum(t.mul(t.tensor('float32', [1]), b))); // the summed axis broadcasts
  misses('sum-of-product', t.sum(t.mul(t.ivector('p'), t.ivector('q'))));
});

test.run();
