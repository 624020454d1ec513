// @jax-js/jax as a peer, on its WebGPU backend (the same Dawn adapter as Theorbo) and on
// its Wasm backend (a CPU peer). Every case is one jit-compiled function, as a jax-js
// user would write it; jax-js is lazy, so a kernel step asks for its result at once
// (blockUntilReady, not awaited) to make the work happen, while training steps chain
// through their parameters and are forced only by the sync.
// Left out: jax-js's WebGL and interpreted-CPU backends.
import type * as Jax from '@jax-js/jax';
import type { CaseName, HostTensor, Prepared, Runner, Workload } from '../harness.ts';

type JaxModule = typeof Jax;
type JaxArray = Jax.Array;
export type JaxDevice = 'webgpu' | 'wasm';
export interface JaxPeer {
  device: JaxDevice;
  cases: Partial<Record<CaseName, (workload: Workload) => Promise<Prepared>>>;
}

/** Initializes one jax-js backend; for 'webgpu', navigator.gpu must already be installed. */
export async function loadJax(device: JaxDevice): Promise<JaxPeer | { unavailable: string }> {
  try {
    const jax: JaxModule = await import('@jax-js/jax');
    const started = await jax.init(device);
    if (!started.includes(device)) return { unavailable: `jax-js could not start its ${device} backend (it started: ${started.join(', ') || 'none'})` };
    return { device, cases: jaxCases(jax, device) };
  } catch (error) {
    return { unavailable: `jax-js (${device}) failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function jaxCases(jax: JaxModule, device: JaxDevice): JaxPeer['cases'] {
  const { numpy: np, nn, lax } = jax;
  const upload = (input: HostTensor): JaxArray =>
    np.array(input.data, { shape: input.shape, dtype: input.data instanceof Int32Array ? np.int32 : np.float32, device });
  const kernel = (body: (...inputs: JaxArray[]) => JaxArray) => async (workload: Workload): Promise<Prepared> =>
    kernelRunner(jax, jax.jit(body), workload.inputs.map(upload));
  return {
    // Each argument is owned by the call; `.ref` keeps x alive for its later uses.
    'elementwise': kernel((x, a, b) => np.tanh(x!.ref.mul(a!).add(b!)).mul(nn.sigmoid(x!.ref)).sub(np.exp(np.negative(np.square(x!))))),
    'affine': kernel((x, a, b) => x!.mul(a!).add(b!)),
    'sum-last': kernel((x) => np.sum(x!, -1)),
    'sum-all': kernel((x) => np.sum(x!)),
    'softmax': kernel((x) => nn.softmax(x!, -1)),
    'matmul': kernel((a, b) => np.matmul(a!, b!)),
    // lax.convGeneralDilated takes our layouts (x [N, C, ...], w [F, C, ...]) as they are.
    'conv2d': async (workload) => {
      const { stride, padding } = workload.params!;
      return kernel((x, w) => lax.convGeneralDilated(x!, w!, [stride!, stride!], [[padding!, padding!], [padding!, padding!]]))(workload);
    },
    'conv1d-audio': async (workload) => {
      const { stride, padding } = workload.params!;
      return kernel((x, w) => lax.convGeneralDilated(x!, w!, [stride!], [[padding!, padding!]]))(workload);
    },
    // valueAndGrad inside jit: [loss, ∂/∂x, ∂/∂w] from one compiled function.
    'conv2d-train': async (workload) => {
      const { stride, padding } = workload.params!;
      const loss = (x: JaxArray, w: JaxArray, g: JaxArray) =>
        np.sum(lax.convGeneralDilated(x, w, [stride!, stride!], [[padding!, padding!], [padding!, padding!]]).mul(g));
      const step = jax.jit((x: JaxArray, w: JaxArray, g: JaxArray) => {
        const [value, [dx, dw]] = jax.valueAndGrad(loss, { argnums: [0, 1] })(x, w, g);
        return [value, dx, dw];
      });
      return kernelRunner(jax, step, workload.inputs.map(upload));
    },
    'rnn': async (workload) => rnnRunner(jax, workload, upload, false),
    'rnn-train': async (workload) => rnnRunner(jax, workload, upload, true),
    'train-step': async (workload) => trainRunner(jax, workload, upload),
  };
}

/**
 * The tanh RNN: jax-js 0.1.25 has no lax.scan, so the loop is JavaScript, over a jit'd
 * step (matmul, add, tanh: one compiled cell called T times, as a jax-js user without
 * scan would write it; jit of the whole unrolled loop took 19 s to compile at 100 steps
 * on llvmpipe and had not finished after 400 s at 1000). The input projection is one
 * matmul before the loop, np.stack gathers every h. `train`: valueAndGrad of Σ h·g with
 * respect to Wx, Wh and b, through the jit'd cells.
 */
function rnnRunner(jax: JaxModule, workload: Workload, upload: (input: HostTensor) => JaxArray, train: boolean): Runner {
  const { numpy: np } = jax;
  const { T, B, I, H } = workload.sizes as { T: number; B: number; I: number; H: number };
  const [x, wx, wh, b, g] = workload.inputs.map(upload) as [JaxArray, JaxArray, JaxArray, JaxArray, JaxArray?];
  const device = x.device;
  const cell = jax.jit((row: JaxArray, h: JaxArray, recurrent: JaxArray) => np.tanh(row.add(np.matmul(h, recurrent))));
  // Owns its arguments, as jax-js functions do.
  const states = (xs: JaxArray, wxIn: JaxArray, whIn: JaxArray, bIn: JaxArray): JaxArray => {
    const projected = np.matmul(xs.reshape([T * B, I]), wxIn).add(bIn).reshape([T, B, H]);
    let h = np.zeros([B, H], { device });
    const hs: JaxArray[] = [];
    for (let t = 0; t < T; t++) {
      h = cell(projected.ref.slice(t), h, whIn.ref);
      hs.push(h.ref);
    }
    projected.dispose();
    whIn.dispose();
    h.dispose();
    return np.stack(hs);
  };
  // The loss sums the last axis first: jax-js 0.1.25's np.sum over all of a [10,32,256]
  // array came out wrong on llvmpipe's WebGPU (82.1 for a host sum of 56.6; Wasm right),
  // while sums over the last axis, then the rest, agree with the host.
  const lossAndGrads = jax.valueAndGrad((wxIn: JaxArray, whIn: JaxArray, bIn: JaxArray) => np.sum(np.sum(states(x.ref, wxIn, whIn, bIn).mul(g!.ref), -1)), { argnums: [0, 1, 2] });
  const call = (): JaxArray[] => {
    if (!train) return [states(x.ref, wx.ref, wh.ref, b.ref)];
    const [value, grads] = lossAndGrads(wx.ref, wh.ref, b.ref);
    return [value, ...grads];
  };
  return callRunner(jax, call, () => {
    for (const a of [x, wx, wh, b, ...(g ? [g] : [])]) a.dispose();
    cell.dispose();
  });
}

/** Runs a jit function of one output or a list of them. */
function kernelRunner(jax: JaxModule, fn: Jax.OwnedFunction<(...args: JaxArray[]) => JaxArray | JaxArray[]>, inputs: JaxArray[]): Runner {
  return callRunner(jax, () => {
    const out = fn(...inputs.map((x) => x.ref));
    return Array.isArray(out) ? out : [out];
  }, () => {
    for (const x of inputs) x.dispose();
    fn.dispose();
  });
}

/** A runner over `call`, which returns fresh outputs each time; `dispose` releases what the runner holds. */
function callRunner(jax: JaxModule, call: () => JaxArray[], dispose: () => void): Runner {
  let inflight: Promise<unknown>[] = [];
  return {
    async result() {
      return Promise.all(call().map(async (out) => Float32Array.from(await out.data())));
    },
    step() {
      // Disposing an array whose work was never submitted cancels the work, so each step
      // submits now and releases its outputs once done.
      inflight.push(jax.blockUntilReady(call()).then((outs) => jax.tree.dispose(outs)));
    },
    async sync() {
      await Promise.all(inflight);
      inflight = [];
    },
    dispose,
  };
}

/** The talk's step as valueAndGrad inside jit; the parameters thread from step to step. */
function trainRunner(jax: JaxModule, workload: Workload, upload: (input: HostTensor) => JaxArray): Runner {
  const { numpy: np, nn } = jax;
  const [x, y, templates, ...initial] = workload.inputs.map(upload) as [JaxArray, JaxArray, JaxArray, ...JaxArray[]];
  const eta = workload.params!.learningRate!;
  const loss = (params: JaxArray[], xs: JaxArray, labels: JaxArray, table: JaxArray) => {
    let h = xs;
    for (let l = 0; l < 3; l++) h = nn.relu(np.matmul(h, params[2 * l]!).add(params[2 * l + 1]!));
    return np.mean(np.square(h.sub(np.take(table, labels, 0))));
  };
  const step = jax.jit((params: JaxArray[], xs: JaxArray, labels: JaxArray, table: JaxArray) => {
    const [value, grads] = jax.valueAndGrad(loss)(params.map((p) => p.ref), xs, labels, table);
    return [value, params.map((p, i) => p.sub(grads[i]!.mul(eta)))] as [JaxArray, JaxArray[]];
  });
  let params = initial;
  let latestLoss: JaxArray | undefined;
  const advance = () => {
    latestLoss?.dispose();
    [latestLoss, params] = step(params, x.ref, y.ref, templates.ref);
  };
  return {
    async result() {
      advance();
      const read = [latestLoss!, ...params].map(async (a) => Float32Array.from(await a.ref.data()));
      return Promise.all(read);
    },
    step: advance,
    async sync() {
      await jax.blockUntilReady([latestLoss!, ...params]);
    },
    dispose() {
      for (const a of [x, y, templates, ...params, ...(latestLoss ? [latestLoss] : [])]) a.dispose();
      step.dispose();
    },
  };
}
