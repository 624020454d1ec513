// `pnpm bench`: runs the benchmark cases with Theorbo on a WebGPU device and on the cpu
// device beside its peers, each implementation checked against the host reference before
// it is timed, and prints one table per workload with the devices, every peer's adapter
// and PyTorch's interpreter and threads named at the top.
// Usage: pnpm bench [--device gpu|cpu-webgpu] [--only CASE[,CASE…]] [--json PATH] [--big] [--quick]
//        [--peers tfjs,jax,jax-wasm,torch] [--repeats N] [--target-ms MS] [--cold-runs N]
//        [--check-graphs] [--cpu | --no-cpu] [--torch-threads N] [--row-budget-s S]
// Left out: comparing runs with each other (BENCHMARKS.md records them by hand).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { workloadsFor } from './cases.ts';
import { caseNames, formatMs, formatTable, measure, predictedTooSlow, relate, type CaseName, type Row, type TimingOptions, type Workload, type WorkloadResult } from './harness.ts';
import { peerNames, setUp, type PeerName } from './setup.ts';
import { checkGraph } from './theorbo-impl.ts';

const usage = `usage: pnpm bench [--device gpu|cpu-webgpu|reference] [--only CASE[,CASE...]] [--json PATH] [--big] [--quick]
                  [--peers ${peerNames.join(',')}] [--repeats N] [--target-ms MS] [--cold-runs N] [--check-graphs]
                  [--cpu | --no-cpu] [--torch-threads N] [--row-budget-s S]
--cpu/--no-cpu: Theorbo's rows on the cpu device (default: on, except beside a GPU)
--torch-threads: torch.set_num_threads (default: torch's own choice, which the header prints)
--row-budget-s: a row whose time at a case's smaller size predicts a longer measurement at the next is not timed (default 300)
cases: ${caseNames.join(', ')} (--only takes names or prefixes: --only sum,matmul)`;

interface Options {
  device?: string; only?: CaseName[]; json?: string; big: boolean; quick: boolean; peers?: Set<PeerName>;
  repeats?: number; targetMs?: number; coldRuns?: number; checkGraphs: boolean;
  cpu?: boolean; torchThreads?: number; rowBudgetS?: number;
}

function parse(argv: string[]): Options {
  const options: Options = { big: false, quick: false, checkGraphs: false };
  const args = argv.filter((arg) => arg !== '--');
  const value = (i: number, flag: string) => {
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) fail(`${flag} needs a value`);
    return next;
  };
  const count = (text: string, flag: string) => {
    const n = Number(text);
    if (!(n > 0)) fail(`${flag} needs a positive number, not '${text}'`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    switch (flag) {
      case '--device': options.device = value(i++, flag); break;
      case '--json': options.json = value(i++, flag); break;
      case '--big': options.big = true; break;
      case '--quick': options.quick = true; break;
      case '--check-graphs': options.checkGraphs = true; break;
      case '--repeats': options.repeats = count(value(i++, flag), flag); break;
      case '--target-ms': options.targetMs = count(value(i++, flag), flag); break;
      case '--cold-runs': options.coldRuns = count(value(i++, flag), flag); break;
      case '--row-budget-s': options.rowBudgetS = count(value(i++, flag), flag); break;
      case '--cpu': options.cpu = true; break;
      case '--no-cpu': options.cpu = false; break;
      case '--torch-threads': options.torchThreads = count(value(i++, flag), flag); break;
      case '--only': {
        const wanted = value(i++, flag).split(',').filter((s) => s !== '');
        // A whole case name selects that case alone (conv2d, not conv2d-train); other words are prefixes.
        options.only = caseNames.filter((name) => wanted.some((w) => name === w || (!(caseNames as readonly string[]).includes(w) && name.startsWith(w))));
        const unknown = wanted.filter((w) => !caseNames.some((name) => name === w || name.startsWith(w)));
        if (unknown.length > 0) fail(`--only: no case is called ${unknown.join(', ')}`);
        break;
      }
      case '--peers': {
        const wanted = value(i++, flag).split(',').filter((s) => s !== '' && s !== 'none');
        const unknown = wanted.filter((w) => !(peerNames as readonly string[]).includes(w));
        if (unknown.length > 0) fail(`--peers: unknown peer ${unknown.join(', ')}; use ${peerNames.join(', ')} or none`);
        options.peers = new Set(wanted as PeerName[]);
        break;
      }
      case '--help': case '-h': console.log(usage); process.exit(0);
      default: fail(`unknown argument '${flag}'`);
    }
  }
  return options;
}

function fail(message: string): never {
  console.error(`bench: ${message}\n${usage}`);
  process.exit(2);
}

