"""Regret surrogates on policy scores, given a utility matrix per row."""

import torch
from torch import nn


def _weighted_mean(per_row, sample_weight):
    # mean(w * loss), not sum(w * loss) / sum(w): with weights of mean 1 over the
    # data set, each batch is then an unbiased estimate of the weighted loss.
    if sample_weight is None:
        return per_row.mean()
    return (per_row * sample_weight.to(per_row.dtype).reshape(-1)).mean()


def _tempered(scores, temperature):
    """``scores / temperature`` shifted so that each row's maximum is 0.

    The softmax is unchanged by the shift (the log-sum-exp trick); dividing
    after it keeps a small temperature from overflowing the scores to inf.
    """
    return (scores - scores.max(dim=1, keepdim=True).values.detach()) / temperature


def regret_gaps(utility):
    """``delta[i, t] = max_s utility[i, s] - utility[i, t]`` (non-negative).

    Parameters
    ----------
    utility : Tensor of shape (n_samples, n_classes)
        Utility estimates of every model on every row.

    Returns
    -------
    Tensor of shape (n_samples, n_classes)
        The regret of choosing each model: 0 for the best models of a row.

    Examples
    --------
    >>> import torch
    >>> from skroute.losses import regret_gaps
    >>> utility = torch.tensor([[1.0, 0.5, 0.0], [0.25, 0.75, 0.75]])
    >>> regret_gaps(utility).tolist()
    [[0.0, 0.5, 1.0], [0.5, 0.0, 0.0]]
    """
    return utility.max(dim=1, keepdim=True).values - utility


def softmax_regret_loss(scores, utility, temperature=1.0, sample_weight=None):
    """Softmax-weighted regret: ``mean_i sum_t softmax(g_i / tau)_t delta_i(t)``.

    The expected regret of the stochastic policy ``softmax(g / tau)`` under the
    utility estimates; its minimiser's argmax is the optimal policy for them.

    Parameters
    ----------
    scores : Tensor of shape (n_samples, n_classes)
        Policy logits ``g(x)``.
    utility : Tensor of shape (n_samples, n_classes)
        Utility estimates ``Gamma(lambda)``, e.g. doubly robust pseudo-outcomes.
    temperature : float, default=1.0
        The scores are divided by it before the softmax: a smaller temperature
        gives a policy closer to the argmax of the scores.
    sample_weight : Tensor of shape (n_samples,), default=None
        Row weights, expected to average 1 over the data set; the loss is
        ``mean(weight * regret)``.

    Returns
    -------
    Tensor (scalar)

    Examples
    --------
    Scores that favour the best model leave the regret of the probability
    they still give the other, ``1 - sigmoid(2) = 0.119``; a lower
    temperature sharpens the policy:

    >>> import torch
    >>> from skroute.losses import softmax_regret_loss
    >>> scores = torch.tensor([[2.0, 0.0]])
    >>> utility = torch.tensor([[1.0, 0.0]])
    >>> round(float(softmax_regret_loss(scores, utility)), 4)
    0.1192
    >>> round(float(softmax_regret_loss(scores, utility, temperature=0.5)), 4)
    0.018
    """
    policy = torch.softmax(_tempered(scores, temperature), dim=1)
    per_row = (policy * regret_gaps(utility)).sum(dim=1)
    return _weighted_mean(per_row, sample_weight)


