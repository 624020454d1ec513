/**
 * The device chain, compile() to fused WGSL kernels, and the WebGPU runtime.
 *
 * @module @theorbo/codegen
 */

export {
  acquireDevice, acquireWebGpuDevice, deviceKinds, releaseDevices, requestedKind, requestedLimits, wantedFeatures,
} from './device.ts';
export type {
  AcquiredDevice, AcquireOptions, AdapterSummary, CpuDescriptor, DeviceKind, DeviceLoss, ReferenceDescriptor,
  RequestedLimit, SkippedKind, WebGpuDescriptor,
} from './device.ts';
export { compile, type CompiledFunction, type CompileMode, type CompileSpec, type InputValue } from './compile.ts';
export { DeviceTensor } from './runtime/device-tensor.ts';
export { toDevice } from './runtime/to-device.ts';
export { runtimeFor } from './runtime/runtime.ts';
export { DeviceLostError, DeviceMemoryError, WgslError } from './runtime/errors.ts';
export { createPipeline } from './runtime/plan.ts';
export { readShared } from './runtime/read.ts';
export { partition } from './lower/partition.ts';
export type { Kernel, KernelKind } from './lower/kernel.ts';
export { instantiate } from './lower/instantiate.ts';
export { defaultTuning, resolveTuning, undecidedOptions, type Tuning, type TuningOptions } from './tuning.ts';
export { tuningFromEnvironment } from './environment.ts';
/** The WebAssembly encoder the cpu device renders its kernels with, for small host-side modules (music's resampler). */
export { ModuleBuilder, type FunctionBuilder, type Local } from './cpu/wasm-encode.ts';
