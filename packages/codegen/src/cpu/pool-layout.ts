// The thread pool's shared control block, and the loop every worker runs over it (see
// threads.ts for the protocol). Host-neutral: each host (host/node.ts, host/browser.ts)
// wraps the loop in its own preamble that receives the worker's data and modules.

/** Tasks per control-block batch: 10 bits of the claim word each for count and index. */
export const maxTasksPerBatch = 1023;
export const maxArity = 16;
export const errorCapacity = 2048; // UTF-16 code units of the first error message
// Int32 slots of the control block.
export const slot = { word: 0, sleepers: 1, claim: 2, done: 3, error: 4, errorLength: 5, module: 6, export: 7, arity: 8, ready: 9 } as const;
export const controlInts = 16;
// The generation word: generation << 2 | command.
export const command = { run: 0, register: 1, shutdown: 2 } as const;
export const spinIterations = 20000;

/**
 * What every worker runs over the control block (plain JS, evaluated, so no TypeScript
 * loader is needed): views of the block, `report`, `finish`, `runTasks(generation)` and
 * `instantiate({ id, module })`. The host's program defines `workerData` ({ control,
 * memory, thread, … }) before it and its own loop after it (`workerLoopSource` below, or
 * an asynchronous one where a thread may not block).
 */
export const poolWorkerFunctions = `
const control = new Int32Array(workerData.control, 0, ${controlInts});
const args = new Float64Array(workerData.control, ${controlInts * 4}, ${maxTasksPerBatch * maxArity});
const errorText = new Uint16Array(workerData.control, ${controlInts * 4 + maxTasksPerBatch * maxArity * 8}, ${errorCapacity});
const { memory, thread } = workerData;
const modules = [];
function report(error) {
  if (Atomics.compareExchange(control, ${slot.error}, 0, 1) !== 0) return;
  const text = String(error && error.stack || error).slice(0, ${errorCapacity});
  for (let i = 0; i < text.length; i++) errorText[i] = text.charCodeAt(i);
  Atomics.store(control, ${slot.errorLength}, text.length);
}
function finish() {
  Atomics.add(control, ${slot.done}, 1);
  Atomics.notify(control, ${slot.done});
}
function runTasks(generation) {
  const functions = modules[Atomics.load(control, ${slot.module})];
  const fn = functions && functions[Atomics.load(control, ${slot.export})];
  const arity = Atomics.load(control, ${slot.arity});
  const taskArgs = new Array(arity);
  const tag = generation & 0x7ff;
  for (;;) {
    const claim = Atomics.load(control, ${slot.claim});
    const count = (claim >>> 10) & 0x3ff, index = claim & 0x3ff;
    if ((claim >>> 20) !== tag || index >= count) return;
    if (Atomics.compareExchange(control, ${slot.claim}, claim, claim + 1) !== claim) continue;
    if (Atomics.load(control, ${slot.error}) === 0) {
      try {
        for (let a = 0; a < arity; a++) taskArgs[a] = args[index * ${maxArity} + a];
        fn.apply(undefined, taskArgs);
      } catch (error) { report(error); }
    }
    finish();
  }
}
function instantiate({ id, module }) {
  const instance = new WebAssembly.Instance(module, { env: { memory, thread } });
  modules[id] = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => instance.exports[e.name]);
}
`;

/**
 * The worker's loop over the control block, for either host: `sleep` is the statement that
 * waits while the word is still `seen` (Node: Atomics.wait; a page: awaiting
 * Atomics.waitAsync, inside an async function), `receive` the expression that gives the
 * { id, module } the main thread has just posted (Node reads its port synchronously; a page
 * awaits the next message).
 */
export function workerLoopSource(host: { sleep: string; receive: string }): string {
  return `
let seen = 0; // the word at creation: a run published before this thread started is still seen
Atomics.add(control, ${slot.ready}, 1); // the pool waits for every worker to get here
for (;;) {
  let word = Atomics.load(control, ${slot.word});
  for (let spin = 0; word === seen && spin < ${spinIterations}; spin++) word = Atomics.load(control, ${slot.word});
  if (word === seen) {
    Atomics.add(control, ${slot.sleepers}, 1);
    ${host.sleep}
    Atomics.sub(control, ${slot.sleepers}, 1);
    continue;
  }
  seen = word;
  const kind = word & 3;
  if (kind === ${command.shutdown}) break;
  if (kind === ${command.register}) {
    try { instantiate(${host.receive}); } catch (error) { report(error); }
    finish();
    continue;
  }
  try { runTasks(word >>> 2); } catch (error) { report(error); }
}
`;
}