const options = parse(process.argv.slice(2));
if (options.device !== undefined) process.env.THEORBO_DEVICE = options.device;
const began = performance.now();
// Filled in once the device is known (the chain may pick it); torch reads it per request.
const timing: TimingOptions = { repeats: options.repeats ?? 5, warmup: 3, targetMs: 0, maxIterations: 0 };
const setup = await setUp({ peers: options.peers, timing, coldRuns: options.coldRuns ?? 3, cpu: options.cpu, torchThreads: options.torchThreads }).catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
const { device } = setup;
timing.targetMs = options.targetMs ?? (device.kind === 'gpu' ? 100 : 150);
timing.maxIterations = device.kind === 'gpu' ? 2000 : 200;

const cpuModel = cpus()[0]?.model.trim() ?? 'unknown CPU';
const header = [
  `Theorbo benchmarks — ${new Date().toISOString()}, Node ${process.version}, ${process.platform} ${process.arch}, ${cpus().length} × ${cpuModel}`,
  `device of the "theorbo" rows: ${device.describe()}`,
  `device of the "theorbo (cpu)" rows: ${'unavailable' in setup.cpuDevice ? `n/a — ${setup.cpuDevice.unavailable}` : setup.cpuDevice.describe()}`,
  'peers (the WebGPU ones on the same Dawn backend and adapter kind as the device, one GPUDevice each):',
  ...setup.peerLines.map((line) => `  ${line}`),
  `timing: median of ${timing.repeats} repeats, each ≈${timing.targetMs} ms of back-to-back iterations (≤${timing.maxIterations}) ending in one device sync, after ${timing.warmup} warmup iterations and a calibration; every output checked first`,
  '"× theorbo", "× theorbo (cpu)": a row\'s median ÷ that Theorbo row\'s (above 1: Theorbo is faster); "first call": the checked first result, compilation included',
  '"% of WGSL copy": a vec4 copy kernel\'s time on the WebGPU device ÷ the row\'s; "% of CPU copy": the workload\'s bytes at the machine\'s measured copy bandwidth ÷ the row\'s time',
];
console.log(header.join('\n'));

const results: WorkloadResult[] = [];
const graphChecks: { case: CaseName; label: string; ok: boolean; detail: string }[] = [];
function writeJson(): void {
  if (options.json === undefined) return;
  mkdirSync(dirname(options.json), { recursive: true });
  const meta = { header, device: { kind: device.kind, adapter: device.adapterInfo, features: device.features }, peers: setup.peerLines, timing, options: { ...options, peers: options.peers ? [...options.peers] : 'default' } };
  writeFileSync(options.json, JSON.stringify({ meta, graphChecks, results }, null, 2));
}

const selected = options.only ?? [...caseNames];
const sizeOptions = { kind: device.kind, big: options.big, quick: options.quick };
for (const caseName of selected) {
  const workloads = workloadsFor(caseName, sizeOptions);
  if (options.checkGraphs && caseName !== 'compile-latency') {
    const smallest = workloads[0]!;
    const verdict = checkGraph(smallest);
    graphChecks.push({ case: caseName, label: smallest.label, ...verdict });
    console.log(`\n(theorbo graph of ${caseName} on the reference evaluator, ${smallest.label}: ${verdict.ok ? 'ok' : 'FAILED'} — ${verdict.detail})`);
  }
  // Each row's time at this case's last size, to leave out a row that would take too long at the next.
  const previous = new Map<string, { medianMs: number; workload: Workload }>();
  for (const workload of workloads) {
    const rows: Row[] = [];
    for (const impl of setup.impls(caseName)) {
      const tooSlow = predictedTooSlow(previous.get(impl.name), workload, 1000 * (options.rowBudgetS ?? 300));
      const row = tooSlow !== undefined ? { impl: impl.name, role: impl.role, status: 'n/a' as const, detail: tooSlow } : await measure(impl, workload, timing);
      if (row.medianMs !== undefined) previous.set(impl.name, { medianMs: row.medianMs, workload });
      rows.push(row);
    }
    setup.done(workload);
    relate(rows);
    const result: WorkloadResult = {
      case: caseName, label: workload.label, sizes: workload.sizes, tolerance: workload.tolerance, rows,
      ...(workload.bytes !== undefined ? { bytes: workload.bytes } : {}), ...(workload.flops !== undefined ? { flops: workload.flops } : {}),
    };
    results.push(result);
    console.log(`\n${formatTable(result)}`);
    writeJson(); // after every workload, so that a run cut short still leaves its results
  }
}

const failures = results.flatMap((r) => r.rows.filter((row) => row.status === 'FAILED' || row.status === 'error').map((row) => `${r.case} ${JSON.stringify(r.sizes)}: ${row.impl} ${row.status}`));
console.log(`\n${results.length} workloads in ${formatMs(performance.now() - began)}; ${failures.length === 0 ? 'no failed checks or errors' : `${failures.length} failed or errored rows:\n  ${failures.join('\n  ')}`}`);
if (options.json !== undefined) console.log(`results written to ${options.json}`);
setup.close();
// Dawn's instances and the peers' devices may keep handles open; the run is over.
process.exit(0);
