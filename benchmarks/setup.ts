// Brings up the devices and every peer once per run, and lists the implementations of
// each case as harness Impls: Theorbo on the WebGPU device and on the cpu device (fused,
// and unfused where fusion is the question), the copy rooflines (a WGSL copy on the
// WebGPU device, the host's copy bandwidth), tfjs-webgpu, jax-js on WebGPU and Wasm, and
// PyTorch on CPU (and CUDA where it has a GPU). A peer that cannot start keeps its rows,
// marked n/a with the reason.
// Compile latency is measured in fresh processes (cold-start.ts), one per run.
// Left out: the cases' data (cases.ts, training.ts) and the measuring (harness.ts).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { acquireDevice, acquireWebGpuDevice, type AcquiredDevice, type CpuDescriptor } from '@theorbo/codegen';
import { median, type CaseName, type Impl, type Prepared, type TimingOptions, type Workload } from './harness.ts';
import { copyRoofline } from './peers/copy-roofline.ts';
import { cpuCopyRoofline } from './peers/cpu-copy-roofline.ts';
import { loadJax, type JaxDevice } from './peers/jax.ts';
import { loadTfjs } from './peers/tfjs.ts';
import { TorchPeer } from './peers/torch.ts';
import { installNavigatorGpu } from './peers/webgpu-env.ts';
import { theorbo, theorboUnfused, unfusedCases, type TheorboBuilder } from './theorbo-impl.ts';

export type PeerName = 'tfjs' | 'jax' | 'jax-wasm' | 'torch';
export const peerNames: readonly PeerName[] = ['tfjs', 'jax', 'jax-wasm', 'torch'];

type CaseTable = Partial<Record<CaseName, (workload: Workload) => Promise<Prepared>>>;
interface LoadedPeer { name: string; cases: CaseTable | { unavailable: string } }

export interface Setup {
  /** The device of the WebGPU rows (the chain's pick, or the best WebGPU device beside the cpu device). */
  device: AcquiredDevice;
  /** The device of the "theorbo (cpu)" rows, or why they are left out. */
  cpuDevice: CpuDescriptor | { unavailable: string };
  /** Lines for the header: each peer, its version and adapter, or why it is missing. */
  peerLines: string[];
  impls(caseName: CaseName): Impl[];
  /** Frees what the peers kept for one workload (PyTorch's input files). */
  done(workload: Workload): void;
  close(): void;
}

export interface SetupOptions {
  /** Undefined: every peer, except jax-js/wasm on a GPU (single-threaded, minutes at GPU sizes). */
  peers: ReadonlySet<PeerName> | undefined;
  timing: TimingOptions;
  coldRuns: number;
  /** Theorbo's rows on the cpu device; undefined: yes, except beside a GPU (minutes at GPU sizes). */
  cpu: boolean | undefined;
  /** torch.set_num_threads; undefined: torch's own choice. */
  torchThreads: number | undefined;
}

