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
    'train-step': async (workload) => trainRunner(jax, workload, upload),
  };
}

/** Runs a jit function of one output or a list of them. */
function kernelRunner(jax: JaxModule, fn: Jax.OwnedFunction<(...args: JaxArray[]) => JaxArray | JaxArray[]>, inputs: JaxArray[]): Runner {
  let inflight: Promise<unknown>[] = [];
  const call = () => {
    const out = fn(...inputs.map((x) => x.ref));
    return Array.isArray(out) ? out : [out];
  };
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
    dispose() {
      for (const x of inputs) x.dispose();
      fn.dispose();
    },
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
