// The kinds of device the chain offers, best first (a leaf module: tuning and the
// environment name kinds without importing the device chain itself).

export const deviceKinds = ['gpu', 'cpu', 'cpu-webgpu', 'reference'] as const;
export type DeviceKind = (typeof deviceKinds)[number];
