"""CausalRouterClassifier: a doubly robust, regret-minimising router."""

from skroute.routers._neural import NEURAL_ROUTER_CONSTRAINTS, NeuralRouter
from skroute.routers._targets import UtilityTargets


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
    anchored : bool, default=True
        Whether the policy's scores are the direct method's utilities (the
        outcome models' ``quality - lambda cost``) plus a learned correction
        that starts at 0, so that training improves on the direct method
        rather than replacing it; False trains a free network on the
        features alone. Without outcome models (``"ipw"`` pseudo-outcomes,
        full-feedback matrices) the network is free.
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
        1 shows a progress bar of the fit's stages on standard error (the
        cross-fitted nuisances, each fold's targets and network, the safety
        check) when the fit lasts over two seconds; 2 also prints skorch's
        per-epoch training log.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    cost_sensitivity_ : float
        The ``cost_sensitivity`` the router was fitted at: ``predict``,
        ``score`` and ``export`` use it, so setting the parameter after
        ``fit`` changes nothing until the next ``fit``.
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
    learned_policy_ : object
        The learned policy, deployed or not, as a deployed-policy object:
        ``learned_policy_.scores(X, cost_sensitivity)`` are its scores. It
        is ``deployed_`` unless the safety check fell back.
    deployed_ : object
        The deployed policy itself, through which ``predict``,
        ``predict_proba``, ``decision_function`` and ``export`` go; its
        ``name`` is ``deployed_policy_``.
    safety_report_ : dict or None
        The safety check: ``estimates`` (out-of-fold value of each policy),
        ``differences`` (per simple policy: the network's estimated ``gain``,
        its ``standard_error`` and ``lower_bound``), ``direct_method_gain``
        (the same for the direct method over the best single model),
        ``baseline`` (the simple policy the network had to beat: the direct
        method, unless the best single model is confidently better),
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

    _parameter_constraints = {**NEURAL_ROUTER_CONSTRAINTS, "anchored": ["boolean"]}

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
        anchored=True,
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
        self.anchored = anchored
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

    def _targets(self, logs, estimates):
        return UtilityTargets(self, logs, estimates)

    def _record(self, targets):
        if self.safety_report_ is not None:
            self.safety_report_["best_single_model"] = targets.best_single_model()
