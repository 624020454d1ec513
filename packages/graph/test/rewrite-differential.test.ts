// Differential test of the whole pipeline: seeded random well-typed float64 graphs
// (the shared generator, @theorbo/graph/random-graph), with the forms the rules look for
// (neutral elements, softmax and logsumexp, log(1+x), powers, divisions, transposes,
// reshapes, reductions of reductions, sums of products) mixed with its ordinary
// elementwise ops, reductions, movement, gathers, products and integer subgraphs, are
// evaluated by the reference evaluator before and after `optimize` on random inputs.
// They must agree within a float64 tolerance; where the original gives NaN or ±∞, the
// optimized graph may differ only if a stabilize rule fired (that is its purpose).
// 300 graphs here (about a second); THEORBO_LONG=1 runs 4000 and prints rule coverage.
import { test } from 'uvu';
import * as t from '../src/index.ts';
import type { NDArray, Variable } from '../src/index.ts';
import { insert, RandomGraph, type Shape } from '../src/random-graph.ts';

const long = process.env.THEORBO_LONG === '1';
const graphCount = long ? 4000 : 300;

/**
 * The shared generator in float64, with the forms the rewrite rules look for added to its
 * own: neutral elements and special scalars, double negations, softmax and logsumexp
 * written out, log(1 + x), exp − 1, log-sigmoids, square roots of squares, powers, and
 * sums of products that are matrix products (and cross-entropies of softmaxes).
 */
class Generator extends RandomGraph {
  constructor(seed: number) {
    super(seed, { dtype: 'float64', calls: 1, unknownChance: 0.25, longAxes: false });
    this.reductions = [t.sum, t.max, t.min, t.prod, t.mean];
  }

  /** A scalar the neutral-element and specialization rules look for, or an ordinary one. */
  override scalar(): number {
    return this.pick([0, 1, 2, 0.5, -1, -0.5, 3, 1.5]);
  }

  override forms(shape: Shape, d: number): (() => Variable)[] {
    const sub = (s: Shape = shape) => this.expression(s, d);
    const axis = () => this.int(shape.length);
    const forms = super.forms(shape, d);
    forms.push(
      () => t.softplus(sub()),
      () => (this.chance(0.5) ? this.pick([t.add, t.sub, t.mul, t.div, t.pow])(sub(), this.scalar()) : this.pick([t.add, t.mul, t.maximum])(this.scalar(), sub())),
      () => t.pow(t.add(t.abs(sub()), 0.25), this.pick([2, 0.5, -1, -0.5, 1, 3])),
      () => t.neg(t.neg(sub())),
      () => t.add(sub(), t.neg(sub())),
      () => (this.chance(0.5) ? t.add(sub(), t.zeros(shape, 'float64')) : t.mul(t.ones(shape, 'float64'), sub())),
      () => { const p = this.int(shape.length + 1); return t.log(t.sum(t.exp(sub(insert(shape, p, this.size()))), p)); },
      () => t.log(t.add(this.chance(0.5) ? 1 : 2, t.exp(sub()))),
      () => t.log1p(t.exp(sub())),
      () => t.sub(t.exp(sub()), this.pick([1, 1, 2])),
      () => t.log(t.sigmoid(sub())),
      () => t.log(t.sub(1, t.sigmoid(sub()))),
      () => { const g = sub(); return t.sqrt(this.pick([t.square(g), t.mul(g, g), t.pow(g, 2)])); },
      () => this.sumOfProducts(shape, d),
      () => this.sumOfProducts(shape, d),
      () => {
        // A new axis of 1 that a sum then removes.
        const p = this.int(shape.length + 1);
        return t.sum(t.dimshuffle(sub(), ...insert<number | 'x'>(shape.map((_, i) => i), p, 'x')), p);
      },
    );
    if (shape.length > 1) forms.push(() => t.transpose(t.transpose(sub())));
    if (shape.length > 0) {
      forms.push(
        () => t.log(t.softmax(sub(), axis())),
        () => { const e = t.exp(sub()); const a = axis(); return t.log(t.div(e, t.sum(e, a, true))); },
      );
    }
    return forms;
  }

  /** Sums of products that are matrix or vector products (and cross-entropies of softmaxes). */
  sumOfProducts(shape: Shape, d: number): Variable {
    const k = this.size();
    if (shape.length === 0) return t.sum(t.mul(this.expression([k], d), this.expression([k], d)));
    if (shape.length === 1 && this.chance(0.3)) {
      const classes = this.size();
      const labels = this.input(shape, 'int32', [0, classes]);
      return t.categoricalCrossentropy(t.softmax(this.expression([shape[0]!, classes], d)), labels);
    }
    if (shape.length === 1) return t.sum(t.mul(this.expression([shape[0]!, k], d), this.expression([k], d)), 1);
    if (shape.length === 2) {
      const [n, m] = shape as [number, number];
      const a = t.dimshuffle(this.expression([n, k], d), 0, 1, 'x');
      const b = t.dimshuffle(this.expression([k, m], d), 'x', 0, 1);
      return t.sum(this.chance(0.5) ? t.mul(a, b) : t.mul(b, a), 1);
    }
    return this.leaf(shape);
  }
}

