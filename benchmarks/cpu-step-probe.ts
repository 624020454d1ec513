// The talk's training step (batch 256) on the cpu device: first call (plan + compile),
// then the time per step of back-to-back calls, fused and unfused, and where it goes
// ('profile' mode: per kernel, with how each ran: js, wasm or reference). Not a test.
// Usage: npx tsx benchmarks/cpu-step-probe.ts [--steps N]
import { compile } from '@theorbo/codegen';
import { graphs } from './theorbo-impl.ts';
import { trainStepWorkload } from './training.ts';

const index = process.argv.indexOf('--steps');
const steps = index >= 0 ? Number(process.argv[index + 1]) : 200;
const workload = trainStepWorkload();
for (const fusion of [true, false]) {
  const graph = graphs['train-step'](workload);
  const fn = compile({ inputs: graph.inputs, outputs: graph.outputs, updates: graph.updates ?? [], device: 'cpu', fusion });
  let started = performance.now();
  await fn(...graph.values);
  const first = performance.now() - started;
  for (let i = 0; i < 5; i++) await fn(...graph.values);
  started = performance.now();
  for (let i = 0; i < steps; i++) await fn(...graph.values);
  const per = (performance.now() - started) / steps;
  console.log(`${fusion ? 'fused' : 'unfused'}: ${fn.kernelCount()} kernels; first call ${first.toFixed(1)} ms; ${per.toFixed(3)} ms/step over ${steps} steps`);
  const profiled = compile({ inputs: graph.inputs, outputs: graph.outputs, updates: graph.updates ?? [], device: 'cpu', fusion, mode: 'profile' });
  for (let i = 0; i < 50; i++) await profiled(...graph.values);
  console.log(profiled.profile());
}
