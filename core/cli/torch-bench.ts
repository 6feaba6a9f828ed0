/**
 * The PyTorch side of `gradflow bench --torch`: the same MLP (784-256-128-10, ReLU, He-normal
 * weights, zero biases), the same training rows, softmax cross-entropy, Adam (λ = 0.001) and
 * batch, trained by PyTorch on one CPU thread in a child process. Node-only (child_process).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Split } from '../data/types.ts';

/** A Python that can import torch, or why none was found. */
export type TorchFinding = { ok: true; python: string; version: string } | { ok: false; reason: string };

/**
 * The first of $GRADFLOW_PYTHON, /usr/bin/python3 and python3 that imports torch (Debian's
 * python3-torch installs into /usr/bin/python3, which another python3 on PATH may hide).
 */
export function findTorch(env: NodeJS.ProcessEnv = process.env): TorchFinding {
  const candidates = [...(env.GRADFLOW_PYTHON ? [env.GRADFLOW_PYTHON] : []), '/usr/bin/python3', 'python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { ok: true, python, version: r.stdout.trim() };
    tried.push(`${python}: ${r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`)}`);
  }
  return { ok: false, reason: `PyTorch is not available (${tried.join('; ')}); install it (e.g. apt-get install python3-torch) or set GRADFLOW_PYTHON` };
}

const SCRIPT = String.raw`
import json, sys, time
import numpy as np
import torch
from torch import nn
torch.set_num_threads(1)
path, n, steps, warmup, batch, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
x = torch.from_numpy(np.fromfile(path + '/x.f32', dtype=np.float32).reshape(n, 784))
y = torch.from_numpy(np.fromfile(path + '/y.f32', dtype=np.float32).reshape(n, 10).argmax(1))
torch.manual_seed(seed)
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
for m in model:
    if isinstance(m, nn.Linear):
        nn.init.kaiming_normal_(m.weight)  # He normal: gain sqrt(2), Var(W) = 2/fan_in
        nn.init.zeros_(m.bias)
opt = torch.optim.Adam(model.parameters(), lr=0.001)
loss_fn = nn.CrossEntropyLoss()
g = torch.Generator().manual_seed(seed)
state = {'order': torch.randperm(n, generator=g), 'at': 0}
def train(k):
    loss = None
    for _ in range(k):
        if state['at'] + batch > n:
            state['order'], state['at'] = torch.randperm(n, generator=g), 0
        idx = state['order'][state['at']:state['at'] + batch]
        state['at'] += batch
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    return loss.item()
train(warmup)
t0 = time.perf_counter()
last = train(steps)
seconds = time.perf_counter() - t0
print(json.dumps({'samplesPerSecond': steps * batch / seconds, 'threads': torch.get_num_threads(), 'loss': last}))
`;

export interface TorchRate {
  samplesPerSecond: number;
  threads: number;
}

/** Samples per second of PyTorch training the MLP on `train` for `steps` steps after `warmup`. */
export function torchRate(python: string, train: Split, steps: number, warmup: number, batch: number): TorchRate {
  if (train.x.length !== train.n * 784 || train.y.length !== train.n * 10) throw new Error('internal: the torch benchmark needs MNIST rows of 784 pixels and 10 one-hot classes');
  const dir = mkdtempSync(join(tmpdir(), 'gradflow-torch-'));
  try {
    writeFileSync(join(dir, 'x.f32'), new Uint8Array(train.x.buffer, train.x.byteOffset, train.x.byteLength));
    writeFileSync(join(dir, 'y.f32'), new Uint8Array(train.y.buffer, train.y.byteOffset, train.y.byteLength));
    const r = spawnSync(python, ['-c', SCRIPT, dir, String(train.n), String(steps), String(warmup), String(batch), '1'], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`the PyTorch benchmark failed (${python}): ${r.error?.message ?? r.stderr.trim().split('\n').at(-1)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TorchRate;
    return { samplesPerSecond: out.samplesPerSecond, threads: out.threads };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
