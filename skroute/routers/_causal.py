"""CausalRouterClassifier: a doubly robust, regret-minimising router."""

import numpy as np

from skroute._net import PolicyNetwork, RegretNet
from skroute.routers._neural import NEURAL_ROUTER_CONSTRAINTS, NeuralRouter
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
        ``lambda`` in the utility ``quality - lambda * cost``.
    pseudo_outcome : {"dr", "sndr", "ipw", "dm"}, default="dr"
        Doubly robust, self-normalised doubly robust, inverse propensity
        weighted, or direct method.
    cost_pseudo_outcome : {"dr", "sndr", "ipw", "dm"}, default=None
        The pseudo-outcomes of the cost, when they should differ from those
        of the quality (``pseudo_outcome`` when None). ``"dm"`` trusts the
        cost model: right when costs are set by the model and the prompt
        length, and it removes the cost's share of importance-weight variance.
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

    _parameter_constraints = dict(NEURAL_ROUTER_CONSTRAINTS)

    def __init__(
        self,
        surrogate="softmax",
        cost_sensitivity=0.0,
        *,
        pseudo_outcome="dr",
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
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.classes = classes
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, logs):
        hidden_layer_sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)
        nuisance_seed, torch_seed = self._seeds()
        estimates = self._pseudo_outcomes(logs, nuisance_seed)
        utility = estimates.utility(self.cost_sensitivity)
        scale, magnitude = self._training_scale(utility)
        net = RegretNet(
            module=PolicyNetwork,
            module__n_features=logs.X.shape[1],
            module__n_outputs=self.classes_.size,
            module__hidden_layer_sizes=hidden_layer_sizes,
            **self._net_params(logs.X.shape[0], torch_seed),
        )
        batches = {
            "features": logs.X.astype(np.float32, copy=False),
            "utility": (utility / scale).astype(np.float32),
            "sample_weight": self._loss_weights(logs.sample_weight),
        }
        self._train(net, batches, torch_seed, magnitude)
        self.overlap_ = estimates.overlap
        return self

    def _decision_scores(self, X):
        return self._module_outputs(X).numpy()
