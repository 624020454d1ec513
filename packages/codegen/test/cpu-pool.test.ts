// The cpu device's thread pool (cpu/threads.ts): runs spread over the workers and the
// main thread, and a worker that stopped is a clear error at the next run, not a wait
// that never ends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ModuleBuilder } from '../src/cpu/wasm-encode.ts';
import { ThreadPool } from '../src/cpu/threads.ts';

/** A module whose `store(i)` writes i + 1 at word i of the shared memory. */
function storeModule(): Uint8Array<ArrayBuffer> {
  const module = new ModuleBuilder();
  module.importMemory('env', 'memory', { initial: 0, maximum: 65536, shared: true });
  module.addFunction('store', ['i32'], [], (f, index) => {
    f.local.get(index).i32.const(4).i32.mul().local.get(index).i32.const(1).i32.add().i32.store();
  });
  return module.encode();
}

test('a run covers every task across the workers and the main thread', async () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
  const pool = await ThreadPool.create(memory, 3);
  try {
    const id = await pool.register(storeModule());
    pool.run(id, 'store', Array.from({ length: 500 }, (_, i) => [i]));
    const words = new Int32Array(memory.buffer, 0, 500);
    assert.ok(words.every((value, i) => value === i + 1));
  } finally {
    await pool.close();
  }
});

test('a worker that stopped makes the next run throw, naming the thread and why', async () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
  const pool = await ThreadPool.create(memory, 2);
  const id = await pool.register(storeModule());
  // Killed from outside, as an out-of-memory worker or a host would stop it.
  await (pool as unknown as { workers: { terminate(): Promise<unknown> }[] }).workers[0]!.terminate();
  await new Promise((resolve) => setTimeout(resolve, 20)); // its 'exit' event
  assert.throws(() => pool.run(id, 'store', [[0], [1], [2]]), /worker thread 1 stopped \(it exited with code 1\).*cannot run kernels any more/);
  assert.throws(() => pool.run(id, 'store', [[0], [1]]), /pool is closed/);
  await pool.close();
});

test.run();
