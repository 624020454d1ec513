// One compile-latency measurement in a fresh process (spawned by setup.ts): brings up
// the device and one implementation, then times its training step from nothing to the
// first checked result: building the function (tracing, shader compilation, pipeline
// creation, uploads) and running it once. Prints one JSON line: {"coldStart": {...}}.
// The workload's data and host reference are made before the clock starts.
// Usage: node --import tsx benchmarks/cold-start.ts --impl theorbo|theorbo-cpu|tfjs|jax|jax-wasm
// (THEORBO_DEVICE picks the device, as everywhere; theorbo-cpu opens the cpu device
// whatever it says, and its "device" before the clock is that device's memory and threads.)
import { acquireDevice } from '@theorbo/codegen';
import type { Prepared, Runner } from './harness.ts';
import { loadJax } from './peers/jax.ts';
import { loadTfjs } from './peers/tfjs.ts';
import { installNavigatorGpu } from './peers/webgpu-env.ts';
import { theorbo } from './theorbo-impl.ts';
import { trainStepWorkload } from './training.ts';

function report(value: object): never {
  console.log(JSON.stringify({ coldStart: value }));
  process.exit(0);
}

const impl = process.argv[process.argv.indexOf('--impl') + 1];
try {
  await measureOnce();
} catch (error) {
  report({ error: error instanceof Error ? error.message.split('\n')[0] : String(error) });
}

async function measureOnce(): Promise<void> {
  const workload = trainStepWorkload('compile-latency');
  const setupStart = performance.now();
  const device = await acquireDevice(impl === 'theorbo-cpu' ? { prefer: 'cpu' } : {});
  if (device.kind !== 'reference' && device.kind !== 'cpu') installNavigatorGpu(device.kind);
  let prepare: () => Promise<Prepared>;
  if (impl === 'theorbo' || impl === 'theorbo-cpu') {
    const builder = theorbo['train-step'];
    if (builder === undefined) return report({ unavailable: 'not implemented yet' });
    prepare = () => builder(workload, { device });
  } else if (impl === 'tfjs' || impl === 'jax' || impl === 'jax-wasm') {
    const peer = impl === 'tfjs' ? await loadTfjs() : await loadJax(impl === 'jax' ? 'webgpu' : 'wasm');
    if ('unavailable' in peer) return report(peer);
    const step = peer.cases['train-step']!;
    prepare = () => step(workload);
  } else {
    throw new Error(`cold-start: unknown --impl '${impl}'; use theorbo, theorbo-cpu, tfjs, jax or jax-wasm`);
  }
  const setupMs = performance.now() - setupStart;

  const started = performance.now();
  const prepared = await prepare();
  if ('unavailable' in prepared) return report(prepared);
  if ('external' in prepared) throw new Error('cold-start: an in-process implementation was expected');
  const outputs = await (prepared as Runner).result();
  const firstMs = performance.now() - started;
  const verdict = workload.check(outputs);
  report({ setupMs, firstMs, ok: verdict.ok, detail: verdict.detail });
}
