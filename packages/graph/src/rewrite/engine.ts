// The rewrite engine. A rule is data: a name, a pattern (pattern.ts) and a rewrite that
// returns a replacement built with the public API, or nothing. A pass is a named list
// of rules run to a fixed point; pipeline.ts lists the passes in order.
//
// One iteration of a pass is one walk in topological order: each node is first rebuilt
// on its inputs' replacements (makeNode, keeping op, attributes, name and location;
// untouched subgraphs are shared, never copied), then offered to the pass's rules for
// its op in list order; the first replacement wins and is offered to the rules again
// (a few times, so chains like neg(neg(neg(neg x))) settle in one walk). Iterations
// repeat until a walk changes nothing, or the pass's bound is reached, which is reported
// as a warning since it means rules undo each other. The original graph is never
// changed: replacements are new nodes.
//
// Every replacement is checked to keep exactly the dtype and the static shape (unknown
// dimensions included) of the variable it replaces; a rule that breaks this is named in
// a GraphError. Rebuilt consumers therefore infer the types they had, except where an
// op's inference reads constant inputs (arange), which only makes shapes more known. Nodes a rule builds through the public API are
// rebuilt at the replaced node's source location, so later errors point at the user's
// expression rather than at the optimize call. THEORBO_DEBUG=rewrites (or a comma list
// that contains it) prints each firing and each pass's node counts to stderr.
// Left out: rules that look at consumers, and cost models (rules fire when they match).

import { makeNode } from '../build.ts';
import { GraphError } from '../errors.ts';
import { Constant, type Variable } from '../graph.ts';
import { structuralHash, structurallyEqual } from '../hash.ts';
import { formatLocation } from '../location.ts';
import { opLabel } from '../debugprint.ts';
import type { OpName } from '../ops.ts';
import { topologicalOrder } from '../traverse.ts';
import { sameShape } from '../type.ts';
import type { CaptureNames, Captures, Pattern } from './pattern.ts';

export interface RewriteContext {
  /** The matched variable (its node already rebuilt on rewritten inputs). */
  readonly variable: Variable;
  /** The first variable structurally equal to `candidate` offered in this walk (itself if none): merge's table. */
  intern(candidate: Variable): Variable;
}

export interface Rule {
  readonly name: string;
  readonly pattern: Pattern<string>;
  readonly rewrite: (captures: Captures, context: RewriteContext) => Variable | undefined;
}

/** A rule whose rewrite sees the pattern's captures by name, typed. */
export function rule<P extends Pattern<string>>(name: string, pattern: P, rewrite: (captures: Captures<CaptureNames<P>>, context: RewriteContext) => Variable | undefined): Rule {
  return { name, pattern, rewrite: rewrite as Rule['rewrite'] };
}

export interface Pass {
  readonly name: string;
  readonly rules: readonly Rule[];
  /** Walks before the pass gives up on a fixed point (default 16). */
  readonly maxIterations?: number;
}

export function pass(name: string, rules: readonly Rule[], options: { maxIterations?: number } = {}): Pass {
  return { name, rules, ...options };
}

export interface Firing {
  readonly rule: string;
  /** The variable replaced (as rebuilt in that walk) and what replaced it. */
  readonly replaced: Variable;
  readonly replacement: Variable;
}

export interface PassReport {
  readonly pass: string;
  /** Apply nodes reachable from the outputs before and after the pass. */
  nodesBefore: number;
  nodesAfter: number;
  /** Walks made, the last of which changed nothing unless the bound was reached. */
  iterations: number;
  reachedBound: boolean;
  milliseconds: number;
  readonly firings: Firing[];
}

const defaultMaxIterations = 16;
/** How often one node's replacement is offered to the rules again within one walk. */
const maxRoundsPerNode = 8;

/** Whether THEORBO_DEBUG names `topic` (it may be a comma-separated list). */
export function debugTopic(topic: string): boolean {
  const flags = globalThis.process?.env?.THEORBO_DEBUG ?? '';
  return flags.split(',').some((flag) => flag.trim() === topic);
}

const countApplies = (order: readonly Variable[]): number => order.reduce((count, v) => (v.owner ? count + 1 : count), 0);

function describe(variable: Variable): string {
  const label = variable.owner ? opLabel(variable.owner.op, variable.owner.attrs) : variable instanceof Constant ? 'constant' : variable.kind;
  return `${label} ${variable.type}`;
}

