"""Shared machinery of the routers that train a torch policy through skorch."""

import numbers

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from skroute._net import seeded_torch
from skroute.causal import PSEUDO_OUTCOME_METHODS
from skroute.losses import SURROGATES
from skroute.routers._base import CV_CONSTRAINT, BaseRouter, NuisanceMixin

# Early stopping needs a validation split large enough to rank epochs.
_MIN_VALIDATION_ROWS = 10
# Prediction runs the float32 module on blocks of exactly this many rows (the
# last one zero-padded): every row then goes through the same matrix-product
# path whatever the number of rows passed, so a query's scores do not depend
# on the batch it comes in.
_PREDICT_BLOCK = 2048

NEURAL_ROUTER_CONSTRAINTS = {
    "surrogate": [StrOptions(set(SURROGATES))],
    "cost_sensitivity": [Interval(numbers.Real, 0, None, closed="left")],
    "pseudo_outcome": [StrOptions(set(PSEUDO_OUTCOME_METHODS))],
    "cost_pseudo_outcome": [None, StrOptions(set(PSEUDO_OUTCOME_METHODS))],
    "propensity_model": [None, HasMethods(["fit", "predict_proba"])],
    "reward_model": [None, HasMethods(["fit"])],
    "cost_model": [None, HasMethods(["fit"])],
    "cv": CV_CONSTRAINT,
    "min_propensity": [Interval(numbers.Real, 0, 1, closed="right")],
    "hidden_layer_sizes": ["array-like"],
    "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
    "gap_weighted": ["boolean"],
    "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "lr": [Interval(numbers.Real, 0, None, closed="neither")],
    "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
    "classes": [None, "array-like"],
    "device": [str],
    "n_jobs": [None, numbers.Integral],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def _quiet(*args, **kwargs):
    """A print sink that drops messages (module level so that nets pickle)."""


class NeuralRouter(NuisanceMixin, BaseRouter):
    """Base of routers whose policy is a torch network trained on pseudo-outcomes.

    Subclasses build the skorch net and the batch dict in ``_fit``, using
    ``_seeds``, ``_pseudo_outcomes``, ``_net_params`` and ``_train``; the
    trained module's outputs come from ``_module_outputs``.
    """

    def _seeds(self):
        rng = check_random_state(self.random_state)
        nuisance_seed, torch_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        return int(nuisance_seed), int(torch_seed)

    def _net_params(self, n_samples, seed):
        """skorch parameters shared by every policy net: optimiser, loss, stopping."""
        params = {
            "criterion": SURROGATES[self.surrogate],
            "criterion__temperature": self.temperature,
            "optimizer": torch.optim.AdamW,
            "optimizer__weight_decay": self.weight_decay,
            "lr": self.lr,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "iterator_valid__batch_size": max(self.batch_size, 8192),
            "train_split": None,
            "callbacks": [],
            "device": self.device,
            "verbose": self.verbose,
        }
        if self.surrogate == "classification":
            params["criterion__gap_weighted"] = self.gap_weighted
        held_out = int(n_samples * self.validation_fraction)
        if self.early_stopping and held_out >= _MIN_VALIDATION_ROWS:
            params["train_split"] = ValidSplit(
                self.validation_fraction, stratified=False, random_state=seed
            )
            params["callbacks"] = [
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                        sink=print if self.verbose else _quiet,
                    ),
                )
            ]
        return params

    def _train(self, net, batches, seed):
        with seeded_torch(seed, self.device):
            net.fit(batches, y=None)
        self.net_ = net

    def _module_outputs(self, X):
        """Outputs of the trained module on ``X`` (float64, CPU tensor)."""
        # The module is called directly: no per-batch copies through skorch's
        # dataset on the prediction path.
        module = self.net_.module_.eval()
        device = self.net_.device
        n_samples = X.shape[0]
        outputs = []
        with torch.inference_mode():
            for start in range(0, n_samples, _PREDICT_BLOCK):
                block = np.zeros((_PREDICT_BLOCK, X.shape[1]), dtype=np.float32)
                rows = min(_PREDICT_BLOCK, n_samples - start)
                block[:rows] = X[start : start + rows]
                scores = module(torch.from_numpy(block).to(device))
                outputs.append(scores[:rows].cpu().to(torch.float64))
        if not outputs:
            return torch.empty((0, self.classes_.size), dtype=torch.float64)
        return torch.cat(outputs)
