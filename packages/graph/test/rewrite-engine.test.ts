// The rewrite engine and its two structural passes: optimize leaves the original graph
// alone, checks every replacement's type and names the rule that broke it, reports a
// pass that reaches no fixed point, prints what fired under THEORBO_DEBUG=rewrites, and
// gives rewritten nodes the user's source location. Then merge and constant folding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as t from '../src/index.ts';
import type { Variable } from '../src/index.ts';
import { assertClose, expectGraphError } from '../src/testing.ts';
import { patterns } from '../src/index.ts';
import { assertSameValues, randomGivens, runRules } from '../src/rewrite/check.ts';

const x = t.tensor('float32', [null, 3], 'x');

/** Runs `body` with console[method] collecting its lines instead of printing them. */
function capturing(method: 'error' | 'warn', body: () => void): string[] {
  const lines: string[] = [];
  const original = console[method];
  console[method] = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  try {
    body();
  } finally {
    console[method] = original;
  }
  return lines;
}

test('optimize returns new outputs and leaves the original graph as it was', () => {
  const y = t.log(t.add(t.mul(t.exp(x), 1), 1));
  const before = t.debugprint(y, { locations: true });
  const inputs = t.topologicalOrder([y]).map((v) => [v, v.owner?.inputs.slice()] as const);
  const optimized = t.optimize(y);
  assert.ok(optimized !== y, 'nothing was rewritten');
  assert.ok(t.debugprint(y, { locations: true }) === before, 'the original graph changed');
  for (const [v, kept] of inputs) assert.ok(v.owner === null || v.owner.inputs.every((input, i) => input === kept![i]), 'an original node changed its inputs');
  assertSameValues([y], [optimized], randomGivens([y]), { rtol: 1e-6 });
  assert.ok(t.optimize([y, y]).length === 2, 'a list of outputs gives a list');
});

test('passes run by name or as objects, in the order given', () => {
  const y = t.mul(t.add(x, 0), 1);
  const named = t.optimizeWithReport([y], { passes: ['canonicalize', 'merge'] });
  assert.ok(named.reports.map((r) => r.pass).join() === 'canonicalize,merge', 'wrong passes ran');
  assert.ok(named.outputs[0] === x, 'x + 0 then · 1 did not reduce to x');
  const asObjects = t.optimizeWithReport([y], { passes: [t.mergePass] });
  assert.ok(asObjects.outputs[0] === y && asObjects.reports[0]!.firings.length === 0, 'merge changed a graph without duplicates');
  assert.ok(t.defaultPipeline.map((p) => p.name).join() === 'merge,constant-folding,canonicalize,stabilize,specialize,merge', 'the pipeline is not the documented one');
});

test('a rule that changes the type is named in a GraphError', () => {
  const broken = t.pass('broken', [t.rule('exp-to-sum', patterns.op('exp', patterns.capture('x')), ({ x }) => t.sum(x))]);
  expectGraphError(() => t.optimize(t.exp(x), { passes: [broken] }), 'optimize', "rule 'exp-to-sum'", "pass 'broken'", 'float32[?,3]', 'float32[]', 'rewrite-engine.test.ts');
  const widening = t.pass('widening', [t.rule('exp-to-broadcast', patterns.op('exp', patterns.capture('x')), ({ x }) => t.broadcastTo(t.exp(x), [4, 3]))]);
  expectGraphError(() => t.optimize(t.exp(x), { passes: [widening] }), "rule 'exp-to-broadcast'", 'float32[4,3]');
  const failing = t.pass('failing', [t.rule('exp-to-nonsense', patterns.op('exp', patterns.capture('x')), ({ x }) => t.dimshuffle(x, 5))]);
  expectGraphError(() => t.optimize(t.exp(x), { passes: [failing] }), "rule 'exp-to-nonsense'", "pass 'failing'", 'could not build', 'names axis 5');
});

test('a pass whose rules undo each other stops at its bound and says so', () => {
  const a = patterns.capture('a');
  const b = patterns.capture('b');
  const toMinimum = t.rule('to-minimum', patterns.op('maximum', a, b), ({ a, b }) => t.minimum(a, b));
  const toMaximum = t.rule('to-maximum', patterns.op('minimum', a, b), ({ a, b }) => t.maximum(a, b));
  const cycling = t.pass('cycling', [toMinimum, toMaximum], { maxIterations: 3 });
  let report: t.PassReport | undefined;
  const warnings = capturing('warn', () => {
    report = t.optimizeWithReport([t.maximum(x, t.exp(x))], { passes: [cycling] }).reports[0];
  });
  assert.ok(report!.reachedBound && report!.iterations === 3, 'the bound was not reported');
  assert.ok(warnings.length === 1 && warnings[0]!.includes("pass 'cycling'") && warnings[0]!.includes('no fixed point'), `warning: ${warnings.join('\n')}`);
});

test('THEORBO_DEBUG=rewrites prints each firing with its node and location, and node counts per pass', () => {
  const saved = process.env.THEORBO_DEBUG;
  const y = t.mul(t.exp(x), 1); // this line is the location printed
  const line = new Error().stack!.split('\n')[1]!.match(/:(\d+):\d+\)?$/)![1]!;
  try {
    process.env.THEORBO_DEBUG = 'shaders, rewrites';
    const printed = capturing('error', () => t.optimize(y));
    const text = printed.join('\n');
    assert.ok(text.includes('canonicalize/mul-one: mul float32[?,3] at packages/graph/test/rewrite-engine.test.ts:' + (Number(line) - 1)), `no firing line in:\n${text}`);
    assert.ok(/pass 'canonicalize': 2 → 1 nodes, 1 rewrites in 2 walks/.test(text), `no node counts in:\n${text}`);
    assert.ok(printed.filter((l) => /^rewrites: pass '[a-z-]+': \d+ → \d+ nodes/.test(l)).length === 6, 'not one summary per pass');
    process.env.THEORBO_DEBUG = 'shaders';
    assert.ok(capturing('error', () => t.optimize(y)).length === 0, 'printed without the switch');
  } finally {
    if (saved === undefined) delete process.env.THEORBO_DEBUG;
    else process.env.THEORBO_DEBUG = saved;
  }
});

