"""The training loop shared by every jet classifier: BCE on logits, early stopping, resume.

Data are dicts of numpy arrays (``np.memmap`` welcome) with a common first dimension: the
inputs named by ``input_keys``, ``labels`` (n,) in {0, 1} and optionally ``weights`` (n,)
per-event weights (finite, >= 0, positive sum; never a model input).  A model takes a dict
of tensors ``{key: (B, ...)}`` and returns (B,) logits.  What the network is lives in
``phenoflow.ml.models``; which arrays it sees is decided by whoever builds the dicts.

Weights: without ``weights`` every event counts once.  With them, the BCE and the accuracy
of a split are weighted means (sum w * x / sum w).  A training batch's loss is
sum_batch w * bce / (B * mean w), mean w taken over the whole training split: its average
over the batches of an epoch is the weighted mean BCE, and a batch of zero weights adds
nothing (instead of dividing by zero).

Penalty: a model with a callable ``penalty()`` (a scalar tensor, e.g. an L2 term) has it
added to every training batch's loss; the reported ``train_loss`` includes it, the
validation loss (which early stopping watches) does not, and the history gains a
``penalty`` list (mean per epoch) for such models only.

Reproducibility: batch order comes from ``numpy.random.default_rng(config.seed)``, and
torch's global generator (dropout etc.) is seeded from ``config.seed`` inside a
``torch.random.fork_rng`` block, so the caller's RNG state is left as it was.  Both
generator states go into the checkpoint, which makes an interrupted-and-resumed CPU run
bit-identical to an uninterrupted one.

Only the job that wrote a checkpoint resumes it: one made with another job key, other
optimisation settings or other split sizes is ignored (logged as "checkpoint ignored: made
by a different job (<what changed>)"), deleted, and training starts from scratch.

Checkpoint (``torch.save`` dict, read with ``weights_only=True``), written after every
epoch to ``<checkpoint>.tmp`` and then ``os.replace``-d over ``<checkpoint>``:

=================  ============================================================
``format``         ``"phenoflow.train/2"``
``job``            the caller's job key (``phenoflow.resume.resume_key``: hashes of the
                   settings, input data and code), or ``None``
``epoch``          number of completed epochs
``model``          model ``state_dict`` after the last completed epoch
``optimizer``      AdamW ``state_dict``
``scheduler``      LambdaLR ``state_dict`` (per-epoch learning-rate schedule)
``scaler``         GradScaler ``state_dict`` (fp16 autocast only), else ``None``
``best_val_loss``  lowest validation loss so far (``inf`` if none finite yet)
``best_epoch``     its (1-based) epoch, or ``None``
``best_state``     model ``state_dict`` at ``best_epoch`` (on CPU), or ``None``
``bad_epochs``     epochs since the last improvement (early-stopping counter)
``history``        per-epoch lists, as in the returned history
``numpy_rng``      JSON of the numpy ``bit_generator.state`` after the last epoch
``torch_rng``      ``torch.get_rng_state()``; ``cuda_rng``: CUDA state or ``None``
``config``         ``dataclasses.asdict(TrainConfig)``; ``n_train``, ``n_val``
=================  ============================================================
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from phenoflow.ml.device import pick_device
from phenoflow.resume import KEY_PARTS, key_differences

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "phenoflow.train/2"
_FORMAT_FAMILY = "phenoflow.train/"  # older versions of it are ignored, not refused
DEFAULT_INPUT_KEYS: tuple[str, ...] = ("features", "mask", "p4", "subjet_features", "subjet_mask")
LR_SCHEDULES = ("cosine", "constant")
# config fields that change the optimisation; a checkpoint made with other values is ignored
_RESUME_MUST_MATCH = ("batch_size", "learning_rate", "weight_decay", "seed", "lr_schedule")


@dataclass(frozen=True)
class TrainConfig:
    """How to train (not what: the network and the data are passed separately)."""

    epochs: int = 20  # maximum number of epochs
    batch_size: int = 256
    learning_rate: float = 1e-3  # AdamW peak learning rate
    weight_decay: float = 0.0  # AdamW (decoupled) weight decay
    patience: int = 5  # stop after this many epochs without a lower validation loss
    seed: int = 0  # batch order and torch RNG (dropout); model init is the caller's
    device: str = "auto"  # "auto" -> cuda if available else cpu; "cpu"; "cuda"
    amp: bool = True  # bf16 (or fp16 + GradScaler) autocast on CUDA; ignored on CPU
    lr_schedule: str = "cosine"  # "cosine": per-epoch cosine decay to 0 over `epochs`; "constant"
    progress_bar: bool = True  # text progress bar on stderr during each epoch
    num_threads: int | None = None  # torch CPU threads while training (restored after)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be an integer >= 1, got {value!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"TrainConfig.learning_rate must be > 0, got {self.learning_rate}")
        if not self.weight_decay >= 0:
            raise ValueError(f"TrainConfig.weight_decay must be >= 0, got {self.weight_decay}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"TrainConfig.lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(
                f"TrainConfig.device must be 'auto', 'cpu' or 'cuda', got {self.device!r}"
            )
        if self.num_threads is not None and self.num_threads < 1:
            raise ValueError(f"TrainConfig.num_threads must be >= 1, got {self.num_threads}")


@dataclass
class EpochReport:
    """Passed to the callback after every epoch (and logged as one line)."""

    epoch: int  # 1-based
    n_epochs: int  # the configured maximum
    train_loss: float  # mean BCE over the training jets, in train mode during the epoch
    val_loss: float  # mean BCE over the validation jets after the epoch
    val_accuracy: float  # fraction with (logit >= 0) == label
    seconds: float  # wall time of the whole epoch (training + validation)
    jets_per_s: float  # training jets per second of the training part
    lr: float  # learning rate used in this epoch
    best: bool  # this epoch set a new lowest validation loss
    penalty: float | None = None  # mean model penalty() in the epoch (None: the model has none)


# --------------------------------------------------------------------------------------------
# data


def _check_data(
    name: str, data: Mapping[str, np.ndarray], input_keys: Sequence[str]
) -> tuple[int, list[str]]:
    """Validate one split; return (n, present input keys)."""
    if "labels" not in data:
        raise KeyError(f"{name} data has no 'labels' array (keys: {sorted(data)})")
    keys = [k for k in input_keys if k in data]
    if not keys:
        raise KeyError(
            f"{name} data has none of the input keys {tuple(input_keys)} (keys: {sorted(data)})"
        )
    n = len(data["labels"])
    for k in [*keys, "labels"]:
        if len(data[k]) != n:
            raise ValueError(
                f"{name}[{k!r}] has {len(data[k])} entries but {name}['labels'] has {n}"
            )
    if n == 0:
        raise ValueError(f"{name} data is empty")
    labels = np.asarray(data["labels"])
    if labels.ndim != 1 or not np.all((labels == 0) | (labels == 1)):
        raise ValueError(f"{name}['labels'] must be a 1-d array of 0 and 1")
    if "weights" in data:
        _check_weights(name, np.asarray(data["weights"]), n)
    return n, keys


def _check_weights(name: str, w: np.ndarray, n: int) -> None:
    """Per-event weights must be (n,), finite, >= 0, with a positive sum."""
    if w.shape != (n,):
        raise ValueError(f"{name}['weights'] must have shape ({n},), got {w.shape}")
    if not np.issubdtype(w.dtype, np.number) or not np.all(np.isfinite(w)):
        raise ValueError(f"{name}['weights'] must be finite numbers")
    if np.any(w < 0) or not np.sum(w, dtype=np.float64) > 0:
        raise ValueError(f"{name}['weights'] must be >= 0 with a positive sum")


def _batch_weights(
    data: Mapping[str, np.ndarray], idx: np.ndarray | slice, device: torch.device
) -> torch.Tensor | None:
    """Per-event weights (B,) float32 on device, or None for unweighted data."""
    if "weights" not in data:
        return None
    return _to_tensor(np.asarray(data["weights"][idx], dtype=np.float32), device)


def _to_tensor(a: np.ndarray, device: torch.device) -> torch.Tensor:
    a = np.ascontiguousarray(a)
    if not a.flags.writeable:  # e.g. a slice of a read-only memmap: torch wants writeable memory
        a = a.copy()
    if a.dtype == np.bool_:
        t = torch.from_numpy(a)
    elif np.issubdtype(a.dtype, np.floating):
        t = torch.from_numpy(a.astype(np.float32, copy=False))
    else:
        t = torch.from_numpy(a)
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t


def _batch(
    data: Mapping[str, np.ndarray],
    keys: Sequence[str],
    idx: np.ndarray | slice,
    device: torch.device,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """({key: (B, ...)} on device, labels (B,) float32 on device)."""
    inputs = {k: _to_tensor(data[k][idx], device) for k in keys}
    labels = _to_tensor(np.asarray(data["labels"][idx], dtype=np.float32), device)
    return inputs, labels


# --------------------------------------------------------------------------------------------
# helpers


class _ProgressBar:
    """A minimal text progress bar on stderr, redrawn at most every 0.2 s."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.start = self.last = time.perf_counter()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.2 and done < self.total):
            return
        self.last = now
        frac = done / self.total
        bar = "#" * int(30 * frac)
        rate = done / max(now - self.start, 1e-9)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {done}/{self.total} batches ({rate:.1f}/s)")
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _lr_factor(schedule: str, epochs: int) -> Callable[[int], float]:
    if schedule == "constant":
        return lambda epoch: 1.0
    return lambda epoch: 0.5 * (1.0 + math.cos(math.pi * min(epoch, epochs) / epochs))


