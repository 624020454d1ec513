// `pnpm run docs` (scripts/docs.ts, TypeDoc): the option file's entry points and pages
// exist, one per package, each index carrying its @module name; the CLI page's command
// list is read from commander's help layout. The real build (25 s to nearly 3 min on the
// shared 2 cores) runs only with THEORBO_LONG=1 (`node scripts/run-tests.mjs --long`),
// and then must finish with no warning and write a page per package, the guide and the
// CLI page.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandNames } from '../scripts/docs.ts';

const root = join(import.meta.dirname, '..');
const options = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[]; projectDocuments: string[]; readme: string; out: string };

test('typedoc.json: an entry point per package, each a module named after its package; the guide and index pages exist', () => {
  assert.equal(options.entryPoints, ['graph', 'autodiff', 'codegen', 'music'].map((name) => `packages/${name}/src/index.ts`));
  for (const entry of options.entryPoints) {
    const name = `@theorbo/${entry.split('/')[1]}`;
    assert.match(readFileSync(join(root, entry), 'utf8'), new RegExp(`^/\\*\\*[\\s\\S]*?@module ${name}\\n[\\s\\S]*?\\*/`), `${entry} opens with its module comment`);
  }
  for (const page of [options.readme, ...options.projectDocuments.filter((path) => !path.includes('/generated/'))]) assert.ok(existsSync(join(root, page)), page);
  assert.ok(readFileSync(join(root, '.gitignore'), 'utf8').includes(`/${options.out}/`), 'the output is git-ignored');
});

test('the CLI page\'s commands come from theorbo --help', () => {
  const help = 'Usage: theorbo [options] [command]\n\nOptions:\n  --device <kind>  gpu\n\nCommands:\n  synth [options]          synthesize\n  chords [options] <audio...>  recognize\n  help [command]           display help for command\n';
  assert.equal(commandNames(help), ['synth', 'chords']);
});

test('the real build (THEORBO_LONG=1): no warnings, a page per package, the guide and the CLI page', () => {
  if (process.env.THEORBO_LONG !== '1') return; // up to minutes: with the long runs only
  const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'docs.ts')], { cwd: root, encoding: 'utf8' });
  assert.is(result.status, 0, result.stdout + result.stderr);
  assert.not.match(result.stdout + result.stderr, /warning/i, result.stdout + result.stderr);
  for (const name of ['graph', 'autodiff', 'codegen', 'music']) assert.ok(existsSync(join(root, options.out, 'modules', `_theorbo_${name}.html`)), name);
  const cli = readFileSync(join(root, 'docs', 'api-pages', 'generated', 'theorbo-cli.md'), 'utf8');
  for (const command of ['synth', 'train', 'chords', 'chroma', 'demo']) assert.match(cli, new RegExp(`^## ${command}$`, 'm'));
});

test.run();
