// @theorbo/codegen: the device chain, compile() to fused WGSL kernels, and the WebGPU runtime.

export {
  acquireDevice, deviceKinds, releaseDevices, requestedKind, requestedLimits, runWgsl, wantedFeatures,
} from './device.ts';
export type {
  AcquiredDevice, AcquireOptions, AdapterSummary, DeviceKind, DeviceLoss, FlatArray, ReferenceDescriptor,
  RequestedLimit, SkippedKind, WebGpuDescriptor, WgslRun,
} from './device.ts';
export { compile, type CompiledFunction, type CompileMode, type CompileSpec, type InputValue } from './compile.ts';
export { DeviceTensor } from './runtime/device-tensor.ts';
export { DeviceLostError, DeviceMemoryError, WgslError, runtimeFor } from './runtime/runtime.ts';
export { createPipeline } from './runtime/plan.ts';
export { readShared } from './runtime/read.ts';
export { partition, type Kernel, type KernelKind } from './lower/partition.ts';
export { specialize } from './lower/specialize.ts';