def _amp_dtype(device: torch.device, amp: bool) -> torch.dtype | None:
    if not amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    old = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _save_atomic(obj: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _evaluate(
    model: nn.Module,
    data: Mapping[str, np.ndarray],
    keys: Sequence[str],
    batch_size: int,
    device: torch.device,
    amp_dtype: torch.dtype | None,
) -> tuple[float, float]:
    """(mean BCE, accuracy) over a whole split, in eval mode (weighted means with weights)."""
    n = len(data["labels"])
    loss_sum, correct = 0.0, 0.0
    model.eval()
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            inputs, y = _batch(data, keys, sl, device)
            w = _batch_weights(data, sl, device)
            with _autocast(device, amp_dtype):
                logits = model(inputs)
            logits = logits.float()
            right = (logits >= 0) == (y > 0.5)
            if w is None:
                loss_sum += float(
                    nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="sum")
                )
                correct += int(right.sum())
            else:
                bce = nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
                loss_sum += float((w.double() * bce.double()).sum())
                correct += float((w.double() * right).sum())
    norm = float(np.sum(data["weights"], dtype=np.float64)) if "weights" in data else n
    return loss_sum / norm, correct / norm


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _empty_history() -> dict[str, list[float]]:
    keys = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
    return {k: [] for k in (*keys, "seconds_per_epoch", "jets_per_s", "lr")}


