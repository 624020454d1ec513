// Gives the WebGPU peers (tfjs-webgpu, jax-js) a browser-like `navigator.gpu` in Node,
// on the same Dawn backend and adapter kind that Theorbo's device chain picked, so that
// every row of a table runs on one adapter. Both peers call requestAdapter and
// requestDevice themselves; the wrapper below injects what our chain uses: on llvmpipe
// the OpenGL ES backend with featureLevel 'compatibility' (without it Dawn returns no
// adapter), and on every kind the adapter's maximum for our requested limits (Dawn's
// defaults reject large workgroups and allow few storage buffers).
// Left out: sharing Theorbo's own GPUDevice (each library owns a device of its own) and
// Dawn's instance: device.ts keeps its instances private, so this module makes a second
// instance of the same kind with the same options.
import { create, globals } from 'webgpu';
import { requestedLimits, type DeviceKind } from '@theorbo/codegen';

export type WebGpuKind = Exclude<DeviceKind, 'reference'>;

export interface PeerAdapter {
  /** What each peer got from requestAdapter, in order: "nvidia … (vulkan)". */
  handedOut: string[];
}

let installed: { kind: WebGpuKind; gpu: GPU; adapters: PeerAdapter } | undefined;

/**
 * Installs `globalThis.navigator = { gpu, userAgent }` and WebGPU's flag globals
 * (GPUBufferUsage …) that tfjs reads. Must run before tfjs-backend-webgpu is imported:
 * that module registers its backend only if `navigator.gpu` exists at import time.
 */
export function installNavigatorGpu(kind: WebGpuKind): PeerAdapter {
  if (installed !== undefined) {
    if (installed.kind !== kind) throw new Error(`navigator.gpu is already installed for '${installed.kind}', not '${kind}'`);
    return installed.adapters;
  }
  if (kind === 'cpu-webgpu') process.env.EGL_PLATFORM ??= 'surfaceless';
  // Held for the process's life: Dawn's instance must outlive its devices (see device.ts).
  const gpu = create(kind === 'cpu-webgpu' ? ['backend=opengles'] : []);
  const adapters: PeerAdapter = { handedOut: [] };
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  const wrapped = async (options: GPURequestAdapterOptions = {}): Promise<GPUAdapter | null> => {
    const adapter = await requestAdapter(kind === 'cpu-webgpu'
      ? { ...options, featureLevel: 'compatibility' }
      : { ...options, powerPreference: 'high-performance' });
    if (adapter === null) return null;
    const info = adapter.info;
    adapters.handedOut.push(`${[info.vendor, info.architecture, info.device].filter((s) => s !== '').join(' ')} — ${info.description || 'no description'}`);
    const requestDevice = adapter.requestDevice.bind(adapter);
    Object.defineProperty(adapter, 'requestDevice', {
      value: (descriptor: GPUDeviceDescriptor = {}) => {
        const limits: Record<string, number> = { ...(descriptor.requiredLimits as Record<string, number> | undefined) };
        for (const name of requestedLimits) limits[name] = Math.max(limits[name] ?? 0, adapter.limits[name]);
        return requestDevice({ ...descriptor, requiredLimits: limits });
      },
    });
    return adapter;
  };
  Object.defineProperty(gpu, 'requestAdapter', { value: wrapped });
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, userAgent: `Node.js/${process.versions.node} (theorbo benchmarks)` },
    configurable: true, writable: true,
  });
  installed = { kind, gpu, adapters };
  return adapters;
}
