#!/usr/bin/env node
// Static security audit of the desktop app's source with electronegativity: prints every
// finding and fails when one is HIGH. Run by CI (.ci/run) and by `npm run audit:electron`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// The Electron version we ship, so the checks use its defaults (and nothing is fetched).
const electronVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.electron;
const cli = join(dirname(require.resolve('@doyensec/electronegativity/package.json')), 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'gradflow-audit-'));
const out = join(dir, 'findings.csv');
try {
  const r = spawnSync(process.execPath, [cli, '-i', join(root, 'electron'), '-r', '-v', 'false', '-e', electronVersion, '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`electronegativity failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
    process.exit(1);
  }
  const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1);
  // issue, "severity", "confidence", "file", "line:col", ...
  const findings = rows.map((line) => {
    const [issue, severity, confidence, file, location] = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
    return { issue, severity, confidence, file, location };
  });
  for (const f of findings) console.log(`${f.severity.padEnd(8)} ${f.confidence.padEnd(9)} ${f.issue.padEnd(28)} ${f.file}:${f.location}`);
  const high = findings.filter((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL');
  console.log(`electronegativity (Electron ${electronVersion}): ${findings.length} findings, ${high.length} HIGH or above.`);
  process.exit(high.length ? 1 : 0);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