function compare(label: string, before: NDArray, after: NDArray, stabilized: boolean): void {
  if (before.dtype !== after.dtype || before.shape.join() !== after.shape.join()) throw new Error(`${label}: ${after.dtype}[${after.shape}] vs ${before.dtype}[${before.shape}]`);
  let scale = 1;
  for (const v of before.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < before.size; i++) {
    const [b, a] = [before.data[i]!, after.data[i]!];
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (!Number.isFinite(b)) {
      if (stabilized) continue;
      throw new Error(`${label}: element ${i} was ${b} and is ${a}, with no stabilize rule fired`);
    }
    // A stabilize rule replaces a form that cancels (log(1 − sigmoid(z)) at z ≈ 28 keeps
    // 4 digits of 16 in float64): there the original is the inaccurate one, by up to
    // ε / (the cancelled quantity), so only a gross disagreement is a failure.
    const tolerance = stabilized ? 1e-3 * Math.max(1, Math.abs(b)) : 1e-9 * scale + 1e-8 * Math.abs(b);
    if (!(Math.abs(a - b) <= tolerance)) throw new Error(`${label}: element ${i} is ${a}, expected ${b}`);
  }
}

test(`${graphCount} random graphs agree before and after the pipeline`, () => {
  const coverage = new Map<string, number>();
  let nodesBefore = 0;
  let nodesAfter = 0;
  for (let seed = 1; seed <= graphCount; seed++) {
    const generator = new Generator(seed);
    const shape = Array.from({ length: generator.int(4) }, () => 2 + generator.int(3));
    const outputs = [generator.expression(shape, 2 + generator.int(3))];
    if (generator.chance(0.3)) outputs.push(generator.expression(shape, 2));
    const { outputs: optimized, reports } = t.optimizeWithReport(outputs);
    for (const report of reports) for (const firing of report.firings) coverage.set(`${report.pass}/${firing.rule}`, (coverage.get(`${report.pass}/${firing.rule}`) ?? 0) + 1);
    nodesBefore += reports[0]!.nodesBefore;
    nodesAfter += reports[reports.length - 1]!.nodesAfter;
    const stabilized = reports.some((report) => report.pass === 'stabilize' && report.firings.length > 0);
    const label = `graph ${seed}`;
    let before: NDArray[];
    try {
      before = t.evaluate(outputs, generator.givens());
    } catch (error) {
      throw new Error(`${label}: the generated graph fails before optimize: ${(error as Error).message}\n${t.debugprint(outputs)}`);
    }
    const after = t.evaluate(optimized, generator.givens());
    try {
      before.forEach((value, i) => compare(`${label}, output ${i}`, value, after[i]!, stabilized));
    } catch (error) {
      throw new Error(`${(error as Error).message}\nbefore:\n${t.debugprint(outputs)}\nafter:\n${t.debugprint(optimized)}`);
    }
  }
  // The generator must reach the rules it exists for, or the test shows little.
  const expected = [
    'canonicalize/add-zero', 'canonicalize/mul-one', 'canonicalize/neg-neg', 'canonicalize/sub-constant', 'canonicalize/add-neg',
    'canonicalize/constant-second', 'canonicalize/dimshuffle-dimshuffle', 'canonicalize/reshape-reshape', 'canonicalize/sum-of-sum',
    'canonicalize/drop-kept-dims', 'stabilize/log-softmax', 'stabilize/logsumexp', 'stabilize/log1p', 'stabilize/expm1',
    'stabilize/log-sigmoid', 'stabilize/log-one-minus-sigmoid', 'stabilize/sqrt-square', 'stabilize/log-gathered-softmax',
    'specialize/pow-two', 'specialize/pow-half', 'specialize/div-by-constant', 'specialize/sum-of-product', 'merge/merge-equal',
    'constant-folding/fold-constant-inputs',
  ];
  const missing = expected.filter((name) => !coverage.has(name));
  if (missing.length > 0) throw new Error(`rules never fired over ${graphCount} graphs: ${missing.join(', ')}`);
  if (long) {
    console.log(`nodes ${nodesBefore} → ${nodesAfter}; firings by rule:`);
    for (const [name, count] of [...coverage].sort((a, b) => b[1] - a[1])) console.log(`  ${name}: ${count}`);
  }
});

test.run();
