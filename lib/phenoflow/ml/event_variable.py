"""Training deep-learned event variables (Kim, Kong, Matchev, Park, Shyamsundar, arXiv:2105.10126).

Pairs (X, Theta): class 1 keeps the Theta that generated X; class 0 pairs X
with the Theta of another event of the same mini-batch (a shuffle), so it
follows p_X (x) p_Theta.  The EVN X -> V and the auxiliary classifier
(V, Theta) -> y are trained together with binary cross-entropy and Adam;
V then keeps the information about Theta that the classifier can use.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from phenoflow.ml.device import pick_device
from phenoflow.ml.models.evn import AUX_HIDDEN, EVN_HIDDEN, make_aux_classifier, make_evn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EVNConfig:
    """Hyperparameters of an event-variable training (defaults: the small default config)."""

    d_v: int = 1
    epochs: int = 10
    batch_size: int = 256
    learning_rate: float = 1e-3
    val_fraction: float = 0.2
    patience: int = 3  # epochs without a better validation loss before stopping
    lr_schedule: str = "cosine"  # "cosine" (anneal to 0 over the epochs) or "constant"
    seed: int = 0
    device: str = "auto"
    hidden: tuple[int, ...] = EVN_HIDDEN
    aux_hidden: tuple[int, ...] = AUX_HIDDEN


@dataclass
class TrainingProgress:
    """Passed to the progress callback after every epoch."""

    epoch: int
    n_epochs: int
    train_loss: float
    val_loss: float
    events_per_s: float
    elapsed_s: float


@dataclass
class EventVariable:
    """A trained event variable: ``transform(X) -> V``."""

    evn: nn.Module
    x_mean: np.ndarray
    x_std: np.ndarray
    sign: np.ndarray = field(default_factory=lambda: np.ones(1))
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def d_v(self) -> int:
        return int(self.sign.size)

    def transform(self, X: np.ndarray, batch_size: int = 65536) -> np.ndarray:
        """V for events X (n, d_x): shape (n,) for d_v = 1, else (n, d_v).  Runs on the CPU."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.x_mean.size:
            raise ValueError(f"X has shape {X.shape}, expected (n, {self.x_mean.size})")
        self.evn.eval()
        self.evn.to("cpu")
        out = []
        with torch.no_grad():
            for i in range(0, len(X), batch_size):
                x = torch.as_tensor(
                    (X[i : i + batch_size] - self.x_mean) / self.x_std, dtype=torch.float32
                )
                out.append(self.evn(x).numpy().astype(np.float64))
        v = (np.concatenate(out) if out else np.zeros((0, self.d_v))) * self.sign
        return v[:, 0] if self.d_v == 1 else v

    def save(self, path: str | Path) -> None:
        """Write the network, scaling and sign atomically (torch.save of plain tensors and dicts)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        torch.save(
            {
                "state_dict": self.evn.state_dict(),
                "x_mean": torch.as_tensor(self.x_mean),
                "x_std": torch.as_tensor(self.x_std),
                "sign": torch.as_tensor(self.sign),
                "info": self.info,
            },
            buf,
        )
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(buf.getvalue())
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> EventVariable:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        info = blob["info"]
        evn = make_evn(info["n_inputs"], info["d_v"], tuple(info["hidden"]))
        evn.load_state_dict(blob["state_dict"])
        return cls(evn, blob["x_mean"].numpy(), blob["x_std"].numpy(), blob["sign"].numpy(), info)


def _as_arrays(
    data: tuple[np.ndarray, np.ndarray] | Iterable[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):
        X, theta = data
    else:
        parts = list(data)
        if not parts:
            raise ValueError("no training batches given")
        X = np.concatenate([np.asarray(p[0]) for p in parts])
        theta = np.concatenate([np.asarray(p[1]) for p in parts])
    X = np.asarray(X, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim == 1:
        theta = theta[:, None]
    if X.ndim != 2 or len(X) != len(theta):
        raise ValueError(f"X {X.shape} and theta {theta.shape} must be (n, d_x) and (n, d_theta)")
    if not (np.isfinite(X).all() and np.isfinite(theta).all()):
        raise ValueError("X or theta contains NaN or inf")
    return X, theta


def _pair_loss(
    evn: nn.Module, aux: nn.Module, x: torch.Tensor, th: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    v = evn(x)
    shuffled = th[torch.randperm(len(th), generator=gen, device="cpu").to(th.device)]
    logits = aux(torch.cat([torch.cat([v, th], dim=1), torch.cat([v, shuffled], dim=1)]))
    target = torch.cat(
        [torch.ones(len(x), 1, device=x.device), torch.zeros(len(x), 1, device=x.device)]
    )
    return nn.functional.binary_cross_entropy_with_logits(logits, target)


@dataclass
class _Split:
    """Standardised, shuffled training and validation tensors (float32, on the device)."""

    x_tr: torch.Tensor
    t_tr: torch.Tensor
    x_val: torch.Tensor
    t_val: torch.Tensor
    x_mean: np.ndarray
    x_std: np.ndarray


def _split(
    X: np.ndarray, theta: np.ndarray, config: EVNConfig, rng: np.random.Generator, device: Any
) -> _Split:
    """Shuffle with ``rng``, standardise, and cut off the first events for validation."""
    n_val = round(config.val_fraction * len(X))
    if len(X) - n_val < config.batch_size:
        raise ValueError(
            f"{len(X) - n_val} training events are fewer than one batch of {config.batch_size}"
        )
    order = rng.permutation(len(X))
    x_mean, x_std = X.mean(axis=0), X.std(axis=0) + 1e-12
    t_mean, t_std = theta.mean(axis=0), theta.std(axis=0) + 1e-12
    xs = torch.as_tensor((X[order] - x_mean) / x_std, dtype=torch.float32, device=device)
    ts = torch.as_tensor((theta[order] - t_mean) / t_std, dtype=torch.float32, device=device)
    return _Split(xs[n_val:], ts[n_val:], xs[:n_val], ts[:n_val], x_mean, x_std)


@dataclass
class _Networks:
    """The EVN, the auxiliary classifier, their optimiser and learning-rate schedule."""

    evn: nn.Module
    aux: nn.Module
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler | None

    def train(self, mode: bool = True) -> None:
        self.evn.train(mode)
        self.aux.train(mode)


def _networks(n_x: int, n_theta: int, n_train: int, config: EVNConfig, device: Any) -> _Networks:
    """Build the networks (EVN first: the order of initialisation draws) and the optimiser."""
    evn = make_evn(n_x, config.d_v, config.hidden).to(device)
    aux = make_aux_classifier(config.d_v, n_theta, config.aux_hidden).to(device)
    opt = torch.optim.Adam([*evn.parameters(), *aux.parameters()], lr=config.learning_rate)
    if config.lr_schedule not in ("cosine", "constant"):
        raise ValueError(
            f"unknown lr_schedule {config.lr_schedule!r}; expected 'cosine' or 'constant'"
        )
    steps_per_epoch = (n_train - config.batch_size) // config.batch_size + 1
    sched = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs * steps_per_epoch)
        if config.lr_schedule == "cosine"
        else None
    )
    return _Networks(evn, aux, opt, sched)


def _train_epoch(
    nets: _Networks, data: _Split, batch_size: int, gen: torch.Generator, device: Any
) -> tuple[float, int]:
    """One pass over the training events in a random order: (summed loss, batches)."""
    nets.train()
    perm = torch.randperm(len(data.x_tr), generator=gen).to(device)
    total, n_batches = 0.0, 0
    for i in range(0, len(perm) - batch_size + 1, batch_size):
        idx = perm[i : i + batch_size]
        loss = _pair_loss(nets.evn, nets.aux, data.x_tr[idx], data.t_tr[idx], gen)
        nets.opt.zero_grad(set_to_none=True)
        loss.backward()
        nets.opt.step()
        if nets.sched is not None:
            nets.sched.step()
        total += float(loss.detach())
        n_batches += 1
    return total, n_batches


def _val_loss(nets: _Networks, data: _Split, seed: int, train_loss: float) -> float:
    """Mean loss over the validation events (``train_loss`` when there are none)."""
    nets.train(False)
    x_val, t_val = data.x_val, data.t_val
    with torch.no_grad():
        vgen = torch.Generator().manual_seed(seed + 1)  # same class-0 pairs every epoch
        if not len(x_val):
            return train_loss
        return float(
            np.mean(
                [
                    float(
                        _pair_loss(
                            nets.evn, nets.aux, x_val[i : i + 8192], t_val[i : i + 8192], vgen
                        )
                    )
                    for i in range(0, max(len(x_val), 1), 8192)
                ]
            )
        )


@dataclass
class _Best:
    """Early stopping: the best validation loss, its EVN weights, epochs since."""

    loss: float = float("inf")
    state: dict[str, torch.Tensor] | None = None
    stale: int = 0

    def update(self, val: float, evn: nn.Module, patience: int) -> bool:
        """Record an epoch's validation loss; True when training should stop."""
        if val < self.loss - 1e-6:
            self.loss, self.stale = val, 0
            self.state = {k: v.detach().cpu().clone() for k, v in evn.state_dict().items()}
            return False
        self.stale += 1
        if self.stale >= patience:
            log.info("early stop: no better validation loss for %d epochs", self.stale)
            return True
        return False


