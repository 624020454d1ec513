// Builds and serves the web app with esbuild. `pnpm web:build` writes a minified bundle,
// index.html, style.css and the shipped chord model (models/default: weights.npz and
// config.json, which Listen fetches) to web/dist and prints the bundle's size gzipped (it
// fails past the 500 kB budget; the model is a file of its own, 177 kB); `pnpm web` builds with source maps and serves web/dist on
// localhost (WebGPU needs a secure context, which localhost is; the headers make the page
// cross-origin isolated for the cpu device's threads), printing the URL.
// The packages resolve through their `browser` export conditions; a Node-only import
// that reaches the bundle fails the build with esbuild's message naming the importer.
// Usage: tsx web/build.ts build | serve [--port N]
// Left out: hashing file names, a dev server with live reload.

import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const webDir = dirname(fileURLToPath(import.meta.url));
export const gzipBudget = 500 * 1024;

export interface WebBuildOptions {
  /** Default web/dist. */
  outdir?: string;
  /** Minify and drop source maps (default true). */
  production?: boolean;
  /** More pages to bundle beside main.js, e.g. the browser tests' page: name → entry path. */
  extraEntries?: Record<string, string>;
}

export interface WebBuild { outdir: string; bundleBytes: number; gzipBytes: number }

/** Bundles the app (and any extra entries) into `outdir` with index.html and style.css. */
export async function buildWeb(options: WebBuildOptions = {}): Promise<WebBuild> {
  const outdir = options.outdir ?? join(webDir, 'dist');
  const production = options.production ?? true;
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: { main: join(webDir, 'src/main.ts'), ...options.extraEntries },
    outdir, bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    minify: production, sourcemap: production ? false : 'linked', logLevel: 'warning', legalComments: 'none',
  });
  for (const file of ['index.html', 'style.css']) copyFileSync(join(webDir, file), join(outdir, file));
  // The shipped chord model beside the page, for Listen (engine.ts fetches it).
  const models = join(outdir, 'models', 'default');
  mkdirSync(models, { recursive: true });
  for (const file of ['weights.npz', 'config.json']) copyFileSync(join(webDir, '..', 'packages', 'music', 'models', 'default', file), join(models, file));
  const bundle = readFileSync(join(outdir, 'main.js'));
  return { outdir, bundleBytes: bundle.length, gzipBytes: gzipSync(bundle, { level: 9 }).length };
}

const contentTypes: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.map': 'application/json', '.json': 'application/json', '.npz': 'application/octet-stream' };

/**
 * Serves `directory` on localhost. The headers make the page cross-origin isolated, which
 * the cpu device's worker threads (SharedArrayBuffer) need where the browser has no WebGPU.
 */
export async function serveDirectory(directory: string, port = 0): Promise<Server> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = resolve(directory, `.${path === '/' ? '/index.html' : path}`);
    if (!file.startsWith(resolve(directory)) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    response.writeHead(200, {
      'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-store',
    }).end(readFileSync(file));
  });
  await new Promise<void>((done, fail) => server.once('error', fail).listen(port, '127.0.0.1', done));
  return server;
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} kB`;

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command === 'build') {
    const built = await buildWeb();
    console.log(`web:build: ${built.outdir}/main.js ${kib(built.bundleBytes)}, ${kib(built.gzipBytes)} gzipped (budget ${kib(gzipBudget)})`);
    if (built.gzipBytes > gzipBudget) {
      console.error(`web:build: the bundle is ${kib(built.gzipBytes)} gzipped, over the ${kib(gzipBudget)} budget`);
      process.exit(1);
    }
  } else if (command === 'serve') {
    const portFlag = rest.indexOf('--port');
    const port = portFlag >= 0 ? Number(rest[portFlag + 1]) : 5173;
    if (!(Number.isInteger(port) && port > 0 && port < 65536)) throw new Error(`web: --port must be a port number, not ${rest[portFlag + 1]}`);
    const built = await buildWeb({ production: false });
    const server = await serveDirectory(built.outdir, port);
    console.log(`web: serving ${built.outdir} at http://localhost:${(server.address() as AddressInfo).port}/ (Ctrl-C stops; rerun pnpm web after a change)`);
  } else {
    console.error('usage: tsx web/build.ts build | serve [--port N]');
    process.exit(2);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`web: ${error.message}`);
    process.exit(1);
  });
}
