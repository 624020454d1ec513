// PyTorch as a peer: torch_peer.py runs in one long-lived python subprocess, reads each
// workload's inputs from raw files, times itself with the harness's protocol and writes
// its first outputs back as raw float32, which the harness checks before it accepts
// the times. The interpreter is the first of $PYTHON (alone, when set), Debian's own
// /usr/bin/python3 (where python3-torch installs) and every python3 on PATH in order
// whose `import torch` works; where none has torch, the peer reports itself unavailable
// with each interpreter's reason. torch keeps its own thread count unless told one: on
// the 2-core machine of issue 16 that is 1, and 2 made its training step slower, not
// faster, whenever anything else ran (OpenMP's barriers wait on a descheduled thread).
// Left out: passing tensors through shared memory; torch.compile.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExternalRun, Prepared, TimingOptions, Workload } from '../harness.ts';

const script = fileURLToPath(new URL('./torch_peer.py', import.meta.url));
const debianPython = '/usr/bin/python3';

export interface TorchInfo {
  torch: string; threads: number; default_threads: number; cuda: boolean; cuda_name?: string;
  python: string; python_version: string; blas: string;
}
export interface TorchStartOptions {
  /** One interpreter to use (no search); default: $PYTHON, else the search above. */
  python?: string;
  /** torch.set_num_threads(threads); undefined keeps torch's default. */
  threads?: number;
}
interface Reply {
  id: number; ok: boolean; error?: string;
  outputs?: { path: string; length: number }[];
  first_ms?: number; repeats_ms?: number[]; iterations?: number;
}

/** $PYTHON alone; else Debian's python3, then each python3 on PATH, one per real file. */
export function pythonCandidates(): string[] {
  if (process.env.PYTHON) return [process.env.PYTHON];
  const found = [debianPython, ...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, 'python3'))].filter((path) => existsSync(path));
  const byRealPath = new Map<string, string>();
  for (const path of found) if (!byRealPath.has(realpathSync(path))) byRealPath.set(realpathSync(path), path);
  return byRealPath.size > 0 ? [...byRealPath.values()] : ['python3'];
}

export class TorchPeer {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private readonly files = new WeakMap<Workload, { path: string; shape: number[]; dtype: string }[]>();
  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly info: TorchInfo, private readonly scratch: string) {}

  /** Starts the first interpreter whose torch imports; resolves to every one's reason when none does. */
  static async start(options: TorchStartOptions = {}): Promise<TorchPeer | { unavailable: string }> {
    const reasons: string[] = [];
    for (const python of options.python ? [options.python] : pythonCandidates()) {
      const started = await TorchPeer.startWith(python, options.threads);
      if (!('unavailable' in started)) return started;
      reasons.push(started.unavailable);
    }
    return { unavailable: `PyTorch not available: ${reasons.join('; ')}` };
  }

  private static async startWith(python: string, threads: number | undefined): Promise<TorchPeer | { unavailable: string }> {
    const child = spawn(python, [script, ...(threads === undefined ? [] : ['--threads', String(threads)])], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string | Error>((resolve) => {
      child.once('error', (error) => resolve(error));
      child.once('exit', (code) => resolve(new Error(`${python} exited with code ${code}: ${stderr.trim().split('\n').pop() ?? ''}`)));
      lines.once('line', resolve);
    });
    if (first instanceof Error) return { unavailable: first.message };
    const hello = JSON.parse(first) as { ready: boolean; error?: string } & TorchInfo;
    if (!hello.ready) {
      child.stdin.end();
      return { unavailable: `${python}: ${hello.error}` };
    }
    const peer = new TorchPeer(child, hello, mkdtempSync(join(tmpdir(), 'theorbo-bench-torch-')));
    lines.on('line', (line) => {
      const reply = JSON.parse(line) as Reply;
      peer.waiting.get(reply.id)?.(reply);
      peer.waiting.delete(reply.id);
    });
    child.once('exit', (code) => {
      for (const resolve of peer.waiting.values()) resolve({ id: 0, ok: false, error: `python exited (code ${code}): ${stderr.trim().split('\n').pop() ?? ''}` });
      peer.waiting.clear();
    });
    return peer;
  }

  /** The report's peer line: interpreter, torch's version, threads and BLAS. */
  describe(): string {
    const { info } = this;
    const threads = info.threads === info.default_threads ? `torch's default here` : `torch's default here was ${info.default_threads}`;
    return `torch/cpu ${info.torch} on ${info.python} (Python ${info.python_version}): ${info.threads} thread${info.threads === 1 ? '' : 's'} `
      + `(torch.get_num_threads(); ${threads}; ${availableParallelism()} cores), BLAS ${info.blas}`;
  }

  /** Runs one workload on `device`; `options.repeats` 0 measures only the first call. */
  async run(workload: Workload, device: 'cpu' | 'cuda', options: TimingOptions): Promise<Prepared> {
    const id = this.nextId++;
    const outDir = join(this.scratch, `out-${id}`);
    const request = {
      id, case: workload.caseName, device, inputs: this.inputFiles(workload), params: workload.params ?? {},
      out_dir: outDir, warmup: options.warmup, repeats: options.repeats, target_ms: options.targetMs, max_iterations: options.maxIterations,
    };
    mkdirSync(outDir, { recursive: true });
    const reply = await new Promise<Reply>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(JSON.stringify(request) + '\n');
    });
    if (!reply.ok) throw new Error(`PyTorch (${device}) failed: ${reply.error}`);
    const outputs = reply.outputs!.map((file) => {
      const bytes = readFileSync(file.path);
      return new Float32Array(bytes.buffer, bytes.byteOffset, file.length);
    });
    rmSync(outDir, { recursive: true, force: true });
    const run: ExternalRun = { external: true, outputs, firstMs: reply.first_ms!, repeatsMs: reply.repeats_ms!, iterations: reply.iterations! };
    return run;
  }

  private inputFiles(workload: Workload) {
    let specs = this.files.get(workload);
    if (specs === undefined) {
      const stamp = this.nextId++;
      specs = workload.inputs.map((input, i) => {
        const path = join(this.scratch, `in-${stamp}-${i}.bin`);
        writeFileSync(path, new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength));
        return { path, shape: input.shape, dtype: input.data instanceof Int32Array ? 'int32' : 'float32' };
      });
      this.files.set(workload, specs);
    }
    return specs;
  }

  /** Deletes one workload's input files once no torch row needs them. */
  forget(workload: Workload): void {
    for (const spec of this.files.get(workload) ?? []) rmSync(spec.path, { force: true });
    this.files.delete(workload);
  }

  close(): void {
    this.child.stdin.end();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
