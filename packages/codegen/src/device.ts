// The device chain: acquire the best device this machine offers, in the order gpu
// (Dawn's native backend: Vulkan, Metal or D3D12) → cpu (the same kernels as JS and
// WebAssembly SIMD on the machine's cores, cpu/) → cpu-webgpu (Dawn's OpenGL ES backend
// on Mesa's llvmpipe: real WGSL on the CPU, what CI tests kernels with; pinned with
// THEORBO_DEVICE=cpu-webgpu) → reference (the JS evaluator).
// THEORBO_DEVICE or `prefer` pins one kind, and then a missing kind is an error, never
// a silent fallback. Devices are cached per kind (one Dawn instance per kind per
// process) and request the adapter's compute limits, since Dawn's defaults reject a
// 256-thread workgroup.
// Adapters come from the host (#host: Dawn under Node, navigator.gpu in a browser, where
// the chain is gpu → cpu → reference).
// Left out: kernel scheduling, buffer pools and pipeline caches (the runtime's job), and
// any choice between several GPUs beyond Dawn's 'high-performance' pick.
import { host } from '#host';
import { deviceFromEnvironment } from './environment.ts';
import type { WebGpuKind } from './host/types.ts';

import { deviceKinds, type DeviceKind } from './device-kind.ts';
import { openCpuParts } from './cpu/device.ts';
import type { CpuDeviceParts } from './cpu/plan.ts';

export { deviceKinds, type DeviceKind } from './device-kind.ts';

/** The limits every device asks for at the adapter's own maximum. */
export const requestedLimits = [
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
] as const;
export type RequestedLimit = (typeof requestedLimits)[number];

/** Optional features enabled whenever the adapter has them. */
export const wantedFeatures = ['subgroups', 'timestamp-query', 'shader-f16'] as const;

export interface AdapterSummary {
  vendor: string; architecture: string; device: string; description: string;
  /** Dawn backend: vulkan, metal, d3d12, opengles; 'none' for the reference evaluator. */
  backend: string;
}
export interface DeviceLoss { reason: string; message: string }
/** Why a kind of the chain was passed over, in words a user can act on. */
export interface SkippedKind { kind: DeviceKind; reason: string }

interface DescriptorBase {
  adapterInfo: AdapterSummary;
  features: string[];
  /** Kinds tried before this one and why each was unavailable. */
  skipped: SkippedKind[];
  describe(): string;
}
export interface WebGpuDescriptor extends DescriptorBase {
  kind: WebGpuKind;
  device: GPUDevice;
  featureLevel: 'core' | 'compatibility';
  limits: Readonly<Record<RequestedLimit, number>>;
  /** Set once the device is lost (or destroyed); a lost device leaves the cache. */
  lost: DeviceLoss | undefined;
}
export interface ReferenceDescriptor extends DescriptorBase {
  kind: 'reference';
  device: undefined;
}
export interface CpuDescriptor extends DescriptorBase {
  kind: 'cpu';
  device: undefined;
  cpu: CpuDeviceParts;
  threads: number;
}
export type AcquiredDevice = WebGpuDescriptor | CpuDescriptor | ReferenceDescriptor;

export interface AcquireOptions { prefer?: DeviceKind }

type Attempt = { ok: true; descriptor: WebGpuDescriptor } | { ok: false; reason: string };
const attempts = new Map<WebGpuKind, Promise<Attempt>>();

/** The requested kind: `prefer` beats THEORBO_DEVICE; neither means "best available". */
export function requestedKind(options: AcquireOptions = {}): DeviceKind | undefined {
  const kind = options.prefer ?? deviceFromEnvironment();
  if (kind !== undefined && !(deviceKinds as readonly string[]).includes(kind)) {
    throw new Error(`THEORBO_DEVICE='${kind}' is not a device kind; use one of ${deviceKinds.join(', ')}.`);
  }
  return kind as DeviceKind | undefined;
}

