"""CausalRouterClassifier: a doubly robust, regret-minimising router."""

import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_memory

from skroute._net import (
    PolicyEnsemble,
    PolicyNetwork,
    RegretNet,
)
from skroute.causal._direct_method import direct_method_scores, fit_outcome_models
from skroute.routers._base import routes_by_block
from skroute.routers._neural import (
    NEURAL_ROUTER_CONSTRAINTS,
    FoldRows,
    NeuralRouter,
    standardisation,
    standardised_features,
)
from skroute.utils import check_hidden_layer_sizes


class CausalRouterClassifier(NeuralRouter):
    """Router trained end to end to minimise regret, from biased logs.

    Cross-fitted nuisance models (propensity of the logging policy, per-model
    quality and cost) turn the logs into doubly robust pseudo-outcomes
    ``Gamma(lambda) = Gamma_a - lambda Gamma_c`` for every model and query; a
    torch policy network, trained through skorch, minimises a regret surrogate
    on them. The deployed route is ``argmax_t g(x)_t``.

    Parameters
    ----------
    surrogate : {"softmax", "classification"}, default="softmax"
        ``"softmax"``: expected regret of ``softmax(g / temperature)``;
        ``"classification"``: cross-entropy towards the best model per row, an
        upper bound on the empirical regret.
    cost_sensitivity : float, default=0.0
        ``lambda`` in the utility ``quality - lambda * cost``: the quality
        given up per unit of cost saved. With 0/1 quality and costs in USD per
        1,000 queries, 0.05 gives up 0.05 accuracy points per USD per 1,000
        queries; scale the cost to units in which such a sentence reads well
        (a fit warns when ``lambda`` makes cost negligible, or overwhelming).
    pseudo_outcome : {"auto", "dr", "sndr", "ipw", "dm"}, default="auto"
        ``"auto"``: doubly robust with the importance weights of each model
        shrunk as far as its estimated mean squared error favours, from the
        direct method (the outcome model alone) to plain doubly robust; the
        levels chosen are in ``shrinkage_``. Or doubly robust,
        self-normalised doubly robust, inverse propensity weighted, or the
        direct method for every model.
    cost_pseudo_outcome : {"auto", "dr", "sndr", "ipw", "dm"}, default=None
        The pseudo-outcomes of the cost, when they should differ from those
        of the quality (``pseudo_outcome`` when None). ``"auto"`` decides per
        model: a cost that the outcome model predicts well needs no
        correction.
    propensity_model : classifier with ``predict_proba``, default=None
        Model of the logging policy, used when ``propensity`` is not given.
        Multinomial ``LogisticRegression`` when None.
    reward_model, cost_model : regressor or binary classifier, default=None
        Per-model outcome models; a classifier is used through
        ``predict_proba`` for 0/1 outcomes. When None,
        :class:`~skroute.causal.RidgeOutcomeModel`: ridge on standardised
        features, its penalty chosen per model by leave-one-out error, and a
        logistic calibration for 0/1 outcomes where it fits better.
    cv : int, cross-validation splitter or list of (train, test), default=5
        Cross-fitting folds of the nuisance models, stratified by logged model.
        A list of splits indexes the rows passed to ``fit``, so it suits one
        fit, not a search that refits on subsets of the rows.
    min_propensity : float, default=0.01
        Propensities are clipped below at this value.
    hidden_layer_sizes : tuple of int, default=(128,)
        Hidden layers of the policy network; ``()`` for a linear policy.
    temperature : float, default=1.0
        Temperature of the policy's softmax.
    gap_weighted : bool, default=False
        Weight the classification surrogate by each row's regret gap.
    max_epochs : int, default=100
    batch_size : int, default=256
    lr : float, default=1e-3
        Learning rate of AdamW.
    weight_decay : float, default=1e-4
    early_stopping : bool, default=True
        Choose the training length from the logs. The policy is trained on
        ``policy_cv`` folds; each fold's network stops when its surrogate on
        the held-out fold stops improving, and the number of epochs kept is
        the one whose out-of-fold doubly robust gain over the direct-method
        policy has the largest lower confidence bound (at
        ``safety_level``). When False, every fold trains ``max_epochs``.
    n_iter_no_change : int, default=10
        Patience of each fold's stopping, in epochs.
    policy_cv : int, default=3
        Folds of the policy's cross-fitted selection. Each fold's network
        trains on the other folds, on pseudo-outcomes cross-fitted (in up to
        3 folds) on those rows alone, so that the outcomes of the rows it is
        judged on reach neither the network nor its targets. The deployed
        network is the mean of the folds' networks.
    safety_check : {"fallback", "warn", "off"}, default="fallback"
        After fitting, the learned policy's out-of-fold value is compared,
        row by row and by doubly robust estimates, with the simple policies
        the logs support: the best single model and the direct-method policy
        (argmax of the outcome models). Unless the learned policy's gain over
        the better-estimated of the two has a lower confidence bound above 0,
        ``"fallback"`` deploys that simple policy instead, and ``"warn"``
        keeps the network; both emit a
        :class:`~skroute.routers.PolicyFallbackWarning`. The comparison is
        in ``safety_report_``. Not done in full-feedback mode, nor with
        ``"dm"`` or ``"ipw"`` pseudo-outcomes, which give no doubly robust
        estimate to judge by.
    safety_level : float in (0.5, 1), default=0.9
        One-sided confidence level of the bounds of ``early_stopping`` and
        ``safety_check``.
    classes : array-like, default=None
        The candidate models; defaults to the models seen in ``y``.
    device : str, default="cpu"
        Torch device of the policy network, e.g. ``"cuda"``.
    n_jobs : int, default=None
        Parallel jobs of the nuisance models (joblib).
    memory : str, joblib.Memory or None, default=None
        Cache of the fitted nuisance models (propensities, cross-fitted
        outcome estimates and the direct method's models): a directory, or a
        ``joblib.Memory``. Fits on the same logs with the same nuisance
        settings and an integer ``random_state`` then read them instead of
        fitting them again: a search over ``cost_sensitivity`` or the
        policy's settings fits the nuisances once per split, not once per
        candidate. None caches nothing.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds, the validation split and torch (in a forked RNG).
    verbose : int, default=0
        Print skorch's training log when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Candidate models.
    n_features_in_ : int
    net_ : RegretNet
        The fitted skorch ``NeuralNet``; its module standardises the features
        (with the training rows' mean and standard deviation) and averages
        the networks of the ``policy_cv`` folds.
    n_epochs_ : int
        Training length selected (per fold network).
    training_epochs_ : list of int
        Epochs each fold's network trained before it stopped.
    deployed_policy_ : {"network", "direct_method", "best_single"}
        What ``predict`` uses: the learned network, or the simple policy the
        safety check fell back to. The simple policies are deterministic:
        their ``predict_proba`` puts all mass on their choice.
    safety_report_ : dict or None
        The safety check: ``estimates`` (out-of-fold value of each policy),
        ``differences`` (per simple policy: the network's estimated ``gain``,
        its ``standard_error`` and ``lower_bound``), ``direct_method_gain``
        (the same for the direct method over the best single model),
        ``baseline`` (the better-estimated simple policy, which the network
        had to beat),
        ``confidence_level``, ``choice``, and
        ``epoch_lower_bounds`` (the training-length selection) and
        ``best_single_model`` (the model a fallback to the best single model
        routes to). None where no check was made (see ``safety_check``).
    shrinkage_ : dict or None
        With ``"auto"`` pseudo-outcomes, the weight shrinkage ``tau`` chosen
        per model for ``"reward"`` and ``"cost"`` (0: direct method, inf:
        doubly robust).
    overlap_ : dict or None
        Overlap diagnostics of the logs (None in full-feedback mode or for
        ``"dm"``): effective sample size per model and share of clipped
        propensities.

    Examples
    --------
    >>> from skroute import CausalRouterClassifier
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> problem = make_routing_problem(n_samples=1000, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = CausalRouterClassifier(cost_sensitivity=0.05, max_epochs=20,
    ...                                 random_state=0)
    >>> router.fit(logs.X, logs.action, reward=logs.reward, cost=logs.cost,
    ...            propensity=logs.propensity)
    CausalRouterClassifier(cost_sensitivity=0.05, max_epochs=20, random_state=0)
    >>> router.predict(logs.X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **{
            k: v
            for k, v in NEURAL_ROUTER_CONSTRAINTS.items()
            if k != "validation_fraction"
        },
        "policy_cv": [Interval(numbers.Integral, 2, None, closed="left")],
        "safety_check": [StrOptions({"fallback", "warn", "off"})],
        "safety_level": [Interval(numbers.Real, 0.5, 1, closed="neither")],
    }

    def __init__(
        self,
        surrogate="softmax",
        cost_sensitivity=0.0,
        *,
        pseudo_outcome="auto",
        cost_pseudo_outcome=None,
        propensity_model=None,
        reward_model=None,
        cost_model=None,
        cv=5,
        min_propensity=0.01,
        hidden_layer_sizes=(128,),
        temperature=1.0,
        gap_weighted=False,
        max_epochs=100,
        batch_size=256,
        lr=1e-3,
        weight_decay=1e-4,
        early_stopping=True,
        n_iter_no_change=10,
        policy_cv=3,
        safety_check="fallback",
        safety_level=0.9,
        classes=None,
        device="cpu",
        n_jobs=None,
        memory=None,
        random_state=None,
        verbose=0,
    ):
        self.surrogate = surrogate
        self.cost_sensitivity = cost_sensitivity
        self.pseudo_outcome = pseudo_outcome
        self.cost_pseudo_outcome = cost_pseudo_outcome
        self.propensity_model = propensity_model
        self.reward_model = reward_model
        self.cost_model = cost_model
        self.cv = cv
        self.min_propensity = min_propensity
        self.hidden_layer_sizes = hidden_layer_sizes
        self.temperature = temperature
        self.gap_weighted = gap_weighted
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.policy_cv = policy_cv
        self.safety_check = safety_check
        self.safety_level = safety_level
        self.classes = classes
        self.device = device
        self.n_jobs = n_jobs
        self.memory = memory
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, logs):
        hidden_layer_sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)
        nuisance_seed, torch_seed = self._seeds()
        estimates = self._pseudo_outcomes(logs, nuisance_seed)
        utility = estimates.utility(self.cost_sensitivity)
        # What the selection needs of the pseudo-outcomes, at this lambda; their
        # other matrices (n_samples x n_classes each) are freed before training.
        judged = estimates.dr_utility(self.cost_sensitivity)
        checkable = judged is not None and estimates.method != "full_feedback"
        direct = None
        if estimates.method != "full_feedback":
            direct = estimates.direct_utility(self.cost_sensitivity)
        overlap, shrinkage = estimates.overlap, estimates.shrinkage or None
        del estimates
        n_samples = logs.X.shape[0]
        folds = self._policy_folds(n_samples, torch_seed)
        # Each fold's network trains on pseudo-outcomes cross-fitted within its
        # own training rows: the outcomes of the rows it is judged on then reach
        # neither the network nor, through the outcome models, its targets.
        # (With the global matrices they do, and the held-out gain over the
        # direct method was overestimated several times over on the dev cells.)
        targets = [
            self._fold_targets(logs, train, nuisance_seed + index, utility)
            for index, (train, _) in enumerate(folds)
        ]
        scale, magnitude = self._training_scale(utility, *targets)
        for index, target in enumerate(targets):
            # Kept until its fold trains, in the loss's float32 and scale.
            targets[index] = (target / scale).astype(np.float32)
        module_params = {
            "module__n_features": logs.X.shape[1],
            "module__n_outputs": self.classes_.size,
            "module__hidden_layer_sizes": hidden_layer_sizes,
        }
        # The members train on standardised features, so that features on
        # different scales get comparable steps; the ensemble applies the same
        # shift and scale at prediction.
        shift, spread = standardisation(logs.X, logs.sample_weight)
        batches = {
            "utility": (utility / scale).astype(np.float32),
            "sample_weight": self._loss_weights(logs.sample_weight),
        }
        if judged is None:
            # No doubly robust estimate ("dm" or "ipw" pseudo-outcomes): the
            # training pseudo-outcomes choose the epoch, and nothing is checked.
            judged = utility
        members, fold_decisions = [], []
        for index, (train, test) in enumerate(folds):
            fold_batches = {key: value[train] for key, value in batches.items()}
            fold_batches["utility"] = targets[index]
            # Freed with the fold's batches.
            targets[index] = None
            held_out = {key: value[test] for key, value in batches.items()}
            states = self._train_member(
                RegretNet,
                {"module": PolicyNetwork, **module_params},
                FoldRows(logs.X, train, shift, spread, fold_batches),
                FoldRows(logs.X, test, shift, spread, held_out),
                torch_seed + index,
                magnitude,
            )
            members.append(states)
            fold_decisions.append(
                self._member_decisions(
                    states, standardised_features(logs.X, shift, spread, test)
                )
            )
            # Freed before the next fold's are made.
            del fold_batches, held_out

        weight = logs.sample_weight
        rows = np.arange(n_samples)
        simple = {}
        if direct is not None:
            simple["direct_method"] = judged[rows, np.argmax(direct, axis=1)]
        single = np.empty(n_samples)
        for train, test in folds:
            column_values = np.average(judged[train], axis=0, weights=weight[train])
            single[test] = judged[test, np.argmax(column_values)]
        simple["best_single"] = single

        reference = simple.get("direct_method", simple["best_single"])
        epoch, bounds, values = self._select_epoch(
            folds,
            fold_decisions,
            lambda chosen: judged[rows, chosen],
            reference,
            weight,
        )
        ensemble = RegretNet(
            module=PolicyEnsemble,
            module__n_members=len(members),
            **module_params,
            **self._net_params(n_samples, torch_seed),
        )
        self._deploy_ensemble(ensemble, members, epoch, shift, spread, torch_seed)
        deployed, report = self._safety_choice(
            checkable, values[epoch], simple, weight, bounds
        )
        values = np.average(judged, axis=0, weights=weight)
        if report is not None:
            report["best_single_model"] = self.classes_[np.argmax(values)]
        if deployed == "direct_method":
            self._fit_direct_method(logs)
        elif deployed == "best_single":
            self.fallback_model_ = self.classes_[np.argmax(values)]
        self.deployed_policy_ = deployed
        self.safety_report_ = report
        self.overlap_ = overlap
        self.shrinkage_ = shrinkage
        return self

    def _fold_targets(self, logs, rows, seed, utility):
        """Utility pseudo-outcomes of ``rows``, cross-fitted on those rows alone.

        ``utility`` (cross-fitted on every row) serves where the rows cannot
        be split again (see ``_fold_estimates``).
        """
        estimates = self._fold_estimates(logs, rows, seed)
        if estimates is None:
            return utility[rows]
        return estimates.utility(self.cost_sensitivity)

    def _member_decisions(self, states, features):
        """Chosen column per held-out row at every kept epoch of one member."""
        # Its initial weights are overwritten; the fork keeps the global RNG.
        with torch.random.fork_rng(devices=[]):
            module = PolicyNetwork(
                self.n_features_in_,
                self.classes_.size,
                check_hidden_layer_sizes(self.hidden_layer_sizes),
            )
        decisions = {}
        with torch.inference_mode():
            for epoch, state in states.items():
                module.load_state_dict(state)
                module.eval()
                decisions[epoch] = routes_by_block(
                    lambda rows: module(torch.from_numpy(features[rows])).numpy(),
                    features.shape[0],
                )
        return decisions

    def _fit_direct_method(self, logs):
        fit = check_memory(self.memory).cache(fit_outcome_models, ignore=["n_jobs"])
        self.fallback_reward_models_, self.fallback_cost_models_ = fit(
            logs, self.classes_.size, self.reward_model, self.cost_model, self.n_jobs
        )

    def _decision_scores(self, X):
        deployed = getattr(self, "deployed_policy_", "network")
        if deployed == "direct_method":
            return direct_method_scores(
                self.fallback_reward_models_,
                self.fallback_cost_models_,
                X,
                self.cost_sensitivity,
            )
        if deployed == "best_single":
            scores = np.zeros((X.shape[0], self.classes_.size))
            scores[:, np.flatnonzero(self.classes_ == self.fallback_model_)] = 1.0
            return scores
        return self._module_outputs(X).numpy()

    def _policy_proba(self, scores):
        if getattr(self, "deployed_policy_", "network") != "network":
            # The simple policies are deterministic: all mass on their choice.
            proba = np.zeros(scores.shape)
            proba[np.arange(scores.shape[0]), np.argmax(scores, axis=1)] = 1.0
            return proba
        return super()._policy_proba(scores)
