// Patterns: the left-hand side of rewrite rules, small structural matchers over nodes.
// A pattern matches a variable or not; when it does, it returns the captures made so
// far extended by its own. Builders read like the expression they match:
//
//   op('log', op('add', capture('x'), uniform(1)))      log(x + 1), or log(1 + x)
//
// - `capture(name)` matches anything and names it; a name used twice must be bound to
//   the same variable (or a structurally equal one) both times.
// - `op(name, ...inputs)` matches a node of that op with exactly those inputs; binary
//   commutative ops (ops.ts's commutativeOps) match their inputs in either order, the
//   written order first. `opFirst` matches the first inputs only (reshape's size
//   inputs, gather indices); `nodeOf(...ops)` any node of those ops.
// - `.where(test)` and, on op patterns, `.attrs(test)` add conditions, checked on the
//   first input order that matches; `.as(name)` also captures the matched variable;
//   `oneOf` tries alternatives in order; `anything` and `constant` match leaves too.
// - `uniform(v)` matches a constant whose every element is v, or a broadcast_to of one
//   (what zeros/ones/full build), of any shape: rules check the types themselves
//   (`sameType`), since a 0 that broadcasts x is not neutral.
// Left out: matching consumers (patterns look down only) and backtracking into the
// other input order when a later condition fails.

import { structurallyEqual } from '../hash.ts';
import { Constant, type Variable } from '../graph.ts';
import { commutativeOps, type AttrsOf, type OpName } from '../ops.ts';
import { sameShape } from '../type.ts';

/** What a match captured, by name. */
export type Captures<N extends string = string> = { readonly [K in N]: Variable };
type Bindings = Readonly<Record<string, Variable>>;

export interface Pattern<N extends string = never> {
  /** The ops a matched variable's node can have (the engine indexes rules by them); undefined when leaves or any op can match. */
  readonly ops: readonly OpName[] | undefined;
  /** The bindings extended by this pattern's captures in `variable`, or undefined when it does not match. */
  match(variable: Variable, bindings: Bindings): Bindings | undefined;
  /** Phantom field carrying the capture names, for typing a rule's rewrite. */
  readonly names?: N;
}

/** The capture names of a pattern (read from its phantom field, so that a pattern without captures gives never). */
export type CaptureNames<P> = P extends { readonly names?: infer N } ? Exclude<N, undefined> & string : never;
type NamesOf<P extends readonly Pattern<string>[]> = { [I in keyof P]: CaptureNames<P[I]> }[number];

/** The same variable, or one structurally equal to it (merge makes the second case rare). */
export const same = (a: Variable, b: Variable): boolean => a === b || structurallyEqual(a, b);

export class BasicPattern<N extends string> implements Pattern<N> {
  declare readonly names?: N;
  constructor(
    readonly ops: readonly OpName[] | undefined,
    readonly match: (variable: Variable, bindings: Bindings) => Bindings | undefined,
  ) {}

  /** Matches only where `test` holds of the variable and the captures made. */
  where(test: (variable: Variable, captures: Captures<N>) => boolean): BasicPattern<N> {
    return new BasicPattern(this.ops, (variable, bindings) => {
      const found = this.match(variable, bindings);
      return found && test(variable, found as Captures<N>) ? found : undefined;
    });
  }

  /** Also captures the matched variable as `name`. */
  as<M extends string>(name: M): BasicPattern<N | M> {
    return new BasicPattern<N | M>(this.ops, (variable, bindings) => {
      const found = this.match(variable, bindings);
      return found && bind(found, name, variable);
    });
  }
}

export class OpPattern<K extends OpName, N extends string> extends BasicPattern<N> {
  /** Matches only where `test` holds of the node's attributes. */
  attrs(test: (attrs: AttrsOf<K>, variable: Variable) => boolean): BasicPattern<N> {
    return this.where((variable) => test(variable.owner!.attrs as AttrsOf<K>, variable));
  }
}

function bind(bindings: Bindings, name: string, variable: Variable): Bindings | undefined {
  const bound = bindings[name];
  if (bound === undefined) return { ...bindings, [name]: variable };
  return same(bound, variable) ? bindings : undefined;
}

/** Matches any variable and captures it as `name`. */
export function capture<N extends string>(name: N): BasicPattern<N> {
  return new BasicPattern<N>(undefined, (variable, bindings) => bind(bindings, name, variable));
}

/** Matches any variable without capturing it. */
export const anything: BasicPattern<never> = new BasicPattern<never>(undefined, (_, bindings) => bindings);