function describeAt(variable: Variable): string {
  return `${describe(variable)} at ${formatLocation(variable.owner?.location ?? variable.location)}`;
}

/** Throws unless `replacement` keeps the dtype and static shape of `original`. */
function checkTypes(passName: string, ruleName: string, original: Variable, replacement: Variable): void {
  if (replacement.dtype === original.dtype && sameShape(replacement.shape, original.shape)) return;
  throw new GraphError('optimize', `rule '${ruleName}' of pass '${passName}' replaced ${describe(original)} by ${describe(replacement)}; a rewrite must keep the dtype and the static shape`, original.owner?.location ?? original.location);
}

type RuleIndex = { readonly byOp: ReadonlyMap<OpName, readonly Rule[]>; readonly generic: readonly Rule[] };
const indexes = new WeakMap<Pass, RuleIndex>();

/** Rules by the op at their pattern's root, list order kept; rules for any root go with every op. */
function ruleIndex(pass: Pass): RuleIndex {
  let index = indexes.get(pass);
  if (index) return index;
  const byOp = new Map<OpName, Rule[]>();
  const generic: Rule[] = [];
  for (const each of pass.rules) {
    if (each.pattern.ops === undefined) {
      generic.push(each);
      for (const list of byOp.values()) list.push(each);
    } else {
      for (const op of each.pattern.ops) {
        if (!byOp.has(op)) byOp.set(op, [...generic]);
        byOp.get(op)!.push(each);
      }
    }
  }
  index = { byOp, generic };
  indexes.set(pass, index);
  return index;
}

/** One walk of one pass over the graph: rebuilds, offers nodes to rules, and records firings. */
class Walk implements RewriteContext {
  readonly mapped = new Map<Variable, Variable>();
  /** Variables already final in this walk: rules ran on them, so relocation stops there. */
  readonly settled = new Set<Variable>();
  readonly relocated = new Map<Variable, Variable>();
  readonly table = new Map<number, Variable[]>();
  firings = 0;
  variable!: Variable;

  constructor(readonly pass: Pass, readonly index: RuleIndex, readonly report: PassReport, readonly debug: boolean) {}

  /** An arrow function, so that rules may destructure it from the context. */
  readonly intern = (candidate: Variable): Variable => {
    const hash = structuralHash(candidate);
    const bucket = this.table.get(hash);
    if (!bucket) {
      this.table.set(hash, [candidate]);
      return candidate;
    }
    const found = bucket.find((other) => other === candidate || structurallyEqual(other, candidate));
    if (found) return found;
    bucket.push(candidate);
    return candidate;
  };

  visit(original: Variable): void {
    let current = original;
    const node = original.owner;
    if (node) {
      let changed = false;
      const inputs = node.inputs.map((input) => {
        const replacement = this.mapped.get(input)!;
        if (replacement !== input) changed = true;
        return replacement;
      });
      if (changed) {
        current = makeNode(node.op, inputs, node.attrs as never, node.location, `, after the rewrite pass '${this.pass.name}' replaced some of its inputs`);
        current.name = original.name;
      }
    }
    current = this.offer(current);
    this.mapped.set(original, current);
    this.settled.add(current);
  }

  /** Offers `variable` to the rules until none fires (or the per-node bound). */
  offer(variable: Variable): Variable {
    for (let round = 0; round < maxRoundsPerNode; round++) {
      const next = this.tryRules(variable);
      if (next === undefined) return variable;
      variable = next;
      if (this.settled.has(variable)) return variable; // an existing variable: rules ran on it already
    }
    return variable;
  }

  tryRules(variable: Variable): Variable | undefined {
    const rules = variable.owner ? this.index.byOp.get(variable.owner.op) ?? this.index.generic : this.index.generic;
    for (const each of rules) {
      const captures = each.pattern.match(variable, {});
      if (!captures) continue;
      this.variable = variable;
      const built = this.build(each, captures, variable);
      if (built === undefined || built === variable) continue;
      const replacement = this.relocate(built, variable);
      checkTypes(this.pass.name, each.name, variable, replacement);
      if (replacement.name === undefined && !this.settled.has(replacement)) replacement.name = variable.name;
      this.firings++;
      this.report.firings.push({ rule: each.name, replaced: variable, replacement });
      if (this.debug) console.error(`  ${this.pass.name}/${each.name}: ${describeAt(variable)} → ${describe(replacement)}`);
      return replacement;
    }
    return undefined;
  }

