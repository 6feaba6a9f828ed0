/**
 * `gradflow train --backend webgpu` in Node, through the npm `webgpu` package (Dawn). The
 * adapter here is Chromium's SwiftShader (a Vulkan driver on the CPU), named to the child by
 * VK_ICD_FILENAMES; Chromium's own libvulkan.so.1 is put on LD_LIBRARY_PATH for machines without
 * a system Vulkan loader. Skipped where Chromium's SwiftShader is not installed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/lib/chromium';
const ICD = join(CHROMIUM, 'vk_swiftshader_icd.json');
const XOR = join(ROOT, 'examples', 'xor.nngraph');

function gradflow(args: string[], icd: string): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, VK_ICD_FILENAMES: icd, LD_LIBRARY_PATH: [CHROMIUM, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'gradflow.mjs'), ...args], { cwd: ROOT, env, timeout: 120_000 }, (e, out, err) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err });
    });
  });
}

describe.skipIf(!existsSync(ICD))('gradflow train --backend webgpu (Dawn in Node, SwiftShader)', () => {
  it('trains on webgpu, names the adapter as software, and the loss falls', async () => {
    const r = await gradflow(['train', XOR, '--backend', 'webgpu', '--epochs', '3'], ICD);
    expect(r.err).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Training XOR on webgpu, adapter .*swiftshader.* \(software\/fallback adapter/i);
    const losses = lines.filter((l) => l.startsWith('epoch ')).map((l) => Number(/ loss (\S+)/.exec(l)![1]));
    expect(losses).toHaveLength(3);
    for (const l of losses) expect(Number.isFinite(l) && l > 0).toBe(true);
    expect(losses[2]!).toBeLessThan(losses[0]!);
  }, 120_000);

  it('without an adapter: one clear error line from gradflow, exit 1, no JavaScript stack', async () => {
    const r = await gradflow(['train', XOR, '--backend', 'webgpu', '--epochs', '1'], join(ROOT, 'no-such-icd.json'));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    // Dawn itself prints its Vulkan warnings to stderr (native code); gradflow adds one line.
    const ours = r.err.split('\n').filter((l) => l.startsWith('error:'));
    expect(ours).toEqual([expect.stringMatching(/^error: --backend webgpu: no WebGPU adapter: Dawn found no GPU driver/)]);
    expect(r.err).not.toMatch(/\.(ts|js|mjs):\d+/);
  }, 120_000);

  it('runs an experiment on webgpu: the landscape of trained XOR, recorded as webgpu, equal to the cpu one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-webgpu-'));
    const trained = join(dir, 'xor.nngraph');
    expect((await gradflow(['train', XOR, '--backend', 'cpu', '--epochs', '5', '--save', trained], ICD)).code).toBe(0);
    const run = async (backend: string) => {
      const out = join(dir, `${backend}.json`);
      const r = await gradflow(['experiment', 'landscape', trained, '--backend', backend, '--dimensions', '1', '--points', '5', '--samples', '100', '--out', out], ICD);
      expect(r.err).not.toMatch(/^error:/m);
      expect(r.code).toBe(0);
      return { r, json: JSON.parse(readFileSync(out, 'utf8')) as { backend: string; data: { loss: number[]; center: { loss: number } } } };
    };
    const gpu = await run('webgpu');
    expect(gpu.r.out.split('\n')[0]).toMatch(/^Loss landscape of XOR on webgpu, adapter .*swiftshader/i);
    expect(gpu.json.backend).toBe('webgpu');
    const cpu = await run('cpu');
    expect(cpu.json.backend).toBe('cpu');
    expect(gpu.json.data.loss).toHaveLength(5);
    gpu.json.data.loss.forEach((l, i) => expect(Math.abs(l - cpu.json.data.loss[i]!)).toBeLessThan(1e-4 * Math.max(1, cpu.json.data.loss[i]!)));
    expect(gpu.json.data.center.loss).toBeCloseTo(cpu.json.data.center.loss, 4);
  }, 240_000);
});
