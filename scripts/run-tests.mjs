#!/usr/bin/env node
// The runner behind `pnpm test`: type-checks the workspace (the `check` script), then runs
// each test directory (packages/*/test, test/) with uvu through tsx, one process per
// directory, and ends with two lines: "N passed, N failed[, N skipped]" and how many
// tests that need a real GPU were not run. Tests in *.gpu.test.ts files run only when the
// device chain picks 'gpu' or THEORBO_GPU_TESTS=1; otherwise they are counted (statically,
// from their test(...) calls) and reported as not run, never as passed.
// Usage: node scripts/run-tests.mjs [--long] [--no-check] [FILTER]
//   --long      long fuzz runs (sets THEORBO_LONG=1 for the tests)
//   --no-check  skip the type-check (for machines that carry no compiler, like the GPU one)
//   FILTER      a regular expression matched against each test file's path from the root
// Left out: running directories in parallel (they would contend for one device), watch mode.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const args = process.argv.slice(2).filter((arg) => arg !== '--'); // pnpm passes `--` through
const long = args.includes('--long') || process.env.THEORBO_LONG === '1';
const typecheck = !args.includes('--no-check');
const unknownFlag = args.find((arg) => arg.startsWith('--') && !['--long', '--no-check'].includes(arg));
const positional = args.filter((arg) => !arg.startsWith('--'));
if (unknownFlag !== undefined || positional.length > 1) {
  console.error('usage: node scripts/run-tests.mjs [--long] [--no-check] [FILTER]');
  process.exit(2);
}
const filter = positional[0] === undefined ? undefined : new RegExp(positional[0], 'i');
const childEnv = { ...process.env, ...(long ? { THEORBO_LONG: '1' } : {}) };
// A directory may run this long; a process still alive this long after uvu's summary
// is held open by some handle (an undestroyed device, a timer) and counts as a failure.
const directoryTimeoutMs = (long ? 60 : 10) * 60_000;
const exitGraceMs = 15_000;
// Dawn prints these on every OpenGL ES adapter; they are about render pipelines' dynamic
// offsets, which Theorbo does not use, so they are dropped from the children's stderr.
const benignStderr = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced/;

const problems = [];
let passed = 0, failed = 0, skipped = 0;

if (typecheck) {
  const { check } = JSON.parse(readFileSync('package.json', 'utf8')).scripts;
  console.log(`typecheck: ${check}`);
  const binPath = join(root, 'node_modules', '.bin');
  const result = spawnSync(check, { shell: true, stdio: 'inherit', env: { ...process.env, PATH: `${binPath}:${process.env.PATH}` } });
  if (result.status === 0) console.log('typecheck: ok');
  else problems.push(`typecheck failed (exit ${result.status ?? result.signal}); counted as 1 failure`);
}

const directories = [
  ...readdirSync('packages').sort().map((name) => join('packages', name, 'test')),
  'test',
].filter((dir) => existsSync(dir) && statSync(dir).isDirectory());

const testFiles = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts') && !(entry.parentPath ?? entry.path).includes('node_modules'))
  .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)))
  .filter((file) => filter === undefined || filter.test(file))
  .sort();
const isGpuFile = (file) => file.endsWith('.gpu.test.ts');
const allFiles = directories.flatMap(testFiles);

const gpuDecision = decideGpuTests(allFiles.filter(isGpuFile));
// Kernel tests run on a WebGPU device (so that CI runs real WGSL, on llvmpipe without a
// GPU), not on the cpu device the chain would otherwise pick: the suite pins the best
// WebGPU kind unless THEORBO_DEVICE is set. The cpu device's own tests name it.
if (childEnv.THEORBO_DEVICE === undefined) {
  childEnv.THEORBO_DEVICE = gpuDecision.kind === 'gpu' || (gpuDecision.kind === undefined && probeKind() === 'gpu') ? 'gpu' : 'cpu-webgpu';
  console.log(`tests run WebGPU kernels on ${childEnv.THEORBO_DEVICE} (THEORBO_DEVICE pinned for the suite; the cpu device's tests name it)`);
}
let gpuNotRun = 0, gpuFilesNotRun = 0;

for (const dir of directories) {
  const files = testFiles(dir);
  const runnable = files.filter((file) => gpuDecision.run || !isGpuFile(file));
  for (const file of files.filter((file) => !runnable.includes(file))) {
    gpuNotRun += countTests(file);
    gpuFilesNotRun += 1;
  }
  if (runnable.length === 0) continue;
  console.log(`\n── ${dir} (${runnable.length} file${runnable.length === 1 ? '' : 's'}) ──`);
  const outcome = await runUvu(dir, runnable);
  if (outcome.summary === undefined) {
    failed += 1;
    problems.push(`${dir}: no uvu summary (${outcome.why}); counted as 1 failure`);
    continue;
  }
  const { total, passed: ok, skipped: skips } = outcome.summary;
  passed += ok;
  failed += total - ok;
  skipped += skips;
  if (outcome.why !== undefined) {
    if (total === ok) failed += 1;
    problems.push(`${dir}: ${outcome.why}${total === ok ? '; counted as 1 failure' : ''}`);
  }
}