@dataclass
class _LoopState:
    """What the epoch loop carries from one epoch to the next (and the checkpoint keeps)."""

    epoch: int = 0  # completed epochs
    best_val_loss: float = math.inf
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = None  # on CPU
    bad_epochs: int = 0  # epochs since the last improvement
    history: dict[str, list[float]] = dataclasses.field(default_factory=_empty_history)


@dataclass
class _Trainer:
    """The training objects of one :func:`train_classifier` call."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler | None
    rng: np.random.Generator  # batch order
    device: torch.device
    amp_dtype: torch.dtype | None
    keys: list[str]
    config: TrainConfig
    n_train: int
    n_val: int
    penalty: Callable[[], torch.Tensor] | None  # the model's penalty(), if it has one


def _trainer(
    model: nn.Module, keys: list[str], config: TrainConfig, n_train: int, n_val: int
) -> _Trainer:
    """Move the model to the device; build optimiser, schedule, scaler and batch-order RNG."""
    device = pick_device(config.device)
    amp_dtype = _amp_dtype(device, config.amp)
    model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_factor(config.lr_schedule, config.epochs)
    )
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    rng = np.random.default_rng(config.seed)
    penalty = getattr(model, "penalty", None)
    return _Trainer(
        model, optimizer, scheduler, scaler, rng, device, amp_dtype, keys, config, n_train, n_val,
        penalty if callable(penalty) else None,
    )  # fmt: skip


def _batch_loss(
    logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None, w_mean: float
) -> torch.Tensor:
    """Mean BCE of a batch; with weights sum w * bce / (B * w_mean) (see the module docstring)."""
    if w is None:
        return nn.functional.binary_cross_entropy_with_logits(logits, y)
    bce = nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return (w * bce).sum() / (len(y) * w_mean)


def _train_epoch(
    tr: _Trainer, train: Mapping[str, np.ndarray], epoch: int
) -> tuple[float, float, float | None]:
    """One pass over the training jets in a random order.

    Returns (mean loss incl. penalty, accuracy, mean penalty or None without one); the
    means over events are weighted when ``train`` has ``weights``.
    """
    config, device, model = tr.config, tr.device, tr.model
    bs = config.batch_size
    n_batches = math.ceil(tr.n_train / bs)
    perm = tr.rng.permutation(tr.n_train)
    weighted = "weights" in train
    w_mean = float(np.mean(train["weights"], dtype=np.float64)) if weighted else 1.0
    model.train()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    penalty_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.float64 if weighted else torch.int64, device=device)
    bar = _ProgressBar(n_batches, f"epoch {epoch}/{config.epochs}", config.progress_bar)
    for b in range(n_batches):
        idx = np.sort(perm[b * bs : (b + 1) * bs])  # sorted: fast memmap reads
        inputs, y = _batch(train, tr.keys, idx, device)
        w = _batch_weights(train, idx, device)
        tr.optimizer.zero_grad(set_to_none=True)
        with _autocast(device, tr.amp_dtype):
            logits = model(inputs)
        logits = logits.float()
        loss = _batch_loss(logits, y, w, w_mean)
        if tr.penalty is not None:
            penalty = tr.penalty().float()
            loss = loss + penalty
            penalty_sum += penalty.detach().double() * len(idx)
        if tr.scaler is not None:
            tr.scaler.scale(loss).backward()
            tr.scaler.step(tr.optimizer)
            tr.scaler.update()
        else:
            loss.backward()
            tr.optimizer.step()
        loss_sum += loss.detach().double() * len(idx)
        right = (logits.detach() >= 0) == (y > 0.5)
        correct += right.sum() if w is None else (w.double() * right).sum()
        bar.update(b + 1)
    tr.scheduler.step()
    accuracy = (float(correct) / w_mean if weighted else int(correct)) / tr.n_train
    penalty_mean = float(penalty_sum) / tr.n_train if tr.penalty is not None else None
    return float(loss_sum) / tr.n_train, accuracy, penalty_mean


def _run_epoch(
    tr: _Trainer,
    state: _LoopState,
    epoch: int,
    train: Mapping[str, np.ndarray],
    val: Mapping[str, np.ndarray],
) -> EpochReport:
    """Train and validate one epoch; update ``state`` (best weights, history)."""
    t0 = time.perf_counter()
    lr = float(tr.optimizer.param_groups[0]["lr"])
    train_loss, train_acc, penalty = _train_epoch(tr, train, epoch)
    t_train = time.perf_counter() - t0
    bs = tr.config.batch_size
    val_loss, val_acc = _evaluate(tr.model, val, tr.keys, max(bs, 1024), tr.device, tr.amp_dtype)
    seconds = time.perf_counter() - t0
    jets_per_s = tr.n_train / max(t_train, 1e-12)

    best = val_loss < state.best_val_loss  # NaN never counts as better
    if best:
        state.best_val_loss = val_loss
        state.best_epoch = epoch
        state.best_state = _cpu_state(tr.model)
        state.bad_epochs = 0
    else:
        state.bad_epochs += 1
    report = EpochReport(
        epoch=epoch,
        n_epochs=tr.config.epochs,
        train_loss=train_loss,
        val_loss=val_loss,
        val_accuracy=val_acc,
        seconds=seconds,
        jets_per_s=jets_per_s,
        lr=lr,
        best=best,
        penalty=penalty,
    )
    for k, v in (
        ("epoch", epoch),
        ("train_loss", report.train_loss),
        ("train_accuracy", train_acc),
        ("val_loss", val_loss),
        ("val_accuracy", val_acc),
        ("seconds_per_epoch", seconds),
        ("jets_per_s", jets_per_s),
        ("lr", lr),
    ):
        state.history[k].append(v)
    if penalty is not None:
        state.history.setdefault("penalty", []).append(penalty)
    state.epoch = epoch
    return report


def _log_epoch(report: EpochReport) -> None:
    log.info(
        "epoch %d/%d: train loss %.5f, val loss %.5f, val acc %.4f, %.2f s/epoch, "
        "%.0f jets/s, lr %.3g%s",
        report.epoch, report.n_epochs, report.train_loss, report.val_loss,
        report.val_accuracy, report.seconds, report.jets_per_s, report.lr,
        " (best)" if report.best else "",
    )  # fmt: skip


def _finish(tr: _Trainer, state: _LoopState) -> bool:
    """Log early stopping, load the best weights; return whether training stopped early."""
    config = tr.config
    stopped_early = state.bad_epochs >= config.patience and state.epoch < config.epochs
    if stopped_early:
        log.info(
            "early stopping after epoch %d: no improvement for %d epochs",
            state.epoch, state.bad_epochs,
        )  # fmt: skip
    if state.best_state is not None:
        tr.model.load_state_dict(state.best_state)
    else:
        log.warning("no finite validation loss in any epoch; keeping the last weights")
    return stopped_early


# --------------------------------------------------------------------------------------------
# public API


def train_classifier(
    model: nn.Module,
    train: Mapping[str, np.ndarray],
    val: Mapping[str, np.ndarray],
    config: TrainConfig,
    checkpoint: str | Path | None = None,
    callback: Callable[[EpochReport], None] | None = None,
    input_keys: Sequence[str] = DEFAULT_INPUT_KEYS,
    resume_key: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Train a binary classifier with BCE on logits, AdamW and early stopping.

    Args:
        model: maps ``{key: (B, ...) tensor}`` to (B,) logits; moved to the training device
            and left there, holding the weights of the best validation epoch on return.
        train, val: ``{key: (n, ...) array}``: ``labels`` (n,) in {0, 1}, some ``input_keys``,
            optional ``weights`` (n,); bool arrays -> ``torch.bool``, floating -> ``float32``.
        config: optimisation settings.
        checkpoint: file written after every epoch.  If it exists at the start and was
            written by the same job (same ``resume_key``, ``batch_size``,
            ``learning_rate``, ``weight_decay``, ``seed``, ``lr_schedule`` and split
            sizes), training RESUMES from it at the next epoch; otherwise it is ignored
            (a log line says what changed), deleted, and training starts afresh.  Without a
            ``resume_key``, ``epochs`` may be raised to continue a finished run; with
            the cosine schedule that stretches the remaining schedule, so only a resume
            with unchanged ``epochs`` (or a constant schedule) reproduces an
            uninterrupted run exactly.  A run that stopped early stays stopped unless
            ``patience`` is raised.
        callback: called with an :class:`EpochReport` after each epoch, after the
            checkpoint is written.
        input_keys: which arrays go into the batch dict (those absent are skipped).
        resume_key: what determines this job (``phenoflow.resume.resume_key``: settings,
            input data, code), stored in the checkpoint; ``None`` stores and checks none.

    Returns:
        History: per-epoch lists ``epoch``, ``train_loss``, ``train_accuracy``,
        ``val_loss``, ``val_accuracy``, ``seconds_per_epoch``, ``jets_per_s``, ``lr`` and, for a
        model with ``penalty()``, ``penalty`` (all including epochs from a resumed checkpoint);
        ``best_epoch`` (1-based; ``None``: no finite val loss), ``best_val_loss``, ``stopped_early``,
        ``resumed_from_epoch`` (0 if fresh), ``device``, ``amp`` ("bf16", "fp16" or
        "off"), ``wall_seconds`` (this call), ``n_parameters``, ``n_train``, ``n_val``.
    """
    t_call = time.perf_counter()
    n_train, keys = _check_data("train", train, input_keys)
    n_val, val_keys = _check_data("val", val, input_keys)
    if val_keys != keys:
        raise KeyError(f"train has input keys {keys} but val has {val_keys}")
    tr = _trainer(model, keys, config, n_train, n_val)
    cuda_devices = [tr.device.index or 0] if tr.device.type == "cuda" else []

    with torch.random.fork_rng(devices=cuda_devices), _threads(config.num_threads):
        torch.manual_seed(config.seed)
        path = Path(checkpoint) if checkpoint is not None else None
        state = _start_state(path, tr, resume_key)
        resumed_from = state.epoch
        for epoch in range(state.epoch + 1, config.epochs + 1):
            if state.bad_epochs >= config.patience:
                break
            report = _run_epoch(tr, state, epoch, train, val)
            if path is not None:
                _save_atomic(_checkpoint_dict(tr, state, resume_key), path)
            _log_epoch(report)
            if callback is not None:
                callback(report)
        stopped_early = _finish(tr, state)

    amp_name = {torch.bfloat16: "bf16", torch.float16: "fp16", None: "off"}[tr.amp_dtype]
    return {
        **state.history,
        "best_epoch": state.best_epoch,
        "best_val_loss": state.best_val_loss,
        "stopped_early": stopped_early,
        "resumed_from_epoch": resumed_from,
        "device": str(tr.device),
        "amp": amp_name,
        "wall_seconds": time.perf_counter() - t_call,
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "n_train": n_train,
        "n_val": n_val,
    }


