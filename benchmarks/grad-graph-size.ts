// Gradient-graph size for the talk's network (1025 → 256 → 64 → 12, template-distance
// loss): how many nodes the forward pass has, how many grad adds with one call for all
// six parameters and with six separate calls (the talk's loop), how many forward nodes
// the gradient reuses, and how many it builds again (structurally equal to a forward
// node: a recomputation; it must be none, `dim` shape reads aside). Before counting, it
// checks that both ways give the same gradient values. Where @theorbo/graph has an
// `optimize` (the rewrite pipeline), counts after it are printed too.
// A node is an Apply (an op applied to inputs); leaves (inputs, shared variables,
// constants) are not counted. Left out: timing the gradient's evaluation (the codegen
// benchmarks do that).
// Run: npx tsx benchmarks/grad-graph-size.ts

import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import { grad } from '@theorbo/autodiff';
import { buildTalkProgram, syntheticBatch } from '../examples/talk-network.ts';

type Counts = Map<string, number>;

const nodesOf = (outputs: readonly T.Variable[]): T.Apply[] => T.applyOrder(outputs);

function countByOp(nodes: readonly T.Apply[]): Counts {
  const counts: Counts = new Map();
  for (const node of nodes) counts.set(node.op, (counts.get(node.op) ?? 0) + 1);
  return counts;
}

/** How many structurally distinct nodes there are among `nodes` (what a merge pass would keep). */
function distinctCount(nodes: readonly T.Apply[]): number {
  const classes = new Map<number, T.Variable[]>();
  let distinct = 0;
  for (const node of nodes) {
    const hash = T.structuralHash(node.output);
    const members = classes.get(hash) ?? [];
    if (!members.some((member) => T.structurallyEqual(member, node.output))) {
      distinct++;
      members.push(node.output);
      classes.set(hash, members);
    }
  }
  return distinct;
}

interface GradientGraph {
  label: string;
  outputs: T.Variable[];
  /** Nodes of the gradient graph that the forward graph does not hold. */
  added: T.Apply[];
  /** Forward nodes the added nodes read directly. */
  reused: T.Variable[];
  /** Added nodes structurally equal to a forward node. */
  recomputed: T.Apply[];
  buildMs: number;
}

function analyse(label: string, forward: readonly T.Apply[], build: () => T.Variable[]): GradientGraph {
  const started = performance.now();
  const outputs = build();
  const buildMs = performance.now() - started;
  const forwardOutputs = new Set(forward.map((node) => node.output));
  const byHash = new Map<number, T.Variable[]>();
  for (const node of forward) {
    const hash = T.structuralHash(node.output);
    byHash.set(hash, [...(byHash.get(hash) ?? []), node.output]);
  }
  const added = nodesOf(outputs).filter((node) => !forwardOutputs.has(node.output));
  const reused = new Set<T.Variable>();
  for (const node of added) for (const input of node.inputs) if (forwardOutputs.has(input)) reused.add(input);
  const recomputed = added.filter((node) =>
    (byHash.get(T.structuralHash(node.output)) ?? []).some((old) => T.structurallyEqual(old, node.output)));
  return { label, outputs, added, reused: [...reused], recomputed, buildMs };
}

// ---- build, and check that both ways give the same gradient ----

const program = buildTalkProgram(1);
const forward = nodesOf([program.scalarLoss]);
const together = analyse('1 call', forward, () => grad(program.scalarLoss, program.params));
const separate = analyse('6 calls', forward, () => program.params.map((param) => grad(program.scalarLoss, param)));

const { x, y } = syntheticBatch(4, 2);
const givens = [[program.xInput, x], [program.yTarget, y]] as const;
const [oneCall, sixCalls] = [T.evaluate(together.outputs, givens), T.evaluate(separate.outputs, givens)];
program.params.forEach((param, k) => assertClose(sixCalls[k]!, oneCall[k]!, {}, `gradient of ${param.name}`));
if (!oneCall.some((g) => g.data.some((v) => v !== 0))) throw new Error('every gradient is zero: the check above is vacuous');

