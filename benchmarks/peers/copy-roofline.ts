// The bandwidth roofline for elementwise work: a hand-written vec4 copy kernel on
// Theorbo's own device, moving x[M,N] once in and once out, which no elementwise
// kernel over x can beat. Its row is checked against its input (y == x), not the case.
// Left out: the broadcast inputs a and b (2N floats, noise beside M·N), any other kernel.
import type { WebGpuDescriptor } from '@theorbo/codegen';
import { compare, type Impl, type Prepared, type Workload } from '../harness.ts';

const usage = { mapRead: 0x1, copySrc: 0x4, copyDst: 0x8, storage: 0x80 } as const;
const workgroupSize = 256;

const copyWgsl = `
@group(0) @binding(0) var<storage, read> source: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> destination: array<vec4<f32>>;
struct Shape { count: u32, rowStride: u32 }
@group(0) @binding(2) var<uniform> shape: Shape;
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  // Two-dimensional grid: more than 65535 workgroups do not fit one dimension.
  let i = id.y * shape.rowStride + id.x;
  if (i < shape.count) { destination[i] = source[i]; }
}`;

export function copyRoofline(target: WebGpuDescriptor): Impl {
  return {
    name: 'copy roofline (WGSL vec4)',
    role: 'roofline',
    check: (workload, outputs) => compare(outputs[0], workload.inputs[0]!.data, () => 0),
    prepare: async (workload: Workload): Promise<Prepared> => {
      const x = workload.inputs[0]!.data as Float32Array;
      if (x.length % 4 !== 0) return { unavailable: `x has ${x.length} elements, not a multiple of 4` };
      const device = target.device;
      const bytes = x.byteLength;
      const source = device.createBuffer({ size: bytes, usage: usage.storage | usage.copyDst });
      const output = device.createBuffer({ size: bytes, usage: usage.storage | usage.copySrc });
      const uniforms = device.createBuffer({ size: 8, usage: 0x40 | usage.copyDst });
      device.queue.writeBuffer(source, 0, x);
      const vectors = x.length / 4;
      const groups = Math.ceil(vectors / workgroupSize);
      const groupsX = Math.min(groups, target.limits.maxComputeWorkgroupsPerDimension);
      const groupsY = Math.ceil(groups / groupsX);
      device.queue.writeBuffer(uniforms, 0, new Uint32Array([vectors, groupsX * workgroupSize]));
      device.pushErrorScope('validation');
      const module = device.createShaderModule({ code: copyWgsl });
      const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      const invalid = await device.popErrorScope();
      if (invalid !== null) throw new Error(`the copy kernel was rejected: ${invalid.message}`);
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [source, output, uniforms].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const dispatch = () => {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(groupsX, groupsY);
        pass.end();
        device.queue.submit([encoder.finish()]);
      };
      return {
        async result() {
          dispatch();
          const readback = device.createBuffer({ size: bytes, usage: usage.mapRead | usage.copyDst });
          const encoder = device.createCommandEncoder();
          encoder.copyBufferToBuffer(output, 0, readback, 0, bytes);
          device.queue.submit([encoder.finish()]);
          await readback.mapAsync(0x1);
          const data = new Float32Array(readback.getMappedRange().slice(0));
          readback.destroy();
          return [data];
        },
        step: dispatch,
        sync: () => device.queue.onSubmittedWorkDone(),
        dispose() {
          for (const buffer of [source, output, uniforms]) buffer.destroy();
        },
      };
    },
  };
}
