"""The skorch NeuralNet that trains a policy on batched rows of pseudo-outcomes."""

import contextlib

import torch
from skorch import NeuralNet
from skorch.utils import to_tensor
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler


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