def classification_regret_loss(
    scores, utility, temperature=1.0, gap_weighted=False, sample_weight=None
):
    """Cross-entropy towards the best models of each row, optionally gap-weighted.

    The target spreads evenly over the models that tie for the best utility
    (frequent with 0/1 quality), so ties do not favour the first model. With
    ``gap_weighted=True`` each row's cross-entropy is multiplied by the gap
    between its best and second-best utility: rows where the choice matters
    little count little, and rows with tied best models not at all.

    Parameters
    ----------
    scores : Tensor of shape (n_samples, n_classes)
        Policy logits ``g(x)``.
    utility : Tensor of shape (n_samples, n_classes)
        Utility estimates ``Gamma(lambda)``, e.g. doubly robust pseudo-outcomes.
    temperature : float, default=1.0
        The scores are divided by it before the softmax.
    gap_weighted : bool, default=False
        Multiply each row's cross-entropy by its gap between the best and
        second-best utility.
    sample_weight : Tensor of shape (n_samples,), default=None
        Row weights, expected to average 1 over the data set; the loss is
        ``mean(weight * cross_entropy)``.

    Returns
    -------
    Tensor (scalar)

    Examples
    --------
    The first row has two tied best models, the second one best model, 0.5
    ahead of the next; with equal scores each row's cross-entropy is
    ``log(3)``:

    >>> import torch
    >>> from skroute.losses import classification_regret_loss
    >>> scores = torch.zeros(2, 3)
    >>> utility = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.5, 0.0]])
    >>> round(float(classification_regret_loss(scores, utility)), 4)
    1.0986

    Gap-weighted, the tied row counts for nothing and the other for half:

    >>> loss = classification_regret_loss(scores, utility, gap_weighted=True)
    >>> round(float(loss), 4)  # log(3) * (0 + 0.5) / 2
    0.2747
    """
    log_policy = torch.log_softmax(_tempered(scores, temperature), dim=1)
    best = (utility >= utility.max(dim=1, keepdim=True).values).to(log_policy.dtype)
    target = best / best.sum(dim=1, keepdim=True)
    # Models outside the target add nothing, even where the policy gives them a
    # probability of 0 (a log-probability of -inf).
    per_row = -torch.where(target > 0, target * log_policy, 0.0).sum(dim=1)
    if gap_weighted:
        top_two = utility.topk(2, dim=1).values
        per_row = per_row * (top_two[:, 0] - top_two[:, 1])
    return _weighted_mean(per_row, sample_weight)


class SoftmaxRegretLoss(nn.Module):
    """Module form of :func:`softmax_regret_loss` (a skorch criterion).

    Called as ``loss(scores, utility, sample_weight=None)``, with the
    arguments of :func:`softmax_regret_loss`.

    Parameters
    ----------
    temperature : float, default=1.0
        The scores are divided by it before the softmax: a smaller temperature
        gives a policy closer to the argmax of the scores.

    Examples
    --------
    >>> import torch
    >>> from skroute.losses import SoftmaxRegretLoss
    >>> loss = SoftmaxRegretLoss(temperature=1.0)
    >>> scores = torch.tensor([[0.0, 0.0]])
    >>> utility = torch.tensor([[1.0, 0.0]])
    >>> float(loss(scores, utility))
    0.5
    """

    def __init__(self, temperature=1.0):
        super().__init__()
        self.temperature = temperature

    def forward(self, scores, utility, sample_weight=None):
        return softmax_regret_loss(scores, utility, self.temperature, sample_weight)


class ClassificationRegretLoss(nn.Module):
    """Module form of :func:`classification_regret_loss` (a skorch criterion).

    Called as ``loss(scores, utility, sample_weight=None)``, with the
    arguments of :func:`classification_regret_loss`.

    Parameters
    ----------
    temperature : float, default=1.0
        The scores are divided by it before the softmax.
    gap_weighted : bool, default=False
        Multiply each row's cross-entropy by its gap between the best and
        second-best utility.

    Examples
    --------
    >>> import torch
    >>> from skroute.losses import ClassificationRegretLoss
    >>> loss = ClassificationRegretLoss()
    >>> scores = torch.tensor([[0.0, 0.0]])
    >>> utility = torch.tensor([[1.0, 0.0]])
    >>> round(float(loss(scores, utility)), 4)  # log(2)
    0.6931
    """

    def __init__(self, temperature=1.0, gap_weighted=False):
        super().__init__()
        self.temperature = temperature
        self.gap_weighted = gap_weighted

    def forward(self, scores, utility, sample_weight=None):
        return classification_regret_loss(
            scores, utility, self.temperature, self.gap_weighted, sample_weight
        )