def _checkpoint_dict(
    tr: _Trainer, state: _LoopState, key: Mapping[str, str] | None
) -> dict[str, Any]:
    device = next(tr.model.parameters()).device
    return {
        "format": CHECKPOINT_FORMAT,
        "job": dict(key) if key is not None else None,
        "epoch": state.epoch,
        "model": tr.model.state_dict(),
        "optimizer": tr.optimizer.state_dict(),
        "scheduler": tr.scheduler.state_dict(),
        "scaler": tr.scaler.state_dict() if tr.scaler is not None else None,
        "best_val_loss": state.best_val_loss,
        "best_epoch": state.best_epoch,
        "best_state": state.best_state,
        "bad_epochs": state.bad_epochs,
        "history": copy.deepcopy(state.history),
        "numpy_rng": json.dumps(tr.rng.bit_generator.state),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "config": dataclasses.asdict(tr.config),
        "n_train": tr.n_train,
        "n_val": tr.n_val,
    }


def _other_job(ckpt: Mapping[str, Any], tr: _Trainer, key: Mapping[str, str] | None) -> str:
    """What differs between the job that wrote ``ckpt`` and this one ("": nothing)."""
    if ckpt["format"] != CHECKPOINT_FORMAT:
        return f"format changed: {ckpt['format']!r} -> {CHECKPOINT_FORMAT!r}"
    changed: dict[str, list[str]] = {}
    if key is not None:
        changed = {part: [] for part in key_differences(ckpt.get("job"), key)}
    old, config = ckpt["config"], tr.config
    for k in _RESUME_MUST_MATCH:
        if old.get(k) != getattr(config, k):
            changed.setdefault("settings", []).append(
                f"{k} {old.get(k)!r} -> {getattr(config, k)!r}"
            )
    if (ckpt["n_train"], ckpt["n_val"]) != (tr.n_train, tr.n_val):
        changed.setdefault("data", []).append(
            f"{ckpt['n_train']} train / {ckpt['n_val']} val jets, now {tr.n_train} / {tr.n_val}"
        )
    return "; ".join(
        f"{part} changed" + (f": {', '.join(changed[part])}" if changed[part] else "")
        for part in KEY_PARTS
        if part in changed
    )


