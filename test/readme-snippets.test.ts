// Every TypeScript snippet of the README is type-checked and run. `pnpm check` (and so
// `pnpm test`'s first step) writes them to test/readme-snippets/ with
// scripts/readme-snippets.ts before tsc, whose tsconfig includes test/; this test checks
// that hook-up and runs each runnable snippet with tsx on the cpu device (a few seconds
// each), failing on a non-zero exit or no output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractSnippets, snippetPath, writeSnippets } from '../scripts/readme-snippets.ts';

const root = join(import.meta.dirname, '..');

test('extractSnippets: ts and typescript blocks with their lines, the types-only mark, an unclosed block refused', () => {
  const markdown = ['# x', '```ts', 'const a = 1;', '```', '<!-- snippet: types only -->', '```typescript', 'let b: number;', '```', '```js', 'no', '```'].join('\n');
  assert.equal(extractSnippets(markdown), [{ line: 2, code: 'const a = 1;', run: true }, { line: 6, code: 'let b: number;', run: false }]);
  assert.throws(() => extractSnippets('```ts\nconst a = 1;'), /README\.md line 1: a ```ts block that never closes/);
});

test('pnpm check type-checks the README\'s snippets: it writes them where tsconfig.json includes them, first', () => {
  const check = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.check!;
  assert.match(check, /^tsx scripts\/readme-snippets\.ts && tsc -p tsconfig\.json/);
  assert.ok((JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include: string[] }).include.includes('test'), 'tsconfig.json includes test/, where the snippets are written');
  const snippets = writeSnippets();
  assert.ok(snippets.length >= 2, `the README has ${snippets.length} TypeScript snippets`);
  for (const snippet of snippets) assert.ok(readFileSync(snippetPath(snippet), 'utf8').includes(snippet.code), `README line ${snippet.line}`);
});

test('every runnable README snippet runs (cpu device)', () => {
  const snippets = writeSnippets().filter((snippet) => snippet.run);
  assert.ok(snippets.length >= 2, 'the graph API and saved-graph snippets run');
  for (const snippet of snippets) {
    const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [snippetPath(snippet)], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, THEORBO_DEVICE: 'cpu' } });
    assert.is(result.status, 0, `README line ${snippet.line} failed:\n${result.stdout}${result.stderr}`);
    assert.ok(result.stdout.trim().length > 0, `README line ${snippet.line} printed nothing`);
  }
});

test.run();
