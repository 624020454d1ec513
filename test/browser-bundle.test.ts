// The browser entry points of graph, autodiff and codegen: each bundles with esbuild for
// `platform: 'browser'` (no externals, so a `node:` module or Dawn would fail the build or
// show in its inputs), the bundle has no `node:`/`webgpu` import or `process` read left,
// and codegen's bundle picked host/browser.ts (a Node build of the same entry picks
// host/node.ts, so the check can fail). Then the browser bundle runs in a fresh V8
// context with no `process`, `require`, navigator.gpu or Worker: the chain falls past gpu to the
// cpu device (one thread, as there is no Worker) and a compiled function there equals the reference;
// in a page that is not cross-origin isolated it falls to the reference, saying why.
// Left out: a real browser (the web app's tests drive headless Chromium).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import type * as Graph from '@theorbo/graph';
import type * as Autodiff from '@theorbo/autodiff';
import type * as Codegen from '@theorbo/codegen';

interface Bundle { T: typeof Graph; grad: typeof Autodiff.grad; acquireDevice: typeof Codegen.acquireDevice; compile: typeof Codegen.compile }

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function bundle(contents: string, platform: 'browser' | 'node', format: 'esm' | 'iife' = 'esm') {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true, platform, format, globalName: format === 'iife' ? 'theorbo' : undefined,
    write: false, metafile: true, logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0]!;
  return { text: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs), imports: output.imports };
}

/** The places a bundle still reaches for Node or Dawn: imports, requires, `process` reads. */
function nodeLeftovers(text: string): string[] {
  const patterns = [/["'](node:[\w/]+)["']/g, /\brequire\(\s*["']([^"']+)["']/g, /["'](webgpu)["']/g, /\b(process\.\w+)/g];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!));
}

for (const name of ['graph', 'autodiff', 'codegen'] as const) {
  test(`@theorbo/${name}: its browser entry bundles with esbuild, with no node: module, Dawn or process left`, async () => {
    const built = await bundle(`export * from '@theorbo/${name}';`, 'browser');
    assert.equal(built.imports, [], 'the bundle imports nothing from outside');
    assert.equal(nodeLeftovers(built.text), []);
    assert.ok(!built.inputs.some((input) => /node_modules\/.*webgpu|host\/node\.ts/.test(input)), `inputs: ${built.inputs.filter((input) => /webgpu|host/.test(input))}`);
    if (name === 'codegen') assert.ok(built.inputs.includes('packages/codegen/src/host/browser.ts'), 'the browser build takes host/browser.ts');
  });
}

test('codegen built for Node takes host/node.ts and Dawn (the check above can fail)', async () => {
  const built = await bundle(`export * from '@theorbo/codegen';`, 'node').catch((error: Error) => ({ error }));
  // Dawn's package may not bundle (a native addon); either way the Node build reaches for it.
  if ('error' in built) {
    assert.match(built.error.message, /webgpu|\.node/);
  } else {
    assert.ok(built.inputs.includes('packages/codegen/src/host/node.ts'));
    assert.ok(nodeLeftovers(built.text).some((found) => found.startsWith('node:')));
  }
});

test('the browser bundle in a context with no process or navigator.gpu: gpu → cpu (one thread), equal to the reference', async () => {
  const built = await bundle(`
    import * as T from '@theorbo/graph';
    import { grad } from '@theorbo/autodiff';
    import { acquireDevice, compile } from '@theorbo/codegen';
    export { T, grad, acquireDevice, compile };`, 'browser', 'iife');
  const page: Record<string, unknown> = {
    console, TextEncoder, TextDecoder, performance, setTimeout, clearTimeout, queueMicrotask, navigator: { hardwareConcurrency: 4 },
  };
  vm.runInNewContext(`${built.text};globalThis.theorbo = theorbo;`, page, { filename: 'browser-bundle.js' });
  // A page that is not cross-origin isolated has no shared memory: reference, saying why.
  const isolated: Record<string, unknown> = { ...page, crossOriginIsolated: false };
  delete isolated.theorbo;
  vm.runInNewContext(`${built.text};globalThis.theorbo = theorbo;`, isolated, { filename: 'browser-bundle.js' });
  const fallback = await (isolated.theorbo as Bundle).acquireDevice();
  assert.is(fallback.kind, 'reference', fallback.describe());
  assert.is(fallback.skipped.map((skip) => skip.kind).join(), 'gpu,cpu');
  assert.match(fallback.skipped[1]!.reason, /cross-origin isolated.*Cross-Origin-Opener-Policy/);
  assert.is(vm.runInNewContext('typeof process + typeof require', page), 'undefinedundefined');
  const { T, grad, acquireDevice, compile } = page.theorbo as Bundle;
  const device = await acquireDevice();
  assert.is(device.kind, 'cpu', device.describe());
  assert.is(device.kind === 'cpu' && device.threads, 1);
  assert.is(device.skipped.map((skip) => skip.kind).join(), 'gpu', device.describe());
  assert.match(device.skipped[0]!.reason, /navigator\.gpu/);
  const x = T.matrix('x');
  const w = T.matrix('w');
  const loss = T.sum(T.square(T.tanh(T.matmul(x, w))));
  const outputs = [loss, ...grad(loss, [w])];
  const xs = T.array(Array.from({ length: 12 }, (_, i) => Math.sin(i)), { dtype: 'float32', shape: [3, 4] });
  const ws = T.array(Array.from({ length: 8 }, (_, i) => Math.cos(i) / 2), { dtype: 'float32', shape: [4, 2] });
  const got = await compile({ inputs: [x, w], outputs, device })(xs, ws);
  const want = outputs.map((output) => T.evaluate(output, [[x, xs], [w, ws]]));
  for (let i = 0; i < outputs.length; i++) {
    const a = Array.from((got[i] as Graph.NDArray).data as Float32Array);
    const b = Array.from(want[i]!.data as Float32Array);
    assert.is(a.length, b.length);
    a.forEach((value, j) => assert.ok(Math.abs(value - b[j]!) <= 1e-5 * (1 + Math.abs(b[j]!)), `output ${i}[${j}]: ${value} vs ${b[j]}`));
  }
});

test.run();
