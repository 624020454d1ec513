// What the CLI prints, run as a user runs it (main.ts through tsx, a child process): no
// driver warning text by default (the suite pins cpu-webgpu, whose Dawn adapter prints
// two on every device), the device once, --device and the other global options in a
// subcommand's help, and no device for plot. Plus the stderr filter on its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../src/audio/index.ts';
import { saveNpz } from '../src/train/index.ts';
import { StderrFilter } from '../src/cli/driver-noise.ts';
import * as T from '@theorbo/graph';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'theorbo-cli-output-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const run = (...args: string[]) => {
  const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'packages/music/src/cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, all: result.stdout + result.stderr };
};
const driverNoise = /artificially reduced|maxDynamic|Couldn't load Vulkan|Warning:/;

test('StderrFilter drops the driver warnings and their source lines, passes the rest at once', () => {
  const out: string[] = [];
  const filter = new StderrFilter((text) => out.push(text));
  filter.push('Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 90 to 16 to fit dynamic offset allocation limit.\nWarn');
  filter.push('ing: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 80 to 16.\n');
  filter.push('Warning: Couldn\'t load Vulkan: libvulkan.so.1: cannot open shared object file\n    at operator() (/x/third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)\n\n');
  filter.push('\repoch 1/2 batch 3/9');
  assert.equal(out, ['\repoch 1/2 batch 3/9'], 'a progress update goes out before its line ends');
  filter.push('\ndevice: cpu-webgpu\nWarning: something else from Dawn\n');
  filter.end();
  assert.is(out.join(''), '\repoch 1/2 batch 3/9\ndevice: cpu-webgpu\nWarning: something else from Dawn\n');
  assert.is(filter.droppedLines, 5);
});

test('a device command prints no driver warnings and its device once; --verbose lets them through', () => {
  const rate = 22050;
  const samples = Float32Array.from({ length: rate }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 261.63 * i) / rate));
  writeWav(join(dir, 'tone.wav'), { sampleRate: rate, channels: [samples] });
  const quiet = run('tempo', join(dir, 'tone.wav'));
  assert.is(quiet.status, 0, quiet.all);
  assert.not.match(quiet.all, driverNoise, quiet.all);
  assert.is(quiet.stderr.match(/device: /g)?.length, 1, quiet.stderr);
  assert.match(quiet.stderr, /device: cpu-webgpu/, 'the suite pins cpu-webgpu, the device whose driver warns');
  const verbose = run('tempo', join(dir, 'tone.wav'), '--verbose');
  assert.is(verbose.status, 0, verbose.all);
  assert.match(verbose.stderr, /artificially reduced/, 'with --verbose the warnings are there: the filter, not luck, hid them');
});

test('every subcommand\'s --help lists --device, --quiet and --verbose', () => {
  for (const command of ['chroma', 'train', 'plot']) {
    const help = run(command, '--help');
    assert.is(help.status, 0, help.all);
    for (const option of ['--device <kind>', '--quiet', '--verbose']) assert.ok(help.stdout.includes(option), `${command} --help lacks ${option}:\n${help.stdout}`);
  }
});

test('plot starts no device', () => {
  saveNpz(join(dir, 'weights.npz'), { w: T.array([[1, -2], [3, 0.5]], { dtype: 'float32' }) });
  const plotted = run('plot', join(dir, 'weights.npz'), '--out', join(dir, 'plots'));
  assert.is(plotted.status, 0, plotted.all);
  assert.match(plotted.stdout, /wrote .*w\.png/);
  assert.not.match(plotted.all, /device: |artificially/, plotted.all);
});

test.run();