function matchInputs(patterns: readonly Pattern<string>[], inputs: readonly Variable[], bindings: Bindings): Bindings | undefined {
  let found: Bindings | undefined = bindings;
  for (let i = 0; i < patterns.length && found; i++) found = patterns[i]!.match(inputs[i]!, found);
  return found;
}

/** Matches a node of `name` whose inputs match `inputs` (either order for binary commutative ops). */
export function op<K extends OpName, P extends readonly Pattern<string>[]>(name: K, ...inputs: P): OpPattern<K, NamesOf<P>> {
  const swappable = commutativeOps.has(name) && inputs.length === 2;
  return new OpPattern<K, NamesOf<P>>([name], (variable, bindings) => {
    const node = variable.owner;
    if (!node || node.op !== name || node.inputs.length !== inputs.length) return undefined;
    const found = matchInputs(inputs, node.inputs, bindings);
    if (found || !swappable) return found;
    return matchInputs(inputs, [node.inputs[1]!, node.inputs[0]!], bindings);
  });
}

/** Matches a node of `name` whose first inputs match `inputs`; the inputs after them (size inputs, indices) are not looked at. */
export function opFirst<K extends OpName, P extends readonly Pattern<string>[]>(name: K, ...inputs: P): OpPattern<K, NamesOf<P>> {
  return new OpPattern<K, NamesOf<P>>([name], (variable, bindings) => {
    const node = variable.owner;
    if (!node || node.op !== name || node.inputs.length < inputs.length) return undefined;
    return matchInputs(inputs, node.inputs, bindings);
  });
}

/** Matches a node of any of `ops`, whatever its inputs (rules with a condition on them use `.where`). */
export function nodeOf(...ops: readonly OpName[]): BasicPattern<never> {
  const set = new Set(ops);
  return new BasicPattern<never>(ops, (variable, bindings) => (variable.owner && set.has(variable.owner.op) ? bindings : undefined));
}

/** The first alternative that matches. */
export function oneOf<P extends readonly Pattern<string>[]>(...alternatives: P): BasicPattern<NamesOf<P>> {
  const ops = alternatives.every((p) => p.ops !== undefined) ? [...new Set(alternatives.flatMap((p) => p.ops!))] : undefined;
  return new BasicPattern<NamesOf<P>>(ops, (variable, bindings) => {
    for (const alternative of alternatives) {
      const found = alternative.match(variable, bindings);
      if (found) return found;
    }
    return undefined;
  });
}

/** Matches any Constant (never a shared variable: those change between calls). */
export const constant: BasicPattern<never> = new BasicPattern<never>(undefined, (variable, bindings) => (variable instanceof Constant ? bindings : undefined));

const uniformValues = new WeakMap<Constant, number | null>();

/** The value every element of a constant holds, or null when they differ, hold NaN, or there are none. */
export function uniformValueOf(constant: Constant): number | null {
  let known = uniformValues.get(constant);
  if (known === undefined) {
    const data = constant.value.data;
    known = data.length > 0 && !Number.isNaN(data[0]) ? data[0]! : null;
    for (let i = 1; i < data.length && known !== null; i++) if (data[i] !== known) known = null;
    uniformValues.set(constant, known);
  }
  return known;
}

/** The value every element of `variable` holds, when it is a uniform constant or a broadcast of one; else null. */
export function filledValue(variable: Variable): number | null {
  if (variable instanceof Constant) return uniformValueOf(variable);
  const node = variable.owner;
  if (node?.op === 'broadcast_to' && node.inputs[0] instanceof Constant) return uniformValueOf(node.inputs[0]);
  return null;
}

/** Matches a constant (or a broadcast of one) whose every element equals `value` (0 also matches -0). */
export function uniform(value: number): BasicPattern<never> {
  return new BasicPattern<never>(undefined, (variable, bindings) => (filledValue(variable) === value ? bindings : undefined));
}

/** The attributes of `variable`'s node, which must be an `op` node (rules call it on what their pattern matched). */
export function attrsOf<K extends OpName>(variable: Variable, op: K): AttrsOf<K> {
  const node = variable.owner;
  if (node?.op !== op) throw new Error(`rewrite: expected a ${op} node, found ${node?.op ?? variable.kind}`);
  return node.attrs as AttrsOf<K>;
}

/** Same dtype and the same static shape (unknown dimensions in the same places). */
export const sameType = (a: Variable, b: Variable): boolean => a.dtype === b.dtype && sameShape(a.shape, b.shape);

/** `candidate` when it has exactly `original`'s type, else undefined: for rules whose result type is easiest to learn by building it. */
export const ifSameType = (candidate: Variable, original: Variable): Variable | undefined => (sameType(candidate, original) ? candidate : undefined);