// ---- optional: after the rewrite pipeline, where it exists ----

type Optimize = (outputs: readonly T.Variable[]) => T.Variable[];
const optimize = (T as unknown as { optimize?: Optimize }).optimize;
let optimized: { label: string; nodes: T.Apply[] }[] = [];
let optimizeNote = 'optimize: not in @theorbo/graph yet; no counts after rewrites';
if (typeof optimize === 'function') {
  try {
    optimized = [
      { label: 'whole, 1 call, optimized', nodes: nodesOf(optimize([program.scalarLoss, ...together.outputs])) },
      { label: 'whole, 6 calls, optimized', nodes: nodesOf(optimize([program.scalarLoss, ...separate.outputs])) },
    ];
    optimizeNote = 'optimize: the last columns are the whole training graph (loss + six gradients) after the default pipeline';
  } catch (error) {
    optimizeNote = `optimize: present but failed on this graph: ${(error as Error).message}`;
  }
}

// ---- report ----

const pad = (text: string | number, width: number) => String(text).padStart(width);
const forwardCounts = countByOp(forward);
const columns: { label: string; counts: Counts }[] = [
  { label: 'forward', counts: forwardCounts },
  { label: 'grad, 1 call', counts: countByOp(together.added) },
  { label: 'grad, 6 calls', counts: countByOp(separate.added) },
  { label: 'whole, 1 call', counts: countByOp([...forward, ...together.added]) },
  { label: 'whole, 6 calls', counts: countByOp([...forward, ...separate.added]) },
  ...optimized.map(({ label, nodes }) => ({ label, counts: countByOp(nodes) })),
];
const ops = [...new Set(columns.flatMap(({ counts }) => [...counts.keys()]))].sort(
  (a, b) => (columns[2]!.counts.get(b) ?? 0) - (columns[2]!.counts.get(a) ?? 0) || a.localeCompare(b));
const widths = columns.map(({ label }) => Math.max(label.length, 6));

console.log(`The talk's network: ${forward.length} forward nodes; the gradients of all six parameters agree between one grad call and six.`);
console.log(`Columns: nodes per op in the forward graph, those grad adds, and the whole training graph (loss + six gradients).\n`);
console.log(['op'.padEnd(22), ...columns.map(({ label }, i) => pad(label, widths[i]!))].join('  '));
for (const op of ops) console.log([op.padEnd(22), ...columns.map(({ counts }, i) => pad(counts.get(op) ?? 0, widths[i]!))].join('  '));
const totals = columns.map(({ counts }) => [...counts.values()].reduce((sum, n) => sum + n, 0));
console.log(['total'.padEnd(22), ...totals.map((total, i) => pad(total, widths[i]!))].join('  '));

console.log('');
for (const graph of [together, separate]) {
  const recomputedOps = [...countByOp(graph.recomputed)].map(([op, n]) => `${n} ${op}`).join(', ') || 'none';
  console.log(
    `${graph.label.padEnd(8)} adds ${pad(graph.added.length, 3)} nodes (${pad(distinctCount(graph.added), 3)} structurally distinct; ` +
    `${forward.length + graph.added.length} with the forward pass), ` +
    `reads ${graph.reused.length} forward nodes (${[...countByOp(graph.reused.map((v) => v.owner!))].map(([op, n]) => `${n} ${op}`).join(', ')}), ` +
    `recomputes ${recomputedOps}; built in ${graph.buildMs.toFixed(1)} ms`,
  );
}
console.log(`six calls / one call: ${(separate.added.length / together.added.length).toFixed(2)}× the gradient nodes; merging equal structures would leave ${distinctCount(separate.added)}`);
console.log(optimizeNote);

// The property the test suite also checks (packages/autodiff/test/higher.test.ts).
const recomputation = [...together.recomputed, ...separate.recomputed].filter((node) => node.op !== 'dim');
if (recomputation.length > 0) {
  console.error(`FAIL: the gradient recomputes forward nodes: ${recomputation.map((node) => `${node.op} ${node.output.type}`).join(', ')}`);
  process.exitCode = 1;
}
