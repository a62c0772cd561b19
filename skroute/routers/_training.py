"""The one training sequence of the routers whose policy is a torch network.

A fit runs, in this order: cross-fitted pseudo-outcomes (the nuisances) →
``policy_cv`` folds and their training targets, cross-fitted on each fold's
training rows alone → the scale of the loss → standardised features → one
network per fold, trained through skorch and kept at several epochs → the
simple policies the logs support (best single model, direct method) → the
training length, by the lower confidence bound of the out-of-fold gain → the
ensemble of the folds' networks → the safety check, which decides what is
deployed.

:class:`PolicyTrainer` owns that sequence, as ``BaseSearchCV.fit`` owns a
search. What differs between routers is supplied by a *targets* object
(:mod:`skroute.routers._targets`): the per-row arrays a network trains on,
its spec, the decisions of a trained state, and the value per row of a set
of decisions.
"""

import sys
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import torch
from sklearn.model_selection import KFold
from sklearn.utils import check_random_state
from skorch.helper import predefined_split

from skroute._net import (
    EarlyStopping,
    Snapshots,
    StopOnDivergence,
    TrainingDiverged,
    TrainingInterrupted,
    seeded_torch,
)
from skroute.causal._nested import nested_pseudo_outcomes
from skroute.losses import SURROGATES
from skroute.routers._selection import (
    checkpoint_epochs,
    choose_epoch,
    safety_report,
    state_at,
    warn_fallback,
)

# Early stopping needs a validation split large enough to rank epochs.
_MIN_VALIDATION_ROWS = 10
# Rows per block when the features are standardised for training.
_STANDARDISE_BLOCK = 4096
# Largest pseudo-outcome magnitude the float32 loss trains on as is. Larger
# matrices are divided by a power of two, which rounds nothing and scales the
# loss alone: Adam's steps, hence the policy, do not depend on that scale.
_MAX_TRAINING_MAGNITUDE = 2.0**40
# Cross-fitting folds of each policy fold's training targets (at most).
_FOLD_TARGET_CV = 3


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

    The arithmetic is that of the ensembles of :mod:`skroute._net` at
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


@dataclass
class NetworkSpec:
    """The networks a router trains: skorch net class, member and ensemble modules.

    ``module_params`` (``module__*`` entries) build both; ``member_params``
    and ``ensemble_params`` are the net's other parameters of each.
    """

    net_class: type
    member: type
    ensemble: type
    module_params: dict
    member_params: dict
    ensemble_params: dict

    def member_module(self):
        """A member module with the spec's parameters (its weights to be loaded)."""
        prefix = "module__"
        return self.member(
            **{key[len(prefix) :]: value for key, value in self.module_params.items()}
        )


@dataclass
class SimplePolicy:
    """A policy the logs support without training: its value per row, and how to
    deploy it (``deploy()`` returns a deployed-policy object)."""

    values: np.ndarray
    deploy: object


@dataclass
class TrainedPolicy:
    """What :meth:`PolicyTrainer.run` hands back to the router."""

    net: object
    n_epochs: int
    training_epochs: list
    learned: object
    deployed: object
    report: dict | None


def _quiet(*args, **kwargs):
    """A print sink that drops messages (module level so that nets pickle)."""


