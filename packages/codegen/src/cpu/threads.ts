// A pool of threads that run exported WebAssembly functions over one shared memory:
// Node worker_threads plus the main thread, which takes tasks too. A run is described in a
// shared control block (no postMessage per job): the main thread writes the export and
// each task's arguments, bumps a generation word and wakes the sleepers; every thread
// claims tasks with a compare-and-swap on one word that carries the generation tag, the
// task count and the next index, so a late thread can never run a stale task. Idle
// workers spin briefly before Atomics.wait, so back-to-back runs cost microseconds.
// Every instance imports `env.memory` and may import `env.thread` (i32: 0 on the main
// thread, 1… on workers), to find its own scratch space.
// A trap in a task becomes an Error thrown by `run` (remaining tasks of that run skipped).
// Workers are started by the host (#host: Node's worker_threads, a browser's Web Workers,
// whose loop sleeps in Atomics.waitAsync; a page's main thread may not Atomics.wait, so
// there it spins until the workers are done). A worker that stops (an 'exit' or 'error'
// event) makes the next run or registration throw, and create() waits until every worker
// has entered its loop. Left out: noticing a worker killed from outside during a run
// (the events arrive through the event loop, which a run's wait blocks).
import { host } from '#host';
import type { PoolWorker } from '../host/types.ts';
import { command, controlInts, errorCapacity, maxArity, maxTasksPerBatch, slot, spinIterations } from './pool-layout.ts';

type WasmFunction = (...args: number[]) => unknown;

export class ThreadPool {
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private readonly errorText: Uint16Array;
  private readonly modules: { exports: WebAssembly.Exports; functionIndex: Map<string, number>; functions: WasmFunction[] }[] = [];
  private generation = 0;
  private closed = false;

  private constructor(
    readonly memory: WebAssembly.Memory,
    /** Threads that run tasks, the main thread included. */
    readonly threads: number,
    private readonly workers: PoolWorker[],
    controlBuffer: SharedArrayBuffer,
  ) {
    this.control = new Int32Array(controlBuffer, 0, controlInts);
    this.args = new Float64Array(controlBuffer, controlInts * 4, maxTasksPerBatch * maxArity);
    this.errorText = new Uint16Array(controlBuffer, controlInts * 4 + maxTasksPerBatch * maxArity * 8, errorCapacity);
  }

