// A test helper: runs one hand-written WGSL kernel on flat buffers and reads its output
// back, for the device smoke tests (not for speed; compile() is the way to run graphs).

import type { AcquiredDevice } from '../src/index.ts';

export type FlatArray = Float32Array | Uint32Array | Int32Array;
type ElementType = 'f32' | 'u32' | 'i32';
const arrayOf = { f32: Float32Array, u32: Uint32Array, i32: Int32Array } as const;
// The spec's flag values: Node has no GPUBufferUsage/GPUMapMode globals unless someone
// copies webgpu's `globals` onto globalThis, which this package does not require.
const usage = { mapRead: 0x1, copySrc: 0x4, copyDst: 0x8, storage: 0x80 } as const;
const mapModeRead = 0x1;

export interface WgslRun {
  code: string;
  /** Bound in order at @group(0) @binding(0..n-1) as storage buffers; the shader must use each. */
  inputs: FlatArray[];
  /** Bound at @binding(n) as read_write storage, zero-filled before the dispatch. */
  outputLength: number;
  outputType?: ElementType;
  workgroups: number | [number, number?, number?];
  entryPoint?: string;
}

/** Runs one compute kernel and reads its output back: for smoke tests, not for speed. */
export async function runWgsl(target: AcquiredDevice, run: WgslRun): Promise<FlatArray> {
  if (target.device === undefined) {
    throw new Error(`runWgsl needs a WebGPU device, but the acquired device is '${target.kind}'`);
  }
  if (target.lost !== undefined) {
    throw new Error(`the ${target.kind} device was lost (${target.lost.reason}: ${target.lost.message}); acquire a new one`);
  }
  const device = target.device;
  const outputBytes = run.outputLength * 4;
  const buffers: GPUBuffer[] = [];
  const storage = (bytes: number, flags: number) => {
    buffers.push(device.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage: flags }));
    return buffers[buffers.length - 1]!;
  };
  device.pushErrorScope('validation');
  let scopeOpen = true;
  try {
    const module = device.createShaderModule({ code: run.code });
    const messages = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
    if (messages.length > 0) {
      throw new Error(`WGSL does not compile:\n${messages.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n')}`);
    }
    const inputs = run.inputs.map((data) => {
      const buffer = storage(data.byteLength, usage.storage | usage.copyDst);
      device.queue.writeBuffer(buffer, 0, data);
      return buffer;
    });
    const output = storage(outputBytes, usage.storage | usage.copySrc);
    const readback = storage(outputBytes, usage.mapRead | usage.copyDst);
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: run.entryPoint ?? 'main' } });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [...inputs, output].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = typeof run.workgroups === 'number' ? [run.workgroups] : run.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    encoder.copyBufferToBuffer(output, 0, readback, 0, readback.size);
    device.queue.submit([encoder.finish()]);
    scopeOpen = false;
    const error = await device.popErrorScope();
    if (error !== null) throw new Error(`WebGPU rejected the kernel: ${error.message}`);
    await readback.mapAsync(mapModeRead);
    return new arrayOf[run.outputType ?? 'f32'](readback.getMappedRange().slice(0, outputBytes));
  } finally {
    if (scopeOpen) await device.popErrorScope();
    for (const buffer of buffers) buffer.destroy();
  }
}
