// What the device chain and the cpu device ask of the JavaScript host they run on, so
// that no module they load imports a `node:` module or Dawn: `#host` (package.json's
// `imports`) resolves to node.ts under Node and to browser.ts for a bundler's browser
// build. Both export a `host` that satisfies this interface.
// Left out: a Deno or Bun host (they take the `node` condition and Node's APIs).

/** A WebGPU kind of the chain (gpu, or Dawn's OpenGL ES backend on llvmpipe). */
export type WebGpuKind = 'gpu' | 'cpu-webgpu';

/** An adapter for a kind, or why there is none, in words a user can act on. */
export type AdapterAttempt =
  | { ok: true; adapter: GPUAdapter; backend: string; featureLevel: 'core' | 'compatibility' }
  | { ok: false; reason: string };

/** What a worker of the cpu device's thread pool is started with. */
export interface PoolWorkerData { control: SharedArrayBuffer; memory: WebAssembly.Memory; thread: number; v8Flags: string[] }

/** A started pool worker: the main thread posts compiled modules to it and stops it. */
export interface PoolWorker {
  post(message: { id: number; module: WebAssembly.Module }): void;
  terminate(): Promise<unknown>;
  /** Why the worker stopped (an error it raised, or its exit), once the host has told us. */
  stopped(): string | undefined;
}

export interface Host {
  name: 'node' | 'browser';
  /** The WebGPU kinds this host can offer, in the chain's order. */
  webGpuKinds: readonly WebGpuKind[];
  requestAdapter(kind: WebGpuKind): Promise<AdapterAttempt>;
  /** The processor architecture, for the cpu device's description ('' where unknown). */
  architecture: string;
  /** Logical cores the cpu device may use. */
  cores(): number;
  /** Why the cpu device cannot open here (no shared memory), or undefined when it can. */
  cpuUnavailable(): string | undefined;
  /** The most threads a pool may have on this host (1 where workers cannot be started). */
  maxPoolThreads: number;
  /** Whether the main thread may block in Atomics.wait (a page's may not: it spins instead). */
  mainThreadCanWait: boolean;
  startPoolWorker(data: PoolWorkerData): Promise<PoolWorker>;
  /** Turns on a V8 flag where the host allows it (Node); returns whether it tried. */
  setV8Flag(flag: string): boolean;
  /** Runs `callback` when the process exits (nothing in a browser). */
  onExit(callback: () => void): void;
  /** Writes to the error stream (stderr, or the console in a browser). */
  writeError(text: string): void;
}
