// The errors the runtime raises beside GraphError: a lost device, a generated kernel
// that does not compile (a Theorbo bug), and a device out of memory.

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

export class WgslError extends Error {
  override name = 'WgslError';
}

export class DeviceMemoryError extends Error {
  override name = 'DeviceMemoryError';
}