def train_event_variable(
    data: tuple[np.ndarray, np.ndarray] | Iterable[tuple[np.ndarray, np.ndarray]],
    config: EVNConfig = EVNConfig(),
    callback: Callable[[TrainingProgress], None] | None = None,
) -> tuple[EventVariable, dict[str, Any]]:
    """Train an EVN on events X (n, d_x) with parameters theta (n, d_theta).

    ``data`` is a pair of arrays or a finite iterable of (X, theta) batches.
    Returns the trained variable (the best validation epoch) and a history
    dict (losses per epoch, events/s, wall time, device).
    """
    X, theta = _as_arrays(data)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    split = _split(X, theta, config, np.random.default_rng(config.seed), device)
    nets = _networks(X.shape[1], theta.shape[1], len(split.x_tr), config, device)
    history: dict[str, Any] = {
        "train_loss": [],
        "val_loss": [],
        "device": str(device),
        "config": asdict(config),
    }
    best = _Best()
    start = time.perf_counter()
    n_seen = 0
    for epoch in range(config.epochs):
        total, n_batches = _train_epoch(nets, split, config.batch_size, gen, device)
        n_seen += n_batches * config.batch_size
        val = _val_loss(nets, split, config.seed, total / n_batches)
        elapsed = time.perf_counter() - start
        history["train_loss"].append(total / n_batches)
        history["val_loss"].append(val)
        progress = TrainingProgress(
            epoch + 1, config.epochs, total / n_batches, val, n_seen / elapsed, elapsed
        )
        log.info(
            "epoch %d/%d: train loss %.5f, val loss %.5f, %.0f events/s",
            progress.epoch,
            config.epochs,
            progress.train_loss,
            val,
            progress.events_per_s,
        )
        if callback is not None:
            callback(progress)
        if best.update(val, nets.evn, config.patience):
            break
    history["wall_s"] = time.perf_counter() - start
    history["events_per_s"] = n_seen / history["wall_s"]
    history["epochs_run"] = len(history["train_loss"])
    history["best_val_loss"] = best.loss
    evn = nets.evn.cpu()
    if best.state is not None:
        evn.load_state_dict(best.state)
    info = {
        "n_inputs": X.shape[1],
        "d_v": config.d_v,
        "hidden": list(config.hidden),
        "n_theta": theta.shape[1],
    }
    return EventVariable(evn, split.x_mean, split.x_std, np.ones(config.d_v), info), history