export async function acquireDevice(options: { prefer: WebGpuKind }): Promise<WebGpuDescriptor>;
export async function acquireDevice(options?: AcquireOptions): Promise<AcquiredDevice>;
export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const pinned = requestedKind(options);
  if (pinned === 'reference') return referenceDescriptor([]);
  if (pinned === 'cpu') return openCpu([]);
  if (pinned !== undefined) {
    const attempt = await attemptKind(pinned);
    if (attempt.ok) return attempt.descriptor;
    throw new Error(`device '${pinned}' was requested (${options.prefer ? 'prefer option' : 'THEORBO_DEVICE'}) but is unavailable: ${attempt.reason}`);
  }
  const skipped: SkippedKind[] = [];
  // gpu → cpu → cpu-webgpu → reference: the cpu device runs every kernel of the demo's
  // models natively (convolutions, pooling, scan, random draws included) and is faster than
  // llvmpipe there; cpu-webgpu stays selectable and is what the test runner pins for WGSL.
  const tryWebGpu = async (kind: WebGpuKind): Promise<WebGpuDescriptor | undefined> => {
    const attempt = await attemptKind(kind);
    if (attempt.ok) return attempt.descriptor;
    skipped.push({ kind, reason: attempt.reason });
    return undefined;
  };
  const found = (descriptor: AcquiredDevice): AcquiredDevice => {
    if (skipped.length > 0) descriptor.skipped = skipped;
    return descriptor;
  };
  if (host.webGpuKinds.includes('gpu')) {
    const gpu = await tryWebGpu('gpu');
    if (gpu) return found(gpu);
  }
  try {
    return await openCpu(skipped);
  } catch (error) {
    skipped.push({ kind: 'cpu', reason: error instanceof Error ? error.message : String(error) });
  }
  for (const kind of host.webGpuKinds.filter((kind) => kind !== 'gpu')) {
    const other = await tryWebGpu(kind);
    if (other) return found(other);
  }
  return referenceDescriptor(skipped);
}

/**
 * The best WebGPU device (gpu, else cpu-webgpu), passing over the cpu device: for tests of
 * WGSL kernels and for benchmarks that run WebGPU peers on the same adapter. THEORBO_DEVICE
 * naming a WebGPU kind pins it; a missing one is an error.
 */
export async function acquireWebGpuDevice(): Promise<WebGpuDescriptor> {
  const pinned = requestedKind();
  const kinds: readonly WebGpuKind[] = pinned === 'gpu' || pinned === 'cpu-webgpu' ? [pinned] : host.webGpuKinds;
  const reasons: string[] = [];
  for (const kind of kinds) {
    const attempt = await attemptKind(kind);
    if (attempt.ok) return attempt.descriptor;
    reasons.push(`${kind}: ${attempt.reason}`);
  }
  throw new Error(`no WebGPU device: ${reasons.join('; ')}`);
}

/** Destroys every cached device; the next acquireDevice() makes new ones. */
export async function releaseDevices(): Promise<void> {
  const pending = [...attempts.values()];
  attempts.clear();
  for (const attempt of await Promise.all(pending)) {
    if (attempt.ok && attempt.descriptor.lost === undefined) {
      attempt.descriptor.lost = { reason: 'destroyed', message: 'destroyed by releaseDevices()' };
      attempt.descriptor.device.destroy();
    }
  }
}

function attemptKind(kind: WebGpuKind): Promise<Attempt> {
  let attempt = attempts.get(kind);
  if (attempt === undefined) {
    attempt = host.requestAdapter(kind)
      .then((found): Promise<Attempt> | Attempt => found.ok ? openDevice(kind, found.adapter, found.backend, found.featureLevel).then((descriptor) => ({ ok: true, descriptor })) : found)
      .catch((error: unknown) => ({
        ok: false as const,
        reason: `${host.name === 'node' ? 'Dawn' : 'WebGPU'} failed: ${error instanceof Error ? error.message : String(error)}`,
      }));
    attempts.set(kind, attempt);
  }
  return attempt;
}

