"""What each neural router's policy learns from: the hooks of the training sequence.

:class:`~skroute.routers._training.PolicyTrainer` runs the sequence; a
*targets* object says, for one router, what its networks train on and how
their decisions are valued:

- ``fold_targets(fold, rows)``: the training arrays of a policy fold's rows,
  from the pseudo-outcomes cross-fitted on those rows (``fold``; None where
  those of every row serve); ``scaled_keys`` name those that set the loss's
  scale, with ``magnitudes()``;
- ``batches()``: the per-row arrays of every row (held-out rows included);
- ``network(scale)``: the :class:`~skroute.routers._training.NetworkSpec`;
- ``decisions(module, features, held_out)``: the choices of a trained state;
- ``values(choices, rows)``: the estimated utility per row of choices, by
  the pseudo-outcomes that judge (doubly robust where they exist), and
  ``checkable``: whether those allow the safety check;
- the simple policies: ``direct_method_choices()``, ``best_single_choice(rows)``,
  and ``deploy_network(net, scale)``, ``deploy_direct_method()``,
  ``deploy_best_single()``, which make the deployed-policy objects.
"""

import numpy as np
import torch
from sklearn.utils.validation import check_memory

from skroute._net import (
    AnchoredEnsemble,
    AnchoredPolicyNetwork,
    IntervalEnsemble,
    IntervalPolicyNetwork,
    IntervalRegretNet,
    PolicyEnsemble,
    PolicyNetwork,
    RegretNet,
)
from skroute.causal import predict_arm_models
from skroute.causal._direct_method import fit_outcome_models
from skroute.causal._outcome import _split_targets
from skroute.routers._base import ROUTE_BLOCK, routes_by_block
from skroute.routers._deployed import (
    AnchoredNetworkPolicy,
    BestSinglePolicy,
    DirectMethodPolicy,
    IntervalNetworkPolicy,
    NetworkPolicy,
)
from skroute.routers._training import NetworkSpec
from skroute.utils import check_hidden_layer_sizes


def _typical_regret(reward, cost, cost_sensitivities):
    """Mean regret of a uniform policy at each ``lambda`` (kept above 0)."""
    scale = np.empty(len(cost_sensitivities))
    for j, value in enumerate(cost_sensitivities):
        utility = reward - value * cost
        scale[j] = (utility.max(axis=1) - utility.mean(axis=1)).mean()
    return np.maximum(scale, 1e-12 + 1e-6 * scale.max())


def _interpolate(endpoints, grid, cost_sensitivities):
    """Scores at each ``lambda`` of a 1-D array, from (n, K + 1, T) endpoint scores.

    Returns an array of shape (n, n_lambdas, T).
    """
    index = np.clip(
        np.searchsorted(grid, cost_sensitivities, side="right") - 1, 0, grid.size - 2
    )
    alpha = (cost_sensitivities - grid[index]) / (grid[index + 1] - grid[index])
    alpha = alpha[None, :, None]
    return (1 - alpha) * endpoints[:, index] + alpha * endpoints[:, index + 1]


def _fitted_outcome_models(router, logs, tuned=None):
    """The direct method's quality and cost models, fitted on every row (cached).

    Where the cross-fitting tuned the default ridge of quality and cost
    together on every row of each arm (``tuned``, its ``tuned_outcomes``),
    those are these models, and are not fitted again.
    """
    joint = (
        tuned is not None
        and logs.cost is not None
        and router.reward_model is None
        and router.cost_model is None
        and logs.reward.ndim == 1
        and logs.cost.ndim == 1
    )
    keys = [((0, 1), t) for t in range(router.classes_.size)]
    if joint and all(key in tuned for key in keys):
        parts = [_split_targets(tuned[key]) for key in keys]
        return [part[0] for part in parts], [part[1] for part in parts]
    fit = check_memory(router.memory).cache(fit_outcome_models, ignore=["n_jobs"])
    return fit(
        logs,
        router.classes_.size,
        router.reward_model,
        router.cost_model,
        router.n_jobs,
    )