test('nodes a rule builds carry the source location and name of the node they replace', () => {
  const y = t.log(t.add(x, 1));
  y.name = 'log1p of x';
  const optimized = t.optimize(y, { passes: ['stabilize'] });
  assert.ok(optimized.owner?.op === 'log1p', 'log1p did not fire');
  assert.ok(optimized.owner!.location?.line === y.owner!.location?.line && optimized.owner!.location?.file === y.owner!.location?.file, `location ${t.formatLocation(optimized.owner!.location)} vs ${t.formatLocation(y.owner!.location)}`);
  assert.ok(optimized.name === 'log1p of x', 'the name was lost');
  // Consumers rebuilt on a rewritten input keep their own location.
  const z = t.exp(y);
  const rebuilt = t.optimize(z, { passes: ['stabilize'] });
  assert.ok(rebuilt !== z && rebuilt.owner!.location?.line === z.owner!.location?.line, 'the rebuilt consumer moved');
});

// ---- merge ----

test('merge makes structurally equal subgraphs one, and equal constants one constant', () => {
  const w = t.shared(new Float32Array([1, 2, 3]), 'w');
  const first = t.sum(t.mul(t.exp(x), w), 1);
  const second = t.sum(t.mul(t.exp(x), w), 1);
  const { output, fired } = runRules(t.add(first, second), [t.mergePass]);
  assert.ok(output.owner!.inputs[0] === output.owner!.inputs[1], 'the two sums were not merged');
  assert.ok(fired.filter((rule) => rule === 'merge-equal').length === 3, `fired ${fired.length}`);
  const constants = runRules(t.add(t.mul(x, 2), t.mul(t.exp(x), 2)), [t.mergePass]).output;
  const twos = t.topologicalOrder([constants]).filter((v) => v instanceof t.Constant);
  assert.ok(twos.length === 1, `${twos.length} constants 2 left`);
});

test('merge keeps distinct inputs, shared variables, constants of another dtype and different draws apart', () => {
  const graphs: Variable[] = [
    t.add(t.exp(x), t.exp(t.tensor('float32', [null, 3], 'x'))),
    t.add(t.shared([1, 2, 3]), t.shared([1, 2, 3])),
    t.add(t.constant(0, { dtype: 'float64' }), t.constant(-0, { dtype: 'float64' })),
    t.add(t.constant(1, { dtype: 'float32' }), t.cast(t.constant(1, { dtype: 'int32' }), 'float32')),
  ];
  const streams = new t.RandomStreams(3);
  graphs.push(t.add(streams.uniform([2]), streams.uniform([2])));
  for (const graph of graphs) {
    const { output, fired } = runRules(graph, [t.mergePass]);
    assert.ok(fired.length === 0 && output === graph, `merged in\n${t.debugprint(graph)}`);
  }
});

// ---- constant folding ----

const fold = (output: Variable, options?: t.ConstantFoldingOptions) => runRules(output, [t.constantFoldingPass(options)]);

test('nodes of constants are evaluated once; dim of a known size becomes a constant', () => {
  const { output, fired } = fold(t.add(t.mul(t.constant([1, 2, 3]), 2), t.exp(t.constant(0))));
  assert.ok(output instanceof t.Constant && fired.length === 3, `not one constant (fired ${fired.join()})`);
  assertClose((output as t.Constant).value, [3, 5, 7]);
  const folded = fold(t.mul(x, t.ones([2, 3]))).output;
  assert.ok(folded.owner!.inputs[1] instanceof t.Constant, 'ones([2, 3]) was not folded');
  const size = fold(t.applyOp('dim', [x], { axis: 1 }));
  assert.ok(size.output instanceof t.Constant && (size.output as t.Constant).value.data[0] === 3 && size.fired.join() === 'static-dim', 'dim of a static axis stayed');
  assert.ok(fold(t.applyOp('dim', [x], { axis: 0 })).fired.length === 0, 'dim of an unknown axis was folded');
});

test('constant folding leaves large results, random draws, shared variables and failing nodes alone', () => {
  const big = t.zeros([4096, 4096]);
  assert.ok(fold(big).output === big, 'zeros([4096, 4096]) was materialised');
  assert.ok(fold(t.ones([2, 3]), { maxElements: 4 }).fired.length === 0, 'the size limit was not applied');
  assert.ok(fold(t.ones([2, 2]), { maxElements: 4 }).fired.length === 1, 'a result at the limit was not folded');
  const state = t.constant(new Uint32Array([1, 0]));
  const draw = t.applyOp('random', [state], { distribution: 'uniform', draw: 0, shape: [2], dtype: 'float32' });
  assert.ok(fold(draw).fired.length === 0, 'a random draw was folded');
  const fromShared = t.mul(t.shared([1, 2]), 2);
  assert.ok(fold(fromShared).fired.length === 0, 'a shared variable was treated as a constant');
  const outOfRange = t.get(t.constant([1, 2, 3]), t.constant([5], { dtype: 'int32' }));
  assert.ok(fold(outOfRange).output === outOfRange, 'a node that fails to evaluate was folded');
});

test.run();