if (allFiles.length === 0) problems.push(filter ? `no test file matches ${filter}` : 'no test files found');
if (problems.length > 0) console.log(`\n${problems.map((problem) => `FAILED: ${problem}`).join('\n')}`);
if (problems.some((problem) => problem.startsWith('typecheck'))) failed += 1;
console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
console.log(gpuNotRun === 0 && gpuFilesNotRun === 0
  ? `GPU tests not run: 0${gpuDecision.run ? ` (${gpuDecision.why})` : ''}`
  : `GPU tests not run: ${gpuNotRun} in ${gpuFilesNotRun} *.gpu.test.ts file${gpuFilesNotRun === 1 ? '' : 's'} (${gpuDecision.why})`);
process.exit(failed > 0 || problems.length > 0 ? 1 : 0);

/** GPU tests run when asked for, or when the device chain picks a real GPU. */
function decideGpuTests(gpuFiles) {
  if (process.env.THEORBO_GPU_TESTS === '1') return { run: true, why: 'THEORBO_GPU_TESTS=1' };
  if (gpuFiles.length === 0) return { run: false, why: 'none selected' };
  const kind = probeKind();
  if (kind === 'gpu') return { run: true, why: 'the device chain picked gpu', kind };
  return { run: false, why: `device is ${kind}; they run on a real GPU or with THEORBO_GPU_TESTS=1`, kind };
}

/** The kind the device chain picks in a child process (or why the probe failed). */
function probeKind() {
  const probe = spawnSync(process.execPath, [
    '--import', 'tsx', '--input-type=module', '-e',
    "import { acquireDevice } from './packages/codegen/src/index.ts'; const d = await acquireDevice(); console.log('DEVICE ' + d.kind);",
  ], { env: childEnv, encoding: 'utf8', timeout: 120_000 });
  return /^DEVICE (\S+)$/m.exec(probe.stdout ?? '')?.[1] ?? `unknown (device probe failed: ${(probe.stderr ?? '').trim().split('\n').pop()})`;
}

/** Counts uvu registrations: test(...) and calls of suites made with suite(...), not .skip. */
function countTests(file) {
  const source = readFileSync(file, 'utf8');
  const names = ['test', ...[...source.matchAll(/(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*suite\(/g)].map((m) => m[1])];
  const call = new RegExp(`^\\s*(?:${names.map((n) => n.replace('$', '\\$')).join('|')})(?:\\.only)?\\(`, 'gm');
  return source.match(call)?.length ?? 0;
}

/** Runs uvu on exactly `files` of `dir`, echoing its output, and parses its summary. */
function runUvu(dir, files) {
  const names = files.map((file) => relative(dir, file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const uvuArgs = [join(root, 'node_modules', 'uvu', 'bin.js'), dir, `^(${names.join('|')})$`, '-r', 'tsx'];
  if (!process.stdout.isTTY) uvuArgs.push('--no-color');
  const child = spawn(process.execPath, uvuArgs, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderrRest = '', why;
  const summaryOf = () => {
    const match = /Total:\s+(\d+)\s+Passed:\s+(\d+)\s+Skipped:\s+(\d+)\s+Duration:/.exec(stdout.replace(/\x1b\[[0-9;]*m/g, ''));
    return match && { total: Number(match[1]), passed: Number(match[2]), skipped: Number(match[3]) };
  };
  let exitTimer;
  const killTimer = setTimeout(() => { why = `timed out after ${directoryTimeoutMs / 60_000} min`; child.kill('SIGKILL'); }, directoryTimeoutMs);
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    stdout += chunk;
    if (exitTimer === undefined && summaryOf()) {
      exitTimer = setTimeout(() => {
        why = `process still running ${exitGraceMs / 1000} s after its summary: a handle (a WebGPU device? a timer?) keeps Node alive`;
        child.kill('SIGKILL');
      }, exitGraceMs);
    }
  });
  child.stderr.on('data', (chunk) => {
    const lines = (stderrRest + chunk).split('\n');
    stderrRest = lines.pop();
    const kept = lines.filter((line) => !benignStderr.test(line));
    if (kept.length > 0) process.stderr.write(kept.join('\n') + '\n');
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(exitTimer);
      if (stderrRest !== '' && !benignStderr.test(stderrRest)) process.stderr.write(stderrRest + '\n');
      if (why === undefined && code !== 0) why = `exited with ${signal ?? `code ${code}`}`;
      const summary = summaryOf() ?? undefined;
      // uvu exits 1 when a test failed; that is already in the counts, not a separate problem.
      if (summary !== undefined && code === 1 && summary.total > summary.passed && why === 'exited with code 1') why = undefined;
      resolve({ summary, why });
    });
  });
}
