/**
 * train.py of the exported PyTorch project. The schedules, clipping and early stopping are
 * Gradflow's (core/train/), and the optimizer and penalties are the graph's kinds' own Python
 * (their `optimizer.torch` and `torchPenalty`, written beside their TF.js rules in
 * core/graph/kinds/): the same formulas in the same float32 order, so that a deterministic
 * graph follows Gradflow's loss curve step by step.
 */
import type { AnyKindDef, TorchOptimizerRule } from '../../graph/types.ts';

/** Text made safe inside a Python triple-quoted string. */
export const pyDocText = (text: string) => text.replace(/\\/g, '\\\\').replace(/"""/g, "'''");

/** Each non-empty line of `text` prefixed with `by` (Python blocks put inside others). */
export const indent = (text: string, by: string) => text.split('\n').map((l) => (l ? by + l : l)).join('\n');

/** The float32 scalars train.py (and the kinds' Python) computes its constants with. */
export const PY_SCALARS = `F32 = torch.float32


def f32(v):
    """A float32 scalar tensor: Gradflow computes its constants in float32 too."""
    return torch.tensor(v, dtype=F32)
`;

/** The optimizer kind's rule in Python, or why it has none (a kind without a `torch` form). */
function torchRule(def: AnyKindDef): TorchOptimizerRule {
  const rule = def.optimizer?.torch;
  if (!rule) throw new Error(`the ${def.title} kind has no PyTorch form`);
  return rule;
}

/**
 * `class GradflowOptimizer` for one optimizer kind: its state slots and its rule's Python
 * ({@link TorchOptimizerRule}), run once per step with λ (which may change every step) and
 * the step count. Needs `torch`, `math` and {@link PY_SCALARS} in scope.
 * @throws Error naming the kind when it has no Python form.
 */
export function optimizerPy(def: AnyKindDef): string {
  const rule = torchRule(def);
  const slots = def.optimizer!.slots;
  const tuple = slots.length === 1 ? `("${slots[0]}",)` : `(${slots.map((n) => `"${n}"`).join(', ')})`;
  return `class GradflowOptimizer:
    """${pyDocText(def.title)}, as Gradflow applies it (core/graph/kinds/optimizers.ts):
    ${pyDocText(def.description)}

    The kind's own rule, not torch.optim's variant: all state starts at zero, and every op
    rounds to float32 in the same order as in Gradflow. λ may change every step (schedules,
    a changed base rate)."""

    SLOTS = ${tuple}

    def __init__(self, params, hyper):
        self.params = list(params)
        self.h = hyper
        self.state = [[torch.zeros_like(p) for _ in self.SLOTS] for p in self.params]
        self.t = 0
        self.constants = {}

    def constant(self, x):
        """A float32 scalar for a value that stays the same over the run (α, 1 − ρ, δ), made once."""
        if x not in self.constants:
            self.constants[x] = f32(x)
        return self.constants[x]

    @torch.no_grad()
    def step(self, grads, lr):
        self.t += 1
        update = self.rule(self.h, self.t, f32(lr), lr, self.constant)
        for w, g, state in zip(self.params, grads, self.state):
            update(w, g, *state)

    @staticmethod
    def rule(h, t, lr, lr_value, constant):
        """This step's update of one parameter, from the hyper-parameters h, the step count t and λ."""
${rule.step ? `${indent(rule.step, '        ')}\n\n` : ''}        def update(${['w', 'g', ...slots].join(', ')}):
${indent(rule.update, '            ')}

        return update
`;
}

/**
 * `PENALTY_TERMS`: for each penalty kind, its term for one weight tensor from its
 * `torchPenalty` (train.py's penalty() looks the config's kinds up in it).
 * @throws Error naming a kind without a Python form.
 */
export function penaltyTermsPy(defs: readonly AnyKindDef[]): string {
  const kinds = [...new Map(defs.map((d) => [d.kind, d])).values()];
  const fn = (d: AnyKindDef) => `${d.kind.replace(/[^A-Za-z0-9_]/g, '_')}_term`;
  const terms = kinds.map((d) => {
    if (d.torchPenalty === undefined) throw new Error(`the ${d.title} kind has no PyTorch form`);
    return `def ${fn(d)}(w, p):
    """${pyDocText(d.title)} (core/graph/kinds/): its term for one penalized weight tensor w, None when zero."""
${indent(d.torchPenalty, '    ')}
`;
  });
  return [...terms, `PENALTY_TERMS = {${kinds.map((d) => `${JSON.stringify(d.kind)}: ${fn(d)}`).join(', ')}}`].join('\n\n');
}

/** What train.py is made from: the graph's name, its settings, and the kinds whose Python it runs. */
export interface TrainPyParts {
  name: string;
  version: string;
  /** The graph's settings (JSON), read by train.py as CONFIG. */
  config: unknown;
  /** The optimizer kind. */
  optimizer: AnyKindDef;
  /** The penalty kinds on the loss path (each kind once is enough). */
  penalties: readonly AnyKindDef[];
}

/**
 * train.py for one graph.
 * @throws Error naming the optimizer or penalty kind that has no Python form (the exporter
 *   checks that first and reports it by node).
 */
export function trainPy(o: TrainPyParts): string {
  const parts: Record<string, () => string> = {
    NAME: () => pyDocText(o.name),
    VERSION: () => o.version,
    CONFIG: () => JSON.stringify(o.config, null, 2),
    OPTIMIZER: () => optimizerPy(o.optimizer).trimEnd(),
    PENALTIES: () => penaltyTermsPy(o.penalties).trimEnd(),
  };
  // One pass, so text put in (a graph named "@CONFIG@") is never replaced again.
  return TEMPLATE.replace(/@(NAME|VERSION|CONFIG|OPTIMIZER|PENALTIES)@/g, (_, key: string) => parts[key]!());
}

const TEMPLATE = `#!/usr/bin/env python3
"""Trains @NAME@ as Gradflow @VERSION@ does.

  python train.py [--evaluate] [--save trained.npz] [--epochs N] [--steps N] [--out run.json]
  torchrun --standalone --nproc_per_node=2 train.py ...   (DistributedDataParallel)
"""
import argparse
import copy
import json
import math
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from model import GradflowModel

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = json.loads(r"""@CONFIG@""")

${PY_SCALARS}

def learning_rate_at(step, base, total_steps):
    """Gradflow's schedules (core/train/schedule.ts), λ for optimizer step \`step\` (0-based)."""
    s = CONFIG["schedule"]
    kind = s["schedule"]
    if kind == "constant":
        return base
    if kind == "step":
        return base * math.pow(s["decayRate"], math.floor(step / s["decaySteps"]))
    if kind == "exponential":
        return base * math.pow(s["decayRate"], step / s["decaySteps"])
    if kind == "inverse-time":
        return base / (1 + (s["decayRate"] * step) / s["decaySteps"])
    if kind == "cosine":
        progress = min(step, total_steps) / total_steps
        return s["minLearningRate"] + ((base - s["minLearningRate"]) * (1 + math.cos(math.pi * progress))) / 2
    raise ValueError("unknown schedule " + kind)


@OPTIMIZER@


def clip_gradients(grads):
    """Gradflow's clipping (core/train/clip.ts): by global norm, or element by element."""
    mode, threshold = CONFIG["clip"]["mode"], CONFIG["clip"]["threshold"]
    if mode == "none" or not grads:
        return grads
    if mode == "value":
        return [g.clamp(-threshold, threshold) for g in grads]
    t = f32(threshold)
    total = grads[0].pow(2).sum()
    for g in grads[1:]:
        total = total + g.pow(2).sum()
    scale = t / torch.maximum(torch.sqrt(total), t)
    return [g * scale for g in grads]


@PENALTIES@


def penalty(named):
    """The penalties' terms over the weight matrices (not biases), as Gradflow adds them."""
    total = None
    for p in CONFIG["penalties"]:
        term = PENALTY_TERMS[p["kind"]]
        parts = [t for t in (term(named[n], p["params"]) for n in CONFIG["penalized"]) if t is not None]
        if not parts:
            continue
        s = parts[0]
        for q in parts[1:]:
            s = s + q
        total = s if total is None else total + s
    return total


def correct_count(pred, y):
    """Correct predictions in a batch: argmax for one-hot targets, pred > 0 for 0/1 targets."""
    if CONFIG["task"] != "classification":
        return None
    if y.shape[-1] == 1:
        return ((pred > 0) == (y > 0.5)).sum().item()
    return (pred.argmax(-1) == y.argmax(-1)).sum().item()


@torch.no_grad()
def evaluate(model, x, y, device):
    """Validation loss and accuracy as Gradflow computes them (inference mode, batches of 512)."""
    model.eval()
    n = x.shape[0]
    if n == 0:
        return None, None
    loss_sum, correct = 0.0, 0
    for start in range(0, n, 512):
        xb = x[start:start + 512].to(device)
        yb = y[start:start + 512].to(device)
        pred = model(xb)
        loss_sum += model.loss_fn(pred, yb).item() * xb.shape[0]
        c = correct_count(pred, yb)
        correct += c or 0
    accuracy = correct / n if CONFIG["task"] == "classification" else None
    return loss_sum / n, accuracy


def load_weights(model, which):
    """Weights from weights.npz: 'initial' (what Gradflow starts from) or 'trained'."""
    npz = np.load(os.path.join(HERE, "weights.npz"))
    prefix = which + "/"
    state = {k[len(prefix):]: torch.from_numpy(npz[k].astype(np.float32)) for k in npz.files if k.startswith(prefix)}
    if not state:
        sys.exit("weights.npz has no %s weights (the graph was not trained in Gradflow)" % which)
    model.load_state_dict(state, strict=True)


def load_masks(model):
    """Pruning masks from weights.npz ('mask/attribute.weight', 1 keeps a weight, 0 prunes
    it), applied to the model's weights; train.py keeps the pruned weights at exactly 0."""
    npz = np.load(os.path.join(HERE, "weights.npz"))
    named = dict(model.named_parameters())
    masks = {}
    for k in npz.files:
        if k.startswith("mask/"):
            name = k[len("mask/"):]
            masks[name] = torch.from_numpy(npz[k].astype(np.float32))
            with torch.no_grad():
                named[name].mul_(masks[name])
    return masks


def summary(loss, accuracy):
    text = "validation loss %.4f" % loss
    if accuracy is not None:
        text += ", validation accuracy %.1f%%" % (accuracy * 100)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaluate", action="store_true", help="only evaluate the trained (or else initial) weights")
    ap.add_argument("--from-trained", action="store_true", help="start from the trained weights instead of the initial ones")
    ap.add_argument("--epochs", type=int, default=CONFIG["epochs"])
    ap.add_argument("--steps", type=int, default=None, help="stop after this many optimizer steps")
    ap.add_argument("--save", metavar="PATH", help="write the trained weights (.npz) for gradflow import-weights")
    ap.add_argument("--out", metavar="RUN.json", help="write per-step losses and per-epoch metrics")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    distributed = world > 1
    device = torch.device(args.device)
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    main_process = rank == 0
    say = print if main_process else (lambda *a, **k: None)
    # Random nodes (Dropout, noise) draw from PyTorch's generator, one stream per process.
    torch.manual_seed(CONFIG["seed"] * 1000 + rank)

    data = np.load(os.path.join(HERE, "data.npz"))
    x_train, y_train = torch.from_numpy(data["x_train"]), torch.from_numpy(data["y_train"])
    x_val, y_val = torch.from_numpy(data["x_val"]), torch.from_numpy(data["y_val"])
    order = data["order"]

    model = GradflowModel()
    trained = CONFIG["trained"]
    if args.evaluate:
        which = "trained" if trained else "initial"
        load_weights(model, which)
        model.to(device)
        loss, accuracy = evaluate(model, x_val, y_val, device)
        say(summary(loss, accuracy) + " (%s weights)" % which)
        if args.out and main_process:
            with open(args.out, "w") as f:
                json.dump({"weights": which, "valLoss": loss, "valAccuracy": accuracy}, f)
        if distributed:
            dist.destroy_process_group()
        return
    load_weights(model, "trained" if args.from_trained else "initial")
    masks = load_masks(model)
    model.to(device)
    net = DistributedDataParallel(model) if distributed else model
    named = dict(model.named_parameters())
    params = [named[n] for n in CONFIG["trainable"]]
    # Each trainable weight's mask (None when dense): gradients are masked before the update
    # (so the optimizer state of a pruned weight stays 0) and the weight after it.
    param_masks = [masks[n].to(device) if n in masks else None for n in CONFIG["trainable"]]
    optimizer = GradflowOptimizer(params, CONFIG["optimizer"])

    n_train = x_train.shape[0]
    bs = CONFIG["batchSize"]
    size = n_train if bs == 0 else bs
    steps_per_epoch = 1 if bs == 0 else math.ceil(n_train / bs)
    total_steps = max(1, args.epochs * steps_per_epoch)
    base_lr = CONFIG["schedule"]["learningRate"]
    shuffle = np.random.default_rng(CONFIG["seed"])
    es = CONFIG["earlyStopping"]
    best, since_best = None, 0
    step_loss, epochs_log = [], []
    status = "completed"
    step = 0
    say("Training %s with %s on %s%s" % (CONFIG["name"], CONFIG["optimizer"]["kind"], device, " x %d processes" % world if distributed else ""))
    for epoch in range(args.epochs):
        perm = order[epoch] if epoch < order.shape[0] else shuffle.permutation(n_train)
        epoch_losses, train_correct = [], 0
        for start in range(0, n_train, size):
            if args.steps is not None and step >= args.steps:
                status = "stopped"
                break
            idx = perm[start:start + size]
            # Under torchrun each process takes its share of the batch; DDP averages the
            # gradients, so the update is the one of the whole batch.
            local = idx[rank::world] if distributed and len(idx) >= world else idx
            xb = x_train[local].to(device)
            yb = y_train[local].to(device)
            lr = learning_rate_at(step, base_lr, total_steps)
            model.train()
            pred = net(xb)
            data_loss = model.loss_fn(pred, model.targets(yb))
            objective = data_loss
            extra = penalty(named)
            if extra is not None:
                objective = objective + extra
            for p in params:
                p.grad = None
            objective.backward()
            for p, m in zip(params, param_masks):
                if m is not None and p.grad is not None:
                    p.grad.mul_(m)
            optimizer.step(clip_gradients([p.grad for p in params]), lr)
            with torch.no_grad():
                for p, m in zip(params, param_masks):
                    if m is not None:
                        p.mul_(m)
            loss_value = data_loss.detach() * len(local)
            correct = correct_count(pred.detach(), yb)
            if distributed:
                packed = torch.tensor([loss_value.item(), float(len(local)), float(correct or 0)], dtype=torch.float64)
                dist.all_reduce(packed)
                loss_item, count, correct = packed[0].item() / packed[1].item(), packed[1].item(), int(packed[2].item())
            else:
                loss_item = data_loss.item()
            if not math.isfinite(loss_item):
                say("the loss became %s at step %d" % (loss_item, step + 1))
                status = "failed"
                break
            step_loss.append(loss_item)
            epoch_losses.append(loss_item)
            train_correct += correct or 0
            step += 1
        if status != "completed" or not epoch_losses:
            break
        val_loss, val_acc = evaluate(model, x_val, y_val, device)
        train_loss = sum(epoch_losses) / len(epoch_losses)
        record = {
            "epoch": epoch + 1,
            "trainLoss": train_loss,
            "valLoss": val_loss,
            "trainAccuracy": train_correct / n_train if CONFIG["task"] == "classification" else None,
            "valAccuracy": val_acc,
            "learningRate": learning_rate_at(max(0, step - 1), base_lr, total_steps),
        }
        epochs_log.append(record)
        cols = ["epoch %d/%d" % (epoch + 1, args.epochs), "loss %.4f" % train_loss]
        if val_loss is not None:
            cols.append("val_loss %.4f" % val_loss)
        if record["trainAccuracy"] is not None:
            cols.append("acc %.1f%%" % (record["trainAccuracy"] * 100))
        if val_acc is not None:
            cols.append("val_acc %.1f%%" % (val_acc * 100))
        say("  ".join(cols))
        if es:
            monitored = val_loss if val_loss is not None else train_loss
            if best is None or monitored < best[0] - es["minDelta"]:
                best = (monitored, copy.deepcopy(model.state_dict()) if es["restoreBest"] else None)
                since_best = 0
            else:
                since_best += 1
                if since_best >= es["patience"]:
                    if es["restoreBest"] and best[1] is not None:
                        model.load_state_dict(best[1])
                    status = "early-stopped"
                    break
    val_loss, val_acc = evaluate(model, x_val, y_val, device)
    done = {"completed": "done", "early-stopped": "early-stopped", "stopped": "stopped", "failed": "training failed"}[status]
    say("%s after %d steps%s" % (done, step, (": " + summary(val_loss, val_acc)) if val_loss is not None else ""))
    if main_process and args.save:
        state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
        np.savez(args.save, **state)
        say("wrote " + args.save)
    if main_process and args.out:
        with open(args.out, "w") as f:
            json.dump({"status": status, "steps": step, "world": world, "stepLoss": step_loss, "epochs": epochs_log,
                       "final": {"valLoss": val_loss, "valAccuracy": val_acc}}, f)
    if distributed:
        dist.destroy_process_group()
    if status == "failed":
        sys.exit(1)


if __name__ == "__main__":
    main()
`;