def _start_state(path: Path | None, tr: _Trainer, key: Mapping[str, str] | None) -> _LoopState:
    """Where the epoch loop starts: this job's checkpoint at ``path`` if any, else afresh."""
    state = _resume(path, tr, key) if path is not None and path.exists() else None
    if state is None:
        return _LoopState()
    log.info("resuming from %s after epoch %d", path, state.epoch)
    return state


def _resume(path: Path, tr: _Trainer, key: Mapping[str, str] | None) -> _LoopState | None:
    """Load a checkpoint of this job into the training objects; return the loop state.

    A checkpoint of another job is deleted (``None`` returned: start from scratch).
    """
    optimizer, scheduler = tr.optimizer, tr.scheduler
    device = next(tr.model.parameters()).device
    ckpt = torch.load(path, map_location=device, weights_only=True)
    fmt = ckpt.get("format") if isinstance(ckpt, dict) else None
    if not (isinstance(fmt, str) and fmt.startswith(_FORMAT_FAMILY)):
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} training checkpoint")
    why = _other_job(ckpt, tr, key)
    if why:
        log.warning(
            "checkpoint ignored: made by a different job (%s): %s; training from scratch",
            why, path,
        )  # fmt: skip
        path.unlink()
        return None
    tr.model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    # the lambda is this call's (``epochs`` may have grown): set this epoch's rate from it
    for group, base_lr, fn in zip(
        optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas, strict=True
    ):
        group["lr"] = base_lr * fn(scheduler.last_epoch)
    if tr.scaler is not None and ckpt["scaler"] is not None:
        tr.scaler.load_state_dict(ckpt["scaler"])
    tr.rng.bit_generator.state = json.loads(ckpt["numpy_rng"])
    torch.set_rng_state(ckpt["torch_rng"].cpu())
    if ckpt["cuda_rng"] is not None and device.type == "cuda":
        torch.cuda.set_rng_state(ckpt["cuda_rng"].cpu(), device)
    best_state = ckpt["best_state"]
    if best_state is not None:
        best_state = {k: v.cpu() for k, v in best_state.items()}
    return _LoopState(
        epoch=int(ckpt["epoch"]),
        best_val_loss=float(ckpt["best_val_loss"]),
        best_epoch=ckpt["best_epoch"],
        best_state=best_state,
        bad_epochs=int(ckpt["bad_epochs"]),
        history=ckpt["history"],
    )


