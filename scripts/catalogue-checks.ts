/**
 * Checks that keep the catalogue the single source of truth and core/ pure, run by the unit
 * tests (tests/unit/boundaries.test.ts) and by hand:
 *
 *   npx tsx scripts/catalogue-checks.ts            list the files that name kind ids, and core/'s boundary problems
 *   npx tsx scripts/catalogue-checks.ts --readme   rewrite the README's kinds table from the catalogue
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogue } from '../core/graph/catalogue.ts';
import { CATEGORIES } from '../core/graph/types.ts';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const SOURCE = /\.(ts|tsx|mts|mjs|cjs|js)$/;

/** Source files under `dir` (relative to the root), skipping build output and dependencies. */
export function sourceFiles(dir: string, root = ROOT): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      const path = join(rel, name);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (SOURCE.test(name)) out.push(path.split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}

/** The source without comments, so that prose mentioning a kind or an import does not count. */
export function stripComments(src: string): string {
  // Strings are kept (they are what is searched); a comment opener inside a string is rare
  // in this code base and only makes the check stricter.
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
}

/** For each file outside core/graph/kinds/ and tests/ that names a kind id in a string literal: the ids. */
export function kindIdMentions(root = ROOT): { file: string; ids: string[] }[] {
  const ids = new Set(catalogue.map((d) => d.kind));
  const out: { file: string; ids: string[] }[] = [];
  for (const top of ['core', 'renderer', 'electron', 'scripts', 'bin']) {
    for (const file of sourceFiles(top, root)) {
      if (file.startsWith('core/graph/kinds/')) continue;
      const found = new Set<string>();
      for (const m of stripComments(readFileSync(join(root, file), 'utf8')).matchAll(/(['"`])([A-Za-z][A-Za-z0-9]*)\1/g)) {
        if (ids.has(m[2]!)) found.add(m[2]!);
      }
      if (found.size) out.push({ file, ids: [...found].sort() });
    }
  }
  return out;
}

/** Packages that are UI or desktop only: core/ runs in Node and workers without them. */
const UI_PACKAGES = /^(react|react-dom|electron|@xyflow\/.*|zustand|zundo|uplot)(\/.*)?$/;

/**
 * Where core/ reaches outside its boundary: imports of renderer/, electron/ or UI packages,
 * and DOM libs pulled in by reference directives or declared by hand. (Using a DOM global
 * is caught by core/tsconfig.json, which has no DOM lib.)
 */
export function coreBoundaryViolations(root = ROOT): string[] {
  const problems: string[] = [];
  for (const file of sourceFiles('core', root)) {
    const src = readFileSync(join(root, file), 'utf8');
    const code = stripComments(src);
    const specifiers = [
      ...code.matchAll(/\bfrom\s*['"]([^'"]+)['"]/g),
      ...code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]/g),
      ...code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
      ...code.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]/g),
    ].map((m) => m[1]!);
    for (const spec of specifiers) {
      if (spec.startsWith('.')) {
        const target = relative(root, normalize(join(root, dirname(file), spec))).split('\\').join('/');
        // package.json is data (the app's version), not code from another side.
        if (!target.startsWith('core/') && target !== 'package.json') problems.push(`${file} imports ${spec} (${target} is outside core/)`);
      } else if (UI_PACKAGES.test(spec)) problems.push(`${file} imports ${spec}, a UI package`);
    }
    for (const m of src.matchAll(/\/\/\/\s*<reference\s+lib\s*=\s*["'](dom[^"']*|webworker[^"']*)["']/gi)) problems.push(`${file} references the ${m[1]} lib`);
    for (const m of code.matchAll(/\bdeclare\s+(?:const|let|var)\s+(window|document|self|navigator|localStorage)\b/g)) problems.push(`${file} declares the DOM global ${m[1]}`);
  }
  return problems;
}

/** The README's kinds table, generated from the catalogue: one row per kind, grouped by category. */
export function kindsTable(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
  const rows = ['| Category | Kind | Id | What it does |', '| --- | --- | --- | --- |'];
  for (const category of CATEGORIES) {
    for (const d of catalogue.filter((k) => k.category === category)) rows.push(`| ${category} | ${cell(d.title)} | \`${d.kind}\` | ${cell(d.description)} |`);
  }
  return rows.join('\n');
}

export const TABLE_START = '<!-- kinds table: generated by `npx tsx scripts/catalogue-checks.ts --readme`; do not edit by hand -->';
export const TABLE_END = '<!-- end of kinds table -->';

/** `readme` with its kinds table replaced by the generated one. Throws when the markers are missing. */
export function withKindsTable(readme: string): string {
  const a = readme.indexOf(TABLE_START);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`README.md has no kinds table markers (${TABLE_START} … ${TABLE_END})`);
  return `${readme.slice(0, a + TABLE_START.length)}\n${kindsTable()}\n${readme.slice(b)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  if (process.argv.includes('--readme')) {
    const path = join(ROOT, 'README.md');
    writeFileSync(path, withKindsTable(readFileSync(path, 'utf8')));
    console.log('README.md: kinds table written from the catalogue');
  } else {
    console.log('Files outside core/graph/kinds/ and tests/ that name kind ids:');
    for (const { file, ids } of kindIdMentions()) console.log(`  ${file}: ${ids.join(', ')}`);
    const problems = coreBoundaryViolations();
    console.log(problems.length ? `core/ boundary problems:\n${problems.map((p) => `  ${p}`).join('\n')}` : 'core/ boundary: clean');
  }
}
