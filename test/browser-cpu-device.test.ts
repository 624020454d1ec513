// The cpu device in a real page: codegen's browser bundle (esbuild, platform 'browser')
// served cross-origin isolated (COOP/COEP, so shared WebAssembly memory exists) to Debian's
// headless Chromium through puppeteer-core. The device opens with its Web Worker pool
// (host/browser.ts: one worker per core beyond the page's own thread, sleeping in
// Atomics.waitAsync), and a matrix product big enough to be split across threads, with
// its gradient, equals the reference evaluator; the same page without the headers gets
// the cpu device's refusal naming them. A browser that cannot start fails the test.
// Left out: WebGPU in the page (test/web-browser.test.ts runs the op cases there).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import puppeteer, { type Browser } from 'puppeteer-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chromium = '/usr/bin/chromium-headless-shell';
const scratch = mkdtempSync(join(tmpdir(), 'theorbo-cpu-page-'));

// Runs in the page: the device, and the worst relative error against the reference.
const pageProgram = `
import * as T from '@theorbo/graph';
import { grad } from '@theorbo/autodiff';
import { acquireDevice, compile } from '@theorbo/codegen';
window.check = async () => {
  let device;
  try { device = await acquireDevice({ prefer: 'cpu' }); } catch (error) { return { refused: String(error.message) }; }
  const x = T.matrix('x'), w = T.matrix('w');
  const loss = T.sum(T.square(T.tanh(T.matmul(x, w))));
  const outputs = [loss, ...grad(loss, [w])];
  const xs = T.array(Array.from({ length: 192 * 160 }, (_, i) => Math.sin(i)), { dtype: 'float32', shape: [192, 160] });
  const ws = T.array(Array.from({ length: 160 * 96 }, (_, i) => Math.cos(i) / 16), { dtype: 'float32', shape: [160, 96] });
  const got = await compile({ inputs: [x, w], outputs, device })(xs, ws);
  const want = T.evaluate(outputs, [[x, xs], [w, ws]]);
  let worst = 0;
  got.forEach((array, k) => array.data.forEach((value, i) => { worst = Math.max(worst, Math.abs(value - want[k].data[i]) / (1 + Math.abs(want[k].data[i]))); }));
  return { threads: device.threads, cores: navigator.hardwareConcurrency, describe: device.describe(), worst };
};`;

let browser: Browser | undefined;
let server: http.Server | undefined;

test.after(async () => {
  await browser?.close();
  server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('the cpu device in a cross-origin isolated page runs on Web Workers and equals the reference; without isolation it says why', async () => {
  if (!existsSync(chromium)) throw new Error(`${chromium} is missing: this test needs Debian's chromium-headless-shell (scripts/setup.sh installs it)`);
  const built = await esbuild.build({ stdin: { contents: pageProgram, resolveDir: root, loader: 'ts' }, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
  const script = built.outputFiles[0]!.text;
  server = http.createServer((request, response) => {
    const isolated = request.url?.startsWith('/isolated/');
    const headers = isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
    const isScript = request.url?.endsWith('/page.js');
    response.writeHead(200, { ...headers, 'content-type': isScript ? 'text/javascript' : 'text/html' });
    response.end(isScript ? script : '<script type="module" src="page.js"></script>');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, timeout: 30_000, args: ['--no-sandbox', '--no-first-run', `--user-data-dir=${join(scratch, 'profile')}`] });
  } catch (error) {
    throw new Error(`${chromium} did not start: ${(error as Error).message}`);
  }
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  type Report = { refused?: string; threads?: number; cores?: number; describe?: string; worst?: number };
  const run = async (path: string): Promise<Report> => {
    await page.goto(`${origin}${path}`);
    await page.waitForFunction('typeof window.check === "function"', { timeout: 30_000 });
    return page.evaluate('window.check()') as Promise<Report>;
  };

  const isolated = await run('/isolated/');
  assert.equal(errors, []);
  assert.is(isolated.refused, undefined, isolated.refused);
  assert.ok(isolated.cores! >= 2, `the page reports ${isolated.cores} cores: workers would not be exercised`);
  assert.is(isolated.threads, isolated.cores, isolated.describe);
  assert.match(isolated.describe!, new RegExp(`on ${isolated.cores} of ${isolated.cores} cores`));
  assert.ok(isolated.worst! < 1e-4, `worst relative difference from the reference: ${isolated.worst}`);

  const plain = await run('/plain/');
  assert.match(plain.refused ?? '', /cross-origin isolated.*Cross-Origin-Embedder-Policy: require-corp/);
});

test.run();