class UtilityTargets:
    """One cost sensitivity: networks score the candidates, trained on
    ``Gamma_a - lambda Gamma_c`` (:class:`~skroute.CausalRouterClassifier`).

    Anchored (the router's ``anchored`` and outcome models), a network's
    scores are the direct method's utilities plus its correction: rows carry
    the cross-fitted ``utility_line`` of the outcome models, and the deployed
    policy predicts it with the models fitted on every row.
    """

    def __init__(self, router, logs, estimates):
        self.router, self.logs = router, logs
        self.cost_sensitivity = router.cost_sensitivity
        self.utility = estimates.utility(self.cost_sensitivity)
        judged = estimates.dr_utility(self.cost_sensitivity)
        full_feedback = estimates.method == "full_feedback"
        self.checkable = judged is not None and not full_feedback
        self.direct = None
        if not full_feedback:
            self.direct = estimates.direct_utility(self.cost_sensitivity)
        self.anchored = bool(router.anchored) and (self.direct is not None)
        self.tuned = estimates.tuned_outcomes
        self.scaled_keys = (
            ("utility", "utility_line") if self.anchored else ("utility",)
        )
        # No doubly robust estimate ("dm" or "ipw" pseudo-outcomes): the
        # training pseudo-outcomes choose the epoch, and nothing is checked.
        self.judged = self.utility if judged is None else judged
        self._outcome_models = None

    def _models(self):
        """The outcome models fitted on every row (fitted once)."""
        if self._outcome_models is None:
            self._outcome_models = _fitted_outcome_models(
                self.router, self.logs, self.tuned
            )
        return self._outcome_models

    def fold_targets(self, fold, rows):
        if fold is None:
            target = {"utility": self.utility[rows]}
            if self.anchored:
                target["utility_line"] = self.direct[rows]
            return target
        target = {"utility": fold.utility(self.cost_sensitivity)}
        if self.anchored:
            line = fold.direct_utility(self.cost_sensitivity)
            target["utility_line"] = self.direct[rows] if line is None else line
        return target

    def magnitudes(self):
        return [self.utility, self.direct] if self.anchored else [self.utility]

    def batches(self):
        if self.anchored:
            return {"utility": self.utility, "utility_line": self.direct}
        return {"utility": self.utility}

    def network(self, scale):
        router = self.router
        module_params = {
            "module__n_features": self.logs.X.shape[1],
            "module__n_outputs": router.classes_.size,
            "module__hidden_layer_sizes": check_hidden_layer_sizes(
                router.hidden_layer_sizes
            ),
        }
        if not self.anchored:
            return NetworkSpec(
                RegretNet, PolicyNetwork, PolicyEnsemble, module_params, {}, {}
            )
        # The typical gap of the direct method's utilities (smooth, unlike the
        # pseudo-outcomes') sets the correction's unit and the first sharpness,
        # as for the interval router's quality heads: the softmax over gaps of
        # that size is then already peaked at the direct method's choice.
        typical = _typical_regret(self.direct, np.zeros_like(self.direct), [0.0])
        unit = float(typical[0] / scale)
        module_params["module__sharpness"] = float(router.temperature / unit)
        module_params["module__unit"] = unit
        return NetworkSpec(
            RegretNet, AnchoredPolicyNetwork, AnchoredEnsemble, module_params, {}, {}
        )

    def decisions(self, module, features, held_out):
        line = held_out.get("utility_line") if self.anchored else None

        def scores(rows):
            inputs = {"features": torch.from_numpy(features[rows])}
            if line is not None:
                inputs["utility_line"] = torch.from_numpy(line[rows])
            return module(**inputs).numpy()

        return routes_by_block(scores, features.shape[0])

    def values(self, choices, rows=slice(None)):
        judged = self.judged[rows]
        return judged[np.arange(judged.shape[0]), choices]

    def direct_method_choices(self):
        return None if self.direct is None else np.argmax(self.direct, axis=1)

    def _model_values(self, rows=slice(None)):
        weight = self.logs.sample_weight[rows]
        return np.average(self.judged[rows], axis=0, weights=weight)

    def best_single_choice(self, rows):
        return np.asarray(np.argmax(self._model_values(rows)))

    def best_single_model(self):
        """The model a fallback to the best single model routes to."""
        return self.router.classes_[np.argmax(self._model_values())]

    def deploy_network(self, net, scale):
        if not self.anchored:
            return NetworkPolicy(net, self.router.classes_.size)
        reward_models, cost_models = self._models()
        return AnchoredNetworkPolicy(
            net,
            self.router.classes_.size,
            training_scale=float(scale),
            reward_models=reward_models,
            cost_models=cost_models,
        )

    def deploy_direct_method(self):
        return DirectMethodPolicy(*self._models())

    def deploy_best_single(self):
        classes = self.router.classes_
        return BestSinglePolicy((classes == self.best_single_model()).astype(float))


