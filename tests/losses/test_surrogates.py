import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from skroute.losses import (
    ClassificationRegretLoss,
    SoftmaxRegretLoss,
    classification_regret_loss,
    softmax_regret_loss,
)


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_regret_reference(scores, utility, temperature, weight):
    gaps = utility.max(axis=1, keepdims=True) - utility
    per_row = (_softmax(scores / temperature) * gaps).sum(axis=1)
    return np.mean(weight * per_row)


def classification_reference(scores, utility, temperature, gap_weighted, weight):
    z = scores / temperature
    log_policy = z - z.max(axis=1, keepdims=True)
    log_policy -= np.log(np.exp(log_policy).sum(axis=1, keepdims=True))
    best = utility == utility.max(axis=1, keepdims=True)
    per_row = -(best * log_policy).sum(axis=1) / best.sum(axis=1)
    if gap_weighted:
        ordered = np.sort(utility, axis=1)
        per_row = per_row * (ordered[:, -1] - ordered[:, -2])
    return np.mean(weight * per_row)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    scores = rng.normal(scale=3.0, size=(64, 5))
    utility = rng.normal(size=(64, 5))
    weight = rng.uniform(0.1, 2.0, size=64)
    return scores, utility, weight


@pytest.mark.parametrize("temperature", [0.3, 1.0, 4.0])
def test_softmax_regret_matches_numpy_reference(batch, temperature):
    scores, utility, weight = batch
    got = softmax_regret_loss(
        torch.tensor(scores), torch.tensor(utility), temperature, torch.tensor(weight)
    )
    expected = softmax_regret_reference(scores, utility, temperature, weight)
    np.testing.assert_allclose(float(got), expected, rtol=1e-10)


@pytest.mark.parametrize("gap_weighted", [False, True])
@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_classification_loss_matches_numpy_reference(batch, gap_weighted, temperature):
    scores, utility, weight = batch
    got = classification_regret_loss(
        torch.tensor(scores),
        torch.tensor(utility),
        temperature,
        gap_weighted,
        torch.tensor(weight),
    )
    expected = classification_reference(
        scores, utility, temperature, gap_weighted, weight
    )
    np.testing.assert_allclose(float(got), expected, rtol=1e-10)


def test_unweighted_loss_is_plain_mean(batch):
    scores, utility, _ = batch
    s, u = torch.tensor(scores), torch.tensor(utility)
    ones = torch.ones(len(scores), dtype=torch.float64)
    assert float(softmax_regret_loss(s, u)) == pytest.approx(
        float(softmax_regret_loss(s, u, sample_weight=ones))
    )


@pytest.mark.parametrize(
    "loss",
    [
        SoftmaxRegretLoss(temperature=0.7),
        ClassificationRegretLoss(temperature=1.3),
        ClassificationRegretLoss(gap_weighted=True),
    ],
    ids=["softmax", "classification", "classification-gap"],
)
def test_gradcheck_float64(loss, batch):
    scores, utility, weight = batch
    s = torch.tensor(scores[:8], requires_grad=True)
    u = torch.tensor(utility[:8])
    w = torch.tensor(weight[:8])
    assert torch.autograd.gradcheck(lambda x: loss(x, u, w), (s,))


def test_softmax_regret_is_zero_when_the_policy_picks_the_best_model():
    utility = torch.tensor([[0.2, 0.9, 0.1], [1.0, -1.0, 0.0]])
    scores = torch.tensor([[0.0, 60.0, 0.0], [60.0, 0.0, 0.0]])
    assert float(softmax_regret_loss(scores, utility)) == pytest.approx(0.0, abs=1e-12)


def test_softmax_regret_of_uniform_policy_is_mean_gap():
    utility = torch.tensor([[1.0, 0.0, 0.0, 0.5]])
    scores = torch.zeros(1, 4)
    assert float(softmax_regret_loss(scores, utility)) == pytest.approx(
        (1 + 1 + 0.5) / 4
    )


@pytest.mark.parametrize(
    "loss", [SoftmaxRegretLoss(), ClassificationRegretLoss(gap_weighted=True)]
)
def test_losses_stay_finite_on_extreme_inputs(loss):
    scores = torch.tensor([[1e4, -1e4, 0.0], [-3e4, 3e4, 1e4]], requires_grad=True)
    utility = torch.tensor([[1e6, -1e6, 0.0], [0.0, 1e6, -1e6]])
    value = loss(scores, utility)
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(scores.grad).all()


def test_classification_target_spreads_over_tied_best_models():
    utility = torch.tensor([[1.0, 1.0, 0.0]])
    scores = torch.tensor([[2.0, 0.0, -1.0]])
    log_policy = torch.log_softmax(scores, dim=1)
    expected = -(log_policy[0, 0] + log_policy[0, 1]) / 2
    assert float(classification_regret_loss(scores, utility)) == pytest.approx(
        float(expected)
    )
    # Gap weighting: no gap between the tied best models, so no loss.
    assert float(classification_regret_loss(scores, utility, gap_weighted=True)) == 0


def _softmax_regret_reference(scores, utility, temperature):
    """The softmax regret in float64 numpy, through log-sum-exp."""
    tempered = scores / temperature
    log_policy = tempered - logsumexp(tempered, axis=1, keepdims=True)
    gaps = utility.max(axis=1, keepdims=True) - utility
    return (np.exp(log_policy) * gaps).sum(axis=1).mean()


@pytest.mark.parametrize("temperature", [1.0, 1e-3, 1e-30])
def test_softmax_regret_does_not_overflow_at_small_temperatures(temperature):
    scores = np.array([[3.0, -2.0, 1e3], [1e30, -1e30, 0.0], [5.0, 5.0, -5.0]])
    utility = np.array([[1.0, 0.0, 0.5], [0.0, 1e6, -1e6], [2.0, 1.0, 0.0]])
    tensor = torch.tensor(scores, dtype=torch.float32, requires_grad=True)
    value = softmax_regret_loss(
        tensor, torch.tensor(utility, dtype=torch.float32), temperature
    )
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(tensor.grad).all()
    expected = _softmax_regret_reference(scores, utility, temperature)
    assert float(value) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("gap_weighted", [False, True])
def test_classification_loss_does_not_overflow_at_small_temperatures(gap_weighted):
    scores = torch.tensor([[1e30, -1e30, 0.0], [1.0, 2.0, 3.0]], requires_grad=True)
    utility = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    value = classification_regret_loss(scores, utility, 1e-20, gap_weighted)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(scores.grad).all()
