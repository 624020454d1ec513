// The browser host: the WebGPU adapter comes from `navigator.gpu` (whatever the browser
// offers, software adapters such as Chromium's SwiftShader included: in a page there is
// no other WebGPU to prefer), so the chain is gpu → cpu → reference. The cpu device's
// pool runs on Web Workers (started from a Blob, one per core): each sleeps in
// Atomics.waitAsync, so that the modules the main thread posts reach it between runs,
// while the page's main thread, which may not Atomics.wait, spins until a run is done.
// Without Atomics.waitAsync or Worker the pool is the main thread alone. Its memory is a
// shared WebAssembly.Memory, which a page may make only when it is cross-origin isolated
// (served with COOP/COEP headers); elsewhere the chain says so and falls to the reference.
// Left out: Dawn's cpu-webgpu kind (there is no Dawn in a page), V8 flags and exit hooks.
import { poolWorkerFunctions, slot, workerLoopSource } from '../cpu/pool-layout.ts';
import type { AdapterAttempt, Host, PoolWorker, PoolWorkerData } from './types.ts';

interface BrowserWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: 'message' | 'error', listener: (event: { data?: unknown; message?: string }) => void): void;
}
interface BrowserGlobals {
  navigator?: { gpu?: GPU; hardwareConcurrency?: number; userAgent?: string };
  crossOriginIsolated?: boolean;
  Worker?: new (url: string, options?: { type?: 'module' | 'classic'; name?: string }) => BrowserWorker;
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
}
const page = globalThis as BrowserGlobals;

async function requestAdapter(kind: 'gpu' | 'cpu-webgpu'): Promise<AdapterAttempt> {
  if (kind === 'cpu-webgpu') return { ok: false, reason: 'cpu-webgpu is Dawn\'s OpenGL ES backend, which only Node has; in a browser use gpu (navigator.gpu)' };
  const gpu = page.navigator?.gpu;
  if (gpu === undefined) return { ok: false, reason: 'this browser has no WebGPU (navigator.gpu is undefined; in Chromium on a machine without a GPU, start it with --enable-unsafe-webgpu and a software adapter)' };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) return { ok: false, reason: 'navigator.gpu.requestAdapter() returned no adapter (WebGPU blocked or no usable GPU)' };
  const software = adapter.info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|software/i.test(adapter.info.description + adapter.info.architecture);
  return { ok: true, adapter, backend: software ? 'navigator.gpu, a software adapter' : 'navigator.gpu', featureLevel: 'core' };
}

/**
 * The pool's worker program in a page: the start message brings the control block and
 * memory; modules arrive as messages, taken in order when a register command wakes it.
 */
const workerSource = `
let workerData;
const arrived = [], takers = [];
const nextModule = () => (arrived.length > 0 ? Promise.resolve(arrived.shift()) : new Promise((resolve) => takers.push(resolve)));
self.onmessage = (event) => {
  if (event.data.start) { workerData = event.data.start; start(); return; }
  const taker = takers.shift();
  if (taker) taker(event.data); else arrived.push(event.data);
};
function start() {
${poolWorkerFunctions}
  (async () => {
    self.postMessage('online');
${workerLoopSource({
  sleep: `{ const wait = Atomics.waitAsync(control, ${slot.word}, seen); if (wait.async) await wait.value; }`,
  receive: 'await nextModule()',
})}
    self.close();
  })();
}
`;

const canStartWorkers = typeof page.Worker === 'function' && typeof page.Blob === 'function' && page.URL !== undefined
  && typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function';

function startPoolWorker(data: PoolWorkerData): Promise<PoolWorker> {
  const url = page.URL!.createObjectURL(new page.Blob!([workerSource], { type: 'text/javascript' }));
  const worker = new page.Worker!(url, { name: `theorbo cpu ${data.thread}` });
  let stopped: string | undefined;
  return new Promise((resolve, reject) => {
    worker.addEventListener('message', (event) => {
      if (event.data !== 'online') return;
      page.URL!.revokeObjectURL(url);
      resolve({ post: (message) => worker.postMessage(message), terminate: async () => worker.terminate(), stopped: () => stopped });
    });
    worker.addEventListener('error', (event) => {
      stopped ??= `it raised ${event.message ?? 'an error with no message'}`;
      reject(new Error(`a cpu device worker failed to start: ${event.message ?? 'no message'}`));
    });
    worker.postMessage({ start: { control: data.control, memory: data.memory, thread: data.thread } });
  });
}

export const host: Host = {
  name: 'browser',
  webGpuKinds: ['gpu'],
  requestAdapter,
  architecture: '',
  cores: () => page.navigator?.hardwareConcurrency ?? 1,
  cpuUnavailable() {
    if (typeof SharedArrayBuffer === 'undefined' || page.crossOriginIsolated === false) {
      return 'the cpu device needs shared WebAssembly memory, which a page has only when cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';
    }
    return undefined;
  },
  maxPoolThreads: canStartWorkers ? Number.POSITIVE_INFINITY : 1,
  mainThreadCanWait: false,
  startPoolWorker,
  setV8Flag: () => false,
  onExit: () => {},
  writeError: (text) => console.error(text),
};
