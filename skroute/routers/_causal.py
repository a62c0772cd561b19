"""CausalRouterClassifier: a doubly robust, regret-minimising router."""

import copy
import numbers

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

from skroute._net import PolicyNetwork, RegretNet, seeded_torch
from skroute.causal import PSEUDO_OUTCOME_METHODS, cross_fit_pseudo_outcomes
from skroute.losses import SURROGATES
from skroute.routers._base import BaseRouter

_PREDICT_CHUNK = 8192

# Early stopping needs a validation split large enough to rank epochs.
_MIN_VALIDATION_ROWS = 10


def _quiet(*args, **kwargs):
    """A print sink that drops messages (module level so that nets pickle)."""


def _check_hidden_layer_sizes(hidden_layer_sizes):
    sizes = tuple(hidden_layer_sizes)
    if not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
        for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a tuple of positive ints, e.g. (128,) or "
            f"(256, 64); got {hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


class CausalRouterClassifier(BaseRouter):
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
        ``lambda`` in the utility ``quality - lambda * cost``.
    pseudo_outcome : {"dr", "ipw", "dm"}, default="dr"
        Doubly robust, inverse propensity weighted, or direct method.
    propensity_model : classifier with ``predict_proba``, default=None
        Model of the logging policy, used when ``propensity`` is not given.
        Multinomial ``LogisticRegression`` when None.
    reward_model, cost_model : regressor or binary classifier, default=None
        Per-model outcome models (``Ridge(alpha=1.0)`` when None); a classifier
        is used through ``predict_proba`` for 0/1 outcomes.
    cv : int or cross-validation splitter, default=5
        Cross-fitting folds of the nuisance models, stratified by logged model.
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
        Hold out ``validation_fraction`` of the rows and stop when the surrogate
        on them (an off-policy estimate of the policy's regret) stops
        improving, restoring the best epoch. Ignored when fewer than 10 rows
        would be held out.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    classes : array-like, default=None
        The candidate models; defaults to the models seen in ``y``.
    device : str, default="cpu"
        Torch device of the policy network, e.g. ``"cuda"``.
    n_jobs : int, default=None
        Parallel jobs of the nuisance models (joblib).
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
        The fitted skorch ``NeuralNet``.
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
        "surrogate": [StrOptions(set(SURROGATES))],
        "cost_sensitivity": [Interval(numbers.Real, 0, None, closed="left")],
        "pseudo_outcome": [StrOptions(set(PSEUDO_OUTCOME_METHODS))],
        "propensity_model": [None, HasMethods(["fit", "predict_proba"])],
        "reward_model": [None, HasMethods(["fit"])],
        "cost_model": [None, HasMethods(["fit"])],
        "cv": [
            Interval(numbers.Integral, 2, None, closed="left"),
            HasMethods(["split"]),
        ],
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

    def __init__(
        self,
        surrogate="softmax",
        cost_sensitivity=0.0,
        *,
        pseudo_outcome="dr",
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
        validation_fraction=0.1,
        n_iter_no_change=10,
        classes=None,
        device="cpu",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.surrogate = surrogate
        self.cost_sensitivity = cost_sensitivity
        self.pseudo_outcome = pseudo_outcome
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
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.classes = classes
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, logs):
        hidden_layer_sizes = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        rng = check_random_state(self.random_state)
        nuisance_seed, torch_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        estimates = cross_fit_pseudo_outcomes(
            logs.X,
            logs.action,
            logs.reward,
            logs.cost,
            logs.propensity,
            n_classes=self.classes_.size,
            method=self.pseudo_outcome,
            propensity_model=self.propensity_model,
            reward_model=self.reward_model,
            cost_model=self.cost_model,
            cv=self.cv,
            min_propensity=self.min_propensity,
            sample_weight=logs.sample_weight,
            n_jobs=self.n_jobs,
            random_state=nuisance_seed,
        )
        utility = estimates.utility(self.cost_sensitivity)
        net = self._build_net(
            logs.X.shape[0], logs.X.shape[1], hidden_layer_sizes, int(torch_seed)
        )
        batches = {
            "features": logs.X.astype(np.float32, copy=False),
            "utility": utility.astype(np.float32),
            "sample_weight": logs.sample_weight.astype(np.float32),
        }
        with seeded_torch(int(torch_seed), self.device):
            net.fit(batches, y=None)
        self.net_ = net
        # Predict with a float64 copy: a query's scores then do not depend on the
        # batch it comes in (float32 products differ in the last bits by batch
        # size), and net_ stays the float32 net it was trained as.
        self._predict_module = copy.deepcopy(net.module_).double().eval()
        self.overlap_ = estimates.overlap
        return self

    def _build_net(self, n_samples, n_features, hidden_layer_sizes, seed):
        criterion_params = {"criterion__temperature": self.temperature}
        if self.surrogate == "classification":
            criterion_params["criterion__gap_weighted"] = self.gap_weighted
        callbacks = []
        train_split = None
        if (
            self.early_stopping
            and int(n_samples * self.validation_fraction) >= _MIN_VALIDATION_ROWS
        ):
            train_split = ValidSplit(
                self.validation_fraction, stratified=False, random_state=seed
            )
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                        sink=print if self.verbose else _quiet,
                    ),
                )
            )
        return RegretNet(
            module=PolicyNetwork,
            module__n_features=n_features,
            module__n_outputs=self.classes_.size,
            module__hidden_layer_sizes=hidden_layer_sizes,
            criterion=SURROGATES[self.surrogate],
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_valid__batch_size=max(self.batch_size, 8192),
            train_split=train_split,
            callbacks=callbacks,
            device=self.device,
            verbose=self.verbose,
            **criterion_params,
        )

    def _decision_scores(self, X):
        # The trained module is called directly, in large float64 chunks: no
        # per-batch copies through skorch's dataset on the prediction path.
        module = self._predict_module
        features = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))
        scores = np.empty((X.shape[0], self.classes_.size))
        with torch.no_grad():
            for start in range(0, X.shape[0], _PREDICT_CHUNK):
                chunk = features[start : start + _PREDICT_CHUNK].to(self.net_.device)
                scores[start : start + _PREDICT_CHUNK] = module(chunk).cpu().numpy()
        return scores