class FitStages:
    """A progress bar of a fit's stages, on standard error, from ``verbose=1``.

    It appears only when the fit lasts over two seconds, and says which stage
    is running: the cross-fitted nuisances, each fold's targets and network,
    then the selection and the safety check.
    """

    def __init__(self, verbose, n_folds, delay=2.0):
        self.bar = None
        if verbose:
            from tqdm import tqdm

            self.bar = tqdm(
                total=2 + 2 * n_folds,
                desc="fit: cross-fitting the outcome and propensity models",
                unit="stage",
                delay=delay,
                mininterval=0,  # a stage is rare: show each one
                file=sys.stderr,
                leave=False,
                bar_format="{desc} [{n_fmt}/{total_fmt} stages, {elapsed}]",
            )

    def next(self, stage):
        """The previous stage is done; ``stage`` starts."""
        if self.bar is not None:
            self.bar.set_description_str(f"fit: {stage}", refresh=False)
            self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class PolicyTrainer:
    """Runs the training sequence of a neural router, with its settings.

    Parameters
    ----------
    router : NeuralRouter
        Gives the settings (``policy_cv``, ``max_epochs``, ``safety_check``, ...)
        and ``classes_``; the trainer sets nothing on it.
    logs : LoggedData
        The validated logs.
    """

    def __init__(self, router, logs):
        self.router = router
        self.logs = logs
        rng = check_random_state(router.random_state)
        nuisance_seed, torch_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        self.nuisance_seed, self.torch_seed = int(nuisance_seed), int(torch_seed)
        self.n_folds = min(router.policy_cv, logs.X.shape[0])
        self.stages = FitStages(router.verbose, self.n_folds)
        # Set by pseudo_outcomes(), for the folds' targets.
        self.tuned_outcomes = None

    # --- nuisances ---------------------------------------------------------

    def pseudo_outcomes(self):
        """Cross-fitted pseudo-outcomes of every row, with the router's settings."""
        estimates = self.router._pseudo_outcomes(self.logs, self.nuisance_seed)
        self.tuned_outcomes = estimates.tuned_outcomes
        return estimates

    def fold_estimates(self, rows, seed):
        """Pseudo-outcomes of ``rows``, cross-fitted on those rows alone (None
        where those of every row must serve: see ``nested_pseudo_outcomes``).

        The ridge outcome models refit at the penalties and logistic maps
        chosen on every row: the coefficients behind a fold's targets see
        none of the rows it is judged on; those few choices do.
        """
        return nested_pseudo_outcomes(
            self.logs,
            rows,
            cv=self.router.cv,
            max_folds=_FOLD_TARGET_CV,
            tuned_outcomes=self.tuned_outcomes,
            **self.router._nuisance_settings(seed),
        )

    # --- the sequence ------------------------------------------------------

    def run(self, targets):
        """Train, select and check the policy that ``targets`` describes."""
        logs = self.logs
        n_samples = logs.X.shape[0]
        folds = self._policy_folds(n_samples)
        # Each fold's network trains on pseudo-outcomes cross-fitted within its
        # own training rows: the outcomes of the rows it is judged on then reach
        # neither the network nor, through the outcome models, its targets.
        # (With the global matrices they do, and the held-out gain over the
        # direct method was overestimated several times over on the dev cells.)
        fold_targets = []
        for index, (train, _) in enumerate(folds):
            self.stages.next(f"targets of fold {index + 1}/{len(folds)}")
            fold = self.fold_estimates(train, self.nuisance_seed + index)
            fold_targets.append(targets.fold_targets(fold, train))
            # Its other matrices are freed before the next fold's are made.
            del fold
        scale, magnitude = self._training_scale(
            *targets.magnitudes(),
            *(t[key] for t in fold_targets for key in targets.scaled_keys),
        )
        for target in fold_targets:
            # Kept until its fold trains, in the loss's float32 and scale.
            for key, value in target.items():
                target[key] = (value / scale).astype(np.float32)
        spec = targets.network(scale)
        # The members train on standardised features, so that features on
        # different scales get comparable steps; the ensemble applies the same
        # shift and scale at prediction.
        standard = standardisation(logs.X, logs.sample_weight)
        members, fold_decisions = self._train_members(
            targets, spec, folds, fold_targets, standard, scale, magnitude
        )
        self.stages.next("choosing the training length; the safety check")
        simple = self._simple_policies(targets, folds)
        reference = simple.get("direct_method", simple["best_single"]).values
        epoch, bounds, values = self._select_epoch(
            folds, fold_decisions, targets.values, reference
        )
        net = self._ensemble(spec, members, epoch, standard)
        deployed, report = self._safety_choice(
            targets.checkable,
            self._judged_values(folds, values, reference),
            simple,
            bounds,
        )
        learned = targets.deploy_network(net, scale)
        return TrainedPolicy(
            net=net,
            n_epochs=epoch,
            training_epochs=[max(states) for states in members],
            learned=learned,
            deployed=learned if deployed is None else deployed,
            report=report,
        )

    def _policy_folds(self, n_samples):
        """Folds of the cross-fitted policy selection (``policy_cv``)."""
        # Fitting needs two logged models, hence two rows: n_splits >= 2.
        n_splits = self.n_folds
        splitter = KFold(n_splits=n_splits, shuffle=True, random_state=self.torch_seed)
        return list(splitter.split(np.zeros((n_samples, 1))))

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
                f"min_propensity={self.router.min_propensity:g}, exceed 1.8e308. "
                "Rescale reward and cost, raise min_propensity, or lower "
                "cost_sensitivity."
            )
        if largest <= _MAX_TRAINING_MAGNITUDE:
            return 1.0, largest
        return 2.0 ** np.ceil(np.log2(largest / _MAX_TRAINING_MAGNITUDE)), largest

    def _train_members(
        self, targets, spec, folds, fold_targets, standard, scale, magnitude
    ):
        """Train one network per fold; its kept states and held-out decisions.

        ``standard`` is the features' ``(shift, spread)``.
        """
        logs = self.logs
        shift, spread = standard
        batches = {
            key: (value / scale).astype(np.float32)
            for key, value in targets.batches().items()
        }
        batches["sample_weight"] = _loss_weights(logs.sample_weight)
        members, fold_decisions = [], []
        for index, (train, test) in enumerate(folds):
            self.stages.next(f"training the network of fold {index + 1}/{len(folds)}")
            fold_batches = {key: value[train] for key, value in batches.items()}
            fold_batches.update(fold_targets[index])
            # Freed with the fold's batches.
            fold_targets[index] = None
            held_out = {key: value[test] for key, value in batches.items()}
            states = self._train_member(
                spec,
                FoldRows(logs.X, train, shift, spread, fold_batches),
                FoldRows(logs.X, test, shift, spread, held_out),
                self.torch_seed + index,
                magnitude,
            )
            members.append(states)
            features = standardised_features(logs.X, shift, spread, test)
            fold_decisions.append(
                self._member_decisions(targets, spec, states, features, held_out)
            )
            # Freed before the next fold's are made.
            del fold_batches, held_out
        return members, fold_decisions

    def _train_member(self, spec, batches, held_out, seed, magnitude):
        """Train one fold's network; its kept states, by epoch.

        It trains on ``batches`` and its surrogate on ``held_out`` stops it
        (both :class:`FoldRows`).
        """
        router = self.router
        params = self._net_params()
        snapshots = Snapshots(set(checkpoint_epochs(router.max_epochs)))
        params["callbacks"] = [
            ("stop_on_divergence", StopOnDivergence()),
            ("snapshots", snapshots),
        ]
        if router.early_stopping and len(held_out) >= _MIN_VALIDATION_ROWS:
            params["train_split"] = predefined_split(held_out)
            # The folds keep their last state: the selection picks the epoch.
            params["callbacks"].append(self._early_stopping())
        net = spec.net_class(
            module=spec.member, **spec.module_params, **spec.member_params, **params
        )
        self._fit_net(net, batches, seed, magnitude)
        return dict(net.callbacks_)["snapshots"].states_

    def _member_decisions(self, targets, spec, states, features, held_out):
        """Decisions on the held-out rows at every kept epoch of one member."""
        # Its initial weights are overwritten; the fork keeps the global RNG.
        with torch.random.fork_rng(devices=[]):
            module = spec.member_module()
        decisions = {}
        with torch.inference_mode():
            for epoch, state in states.items():
                module.load_state_dict(state)
                module.eval()
                decisions[epoch] = targets.decisions(module, features, held_out)
        return decisions

    def _simple_policies(self, targets, folds):
        """Per-row out-of-fold values of the simple policies, and their deployment."""
        simple = {}
        direct = targets.direct_method_choices()
        if direct is not None:
            simple["direct_method"] = SimplePolicy(
                targets.values(direct), targets.deploy_direct_method
            )
        single = np.empty(self.logs.X.shape[0])
        for train, test in folds:
            best = targets.best_single_choice(train)
            single[test] = targets.values(
                np.broadcast_to(best, (test.size, *best.shape)), rows=test
            )
        simple["best_single"] = SimplePolicy(single, targets.deploy_best_single)
        return simple

    def _select_epoch(self, folds, fold_decisions, value_of, reference):
        """Training length with the largest lower bound on the gain over ``reference``.

        ``fold_decisions`` holds, per fold, the decisions on its held-out rows
        at each kept epoch; ``value_of`` maps the out-of-fold decisions of
        every row to their estimated utility per row. Returns the epoch, the
        bounds by epoch, and the per-row values by epoch.
        """
        candidates = sorted({e for decisions in fold_decisions for e in decisions})
        if not self.router.early_stopping:
            candidates = [max(candidates)]
        n_samples = sum(test.size for _, test in folds)
        values = {}
        for epoch in candidates:
            parts = [state_at(decisions, epoch) for decisions in fold_decisions]
            chosen = np.empty((n_samples, *parts[0].shape[1:]), dtype=np.intp)
            for (_, test), part in zip(folds, parts):
                chosen[test] = part
            values[epoch] = value_of(chosen)
        z = self._z()
        epoch, bounds = choose_epoch(values, reference, self.logs.sample_weight, z)
        return epoch, bounds, values

    def _z(self):
        """Normal quantile of the one-sided bounds, at ``safety_level``."""
        return NormalDist().inv_cdf(self.router.safety_level)

    def _judged_values(self, folds, values, reference):
        """Per-row values of the learned policy for the check, each fold's rows
        at the training length chosen on the other folds' rows.

        The length chosen on every row maximises a bound on those same rows;
        judged there, the chosen policy's gain was the largest of several
        noisy estimates, and the check deployed it too often. Chosen without
        a fold's rows, the length is a fixed choice on them: the check then
        judges the whole procedure (training length included) honestly.
        """
        if len(values) == 1:
            return next(iter(values.values()))
        z = self._z()
        weight = self.logs.sample_weight
        judged = np.empty(weight.shape[0])
        for _, test in folds:
            others = np.ones(weight.shape[0], dtype=bool)
            others[test] = False
            epoch, _ = choose_epoch(
                {e: rows[others] for e, rows in values.items()},
                reference[others],
                weight[others],
                z,
            )
            judged[test] = values[epoch][test]
        return judged

    def _ensemble(self, spec, members, epoch, standard):
        """The deployed net: each fold's state at ``epoch``, and the features'
        ``standard`` shift and spread."""
        net = spec.net_class(
            module=spec.ensemble,
            module__n_members=len(members),
            **spec.module_params,
            **spec.ensemble_params,
            **self._net_params(),
        )
        with seeded_torch(self.torch_seed, self.router.device):
            net.initialize()
        module = net.module_
        for member, states in zip(module.members, members):
            member.load_state_dict(state_at(states, epoch))
        shift, spread = standard
        module.shift.copy_(torch.as_tensor(shift, dtype=torch.float32))
        module.scale.copy_(torch.as_tensor(spread, dtype=torch.float32))
        return net

    def _safety_choice(self, checkable, values, simple, bounds):
        """The simple policy to deploy instead of the network (None to keep the
        network), and the safety report (None where none is made)."""
        router = self.router
        if not checkable or router.safety_check == "off":
            return None, None
        weight = self.logs.sample_weight
        report = safety_report(
            values,
            {name: policy.values for name, policy in simple.items()},
            weight,
            router.safety_level,
        )
        report["epoch_lower_bounds"] = bounds
        fallback = None
        if report["choice"] in simple:
            if router.safety_check == "fallback":
                fallback = simple[report["choice"]].deploy()
            # Points at the caller of the router's fit: warn_fallback, this
            # method, run, NeuralRouter._fit, BaseRouter.fit, the caller.
            warn_fallback(report, fallback is not None)
        return fallback, report

    # --- skorch ------------------------------------------------------------

    def _net_params(self):
        """skorch parameters shared by every policy net: optimiser, loss, stopping."""
        router = self.router
        params = {
            "criterion": SURROGATES[router.surrogate],
            "criterion__temperature": router.temperature,
            "optimizer": torch.optim.AdamW,
            "optimizer__weight_decay": router.weight_decay,
            "lr": router.lr,
            "max_epochs": router.max_epochs,
            "batch_size": router.batch_size,
            "iterator_valid__batch_size": max(router.batch_size, 8192),
            "train_split": None,
            "callbacks": [("stop_on_divergence", StopOnDivergence())],
            "device": router.device,
            # skorch's per-epoch log from verbose=2; verbose=1 shows the stages.
            "verbose": int(router.verbose >= 2),
        }
        if str(router.device).split(":")[0] in ("cpu", "cuda"):
            # One fused kernel per step instead of a few per parameter: the
            # optimiser took a fifth of the policy's training time on CPU.
            params["optimizer__fused"] = True
        if router.surrogate == "classification":
            params["criterion__gap_weighted"] = router.gap_weighted
        return params

    def _early_stopping(self):
        """The named early-stopping callback on the validation surrogate."""
        return (
            "early_stopping",
            EarlyStopping(
                monitor="valid_loss",
                patience=self.router.n_iter_no_change,
                load_best=False,
                sink=print if self.router.verbose >= 2 else _quiet,
            ),
        )

    def _fit_net(self, net, batches, seed, magnitude):
        """Fit ``net``; ``magnitude`` is the largest |pseudo-outcome|, for messages."""
        try:
            with seeded_torch(seed, self.router.device):
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
        router = self.router
        return (
            f"Training diverged: the regret surrogate {what}, which would leave "
            "a policy network with NaN weights. Likely causes: a learning rate too "
            f"large (lr={router.lr:g}; try lr={router.lr / 10:g}), or extreme "
            "pseudo-outcome weights 1/propensity (min_propensity="
            f"{router.min_propensity:g}; the largest |pseudo-outcome| is "
            f"{magnitude:.3g}): raise min_propensity or rescale reward and cost. "
            "The router keeps its previous state."
        )


def _loss_weights(sample_weight):
    """Row weights of the loss, in float32 with mean 1 as the surrogates expect."""
    weight = sample_weight / sample_weight.max()
    return (weight / weight.mean()).astype(np.float32)
