"""Scale-out on Dask through joblib's backend, with no change to skroute's code.

A real ``dask.distributed.LocalCluster`` with two worker processes runs a
doubly-robust-scored ``GridSearchCV`` of a router, with metadata routing
carrying the logged arrays, under ``joblib.parallel_config(backend="dask")``.
"""

import joblib
import numpy as np
import pytest
import sklearn
from helpers import fit_kwargs
from sklearn.model_selection import GridSearchCV, KFold

from skroute import CausalRouterClassifier
from skroute.metrics import make_policy_value_scorer

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def _search(n_jobs):
    return GridSearchCV(
        CausalRouterClassifier(max_epochs=3, policy_cv=2, cv=2, random_state=0),
        {"cost_sensitivity": [0.0, 0.05]},
        scoring=make_policy_value_scorer(cost_sensitivity=0.05, cv=2),
        cv=KFold(2, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )


@pytest.mark.slow
def test_grid_search_runs_on_a_dask_cluster(client, routing_logs):
    _, logs, _, _ = routing_logs
    rows = slice(0, 600)
    params = fit_kwargs(logs, rows)
    X, y = logs.X[rows], logs.action[rows]
    with sklearn.config_context(enable_metadata_routing=True):
        local = _search(n_jobs=None).fit(X, y, **params)
        before = set(client.run(lambda: None))  # the workers that exist
        with joblib.parallel_config(backend="dask"):
            remote = _search(n_jobs=-1).fit(X, y, **params)
    assert len(before) == 2
    # The candidates' fits and scores ran as tasks of the cluster's workers.
    processed = client.run_on_scheduler(
        lambda dask_scheduler: {
            name: sum(prefix.state_counts.values())
            for name, prefix in dask_scheduler.task_prefixes.items()
        }
    )
    ran = " ".join(processed)
    assert "_fit_and_score" in ran  # the search's candidates and folds
    assert "_fit_joint_rows" in ran  # the routers' cross-fitting
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=1e-6,
    )
    assert remote.best_params_ == local.best_params_
