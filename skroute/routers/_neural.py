"""Shared machinery of the routers that train a torch policy through skorch."""

import numbers
from statistics import NormalDist

import numpy as np
import torch
from sklearn.model_selection import KFold
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from skorch.dataset import ValidSplit
from skorch.helper import predefined_split

from skroute._net import (
    EarlyStopping,
    Snapshots,
    StopOnDivergence,
    TrainingDiverged,
    TrainingInterrupted,
    seeded_torch,
)
from skroute.causal import PSEUDO_OUTCOME_METHODS
from skroute.causal._folds import is_split_list
from skroute.losses import SURROGATES
from skroute.routers._base import CV_CONSTRAINT, BaseRouter, LoggedData, NuisanceMixin
from skroute.routers._selection import (
    checkpoint_epochs,
    choose_epoch,
    safety_report,
    state_at,
    warn_fallback,
)

# Cross-fitting folds of each policy fold's training targets (at most).
_FOLD_TARGET_CV = 3

# Early stopping needs a validation split large enough to rank epochs.
_MIN_VALIDATION_ROWS = 10
# Prediction runs the float32 module on blocks of exactly this many rows (the
# last one zero-padded): every row then goes through the same matrix-product
# path whatever the number of rows passed, so a query's scores do not depend
# on the batch it comes in.
_PREDICT_BLOCK = 2048
# Rows per block when the features are standardised for training.
_STANDARDISE_BLOCK = 4096
# Largest pseudo-outcome magnitude the float32 loss trains on as is. Larger
# matrices are divided by a power of two, which rounds nothing and scales the
# loss alone: Adam's steps, hence the policy, do not depend on that scale.
_MAX_TRAINING_MAGNITUDE = 2.0**40

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
    "memory": [None, str, HasMethods(["cache"])],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


class _RowsOf:
    """Rows ``rows`` of ``X``, indexed as an array of their own without a copy.

    The nuisance models of a policy fold are cross-fitted on the fold's
    training rows. Cross-fitting reads its features only as ``X[index]``
    with index arrays (or masks) over its rows, and ``X.shape``: this maps
    those onto ``X`` itself, so that the fold's rows are never copied out
    as a whole (two thirds of ``X`` per fold).
    """

    def __init__(self, X, rows):
        self.X = X
        self.rows = np.asarray(rows)
        self.shape = (self.rows.size, *X.shape[1:])

    def __getitem__(self, index):
        return self.X[self.rows[index]]


def _row_blocks(X):
    """Slices of ``_STANDARDISE_BLOCK`` rows covering ``X``."""
    n_samples = X.shape[0]
    return [
        slice(start, start + _STANDARDISE_BLOCK)
        for start in range(0, n_samples, _STANDARDISE_BLOCK)
    ]


def standardisation(X, sample_weight):
    """Weighted mean and standard deviation of the features (1 where constant).

    Computed in float64 a block of rows at a time: float32 features get no
    float64 copy of the whole of ``X``.
    """
    weight = sample_weight / sample_weight.sum()
    blocks = _row_blocks(X)
    shift = np.zeros(X.shape[1])
    for rows in blocks:
        shift += weight[rows] @ np.asarray(X[rows], dtype=np.float64)
    variance = np.zeros(X.shape[1])
    for rows in blocks:
        variance += weight[rows] @ (np.asarray(X[rows], dtype=np.float64) - shift) ** 2
    spread = np.sqrt(variance)
    tiny = 1e-6 * (1.0 + np.abs(shift))
    return shift, np.where(spread > tiny, spread, 1.0)


def standardised_features(X, shift, spread, rows):
    """``(X[rows] - shift) / spread`` in float32, by blocks of rows.

    The arithmetic is that of :class:`~skroute._net.PolicyEnsemble` at
    prediction: ``X`` cast to float32, then the float32 shift and scale, so
    that a row's features in training and in prediction are the same numbers.
    """
    rows = np.asarray(rows)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    shift = np.asarray(shift, dtype=np.float32)
    spread = np.asarray(spread, dtype=np.float32)
    features = np.empty((rows.size, X.shape[1]), dtype=np.float32)
    for start in range(0, rows.size, _STANDARDISE_BLOCK):
        block = features[start : start + _STANDARDISE_BLOCK]
        block[...] = X[rows[start : start + block.shape[0]]]
        block -= shift
        block /= spread
    return features


class FoldRows(torch.utils.data.Dataset):
    """Batches of a fold's rows for skorch, their features standardised per batch.

    ``arrays`` hold one row per fold row (pseudo-outcomes, weights, ...) and
    are indexed with the batch; the batch's features are made from ``X``
    when it is drawn (:func:`standardised_features`), so that no
    standardised copy of the fold's features is made: a fold's training and
    validation rows together are X's size.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    rows : ndarray of int
        The fold's rows of ``X``.
    shift, spread : ndarray of shape (n_features,)
    arrays : dict of ndarray
        Each of length ``len(rows)``.
    """

    def __init__(self, X, rows, shift, spread, arrays):
        self.X = X
        self.rows = np.asarray(rows)
        self.shift = shift
        self.spread = spread
        self.arrays = arrays

    def __len__(self):
        return self.rows.size

    def __getitem__(self, index):
        # The batch sampler passes a batch's positions at once.
        index = np.asarray(index)
        batch = {key: value[index] for key, value in self.arrays.items()}
        batch["features"] = standardised_features(
            self.X, self.shift, self.spread, self.rows[index]
        )
        # skorch unpacks (X, y); y is unused by the regret surrogates.
        return batch, torch.zeros(0)


