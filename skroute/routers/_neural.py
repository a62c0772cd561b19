"""Shared machinery of the routers that train a torch policy through skorch."""

import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from skroute.causal import PSEUDO_OUTCOME_METHODS
from skroute.losses import SURROGATES
from skroute.routers._base import CV_CONSTRAINT, BaseRouter, NuisanceMixin
from skroute.routers._deployed import legacy_deployed_policy
from skroute.routers._training import PolicyTrainer
from skroute.utils import check_hidden_layer_sizes

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
    "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
    "policy_cv": [Interval(numbers.Integral, 2, None, closed="left")],
    "safety_check": [StrOptions({"fallback", "warn", "off"})],
    "safety_level": [Interval(numbers.Real, 0.5, 1, closed="neither")],
    "classes": [None, "array-like"],
    "device": [str],
    "n_jobs": [None, numbers.Integral],
    "memory": [None, str, HasMethods(["cache"])],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


class NeuralRouter(NuisanceMixin, BaseRouter):
    """Base of routers whose policy is a torch network trained on pseudo-outcomes.

    ``_fit`` runs the one training sequence
    (:class:`~skroute.routers._training.PolicyTrainer`) on the targets that
    the subclass's ``_targets`` describes, and keeps the trained net and the
    deployed-policy object (``deployed_``) through which ``predict``,
    ``predict_proba`` and the export go.
    """

    def _check_fit_settings(self):
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ValueError(
                f"device={self.device!r} is not a torch device; use 'cpu', 'cuda' or "
                "'cuda:<index>'."
            ) from exc
        if device.type not in ("cpu", "cuda"):
            raise ValueError(
                f"device={self.device!r} is not supported: skroute's policy "
                "networks train on 'cpu' or 'cuda' (router.set_params(device='cpu'))."
            )
        if device.type == "cuda" and (
            not torch.cuda.is_available()
            or (device.index or 0) >= torch.cuda.device_count()
        ):
            raise ValueError(
                f"device={self.device!r}, but torch {torch.__version__} finds no such "
                "CUDA device on this machine; fit with device='cpu' "
                "(router.set_params(device='cpu')). A router fitted on a GPU loads "
                "and predicts on a CPU-only machine as it is."
            )
        # Checked before the nuisances are fitted, not after.
        check_hidden_layer_sizes(self.hidden_layer_sizes)
        smallest = float(np.finfo(np.float32).tiny)
        if self.temperature < smallest:
            raise ValueError(
                f"temperature={self.temperature!r} is below {smallest:.3g}, the "
                "smallest normal float32, the precision of the policy network; use "
                "a larger temperature."
            )

    def _fit(self, logs):
        trainer = PolicyTrainer(self, logs)
        try:
            estimates = trainer.pseudo_outcomes()
            targets = self._targets(logs, estimates)
            overlap, shrinkage = estimates.overlap, estimates.shrinkage or None
            # Freed before training, but for what the targets keep of them.
            del estimates
            trained = trainer.run(targets)
        finally:
            trainer.stages.close()
        self.net_ = trained.net
        self.n_epochs_ = trained.n_epochs
        self.training_epochs_ = trained.training_epochs
        self.learned_policy_ = trained.learned
        self.deployed_ = trained.deployed
        self.deployed_policy_ = trained.deployed.name
        self.safety_report_ = trained.report
        self.overlap_ = overlap
        self.shrinkage_ = shrinkage
        self._record(targets)
        return self

    def _targets(self, logs, estimates):
        """What the policy learns from (a targets object of ``_targets.py``)."""
        raise NotImplementedError

    def _record(self, targets):
        """Keep what this router needs of ``targets`` besides the deployed policy."""

    def _policy_proba(self, scores):
        return self.deployed_.proba(scores, self.temperature)

    def _export_arrays(self, meta):
        return self.deployed_.to_arrays(meta, self.temperature)

    def _deployed_policy(self):
        return legacy_deployed_policy(self)
