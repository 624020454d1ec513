// The browser host: the WebGPU adapter comes from `navigator.gpu` (whatever the browser
// offers, software adapters such as Chromium's SwiftShader included: in a page there is
// no other WebGPU to prefer), so the chain is gpu → cpu → reference. The cpu device runs
// on one thread here: its pool's `run` is synchronous and a page's main thread cannot
// Atomics.wait, so Web Workers would need an async `run` or a coordinating worker. Its
// memory is a shared WebAssembly.Memory, which a page may make only when it is
// cross-origin isolated (served with COOP/COEP headers); elsewhere the chain says so and
// falls to the reference evaluator.
// Left out: Dawn's cpu-webgpu kind (there is no Dawn in a page), V8 flags and exit hooks.
import type { AdapterAttempt, Host } from './types.ts';

interface BrowserGlobals {
  navigator?: { gpu?: GPU; hardwareConcurrency?: number; userAgent?: string };
  crossOriginIsolated?: boolean;
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
  maxPoolThreads: 1,
  startPoolWorker: () => Promise.reject(new Error('the browser host runs the cpu device on one thread: it starts no pool workers')),
  setV8Flag: () => false,
  onExit: () => {},
  writeError: (text) => console.error(text),
};
