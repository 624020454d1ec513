// The rewrite pipeline on the talk's training graph: the loss and the gradients of all
// six parameters, with grad called once per parameter as the talk does (so the backward
// graph is built six times and merge must make it one). First it checks that the
// optimized graph gives the same loss and gradients on a synthetic batch; then it times
// `optimize` on a freshly built graph each run (so no hash memoised by an earlier run
// helps): the first run in the process (cold: the JIT has not seen the code) and the
// median and best of the warm runs, and prints each pass's node counts, rewrites, walks
// and time. The budget is 20 ms for a warm run; the script exits 1 above it.
// Left out: peers (no other engine here rewrites Theorbo graphs), and compile time.
// Run: npx tsx benchmarks/rewrite-pipeline.ts [--runs N]

import * as T from '@theorbo/graph';
import { assertClose } from '@theorbo/graph/testing';
import { grad } from '@theorbo/autodiff';
import { buildTalkProgram, syntheticBatch } from '../examples/talk-network.ts';

const budgetMs = 20;
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 30;
if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs needs a positive integer, not ${process.argv[runsFlag + 1]}`);

function trainingGraph(): { program: ReturnType<typeof buildTalkProgram>; outputs: T.Variable[] } {
  const program = buildTalkProgram(1);
  return { program, outputs: [program.scalarLoss, ...program.params.map((param) => grad(program.scalarLoss, param))] };
}

function timed(outputs: readonly T.Variable[]): { ms: number; result: ReturnType<typeof T.optimizeWithReport> } {
  const started = performance.now();
  const result = T.optimizeWithReport(outputs);
  return { ms: performance.now() - started, result };
}

// ---- the first run doubles as the correctness check ----

const { program, outputs } = trainingGraph();
const cold = timed(outputs);
const { x, y } = syntheticBatch(16, 4);
const givens = [[program.xInput, x], [program.yTarget, y]] as const;
const expected = T.evaluate(outputs, givens);
const actual = T.evaluate(cold.result.outputs, givens);
expected.forEach((value, i) => assertClose(actual[i]!, value, { rtol: 1e-5, atol: 1e-7 }, i === 0 ? 'loss' : `gradient of ${program.params[i - 1]!.name}`));
console.log('check: the optimized loss and six gradients match the original graph on a 16-row batch');

// ---- warm runs ----

const warm: { ms: number; result: ReturnType<typeof T.optimizeWithReport> }[] = [];
for (let run = 0; run < runs; run++) warm.push(timed(trainingGraph().outputs));
warm.sort((a, b) => a.ms - b.ms);
const median = warm[Math.floor(warm.length / 2)]!;

const reports = median.result.reports;
const first = reports[0]!;
const last = reports[reports.length - 1]!;
console.log(`\ntalk training graph (loss + 6 gradients, grad called per parameter): ${first.nodesBefore} → ${last.nodesAfter} nodes (apply nodes; leaves not counted)`);
console.log('\npass               nodes before → after   rewrites  walks     ms (median run)');
for (const report of reports) {
  const nodes = `${report.nodesBefore} → ${report.nodesAfter}`.padEnd(20);
  console.log(`${report.pass.padEnd(18)} ${nodes}  ${String(report.firings.length).padStart(8)}  ${String(report.iterations).padStart(5)}  ${report.milliseconds.toFixed(2).padStart(8)}`);
}
const counts = new Map<string, number>();
for (const report of reports) for (const firing of report.firings) counts.set(`${report.pass}/${firing.rule}`, (counts.get(`${report.pass}/${firing.rule}`) ?? 0) + 1);
console.log(`\nrules fired: ${[...counts].map(([name, count]) => `${name} ×${count}`).join(', ')}`);
console.log(`\noptimize: cold (first run) ${cold.ms.toFixed(2)} ms; warm over ${runs} runs: median ${median.ms.toFixed(2)} ms, best ${warm[0]!.ms.toFixed(2)} ms, worst ${warm[warm.length - 1]!.ms.toFixed(2)} ms`);
const within = median.ms < budgetMs;
console.log(`budget: a warm run under ${budgetMs} ms: ${within ? 'met' : 'NOT met'} (median ${median.ms.toFixed(2)} ms, ${(median.ms / budgetMs).toFixed(2)}× the budget)`);
if (!within) process.exit(1);