const packageVersion = (name: string): string => {
  try {
    const entry = fileURLToPath(import.meta.resolve(name));
    const root = entry.slice(0, entry.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length);
    return (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};

export async function setUp(options: SetupOptions): Promise<Setup> {
  // The WebGPU rows (Theorbo's and its peers') run on one Dawn device; where the chain
  // picks the cpu device, that is the best WebGPU device beside it.
  const chosen = await acquireDevice();
  const device: AcquiredDevice = chosen.kind === 'cpu' ? await acquireWebGpuDevice().catch(() => chosen) : chosen;
  const webgpuKind = device.kind === 'reference' || device.kind === 'cpu' ? undefined : device.kind;
  const cpuDevice = await openCpuDevice(chosen, options.cpu ?? device.kind !== 'gpu');
  const adapters = webgpuKind ? installNavigatorGpu(webgpuKind) : undefined;
  const noWebGpu = { unavailable: `no WebGPU device (the chain picked '${device.kind}')` };
  const peerLines: string[] = [];
  const peers = options.peers ?? new Set(peerNames.filter((name) => !(name === 'jax-wasm' && device.kind === 'gpu')));
  if (options.peers === undefined && device.kind === 'gpu') peerLines.push('jax-js/wasm: left out on a GPU by default (--peers jax-wasm,… to include it)');
  const loaded: LoadedPeer[] = [];
  const adapterOf = (before: number) => adapters?.handedOut[before] ?? 'no adapter was requested';

  if (peers.has('tfjs')) {
    const before = adapters?.handedOut.length ?? 0;
    const tfjs = webgpuKind ? await loadTfjs() : noWebGpu;
    loaded.push({ name: 'tfjs-webgpu', cases: 'unavailable' in tfjs ? tfjs : tfjs.cases });
    peerLines.push('unavailable' in tfjs ? `tfjs-webgpu: n/a — ${tfjs.unavailable}` : `tfjs-webgpu ${tfjs.version}: ${adapterOf(before)}`);
  }
  const jaxVersion = packageVersion('@jax-js/jax');
  for (const [peer, jaxDevice] of [['jax', 'webgpu'], ['jax-wasm', 'wasm']] as [PeerName, JaxDevice][]) {
    if (!peers.has(peer)) continue;
    const before = adapters?.handedOut.length ?? 0;
    const jax = jaxDevice === 'webgpu' && !webgpuKind ? noWebGpu : await loadJax(jaxDevice);
    loaded.push({ name: `jax-js/${jaxDevice}`, cases: 'unavailable' in jax ? jax : jax.cases });
    const where = jaxDevice === 'webgpu' ? adapterOf(before) : 'WebAssembly on the CPU';
    peerLines.push('unavailable' in jax ? `jax-js/${jaxDevice}: n/a — ${jax.unavailable}` : `jax-js/${jaxDevice} ${jaxVersion}: ${where}`);
  }
  let torch: TorchPeer | undefined;
  if (peers.has('torch')) {
    const started = await TorchPeer.start({ threads: options.torchThreads });
    if ('unavailable' in started) {
      loaded.push({ name: 'torch/cpu', cases: started });
      peerLines.push(`torch/cpu: n/a — ${started.unavailable}`);
    } else {
      torch = started;
      const { info } = started;
      peerLines.push(started.describe());
      if (info.cuda) peerLines.push(`torch/cuda ${info.torch}: ${info.cuda_name} (TF32 off)`);
    }
  }

  const notYet = { unavailable: 'not implemented yet: no compiled Theorbo entry is registered (benchmarks/theorbo-impl.ts)' };
  const context = { device };
  const onWebGpu = (builder: TheorboBuilder | undefined): Impl['prepare'] => async (workload) => {
    if (webgpuKind === undefined) return noWebGpu;
    return builder?.(workload, context) ?? notYet;
  };
  const cpuContext = 'unavailable' in cpuDevice ? undefined : { device: cpuDevice };
  const onCpu = (builder: TheorboBuilder | undefined): Impl['prepare'] => async (workload) => {
    if (cpuContext === undefined) return cpuDevice as { unavailable: string };
    return builder?.(workload, cpuContext) ?? notYet;
  };
  const peerRow = (peer: LoadedPeer, caseName: CaseName): Impl => ({
    name: peer.name, role: 'peer',
    prepare: async (workload) => {
      if ('unavailable' in peer.cases) return peer.cases as { unavailable: string };
      const run = (peer.cases as CaseTable)[caseName];
      return run ? run(workload) : { unavailable: `${peer.name} has no version of '${caseName}'` };
    },
  });

  return {
    device, cpuDevice, peerLines,
    impls(caseName) {
      if (caseName === 'compile-latency') return coldImpls(device, cpuDevice, options, peers, loaded, torch);
      const list: Impl[] = [{
        name: 'theorbo', role: 'theorbo', prepare: onWebGpu(theorbo[caseName]),
      }];
      if (unfusedCases.includes(caseName)) list.push({ name: 'theorbo (unfused)', role: 'peer', prepare: onWebGpu(theorboUnfused[caseName]) });
      list.push({ name: 'theorbo (cpu)', role: 'theorbo-cpu', prepare: onCpu(theorbo[caseName]) });
      if (unfusedCases.includes(caseName)) list.push({ name: 'theorbo (cpu, unfused)', role: 'peer', prepare: onCpu(theorboUnfused[caseName]) });
      const bandwidthBound = caseName === 'elementwise' || caseName === 'affine';
      if (bandwidthBound && device.kind !== 'reference' && device.kind !== 'cpu') list.push(copyRoofline(device));
      if (bandwidthBound) list.push(cpuCopyRoofline());
      for (const peer of loaded) list.push(peerRow(peer, caseName));
      if (torch) {
        list.push({ name: 'torch/cpu', role: 'peer', prepare: (workload) => torch.run(workload, 'cpu', options.timing) });
        if (torch.info.cuda) list.push({ name: 'torch/cuda', role: 'peer', prepare: (workload) => torch.run(workload, 'cuda', options.timing) });
      }
      return list;
    },
    done(workload) {
      torch?.forget(workload);
    },
    close() {
      torch?.close();
    },
  };
}

/** The cpu device for the "theorbo (cpu)" rows: the chain's pick if it is that, else opened beside the WebGPU device. */
async function openCpuDevice(chosen: AcquiredDevice, wanted: boolean): Promise<CpuDescriptor | { unavailable: string }> {
  if (!wanted) return { unavailable: 'left out beside a GPU by default (--cpu to include it)' };
  if (chosen.kind === 'cpu') return chosen;
  try {
    return (await acquireDevice({ prefer: 'cpu' })) as CpuDescriptor;
  } catch (error) {
    return { unavailable: `the cpu device did not open: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const coldStartScript = fileURLToPath(new URL('./cold-start.ts', import.meta.url));
// Fresh processes must not find shaders compiled by earlier ones in a disk cache.
const noShaderCache = { MESA_SHADER_CACHE_DISABLE: 'true', MESA_SHADER_CACHE_MAX_SIZE: '0', __GL_SHADER_DISK_CACHE: '0' };

/** Compile latency: prepare + first result of the training step, each in a fresh process. */
function coldImpls(device: AcquiredDevice, cpuDevice: Setup['cpuDevice'], options: SetupOptions, peers: ReadonlySet<PeerName>, loaded: LoadedPeer[], torch: TorchPeer | undefined): Impl[] {
  const kind = device.kind;
  const node = (name: string, impl: string, skip?: string): Impl => ({
    name, role: impl === 'theorbo' ? 'theorbo' : impl === 'theorbo-cpu' ? 'theorbo-cpu' : 'peer',
    prepare: async () => {
      if (skip !== undefined) return { unavailable: skip };
      const runs: { setupMs: number; firstMs: number; ok: boolean; detail: string }[] = [];
      for (let i = 0; i < options.coldRuns; i++) {
        const report = await spawnColdStart(impl, kind);
        if ('error' in report) throw new Error(`the fresh process failed: ${report.error}`);
        if ('unavailable' in report) return report;
        runs.push(report);
        if (!report.ok) return { external: true, outputs: [], firstMs: report.firstMs, repeatsMs: [], iterations: 0, verdict: { ok: false, detail: report.detail } };
      }
      return coldResult(runs, 'import + device');
    },
  });
  const missing = (name: string) => {
    const peer = loaded.find((p) => p.name === name);
    return peer === undefined ? 'not selected (--peers)' : 'unavailable' in peer.cases ? (peer.cases.unavailable as string) : undefined;
  };
  const notYet = theorbo['train-step'] ? undefined : 'not implemented yet: no compiled Theorbo entry is registered (benchmarks/theorbo-impl.ts)';
  const list: Impl[] = [
    node('theorbo', 'theorbo', notYet ?? (kind === 'cpu' ? `no WebGPU device (the chain picked 'cpu')` : undefined)),
    node('theorbo (cpu)', 'theorbo-cpu', notYet ?? ('unavailable' in cpuDevice ? cpuDevice.unavailable : undefined)),
    node('tfjs-webgpu', 'tfjs', missing('tfjs-webgpu')),
    node('jax-js/webgpu', 'jax', missing('jax-js/webgpu')),
    node('jax-js/wasm', 'jax-wasm', missing('jax-js/wasm')),
  ];
  if (peers.has('torch')) {
    const devices: ('cpu' | 'cuda')[] = torch?.info.cuda ? ['cpu', 'cuda'] : ['cpu'];
    for (const torchDevice of devices) {
      list.push({
        name: `torch/${torchDevice}`, role: 'peer',
        prepare: async (workload) => {
          if (!torch) return { unavailable: missing('torch/cpu') ?? 'PyTorch not available' };
          const runs: { setupMs: number; firstMs: number; ok: boolean; detail: string }[] = [];
          for (let i = 0; i < options.coldRuns; i++) {
            const started = performance.now();
            // The interpreter and threads of the run's own peer: no search in the clock's shadow.
            const fresh = await TorchPeer.start({ python: torch.info.python, threads: torch.info.threads });
            if ('unavailable' in fresh) return fresh;
            const setupMs = performance.now() - started;
            try {
              const run = await fresh.run(workload, torchDevice, { ...options.timing, repeats: 0 });
              if (!('external' in run)) return run;
              const verdict = workload.check(run.outputs);
              runs.push({ setupMs, firstMs: run.firstMs ?? Number.NaN, ok: verdict.ok, detail: verdict.detail });
              if (!verdict.ok) return { ...run, verdict };
            } finally {
              fresh.close();
            }
          }
          return coldResult(runs, 'python start + import torch');
        },
      });
    }
  }
  return list;
}

function coldResult(runs: { setupMs: number; firstMs: number; detail: string }[], setupWhat: string): Prepared {
  return {
    external: true, outputs: [],
    repeatsMs: runs.map((r) => r.firstMs), iterations: 1,
    verdict: { ok: true, detail: runs[0]!.detail },
    note: `${runs.length} fresh process(es); before the clock: ${setupWhat} ${median(runs.map((r) => r.setupMs)).toFixed(0)} ms (median)`,
  };
}

type ColdReport = { setupMs: number; firstMs: number; ok: boolean; detail: string } | { unavailable: string } | { error: string };

function spawnColdStart(impl: string, kind: string): Promise<ColdReport> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, coldStartScript, '--impl', impl], {
      env: { ...process.env, ...noShaderCache, THEORBO_DEVICE: kind },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    child.once('close', (code) => {
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('{"coldStart"'));
      if (line === undefined) {
        const why = stderr.split('\n').find((l) => /error/i.test(l)) ?? stderr.trim().split('\n').pop() ?? '';
        resolve({ error: `exited (code ${code}) without a result: ${why.trim()}` });
        return;
      }
      resolve((JSON.parse(line) as { coldStart: ColdReport }).coldStart);
    });
  });
}
