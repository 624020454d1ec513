// @theorbo/codegen: lowering graphs to WGSL and running them through WebGPU.
// For now only the device chain and a one-kernel runner live here.
export {
  acquireDevice, releaseDevices, requestedKind, runWgsl,
  deviceKinds, requestedLimits, wantedFeatures,
} from './device.ts';
export type {
  AcquiredDevice, AcquireOptions, AdapterSummary, DeviceKind, DeviceLoss, FlatArray,
  ReferenceDescriptor, RequestedLimit, SkippedKind, WebGpuDescriptor, WgslRun,
} from './device.ts';