def predict(
    model: nn.Module,
    data: Mapping[str, np.ndarray],
    batch_size: int = 1024,
    device: str | torch.device = "auto",
    input_keys: Sequence[str] = DEFAULT_INPUT_KEYS,
) -> np.ndarray:
    """Signal probabilities sigmoid(logit) for every jet, in eval mode without gradients.

    Args:
        model: as for :func:`train_classifier`; moved to ``device`` and left there, and put
            back into train mode afterwards if it was in train mode.
        data: ``{key: (n, ...) array}``; ``labels`` is not needed.
        batch_size: jets per forward pass.
        device: "auto", "cpu", "cuda" or a ``torch.device``.
        input_keys: which arrays go into the batch dict (those absent are skipped).

    Returns:
        (n,) float32 probabilities in [0, 1].
    """
    keys = [k for k in input_keys if k in data]
    if not keys:
        raise KeyError(
            f"data has none of the input keys {tuple(input_keys)} (keys: {sorted(data)})"
        )
    n = len(data[keys[0]])
    for k in keys:
        if len(data[k]) != n:
            raise ValueError(
                f"data[{k!r}] has {len(data[k])} entries but data[{keys[0]!r}] has {n}"
            )
    dev = device if isinstance(device, torch.device) else pick_device(device)
    model.to(dev)
    was_training = model.training
    model.eval()
    out = np.empty(n, dtype=np.float32)
    try:
        with torch.inference_mode():
            for start in range(0, n, batch_size):
                sl = slice(start, start + batch_size)
                inputs = {k: _to_tensor(data[k][sl], dev) for k in keys}
                out[sl] = torch.sigmoid(model(inputs).float()).cpu().numpy()
    finally:
        model.train(was_training)
    return out
