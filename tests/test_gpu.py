"""The policy trains and predicts on a CUDA device (skipped where none is present)."""

import pickle

import numpy as np
import pytest
import torch

from skroute import CausalRouterClassifier

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_fit_predict_and_pickle_on_cuda(routing_logs):
    problem, logs, _, test = routing_logs
    router = CausalRouterClassifier(max_epochs=10, device="cuda", random_state=0)
    router.fit(logs.X, logs.action, reward=logs.reward, propensity=logs.propensity)
    assert next(router.net_.module_.parameters()).is_cuda
    scores = router.decision_function(problem.X[test])
    restored = pickle.loads(pickle.dumps(router))
    np.testing.assert_allclose(restored.decision_function(problem.X[test]), scores)