class CostRangeTargets:
    """A range of cost sensitivities (:class:`~skroute.IntervalCostRouter`).

    The networks output scores at the points of a grid over the range; they
    train on ``Gamma_a`` and ``Gamma_c`` (the surrogate draws ``lambda`` per
    row) with the outcome models' lines, and are judged by their utility
    averaged over the grid's points and midpoints, each scaled by the
    typical regret there.
    """

    scaled_keys = ("reward", "cost")

    def __init__(self, router, logs, estimates):
        self.router, self.logs = router, logs
        self.full_feedback = estimates.method == "full_feedback"
        self.has_cost = estimates.cost is not None
        self.reward = estimates.reward
        self.zeros = np.zeros_like(self.reward)
        # The lines q(x) and c(x) of the outcome models: the models fitted on
        # every row serve at prediction; training uses their cross-fitted
        # estimates where the pseudo-outcomes have them (in-sample otherwise).
        self.reward_models, self.cost_models = _fitted_outcome_models(
            router, logs, estimates.tuned_outcomes
        )
        self.quality_line = estimates.reward_estimate
        if self.quality_line is None:
            self.quality_line = predict_arm_models(self.reward_models, logs.X)
        self.cost_line = self.zeros
        if self.has_cost:
            self.cost_line = estimates.cost_estimate
            if self.cost_line is None:
                self.cost_line = predict_arm_models(self.cost_models, logs.X)
        self.cost_matrix = estimates.cost if self.has_cost else self.zeros
        self.grid = router._cost_grid(self.quality_line, self.cost_line)
        # Where the policy is judged: the grid points and their midpoints.
        grid = self.grid
        self.points = np.sort(np.concatenate([grid, (grid[:-1] + grid[1:]) / 2]))
        self._judging_utilities(estimates)

    def _judging_utilities(self, estimates):
        """The utilities the policy is judged by: doubly robust where they exist."""
        self.checkable = not self.full_feedback and (
            estimates.dr_utility(0.0) is not None
        )
        self.judged_reward, self.judged_cost = self.reward, self.cost_matrix
        if self.checkable:
            self.judged_reward = estimates.dr_reward
            self.judged_cost = estimates.dr_cost if self.has_cost else self.zeros
        self.point_scale = _typical_regret(self.reward, self.cost_matrix, self.points)

    def fold_targets(self, fold, rows):
        target = {
            "reward": self.reward[rows],
            "cost": self.cost_matrix[rows],
            "quality_line": self.quality_line[rows],
            "cost_line": self.cost_line[rows],
        }
        if fold is not None:
            target["reward"] = fold.reward
            target["cost"] = fold.cost if self.has_cost else self.zeros[rows]
            if fold.reward_estimate is not None:
                target["quality_line"] = fold.reward_estimate
            if self.has_cost and fold.cost_estimate is not None:
                target["cost_line"] = fold.cost_estimate
        return target

    def magnitudes(self):
        high = self.grid[-1]
        return [
            self.reward,
            high * self.cost_matrix,
            self.quality_line,
            high * self.cost_line,
        ]

    def batches(self):
        return {
            "reward": self.reward,
            "cost": self.cost_matrix,
            "quality_line": self.quality_line,
            "cost_line": self.cost_line,
        }

    def network(self, scale):
        router = self.router
        # Typical regret of a uniform policy at each lambda, to weigh all cost
        # sensitivities alike in the loss.
        regret_scale = _typical_regret(self.reward, self.cost_matrix, self.grid) / scale
        module_params = {
            "module__n_features": self.logs.X.shape[1],
            "module__n_outputs": router.classes_.size,
            "module__grid": self.grid,
            "module__heads": router.heads,
            "module__hidden_layer_sizes": check_hidden_layer_sizes(
                router.hidden_layer_sizes
            ),
        }
        if router.heads == "quality":
            # Start as sharp as the typical regret: a softmax over utility gaps
            # of that size is then already peaked, and the surrogate need not
            # inflate the quality scores (which would blunt the cost term).
            module_params["module__sharpness"] = float(
                router.temperature / np.mean(regret_scale)
            )
        return NetworkSpec(
            IntervalRegretNet,
            IntervalPolicyNetwork,
            IntervalEnsemble,
            module_params,
            {"cost_grid": self.grid, "regret_scale": regret_scale},
            {"cost_grid": self.grid},
        )

    def decisions(self, module, features, held_out):
        inputs = {
            "features": features,
            "quality_line": held_out["quality_line"],
            "cost_line": held_out["cost_line"],
        }
        n_rows = features.shape[0]
        chosen = np.empty((n_rows, self.points.size), dtype=np.intp)
        # A block of rows at a time: the scores at every point of every model,
        # (rows, points, models), are never made for all rows.
        for start in range(0, n_rows, ROUTE_BLOCK):
            rows = slice(start, start + ROUTE_BLOCK)
            block = {
                key: torch.from_numpy(np.ascontiguousarray(value[rows]))
                for key, value in inputs.items()
            }
            endpoints = module(**block).to(torch.float64).numpy()
            chosen[rows] = np.argmax(_interpolate(endpoints, self.grid, self.points), 2)
        return chosen

    def values(self, choices, rows=slice(None)):
        # Per row: the utility of the chosen model at each point, scaled by the
        # point's typical regret, averaged over the points. Only the chosen
        # models' utilities are formed: (rows, points), not (rows, points, models).
        reward = np.take_along_axis(self.judged_reward[rows], choices, axis=1)
        cost = np.take_along_axis(self.judged_cost[rows], choices, axis=1)
        return ((reward - self.points * cost) / self.point_scale).mean(axis=1)

    def direct_method_choices(self):
        if self.full_feedback:
            return None
        return np.column_stack(
            [
                np.argmax(self.quality_line - point * self.cost_line, axis=1)
                for point in self.points
            ]
        )

    def best_single_choice(self, rows):
        # Mean utility of each model at each point on the rows.
        weight = self.logs.sample_weight[rows]
        means = (
            np.average(self.judged_reward[rows], axis=0, weights=weight)
            - self.points[:, None]
            * np.average(self.judged_cost[rows], axis=0, weights=weight)
        ) / self.point_scale[:, None]
        return np.argmax(means, axis=1)

    def deploy_network(self, net, scale):
        return IntervalNetworkPolicy(
            net,
            self.router.classes_.size,
            grid=self.grid,
            training_scale=float(scale),
            reward_models=self.reward_models,
            cost_models=self.cost_models,
        )

    def deploy_direct_method(self):
        return DirectMethodPolicy(self.reward_models, self.cost_models)

    def deploy_best_single(self):
        # The best single model at each lambda: the upper envelope of the lines
        # of the models' mean quality and mean cost.
        weight = self.logs.sample_weight
        return BestSinglePolicy(
            np.average(self.judged_reward, axis=0, weights=weight),
            np.average(self.judged_cost, axis=0, weights=weight),
        )
