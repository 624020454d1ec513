// Differential test of the whole pipeline: seeded random well-typed float64 graphs,
// built from the forms the rules look for (neutral elements, softmax and logsumexp,
// log(1+x), powers, divisions, transposes, reshapes, reductions of reductions, sums of
// products) mixed with ordinary elementwise ops, reductions and integer subgraphs, are
// evaluated by the reference evaluator before and after `optimize` on random inputs.
// They must agree within a float64 tolerance; where the original gives NaN or ±∞, the
// optimized graph may differ only if a stabilize rule fired (that is its purpose).
// 300 graphs here (about a second); THEORBO_LONG=1 runs 4000 and prints rule coverage.
import { test } from 'uvu';
import * as t from '../src/index.ts';
import type { NDArray, Variable } from '../src/index.ts';
import { Dice, randomArray } from '../src/testing.ts';

const long = process.env.THEORBO_LONG === '1';
const graphCount = long ? 4000 : 300;

type Shape = number[];

class Generator extends Dice {
  readonly givens: [Variable, NDArray][] = [];
  size(): number {
    return 2 + this.int(3);
  }

  /** A new symbolic input of `shape` (some sizes typed unknown) with a seeded value. */
  input(shape: Shape, dtype: 'float64' | 'int32' = 'float64'): Variable {
    const typed = shape.map((size) => (size > 1 && this.chance(0.25) ? null : size));
    const variable = t.tensor(dtype, typed, `in${this.givens.length}`);
    const options = dtype === 'int32' ? { low: -4, high: 5 } : { low: -2, high: 2 };
    this.givens.push([variable, randomArray(dtype, shape, { ...options, seed: this.seed * 31 + this.givens.length })]);
    return variable;
  }

  leaf(shape: Shape): Variable {
    const reusable = this.givens.filter(([v, value]) => v.dtype === 'float64' && value.shape.join() === shape.join());
    if (reusable.length > 0 && this.chance(0.4)) return this.pick(reusable)[0];
    if (this.chance(0.15)) return t.constant(randomArray('float64', shape, { seed: this.int(1e6) }), { dtype: 'float64' });
    return this.input(shape);
  }

  /** A scalar the neutral-element and specialization rules look for, or an ordinary one. */
  special(): number {
    return this.pick([0, 1, 2, 0.5, -1, -0.5, 3, 1.5]);
  }

  /** An operand that broadcasts against `shape`: the same shape, a suffix, or size 1 in some axes. */
  broadcastable(shape: Shape, depth: number): Variable {
    const choice = this.int(4);
    if (choice === 0 || shape.length === 0) return this.expression(shape, depth);
    if (choice === 1) return this.expression(shape.slice(this.int(shape.length) + 1), depth);
    if (choice === 2) return this.expression(shape.map((size) => (this.chance(0.5) ? 1 : size)), depth);
    return t.constant(this.special(), { dtype: 'float64' });
  }

  /** A float64 expression whose run-time shape is `shape`. */
  expression(shape: Shape, depth: number): Variable {
    if (depth <= 0 || this.chance(0.12)) return this.leaf(shape);
    const d = depth - 1;
    const sub = (s: Shape = shape) => this.expression(s, d);
    const axis = () => this.int(shape.length);
    const forms: (() => Variable)[] = [
      () => this.pick([t.neg, t.abs, t.tanh, t.sigmoid, t.softplus, t.square, t.sin])(sub()),
      () => t.exp(t.tanh(sub())),
      () => this.pick([t.log, t.sqrt])(t.add(t.abs(sub()), 0.5)),
      () => this.pick([t.add, t.sub, t.mul, t.maximum, t.minimum])(sub(), this.broadcastable(shape, d)),
      () => t.div(sub(), t.add(t.abs(this.broadcastable(shape, d)), 0.5)),
      () => (this.chance(0.5) ? this.pick([t.add, t.sub, t.mul, t.div, t.pow])(sub(), this.special()) : this.pick([t.add, t.mul, t.maximum])(this.special(), sub())),
      () => t.pow(t.add(t.abs(sub()), 0.25), this.pick([2, 0.5, -1, -0.5, 1, 3])),
      () => t.neg(t.neg(sub())),
      () => t.add(sub(), t.neg(sub())),
      () => (this.chance(0.5) ? t.add(sub(), t.zeros(shape, 'float64')) : t.mul(t.ones(shape, 'float64'), sub())),
      () => this.reduction(shape, d),
      () => this.movement(shape, d),
      () => t.cast(this.integer(shape, d), 'float64'),
    ];
    if (shape.length > 0) {
      forms.push(
        () => t.softmax(sub(), axis()),
        () => t.log(t.softmax(sub(), axis())),
        () => t.logSoftmax(sub(), axis()),
        () => { const e = t.exp(sub()); const a = axis(); return t.log(t.div(e, t.sum(e, a, true))); },
      );
    }
    forms.push(
      () => { const p = this.int(shape.length + 1); return t.log(t.sum(t.exp(sub(insert(shape, p, this.size()))), p)); },
      () => t.log(t.add(this.chance(0.5) ? 1 : 2, t.exp(sub()))),
      () => t.log1p(t.exp(sub())),
      () => t.sub(t.exp(sub()), this.pick([1, 1, 2])),
      () => t.log(t.sigmoid(sub())),
      () => t.log(t.sub(1, t.sigmoid(sub()))),
      () => { const g = sub(); return t.sqrt(this.pick([t.square(g), t.mul(g, g), t.pow(g, 2)])); },
      () => this.product(shape, d),
      () => this.product(shape, d),
    );
    return this.pick(forms)();
  }

