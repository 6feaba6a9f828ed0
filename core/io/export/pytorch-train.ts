/**
 * train.py of the exported PyTorch project. The optimizers, schedules, clipping, penalties
 * and early stopping are Gradflow's (core/train/): the same formulas in the same float32
 * order, so that a deterministic graph follows Gradflow's loss curve step by step. @CONFIG@
 * is replaced by the graph's settings (JSON).
 */
export const TRAIN_PY = `#!/usr/bin/env python3
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

F32 = torch.float32


def f32(v):
    """A float32 scalar tensor: Gradflow computes its constants in float32 too."""
    return torch.tensor(v, dtype=F32)


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


class GradflowOptimizer:
    """The course's update rules as Gradflow applies them (core/train/optimizers.ts), not
    torch.optim's variants: all state starts at zero and denominators use the updated
    accumulator; Nesterov is the look-ahead form; Adam's bias corrections are folded into
    two scalars per step. λ may change every step (schedules, a changed base rate)."""

    SLOTS = {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}

    def __init__(self, params, settings):
        self.params = list(params)
        self.s = settings
        self.kind = settings["kind"]
        self.state = [[torch.zeros_like(p) for _ in range(self.SLOTS[self.kind])] for p in self.params]
        self.t = 0
        self.alpha = f32(settings["momentum"])
        self.rho = f32(settings["rho"])
        self.one_minus_rho = f32(1 - settings["rho"])
        self.beta1 = f32(settings["beta1"])
        self.one_minus_beta1 = f32(1 - settings["beta1"])
        self.beta2 = f32(settings["beta2"])
        self.one_minus_beta2 = f32(1 - settings["beta2"])
        self.delta = f32(settings["epsilon"])

    @torch.no_grad()
    def step(self, grads, lr):
        self.t += 1
        lam = f32(lr)
        if self.kind == "adam":
            c1 = 1 - math.pow(self.s["beta1"], self.t)
            c2 = math.sqrt(1 - math.pow(self.s["beta2"], self.t))
            adam_step = f32((lr * c2) / c1)
            adam_delta = f32(self.s["epsilon"] * c2)
        for w, g, state in zip(self.params, grads, self.state):
            if self.kind == "sgd":
                w.copy_(w - lam * g)
            elif self.kind == "momentum":
                v = state[0]
                v.copy_(self.alpha * v + lam * g)
                w.copy_(w - v)
            elif self.kind == "nesterov":
                v = state[0]
                lg = lam * g
                v.copy_(self.alpha * v + lg)
                w.copy_(w - (self.alpha * v + lg))
            elif self.kind == "adagrad":
                r = state[0]
                r.copy_(r + g * g)
                w.copy_(w - (lam * g) / (self.delta + torch.sqrt(r)))
            elif self.kind == "rmsprop":
                r = state[0]
                r.copy_(self.rho * r + self.one_minus_rho * (g * g))
                w.copy_(w - (lam * g) / (self.delta + torch.sqrt(r)))
            elif self.kind == "adam":
                s, r = state
                s.copy_(self.beta1 * s + self.one_minus_beta1 * g)
                r.copy_(self.beta2 * r + self.one_minus_beta2 * (g * g))
                w.copy_(w - (adam_step * s) / (adam_delta + torch.sqrt(r)))
            else:
                raise ValueError("unknown optimizer " + self.kind)


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


def penalty(named):
    """L1 α‖W‖₁ and L2 (α/2)‖W‖² over the weight matrices (not biases), as Gradflow adds them."""
    total = None
    for p in CONFIG["penalties"]:
        if p["alpha"] == 0:
            continue
        terms = [named[n] for n in CONFIG["penalized"]]
        if not terms:
            continue
        if p["kind"] == "l2":
            parts = [torch.square(w).sum() * (p["alpha"] / 2) for w in terms]
        else:
            parts = [torch.abs(w).sum() * p["alpha"] for w in terms]
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