  /**
   * Starts `threads - 1` workers over `memory` (which must be shared). `v8Flags` are set in
   * each worker before anything compiles (e.g. '--experimental-wasm-relaxed-simd').
   */
  static async create(memory: WebAssembly.Memory, threads = host.cores(), v8Flags: string[] = []): Promise<ThreadPool> {
    if (!(memory.buffer instanceof SharedArrayBuffer)) throw new Error('ThreadPool.create: the memory must be created with { shared: true }');
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`ThreadPool.create: threads must be a whole number ≥ 1, got ${threads}`);
    if (threads > host.maxPoolThreads) throw new Error(`ThreadPool.create: ${threads} threads asked for, but the ${host.name} host runs at most ${host.maxPoolThreads}`);
    const controlBuffer = new SharedArrayBuffer(controlInts * 4 + maxTasksPerBatch * maxArity * 8 + errorCapacity * 2);
    const workers = await Promise.all(Array.from({ length: threads - 1 }, (_, index) =>
      host.startPoolWorker({ control: controlBuffer, memory, thread: index + 1, v8Flags })));
    const pool = new ThreadPool(memory, threads, workers, controlBuffer);
    await pool.untilReady();
    return pool;
  }

  /** Waits (without blocking the event loop) until every worker has entered its loop; a worker that stops first, or a slow start, is an error. */
  private async untilReady(timeoutMs = 20000): Promise<void> {
    const started = performance.now();
    while (Atomics.load(this.control, slot.ready) < this.workers.length) {
      this.assertWorkersRunning('starting');
      if (performance.now() - started > timeoutMs) {
        await this.close();
        throw new Error(`ThreadPool: ${this.workers.length - Atomics.load(this.control, slot.ready)} of ${this.workers.length} worker threads did not start within ${timeoutMs / 1000} s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /**
   * A worker that stopped (its 'exit' or 'error' arrives through the event loop, so between
   * calls, not during a run's wait) would leave a run waiting for it forever: an error instead.
   */
  private assertWorkersRunning(doing: string): void {
    for (const [index, worker] of this.workers.entries()) {
      const why = worker.stopped();
      if (why === undefined) continue;
      this.closed = true;
      for (const other of this.workers) void other.terminate();
      throw new Error(`ThreadPool: the cpu device's worker thread ${index + 1} stopped (${why}) before ${doing}; this device cannot run kernels any more (restart the process, or set THEORBO_CPU_THREADS=1 for no workers)`);
    }
  }

  /** Compiles a module, instantiates it on every thread; returns its id for `run`. */
  async register(moduleBytes: Uint8Array<ArrayBuffer>): Promise<number> {
    this.assertOpen('register');
    return this.registerModule(await WebAssembly.compile(moduleBytes));
  }

  /**
   * The same for a module compiled synchronously (kernels made while a plan is built;
   * Node compiles any size synchronously, a browser's main thread only small ones).
   */
  registerModule(module: WebAssembly.Module): number {
    this.assertOpen('register');
    const id = this.modules.length;
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory, thread: 0 } });
    const names = WebAssembly.Module.exports(module).filter((entry) => entry.kind === 'function').map((entry) => entry.name);
    this.modules.push({
      exports: instance.exports,
      functionIndex: new Map(names.map((name, index) => [name, index])),
      functions: names.map((name) => instance.exports[name] as WasmFunction),
    });
    if (this.workers.length > 0) {
      for (const worker of this.workers) worker.post({ id, module });
      this.publish(command.register);
      this.waitForDone(this.workers.length);
      this.throwIfFailed(`instantiating module ${id} in a worker`);
    }
    return id;
  }

  /** The main thread's instance exports of a registered module (for direct calls). */
  exports(moduleId: number): WebAssembly.Exports {
    const entry = this.modules[moduleId];
    if (entry === undefined) throw new Error(`ThreadPool: no module ${moduleId} is registered`);
    return entry.exports;
  }

  /** Runs `exportName(...task)` for every task, on all threads; returns when all are done. */
  run(moduleId: number, exportName: string, tasks: readonly (readonly number[])[]): void {
    this.assertOpen('run');
    const entry = this.modules[moduleId];
    const functionIndex = entry?.functionIndex.get(exportName);
    if (entry === undefined || functionIndex === undefined) throw new Error(`ThreadPool.run: module ${moduleId} has no exported function '${exportName}'`);
    const fn = entry.functions[functionIndex]!;
    if (tasks.length === 0) return;
    if (this.workers.length === 0 || tasks.length === 1) {
      for (const task of tasks) fn(...task);
      return;
    }
    for (let start = 0; start < tasks.length; start += maxTasksPerBatch) {
      this.runBatch(moduleId, functionIndex, fn, tasks.slice(start, start + maxTasksPerBatch));
    }
  }

  private runBatch(moduleId: number, functionIndex: number, fn: WasmFunction, tasks: readonly (readonly number[])[]): void {
    const arity = tasks[0]!.length;
    if (arity > maxArity) throw new Error(`ThreadPool.run: a task has ${arity} arguments; at most ${maxArity} are supported`);
    const { control, args } = this;
    for (let index = 0; index < tasks.length; index++) {
      const task = tasks[index]!;
      if (task.length !== arity) throw new Error(`ThreadPool.run: every task needs ${arity} arguments like the first; task ${index} has ${task.length}`);
      for (let a = 0; a < arity; a++) args[index * maxArity + a] = task[a]!;
    }
    Atomics.store(control, slot.module, moduleId);
    Atomics.store(control, slot.export, functionIndex);
    Atomics.store(control, slot.arity, arity);
    const generation = this.publish(command.run, tasks.length);
    // The main thread claims tasks like any worker.
    const tag = generation & 0x7ff;
    const taskArgs = new Array<number>(arity);
    for (;;) {
      const claim = Atomics.load(control, slot.claim);
      const count = (claim >>> 10) & 0x3ff, index = claim & 0x3ff;
      if (claim >>> 20 !== tag || index >= count) break;
      if (Atomics.compareExchange(control, slot.claim, claim, claim + 1) !== claim) continue;
      if (Atomics.load(control, slot.error) === 0) {
        try {
          for (let a = 0; a < arity; a++) taskArgs[a] = args[index * maxArity + a]!;
          fn(...taskArgs);
        } catch (error) { this.report(error); }
      }
      Atomics.add(control, slot.done, 1);
    }
    this.waitForDone(tasks.length);
    this.throwIfFailed(`running '${this.exportName(moduleId, functionIndex)}'`);
  }

  /** Stops the workers; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.workers.length > 0) this.publish(command.shutdown);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  /**
   * After the job is written: resets the counters, then stores the claim word and the
   * generation word, and wakes sleepers. (No closures on this path: tsx names each one made.)
   */
  private publish(kind: number, taskCount = 0): number {
    const { control } = this;
    const generation = this.generation = (this.generation + 1) & 0x3fffffff;
    Atomics.store(control, slot.done, 0);
    Atomics.store(control, slot.error, 0);
    Atomics.store(control, slot.claim, ((generation & 0x7ff) << 20) | (taskCount << 10));
    Atomics.store(control, slot.word, (generation << 2) | kind);
    if (Atomics.load(control, slot.sleepers) > 0) Atomics.notify(control, slot.word);
    return generation;
  }

  private waitForDone(expected: number): void {
    const { control } = this;
    let done = Atomics.load(control, slot.done);
    for (let spin = 0; done < expected && spin < spinIterations; spin++) done = Atomics.load(control, slot.done);
    if (!host.mainThreadCanWait) {
      while (done < expected) done = Atomics.load(control, slot.done);
      return;
    }
    while (done < expected) {
      Atomics.wait(control, slot.done, done, 1000);
      done = Atomics.load(control, slot.done);
    }
  }

  private report(error: unknown): void {
    if (Atomics.compareExchange(this.control, slot.error, 0, 1) !== 0) return;
    const text = String((error instanceof Error ? error.stack : undefined) ?? error).slice(0, errorCapacity);
    for (let i = 0; i < text.length; i++) this.errorText[i] = text.charCodeAt(i);
    Atomics.store(this.control, slot.errorLength, text.length);
  }

  private throwIfFailed(doing: string): void {
    if (Atomics.load(this.control, slot.error) === 0) return;
    const length = Atomics.load(this.control, slot.errorLength);
    const text = String.fromCharCode(...this.errorText.subarray(0, length));
    throw new Error(`ThreadPool: a thread failed while ${doing}: ${text}`);
  }

  private exportName(moduleId: number, functionIndex: number): string {
    for (const [name, index] of this.modules[moduleId]!.functionIndex) if (index === functionIndex) return name;
    return `#${functionIndex}`;
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new Error(`ThreadPool.${what}: the pool is closed`);
    this.assertWorkersRunning(`ThreadPool.${what}`);
  }
}
