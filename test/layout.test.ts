// The rules of the codebase's layout, checked on the source text so that they hold as it
// grows: no import cycle among a package's modules (type-only imports included: a cycle
// of types is still two modules that cannot be read apart), no package reaching into
// another's files by a relative path, imports flowing graph ← autodiff ← codegen ← music,
// and no module of codegen reading environment variables except environment.ts, which
// maps them onto typed options.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['graph', 'autodiff', 'codegen', 'music'] as const;

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
}

/** The specifiers a module imports or re-exports (static forms, type-only included). */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s+['"]([^'"]+)['"]/gm)) found.push(match[1]!);
  for (const match of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(match[1]!);
  return found;
}

function graphOf(pkg: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(join(root, 'packages', pkg, 'src'))) {
    const local = importsOf(readFileSync(file, 'utf8')).filter((spec) => spec.startsWith('.')).map((spec) => resolve(dirname(file), spec));
    graph.set(file, local);
  }
  return graph;
}

/** One cycle of the graph, as a list of files, or undefined. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  let cycle: string[] | undefined;
  const visit = (file: string): void => {
    if (cycle || state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycle = [...stack.slice(stack.indexOf(file)), file];
      return;
    }
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file);
  return cycle?.map((file) => relative(root, file));
}

for (const pkg of packages) {
  test(`${pkg}: no import cycles among its modules`, () => {
    const cycle = findCycle(graphOf(pkg));
    assert.is(cycle, undefined, `import cycle: ${cycle?.join(' → ')}`);
  });
}

test('the cycle search finds a cycle where there is one', () => {
  const graph = new Map([[join(root, 'a.ts'), [join(root, 'b.ts')]], [join(root, 'b.ts'), [join(root, 'a.ts')]], [join(root, 'c.ts'), []]]);
  assert.equal(findCycle(graph), ['a.ts', 'b.ts', 'a.ts']);
  assert.is(findCycle(new Map([[join(root, 'c.ts'), []]])), undefined);
});

test('imports flow graph ← autodiff ← codegen ← music, by package name, never by a relative path into another package', () => {
  const problems: string[] = [];
  packages.forEach((pkg, rank) => {
    const own = join(root, 'packages', pkg);
    for (const file of sources(join(own, 'src'))) {
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const where = relative(root, file);
        if (spec.startsWith('.') && !resolve(dirname(file), spec).startsWith(own + '/')) problems.push(`${where} imports ${spec}, outside its package`);
        const named = /^@theorbo\/([a-z]+)/.exec(spec)?.[1];
        if (named !== undefined && packages.indexOf(named as (typeof packages)[number]) >= rank) problems.push(`${where} imports @theorbo/${named}, which does not come before ${pkg}`);
      }
    }
  });
  assert.equal(problems, []);
});

test('codegen reads environment variables only in environment.ts', () => {
  const readers = sources(join(root, 'packages', 'codegen', 'src'))
    .filter((file) => /process\.env|\.env\b\s*\?\.|process\?\.env/.test(readFileSync(file, 'utf8')))
    .map((file) => relative(root, file));
  assert.equal(readers, ['packages/codegen/src/environment.ts']);
});

test.run();