  reduction(shape: Shape, d: number): Variable {
    const p = this.int(shape.length + 1);
    const inner = this.expression(insert(shape, p, this.size()), d);
    const reduce = this.pick([t.sum, t.max, t.min, t.prod]);
    if (this.chance(0.3)) {
      // a reduction of a reduction: two new axes, reduced one after the other
      const q = this.int(shape.length + 2);
      const twice = this.expression(insert(insert(shape, p, this.size()), q, this.size()), d);
      const keep = this.chance(0.5);
      const once = reduce(twice, q, keep);
      // with the first axis kept, the second reduction takes it along
      return keep ? reduce(once, [q <= p ? p + 1 : p, q]) : reduce(once, p);
    }
    if (this.chance(0.5)) return reduce(inner, p);
    // keepdims, then a dimshuffle dropping the kept axis
    return t.dimshuffle(reduce(inner, p, true), ...shape.map((_, i) => (i < p ? i : i + 1)));
  }

  movement(shape: Shape, d: number): Variable {
    const choice = this.int(3);
    if (choice === 0 && shape.length > 1) {
      // transpose of a transpose, or one transpose
      const order = shape.map((_, i) => i).sort(() => this.random() - 0.5);
      const inverse = order.map((_, i) => order.indexOf(i));
      const inner = this.expression(inverse.map((i) => shape[i]!), d);
      const once = t.dimshuffle(inner, ...order);
      return this.chance(0.5) ? once : t.transpose(t.transpose(once));
    }
    if (choice === 1) {
      const size = shape.reduce((a, b) => a * b, 1);
      const flat = this.expression([size], d);
      return this.chance(0.5) ? t.reshape(flat, shape) : t.reshape(t.reshape(flat, [...shape].reverse()), shape);
    }
    // a new axis of 1 that a sum then removes
    const p = this.int(shape.length + 1);
    const expanded = t.dimshuffle(this.expression(shape, d), ...insert<number | 'x'>(shape.map((_, i) => i), p, 'x'));
    return t.sum(expanded, p);
  }

  integer(shape: Shape, d: number): Variable {
    const leaf = () => (this.chance(0.8) ? this.input(shape, 'int32') : t.constant(this.pick([0, 1, -1, 2]), { dtype: 'int32' }));
    let value = this.input(shape, 'int32');
    for (let i = 0; i < 1 + this.int(d + 1); i++) {
      const op = this.pick([t.add, t.sub, t.mul, t.maximum]);
      value = this.chance(0.5) ? op(value, leaf()) : op(value, this.pick([0, 1, -1, 2]));
      if (this.chance(0.3)) value = this.pick([t.neg, t.abs])(value);
    }
    return value;
  }

  /** Sums of products that are matrix or vector products (and cross-entropies of softmaxes). */
  product(shape: Shape, d: number): Variable {
    const k = this.size();
    if (shape.length === 0) return t.sum(t.mul(this.expression([k], d), this.expression([k], d)));
    if (shape.length === 1 && this.chance(0.3)) {
      const classes = this.size();
      const labels = t.tensor('int32', [shape[0]!], `in${this.givens.length}`);
      this.givens.push([labels, randomArray('int32', shape, { low: 0, high: classes, seed: this.seed + 7 })]);
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

function insert<T>(items: readonly T[], at: number, item: T): T[] {
  return [...items.slice(0, at), item, ...items.slice(at)];
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
    if (!(Math.abs(a - b) <= 1e-9 * scale + 1e-8 * Math.abs(b))) throw new Error(`${label}: element ${i} is ${a}, expected ${b}`);
  }
}

test(`${graphCount} random graphs agree before and after the pipeline`, () => {
  const coverage = new Map<string, number>();
  let nodesBefore = 0;
  let nodesAfter = 0;
  for (let seed = 1; seed <= graphCount; seed++) {
    const generator = new Generator(seed);
    const shape = Array.from({ length: generator.int(4) }, () => generator.size());
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
      before = t.evaluate(outputs, generator.givens);
    } catch (error) {
      throw new Error(`${label}: the generated graph fails before optimize: ${(error as Error).message}\n${t.debugprint(outputs)}`);
    }
    const after = t.evaluate(optimized, generator.givens);
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
