// The README's TypeScript snippets (```ts and ```typescript blocks) as files, so that
// `pnpm check` type-checks them with the workspace (tsconfig.json includes
// test/readme-snippets/, git-ignored, written here first by the check script) and
// test/readme-snippets.test.ts runs them. Each becomes test/readme-snippets/readme-<line>.ts,
// a module (so top-level await works and the snippets' names do not meet), its first
// line naming the README line it came from. A block preceded by the comment
// `<!-- snippet: types only -->` is type-checked but not run.
// Left out: blocks in other languages, and other markdown files.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Snippet {
  /** The README line of the opening fence, from 1. */
  line: number;
  code: string;
  run: boolean;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const snippetDir = join(root, 'test', 'readme-snippets');

/** The ```ts / ```typescript blocks of a markdown text. */
export function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const end = lines.findIndex((text, j) => j > i && /^```\s*$/.test(text));
    if (end < 0) throw new Error(`README.md line ${i + 1}: a \`\`\`ts block that never closes.`);
    const run = !/<!--\s*snippet:\s*types only\s*-->/.test(lines.slice(Math.max(0, i - 2), i).join('\n'));
    snippets.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n'), run });
    i = end;
  }
  return snippets;
}

/** The file a snippet is written to. */
export const snippetPath = (snippet: Snippet): string => join(snippetDir, `readme-${snippet.line}.ts`);

/** Writes every snippet of README.md into test/readme-snippets/ (replacing what was there); returns them. */
export function writeSnippets(): Snippet[] {
  const snippets = extractSnippets(readFileSync(join(root, 'README.md'), 'utf8'));
  mkdirSync(snippetDir, { recursive: true });
  for (const name of readdirSync(snippetDir)) if (name.startsWith('readme-')) rmSync(join(snippetDir, name));
  for (const snippet of snippets) {
    writeFileSync(snippetPath(snippet), `// README.md line ${snippet.line}, written by scripts/readme-snippets.ts: edit the README, not this file.\n${snippet.code}\nexport {};\n`);
  }
  return snippets;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeSnippets();