  /** The rule's replacement; a node it cannot build is reported with the rule's name. */
  build(each: Rule, captures: Captures, variable: Variable): Variable | undefined {
    try {
      return each.rewrite(captures, this);
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      throw new GraphError('optimize', `rule '${each.name}' of pass '${this.pass.name}' could not build the replacement of ${describe(variable)}: ${error.message}`, variable.owner?.location ?? variable.location);
    }
  }

  /** The rule's new nodes rebuilt at the replaced node's location; settled variables are kept. */
  relocate(built: Variable, replaced: Variable): Variable {
    const location = replaced.owner?.location ?? replaced.location;
    for (const variable of this.freshNodes(built)) {
      let moved: Variable;
      if (variable.owner) {
        const inputs = variable.owner.inputs.map((input) => this.relocated.get(input) ?? input);
        moved = makeNode(variable.owner.op, inputs, variable.owner.attrs as never, location, `, in the replacement built by a rule of the rewrite pass '${this.pass.name}'`);
      } else if (variable instanceof Constant) {
        moved = new Constant(variable.value, variable.name, location);
      } else {
        moved = variable; // inputs and shared variables are never made by rules
      }
      this.relocated.set(variable, moved);
      this.relocated.set(moved, moved);
    }
    return this.relocated.get(built) ?? built;
  }

  /** The variables under `root` that are neither settled nor relocated, inputs first; the walk stops at the others. */
  freshNodes(root: Variable): Variable[] {
    const isOld = (variable: Variable) => this.settled.has(variable) || this.relocated.has(variable);
    const order: Variable[] = [];
    if (isOld(root)) return order;
    const seen = new Set<Variable>([root]);
    const stack: [Variable, number][] = [[root, 0]];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const inputs = frame[0].owner?.inputs ?? [];
      if (frame[1] < inputs.length) {
        const input = inputs[frame[1]++]!;
        if (!seen.has(input) && !isOld(input)) {
          seen.add(input);
          stack.push([input, 0]);
        }
        continue;
      }
      stack.pop();
      order.push(frame[0]);
    }
    return order;
  }
}

/** Runs one pass to its fixed point and returns the new outputs. */
export function runPass(outputs: readonly Variable[], pass: Pass, report: PassReport, debug = debugTopic('rewrites')): Variable[] {
  const index = ruleIndex(pass);
  const bound = pass.maxIterations ?? defaultMaxIterations;
  let current = [...outputs];
  const started = performance.now();
  for (let iteration = 1; iteration <= bound; iteration++) {
    const order = topologicalOrder(current);
    if (iteration === 1) report.nodesBefore = countApplies(order);
    const walk = new Walk(pass, index, report, debug);
    for (const variable of order) walk.visit(variable);
    current = current.map((output) => walk.mapped.get(output)!);
    report.iterations = iteration;
    if (walk.firings === 0) {
      report.nodesAfter = countApplies(order);
      report.milliseconds = performance.now() - started;
      return current;
    }
  }
  report.reachedBound = true;
  report.nodesAfter = countApplies(topologicalOrder(current));
  report.milliseconds = performance.now() - started;
  const recent = [...new Set(report.firings.slice(-20).map((firing) => firing.rule))].join(', ');
  console.warn(`optimize: pass '${pass.name}' reached no fixed point in ${bound} walks (rules still firing: ${recent}); its rules may undo each other. The graph is correct but may not be fully rewritten.`);
  return current;
}

/** Runs the passes in order, returning the new outputs and one report per pass run. */
export function runPasses(outputs: readonly Variable[], passes: readonly Pass[]): { outputs: Variable[]; reports: PassReport[] } {
  const debug = debugTopic('rewrites');
  const reports: PassReport[] = [];
  let current = [...outputs];
  for (const each of passes) {
    const report: PassReport = { pass: each.name, nodesBefore: 0, nodesAfter: 0, iterations: 0, reachedBound: false, milliseconds: 0, firings: [] };
    if (debug) console.error(`rewrites: pass '${each.name}'`);
    current = runPass(current, each, report, debug);
    reports.push(report);
    if (debug) {
      const bound = report.reachedBound ? ', stopped at its iteration bound' : '';
      console.error(`rewrites: pass '${each.name}': ${report.nodesBefore} → ${report.nodesAfter} nodes, ${report.firings.length} rewrites in ${report.iterations} walks, ${report.milliseconds.toFixed(2)} ms${bound}`);
    }
  }
  return { outputs: current, reports };
}