def _quiet(*args, **kwargs):
    """A print sink that drops messages (module level so that nets pickle)."""


class NeuralRouter(NuisanceMixin, BaseRouter):
    """Base of routers whose policy is a torch network trained on pseudo-outcomes.

    Subclasses build the skorch net and the batch dict in ``_fit``, using
    ``_seeds``, ``_pseudo_outcomes``, ``_net_params`` and ``_train``; the
    trained module's outputs come from ``_module_outputs``.
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
        smallest = float(np.finfo(np.float32).tiny)
        if self.temperature < smallest:
            raise ValueError(
                f"temperature={self.temperature!r} is below {smallest:.3g}, the "
                "smallest normal float32, the precision of the policy network; use "
                "a larger temperature."
            )

    @staticmethod
    def _loss_weights(sample_weight):
        """Row weights of the loss, in float32 with mean 1 as the surrogates expect."""
        weight = sample_weight / sample_weight.max()
        return (weight / weight.mean()).astype(np.float32)

    def _training_scale(self, *matrices):
        """Power of two that brings the pseudo-outcomes within the loss's range.

        Returns the scale and the largest magnitude of ``matrices``, after
        checking that they are finite.
        """
        largest = max(float(np.max(np.abs(m))) for m in matrices)
        if not np.isfinite(largest):
            raise ValueError(
                "the pseudo-outcomes overflow float64: reward, and cost times "
                "cost_sensitivity, divided by propensities down to "
                f"min_propensity={self.min_propensity:g}, exceed 1.8e308. Rescale "
                "reward and cost, raise min_propensity, or lower cost_sensitivity."
            )
        if largest <= _MAX_TRAINING_MAGNITUDE:
            return 1.0, largest
        return 2.0 ** np.ceil(np.log2(largest / _MAX_TRAINING_MAGNITUDE)), largest

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
            "callbacks": [("stop_on_divergence", StopOnDivergence())],
            "device": self.device,
            "verbose": self.verbose,
        }
        if str(self.device).split(":")[0] in ("cpu", "cuda"):
            # One fused kernel per step instead of a few per parameter: the
            # optimiser took a fifth of the policy's training time on CPU.
            params["optimizer__fused"] = True
        if self.surrogate == "classification":
            params["criterion__gap_weighted"] = self.gap_weighted
        # Routers that select their training length otherwise have no
        # validation_fraction (CausalRouterClassifier: cross-fitted folds).
        fraction = getattr(self, "validation_fraction", None)
        held_out = 0 if fraction is None else int(n_samples * fraction)
        if self.early_stopping and held_out >= _MIN_VALIDATION_ROWS:
            params["train_split"] = ValidSplit(
                self.validation_fraction, stratified=False, random_state=seed
            )
            params["callbacks"].append(self._early_stopping(load_best=True))
        return params

    def _policy_folds(self, n_samples, seed):
        """Folds of the cross-fitted policy selection (``policy_cv``)."""
        # Fitting needs two logged models, hence two rows: n_splits >= 2.
        n_splits = min(self.policy_cv, n_samples)
        splitter = KFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros((n_samples, 1))))

    def _fold_estimates(self, logs, rows, seed):
        """Pseudo-outcomes of ``rows``, cross-fitted on those rows alone.

        None where the pseudo-outcomes cross-fitted on every row must serve:
        in full-feedback mode (the targets are the truth), and where the rows
        are too few to split again.
        """
        # Stratified folds then leave every logged model in every training fold.
        counts = np.bincount(logs.action[rows])
        smallest = int(counts[counts > 0].min())
        cv = self.cv
        if is_split_list(cv):
            # Explicit splits index every row of fit, not this subset: split
            # the subset into as many folds instead.
            cv = len(cv)
        if isinstance(cv, numbers.Integral):
            cv = min(cv, _FOLD_TARGET_CV, smallest)
        too_few = isinstance(cv, numbers.Integral) and cv < 2
        # A propensity model cannot be fitted on rows that log one model only.
        one_model = np.unique(logs.action[rows]).size < 2
        if logs.full_feedback or too_few or one_model:
            return None
        subset = LoggedData(
            _RowsOf(logs.X, rows),
            logs.action[rows],
            logs.reward[rows],
            None if logs.cost is None else logs.cost[rows],
            None if logs.propensity is None else logs.propensity[rows],
            logs.sample_weight[rows],
        )
        return self._pseudo_outcomes(subset, seed, cv=cv, quiet=True)

    def _train_member(self, net_class, net_params, batches, held_out, seed, magnitude):
        """Train one fold's network; its kept states, by epoch.

        The net is ``net_class(**net_params)`` with the shared training
        parameters added; it trains on ``batches`` and its surrogate on
        ``held_out`` stops it (both :class:`FoldRows`).
        """
        params = self._net_params(len(batches), seed)
        snapshots = Snapshots(set(checkpoint_epochs(self.max_epochs)))
        params["callbacks"] = [
            ("stop_on_divergence", StopOnDivergence()),
            ("snapshots", snapshots),
        ]
        params["train_split"] = None
        if self.early_stopping and len(held_out) >= _MIN_VALIDATION_ROWS:
            params["train_split"] = predefined_split(held_out)
            # The folds keep their last state: the selection picks the epoch.
            params["callbacks"].append(self._early_stopping(load_best=False))
        net = net_class(**net_params, **params)
        self._train(net, batches, seed, magnitude)
        return dict(net.callbacks_)["snapshots"].states_

    def _select_epoch(self, folds, fold_decisions, value_of, reference, weight):
        """Training length with the largest lower bound on the gain over ``reference``.

        ``fold_decisions`` holds, per fold, the chosen columns of its held-out
        rows at each kept epoch; ``value_of`` maps the out-of-fold choices of
        every row to their estimated utility per row. Returns the epoch, the
        bounds by epoch, and the per-row values by epoch.
        """
        candidates = sorted({e for decisions in fold_decisions for e in decisions})
        if not self.early_stopping:
            candidates = [max(candidates)]
        n_samples = sum(test.size for _, test in folds)
        values = {}
        for epoch in candidates:
            parts = [state_at(decisions, epoch) for decisions in fold_decisions]
            chosen = np.empty((n_samples, *parts[0].shape[1:]), dtype=np.intp)
            for (_, test), part in zip(folds, parts):
                chosen[test] = part
            values[epoch] = value_of(chosen)
        z = NormalDist().inv_cdf(self.safety_level)
        epoch, bounds = choose_epoch(values, reference, weight, z)
        return epoch, bounds, values

    def _deploy_ensemble(self, net, members, epoch, shift, spread, seed):
        """Load each fold's state at ``epoch`` into the ensemble ``net``; keep it."""
        with seeded_torch(seed, self.device):
            net.initialize()
        module = net.module_
        for member, states in zip(module.members, members):
            member.load_state_dict(state_at(states, epoch))
        module.shift.copy_(torch.as_tensor(shift, dtype=torch.float32))
        module.scale.copy_(torch.as_tensor(spread, dtype=torch.float32))
        self.net_ = net
        self.n_epochs_ = epoch
        self.training_epochs_ = [max(states) for states in members]

    def _safety_choice(self, checkable, values, simple, weight, bounds):
        """The policy to deploy and the safety report (None where none is made)."""
        if not checkable or self.safety_check == "off":
            return "network", None
        report = safety_report(values, simple, weight, self.safety_level)
        report["epoch_lower_bounds"] = bounds
        deployed = "network"
        if report["choice"] != "network":
            if self.safety_check == "fallback":
                deployed = report["choice"]
            warn_fallback(report, deployed, stacklevel=6)
        return deployed, report

    def _early_stopping(self, load_best):
        """The named early-stopping callback on the validation surrogate."""
        return (
            "early_stopping",
            EarlyStopping(
                monitor="valid_loss",
                patience=self.n_iter_no_change,
                load_best=load_best,
                sink=print if self.verbose else _quiet,
            ),
        )

    def _train(self, net, batches, seed, magnitude):
        """Fit ``net``; ``magnitude`` is the largest |pseudo-outcome|, for messages."""
        try:
            with seeded_torch(seed, self.device):
                net.fit(batches, y=None)
        except TrainingInterrupted:
            raise KeyboardInterrupt from None
        except TrainingDiverged as exc:
            raise ValueError(
                self._divergence_message(
                    f"became {exc.loss} at epoch {exc.epoch}", magnitude
                )
            ) from None
        if not all(bool(torch.isfinite(p).all()) for p in net.module_.parameters()):
            raise ValueError(
                self._divergence_message("left non-finite weights", magnitude)
            )

    def _divergence_message(self, what, magnitude):
        return (
            f"Training diverged: the regret surrogate {what}, which would leave "
            "a policy network with NaN weights. Likely causes: a learning rate too "
            f"large (lr={self.lr:g}; try lr={self.lr / 10:g}), or extreme "
            "pseudo-outcome weights 1/propensity (min_propensity="
            f"{self.min_propensity:g}; the largest |pseudo-outcome| is "
            f"{magnitude:.3g}): raise min_propensity or rescale reward and cost. "
            "The router keeps its previous state."
        )

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
        # Not checked to be finite here: the caller checks the scores it makes
        # of these, and names the rows of its own X.
        return torch.cat(outputs)