async function openDevice(kind: WebGpuKind, adapter: GPUAdapter, backend: string, featureLevel: 'core' | 'compatibility'): Promise<WebGpuDescriptor> {
  const requiredLimits: Record<string, number> = {};
  for (const name of requestedLimits) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = wantedFeatures.filter((name) => adapter.features.has(name));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info;
  const limits = {} as Record<RequestedLimit, number>;
  for (const name of requestedLimits) limits[name] = device.limits[name];
  const descriptor: WebGpuDescriptor = {
    kind, device, featureLevel, limits, skipped: [], lost: undefined,
    adapterInfo: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, backend },
    features: [...device.features].sort(),
    describe() { return describeWebGpu(this); },
  };
  void device.lost.then((loss) => {
    descriptor.lost ??= { reason: loss.reason, message: loss.message };
    // A lost device is never handed out again: the next acquireDevice() makes a new one.
    void attempts.get(kind)?.then((attempt) => {
      if (attempt.ok && attempt.descriptor.device === device) attempts.delete(kind);
    });
  });
  return descriptor;
}

function describeWebGpu(d: WebGpuDescriptor): string {
  const { vendor, architecture, device, description, backend } = d.adapterInfo;
  const adapter = [vendor, architecture, device].filter((part) => part !== '').join(' ');
  const lines = [
    `${d.kind}: ${adapter || '(unnamed adapter)'} — ${description || 'no description'} (${host.name === 'node' ? `Dawn ${backend}` : backend}, ${d.featureLevel})`,
    `  features: ${d.features.filter((f) => (wantedFeatures as readonly string[]).includes(f)).join(', ') || 'none of ' + wantedFeatures.join(', ')}`,
    `  limits: workgroup ${d.limits.maxComputeWorkgroupSizeX}×${d.limits.maxComputeWorkgroupSizeY}×${d.limits.maxComputeWorkgroupSizeZ}, ` +
      `${d.limits.maxComputeInvocationsPerWorkgroup} invocations, ${d.limits.maxComputeWorkgroupStorageSize} B shared, ` +
      `storage binding ${formatBytes(d.limits.maxStorageBufferBindingSize)}, buffer ${formatBytes(d.limits.maxBufferSize)}`,
    ...d.skipped.map((s) => `  skipped ${s.kind}: ${s.reason}`),
  ];
  if (d.lost) lines.push(`  LOST (${d.lost.reason}): ${d.lost.message}`);
  return lines.join('\n');
}

let cpuDescriptor: Promise<CpuDescriptor> | undefined;

/** The cpu device: one per process (its memory and threads are made once). */
async function openCpu(skipped: SkippedKind[]): Promise<CpuDescriptor> {
  cpuDescriptor ??= openCpuParts().then(({ parts, threads, detail }) => ({
    kind: 'cpu' as const, device: undefined, cpu: parts, threads, skipped: [], features: [],
    adapterInfo: { vendor: '', architecture: host.architecture, device: 'JS and WebAssembly kernels', description: detail, backend: 'wasm' },
    describe(this: CpuDescriptor) {
      return [`cpu: ${this.adapterInfo.description}`, ...this.skipped.map((s) => `  skipped ${s.kind}: ${s.reason}`)].join('\n');
    },
  }));
  cpuDescriptor.catch(() => (cpuDescriptor = undefined));
  const descriptor = await cpuDescriptor;
  descriptor.skipped = skipped;
  return descriptor;
}

function referenceDescriptor(skipped: SkippedKind[]): ReferenceDescriptor {
  return {
    kind: 'reference', device: undefined, features: [], skipped,
    adapterInfo: { vendor: '', architecture: '', device: 'JS reference evaluator', description: 'no WebGPU device', backend: 'none' },
    describe() {
      return ['reference: JS reference evaluator, no WebGPU device', ...skipped.map((s) => `  skipped ${s.kind}: ${s.reason}`)].join('\n');
    },
  };
}

function formatBytes(bytes: number): string {
  const [value, unit] = bytes >= 2 ** 30 ? [bytes / 2 ** 30, 'GiB'] : [bytes / 2 ** 20, 'MiB'];
  return `${Number(value.toFixed(2))} ${unit}`;
}
