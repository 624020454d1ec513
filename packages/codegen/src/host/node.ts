// The Node host: WebGPU adapters from Dawn (the `webgpu` package, imported on first use,
// so a process pinned to the cpu or reference device never loads it), worker_threads for
// the cpu device's pool, V8 flags, and the file checks that sharpen Dawn's errors.
// Left out: choosing among several GPUs beyond Dawn's 'high-performance' pick.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import { MessageChannel, Worker } from 'node:worker_threads';
import { dawnBackend, librarySearchPaths, useSurfacelessEgl } from '../environment.ts';
import { poolWorkerFunctions, slot, workerLoopSource } from '../cpu/pool-layout.ts';
import type { AdapterAttempt, Host, PoolWorker, PoolWorkerData, WebGpuKind } from './types.ts';

// Dawn's instance (what create() returns) must outlive every device made from it: once
// the garbage collector takes it, the next call on such a device kills the process with
// SIGSEGV or SIGABRT. So each kind's instance is made once and held for the process's
// life; holding it does not keep Node from exiting.
const instances = new Map<WebGpuKind, Promise<GPU>>();
function instance(kind: WebGpuKind, makeOptions: () => string[]): Promise<GPU> {
  let gpu = instances.get(kind);
  if (gpu === undefined) instances.set(kind, (gpu = import('webgpu').then(({ create }) => create(makeOptions()))));
  return gpu;
}

const nativeBackend = ({ linux: 'vulkan', darwin: 'metal', win32: 'd3d12' } as Record<string, string>)[process.platform] ?? 'unknown';

async function openGpu(): Promise<AdapterAttempt> {
  const backend = dawnBackend() || nativeBackend;
  if (backend === 'vulkan' && process.platform === 'linux' && libraryMissing('libvulkan.so.1')) {
    return { ok: false, reason: 'no Vulkan loader (libvulkan.so.1) on this machine, so Dawn has no GPU backend; install libvulkan1 and the GPU vendor\'s driver' };
  }
  const adapter = await (await instance('gpu', () => [])).requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    return { ok: false, reason: `Dawn's ${backend} backend found no adapter: no GPU, or its driver has no ${backend} support` };
  }
  const software = /llvmpipe|lavapipe|swiftshader|softpipe|software|\bcpu\b/i;
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.device, info.description].join(' ');
  if (info.isFallbackAdapter || software.test(name)) {
    return { ok: false, reason: `Dawn's ${backend} adapter is a software rasterizer (${name.trim()}), not a GPU` };
  }
  return { ok: true, adapter, backend, featureLevel: 'core' };
}

async function openCpuWebGpu(): Promise<AdapterAttempt> {
  let eglPlatform = '';
  const gpu = await instance('cpu-webgpu', () => {
    eglPlatform = useSurfacelessEgl();
    return ['backend=opengles'];
  });
  const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
  if (adapter === null) {
    const missing = process.platform === 'linux' ? missingMesaPieces() : [];
    const detail = missing.length > 0 ? `missing: ${missing.join(', ')}` : 'the EGL libraries look present, so Dawn\'s warning on stderr says why';
    return {
      ok: false,
      reason: `no WebGPU adapter from Dawn's OpenGL ES backend (EGL_PLATFORM=${eglPlatform || useSurfacelessEgl()}, featureLevel 'compatibility'); ${detail}. On Debian: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri (scripts/setup.sh does this)`,
    };
  }
  return { ok: true, adapter, backend: 'opengles', featureLevel: 'compatibility' };
}

// Library checks only sharpen error messages: they read the dynamic linker's cache and
// LD_LIBRARY_PATH, and where there is no cache they say nothing is missing and let Dawn try.
function libraryMissing(soname: string): boolean {
  const dirs = librarySearchPaths().libraries;
  if (dirs.some((dir) => existsSync(`${dir}/${soname}`))) return false;
  try {
    return !readFileSync('/etc/ld.so.cache').includes(soname);
  } catch {
    return false;
  }
}

function missingMesaPieces(): string[] {
  const missing: string[] = [];
  if (libraryMissing('libEGL.so.1')) missing.push('libEGL.so.1 (Debian package libegl1)');
  if (libraryMissing('libEGL_mesa.so.0')) missing.push('libEGL_mesa.so.0 (libegl-mesa0)');
  // Mesa searches LIBGL_DRIVERS_PATH instead of its built-in directories when it is set.
  const driverDirs = librarySearchPaths().glDrivers
    ?? [`/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/dri`, '/usr/lib64/dri', '/usr/lib/dri'];
  if (!driverDirs.some((dir) => existsSync(`${dir}/swrast_dri.so`))) {
    missing.push('Mesa\'s swrast_dri.so (libgl1-mesa-dri)');
  }
  return missing;
}

/** The pool's worker program under Node: modules arrive on a port, read synchronously. */
const workerSource = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const v8 = require('node:v8');
for (const flag of workerData.v8Flags) v8.setFlagsFromString(flag);
const receiveModule = () => receiveMessageOnPort(workerData.port).message;
${poolWorkerFunctions}
${workerLoopSource({ sleep: `Atomics.wait(control, ${slot.word}, seen);`, receive: 'receiveModule()' })}
workerData.port.close();
`;

/**
 * A worker_threads Worker running the pool's loop, with a port the main thread posts
 * compiled modules to (read synchronously with receiveMessageOnPort).
 */
function startPoolWorker(data: PoolWorkerData): Promise<PoolWorker> {
  const { port1, port2 } = new MessageChannel();
  // execArgv: [] — the source is plain CommonJS and needs no loader; inheriting the parent's
  // flags would make `node --input-type=module -e …` run it as a module, where `require` is
  // undefined, and the pool would wait for a worker that died.
  const worker = new Worker(workerSource, { eval: true, execArgv: [], workerData: { ...data, port: port2 }, transferList: [port2] });
  port1.unref();
  // Referenced until it is online, or the process could exit while we wait for it.
  let stopped: string | undefined;
  worker.on('error', (error) => void (stopped ??= `it raised ${error.stack ?? error}`));
  worker.once('exit', (code) => void (stopped ??= `it exited with code ${code}`));
  return new Promise((resolve, reject) => {
    worker.once('online', () => {
      worker.unref();
      resolve({ post: (message) => port1.postMessage(message), terminate: () => worker.terminate(), stopped: () => stopped });
    });
    worker.once('error', reject);
  });
}

export const host: Host = {
  name: 'node',
  webGpuKinds: ['gpu', 'cpu-webgpu'],
  requestAdapter: (kind) => (kind === 'gpu' ? openGpu() : openCpuWebGpu()),
  architecture: process.arch,
  cores: () => os.availableParallelism(),
  cpuUnavailable: () => undefined,
  maxPoolThreads: Number.POSITIVE_INFINITY,
  mainThreadCanWait: true,
  startPoolWorker,
  setV8Flag(flag) {
    try { v8.setFlagsFromString(flag); } catch { /* not a V8 that takes it */ }
    return true;
  },
  onExit: (callback) => void process.once('exit', callback),
  writeError: (text) => void process.stderr.write(text),
};
