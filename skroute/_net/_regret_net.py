"""The skorch NeuralNet that trains a policy on batched rows of pseudo-outcomes."""

import contextlib

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.callbacks import EarlyStopping as _SkorchEarlyStopping
from skorch.utils import to_tensor
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

from skroute._net._modules import interpolate_scores


class TrainingDiverged(ArithmeticError):
    """The loss of a policy net became NaN or infinite during training."""

    def __init__(self, epoch, loss):
        super().__init__(epoch, loss)
        self.epoch = epoch
        self.loss = loss


class TrainingInterrupted(Exception):
    """A KeyboardInterrupt arrived while a policy net trained."""


class _StoppedEarly(Exception):
    """Early stopping ended training (skorch signals it with a KeyboardInterrupt)."""


class EarlyStopping(_SkorchEarlyStopping):
    """skorch's early stopping, ending training without a KeyboardInterrupt.

    skorch stops by raising KeyboardInterrupt, which its ``partial_fit``
    swallows, and so it swallows the user's interrupts too; this one raises a
    signal of its own, so that :class:`RegretNet` can tell the two apart.
    """

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            if self.misses_ != self.patience:
                raise
            raise _StoppedEarly from None


class StopOnDivergence(Callback):
    """Stop training at the first batch whose loss is not finite.

    Raises :class:`TrainingDiverged` at the end of that batch, instead of
    finishing the epochs with a NaN module; the router that trains the net
    then keeps its previous state.
    """

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is not None and not bool(torch.isfinite(loss).all()):
            raise TrainingDiverged(len(net.history), float(loss))


class Snapshots(Callback):
    """Copies of the module's parameters at chosen epochs and at the last one.

    ``states_`` maps each epoch to a CPU copy of the module's ``state_dict``;
    the epoch at which training ended (early stopping or ``max_epochs``) is
    always kept, so a selection can fall back to it.

    Parameters
    ----------
    epochs : collection of int
    """

    def __init__(self, epochs):
        self.epochs = epochs

    def initialize(self):
        self.states_ = {}
        return self

    def _copy(self, net):
        return {
            k: v.detach().cpu().clone() for k, v in net.module_.state_dict().items()
        }

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch in self.epochs:
            self.states_[epoch] = self._copy(net)

    def on_train_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch and epoch not in self.states_:
            self.states_[epoch] = self._copy(net)


class RegretNet(NeuralNet):
    """skorch ``NeuralNet`` whose loss is a regret surrogate on batched utilities.

    ``fit`` takes a dict ``{"features": X, "utility": U, "sample_weight": w}``
    and ``y=None``; skorch slices every entry of the dict per batch, so each
    batch's scores meet the utility rows of the same queries in ``get_loss``.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        utility = to_tensor(X["utility"], device=self.device)
        sample_weight = X.get("sample_weight")
        if sample_weight is not None:
            sample_weight = to_tensor(sample_weight, device=self.device)
        return self.criterion_(y_pred, utility, sample_weight)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs, **fit_params)
        except _StoppedEarly:
            return self
        except KeyboardInterrupt as exc:
            # skorch's partial_fit ends training quietly on an interrupt and keeps
            # the half-trained module; the caller must see the interrupt instead.
            raise TrainingInterrupted from exc

    def get_iterator(self, dataset, training=False):
        # Index the dataset once per batch instead of once per row: the default
        # DataLoader collates rows one by one, which dominates small-network epochs.
        prefix = "iterator_train" if training else "iterator_valid"
        options = self.get_params_for(prefix)
        batch_size = options.pop("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(dataset)
        shuffle = options.pop("shuffle", training)
        rows = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
        sampler = BatchSampler(rows, batch_size=batch_size, drop_last=False)
        # Other loader options (num_workers, pin_memory, ...) pass through.
        return DataLoader(dataset, batch_size=None, sampler=sampler, **options)


@contextlib.contextmanager
def seeded_torch(seed, device):
    """Seed torch inside a forked RNG state, leaving the global state untouched."""
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = list(range(torch.cuda.device_count()))
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class IntervalRegretNet(RegretNet):
    """skorch net of the interval router: one loss over a range of cost sensitivities.

    ``fit`` takes ``{"features", "reward", "cost", "sample_weight"}`` where
    ``reward`` and ``cost`` are the pseudo-outcome matrices. In training, each
    row of a batch draws its own ``lambda`` uniformly over the grid's range and
    the surrogate is applied to the interpolated scores against
    ``reward - lambda * cost``; the validation loss averages the surrogate over
    the fixed grid points and their midpoints, so early stopping compares
    epochs on the same footing.

    Parameters
    ----------
    cost_grid : array-like of shape (n_endpoints,)
        Increasing grid of cost sensitivities.
    *args, **kwargs
        As for :class:`skorch.NeuralNet`.
    """

    def __init__(self, *args, cost_grid, regret_scale=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cost_grid = cost_grid
        self.regret_scale = regret_scale

    def get_loss(self, y_pred, y_true, X=None, training=False):
        reward = to_tensor(X["reward"], device=self.device)
        cost = to_tensor(X["cost"], device=self.device)
        sample_weight = to_tensor(X["sample_weight"], device=self.device)
        grid = torch.as_tensor(self.cost_grid, dtype=y_pred.dtype, device=y_pred.device)
        n_rows = y_pred.shape[0]
        if training:
            # Each grid interval gets the same share of draws, then a uniform
            # position inside it: a finer grid where it matters gets more draws.
            interval = torch.randint(grid.shape[0] - 1, (n_rows,), device=y_pred.device)
            position = torch.rand(n_rows, dtype=y_pred.dtype, device=y_pred.device)
            left, right = grid[interval], grid[interval + 1]
            settings = [left + position * (right - left)]
        else:
            midpoints = (grid[:-1] + grid[1:]) / 2
            settings = [
                torch.full(
                    (n_rows,), float(value), dtype=y_pred.dtype, device=y_pred.device
                )
                for value in torch.cat([grid, midpoints])
            ]
        scale = None
        if self.regret_scale is not None:
            scale = torch.as_tensor(
                self.regret_scale, dtype=y_pred.dtype, device=y_pred.device
            )
        losses = []
        for setting in settings:
            weight = sample_weight
            if scale is not None:
                # Rows weigh 1 / (typical regret at their lambda): every cost
                # sensitivity counts alike, not only those with large regrets.
                weight = weight / _interp(setting, grid, scale)
            losses.append(
                self.criterion_(
                    interpolate_scores(y_pred, grid, setting),
                    reward - setting.unsqueeze(1) * cost,
                    weight,
                )
            )
        return torch.stack(losses).mean()


def _interp(x, xp, fp):
    """Linear interpolation of ``fp`` at ``x`` (torch), within ``xp``'s range."""
    index = (torch.searchsorted(xp, x.contiguous(), right=True) - 1).clamp(
        0, xp.shape[0] - 2
    )
    alpha = (x - xp[index]) / (xp[index + 1] - xp[index])
    return (1 - alpha) * fp[index] + alpha * fp[index + 1]
