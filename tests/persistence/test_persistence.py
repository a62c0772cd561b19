"""Saving and loading routers: pickle, joblib, versions, devices, weights alone."""

import copy
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import skorch
import torch
from sklearn.base import clone
from sklearn.exceptions import InconsistentVersionWarning, NotFittedError
from tiny_routers import (
    assert_same_outputs,
    fit,
    outputs,
    router_id,
    tiny_routers,
)

import skroute
from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.persistence import PERSISTENCE_FORMAT, SkrouteVersionWarning

OLD_PICKLE = Path(__file__).parents[1] / "data" / "routers_0.1.0.dev0.pkl"
# Routers of pickle format 1 (commit 86d8ec5), one per deployed policy of each
# neural router, and an interval router following a budget mixture: what they
# predicted when saved (at lambda 0.1 for the interval routers).
FORMAT_1_PICKLE = (
    Path(__file__).parents[1] / "data" / "routers_before_deployed_policies.pkl"
)


def _round_trip(router, dump, path):
    if dump == "pickle":
        return pickle.loads(pickle.dumps(router))
    if dump == "deepcopy":
        return copy.deepcopy(router)
    joblib.dump(router, path / "router.joblib")
    return joblib.load(path / "router.joblib")


DUMPS = ["pickle", "joblib", "deepcopy"]


@pytest.mark.parametrize("dump", DUMPS)
@pytest.mark.parametrize("router", tiny_routers(), ids=router_id)
def test_fitted_round_trip_predicts_the_same(router, dump, tiny_logs, tmp_path):
    router = fit(clone(router), tiny_logs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning
        restored = _round_trip(router, dump, tmp_path)
    assert restored.get_params() == router.get_params()
    np.testing.assert_array_equal(restored.classes_, router.classes_)
    assert_same_outputs(
        outputs(restored, tiny_logs["X"]), outputs(router, tiny_logs["X"])
    )
    assert restored.score(**tiny_logs) == router.score(**tiny_logs)


@pytest.mark.parametrize("dump", DUMPS)
@pytest.mark.parametrize("router", tiny_routers(), ids=router_id)
def test_unfitted_round_trip_fits_the_same(router, dump, tiny_logs, tmp_path):
    restored = _round_trip(router, dump, tmp_path)
    assert restored.get_params() == router.get_params()
    with pytest.raises(NotFittedError):
        restored.predict(tiny_logs["X"])
    assert_same_outputs(
        outputs(fit(restored, tiny_logs), tiny_logs["X"]),
        outputs(fit(clone(router), tiny_logs), tiny_logs["X"]),
    )


def test_pickle_written_by_an_earlier_version_loads_and_predicts_as_saved(tiny_logs):
    # Written by skroute 0.1.0.dev0 before pickles recorded their version: it
    # loads with a warning, predicts exactly as it did, and refits.
    with pytest.warns(SkrouteVersionWarning, match="did not record itself"):
        with OLD_PICKLE.open("rb") as file:
            saved = pickle.load(file)
    assert len(saved["routers"]) == 5
    for entry in saved["routers"]:
        router = entry["router"]
        np.testing.assert_array_equal(router.predict(saved["X"]), entry["predict"])
        # Float32 matrix products may round differently on another CPU.
        for name in ("predict_proba", "decision_function"):
            np.testing.assert_allclose(
                getattr(router, name)(saved["X"]),
                entry[name],
                rtol=1e-6,
                atol=1e-7,
                err_msg=name,
            )
        # Every parameter of this version is set (added ones by default).
        params = router.get_params()
        assert set(params) == set(clone(router).get_params())
        fit(clone(router), tiny_logs).predict(tiny_logs["X"])


def test_routers_of_pickle_format_1_load_each_deployed_policy():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with FORMAT_1_PICKLE.open("rb") as file:
            saved = pickle.load(file)
    # The mixture alone is dropped, with a warning that says what replaces it.
    messages = [str(w.message) for w in caught if w.category is SkrouteVersionWarning]
    assert len(messages) == 1 and "BudgetRouter" in messages[0]
    kinds = set()
    for entry in saved["routers"]:
        router, name = entry["router"], entry["name"]
        kind = name.split("-")[1]
        assert router.deployed_policy_ == router.deployed_.name
        if kind != "mixture":
            assert router.deployed_policy_ == kind, name
            kinds.add(name)
        assert not hasattr(router, "fallback_lines_")
        assert not hasattr(router, "budget_mixture_")
        options = {}
        if entry["cost_sensitivity"] is not None:
            options["cost_sensitivity"] = entry["cost_sensitivity"]
        np.testing.assert_array_equal(
            router.predict(saved["X"], **options), entry["predict"], err_msg=name
        )
        np.testing.assert_allclose(
            router.predict_proba(saved["X"], **options),
            entry["predict_proba"],
            rtol=1e-6,
            atol=1e-7,
            err_msg=name,
        )
        # Saved again, it keeps what it routes by and nothing it no longer uses.
        again = pickle.loads(pickle.dumps(router))
        np.testing.assert_array_equal(
            again.predict(saved["X"]), router.predict(saved["X"])
        )
    assert len(kinds) == 6


def test_pickle_of_another_version_loads_with_a_warning(tiny_logs, monkeypatch):
    router = fit(tiny_routers()[0], tiny_logs)
    with monkeypatch.context() as patch:
        patch.setattr(skroute, "__version__", "0.0.1")
        blob = pickle.dumps(router)
    with pytest.warns(SkrouteVersionWarning, match=r"saved by skroute 0\.0\.1"):
        restored = pickle.loads(blob)
    assert_same_outputs(
        outputs(restored, tiny_logs["X"]), outputs(router, tiny_logs["X"])
    )


def test_parameters_added_since_a_pickle_take_their_defaults(tiny_logs):
    router = fit(CausalRouterClassifier(temperature=0.5, max_epochs=1, cv=2), tiny_logs)
    state = router.__getstate__()
    # As written by a version without ``temperature`` and without a version.
    del state["temperature"], state["_skroute_version"], state["_skroute_format"]
    restored = CausalRouterClassifier.__new__(CausalRouterClassifier)
    with pytest.warns(SkrouteVersionWarning):
        restored.__setstate__(state)
    assert restored.temperature == 1.0
    assert restored.predict_proba(tiny_logs["X"]).shape == (60, 3)


def test_pickle_of_a_newer_format_is_a_clear_error(tiny_logs):
    router = fit(tiny_routers()[2], tiny_logs)
    state = router.__getstate__()
    assert state["_skroute_format"] == PERSISTENCE_FORMAT
    state["_skroute_format"] = PERSISTENCE_FORMAT + 1
    state["_skroute_version"] = "9.0"
    restored = type(router).__new__(type(router))
    with pytest.raises(ValueError, match=r"saved by skroute 9\.0 in pickle format"):
        restored.__setstate__(state)


def _as_if_fitted_on_cuda(router, monkeypatch):
    """Pickle bytes of ``router`` with its tensors tagged as CUDA tensors.

    This is what a router fitted with ``device="cuda"`` pickles to; it cannot be
    fitted on a machine without a GPU, so the tags are put on at pickling.
    """
    router = copy.deepcopy(router)
    router.set_params(device="cuda")
    router.net_.device = "cuda"
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        blob = pickle.dumps(router)
        tensor = pickle.dumps(torch.zeros(2))
    return blob, tensor


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize(
    "router",
    [
        CausalRouterClassifier(max_epochs=2, cv=2, random_state=0),
        IntervalCostRouter(n_intervals=2, max_epochs=2, cv=2, random_state=0),
    ],
    ids=router_id,
)
def test_router_fitted_on_cuda_loads_and_predicts_on_cpu(
    router, tiny_logs, monkeypatch
):
    router = fit(router, tiny_logs)
    blob, tensor = _as_if_fitted_on_cuda(router, monkeypatch)
    # The simulation is faithful: a bare tensor pickled the same way needs CUDA.
    with pytest.raises(RuntimeError, match="CUDA"):
        pickle.loads(tensor)
    with pytest.warns(skorch.exceptions.DeviceWarning):
        restored = pickle.loads(blob)
    assert str(restored.net_.device) == "cpu"
    assert all(p.device.type == "cpu" for p in restored.net_.module_.parameters())
    assert_same_outputs(
        outputs(restored, tiny_logs["X"]), outputs(router, tiny_logs["X"])
    )
    # Refitting here needs the device changed; the error says how.
    assert restored.device == "cuda"
    with pytest.raises(ValueError, match=r"set_params\(device='cpu'\)"):
        fit(clone(restored), tiny_logs)
    fit(clone(restored).set_params(device="cpu"), tiny_logs)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_router_fitted_on_a_gpu_predicts_in_a_process_without_one(tiny_logs, tmp_path):
    router = fit(
        CausalRouterClassifier(max_epochs=5, device="cuda", cv=2, random_state=0),
        tiny_logs,
    )
    assert next(router.net_.module_.parameters()).is_cuda
    joblib.dump(router, tmp_path / "router.joblib")
    np.save(tmp_path / "X.npy", tiny_logs["X"])
    np.save(tmp_path / "expected.npy", router.decision_function(tiny_logs["X"]))
    script = textwrap.dedent(
        f"""
        import joblib, numpy as np, torch
        assert not torch.cuda.is_available()
        router = joblib.load({str(tmp_path / "router.joblib")!r})
        scores = router.decision_function(np.load({str(tmp_path / "X.npy")!r}))
        np.testing.assert_allclose(
            scores, np.load({str(tmp_path / "expected.npy")!r}), atol=1e-5
        )
        """
    )
    subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )


@pytest.mark.parametrize(
    "router",
    [
        CausalRouterClassifier(max_epochs=3, cv=2, safety_check="off"),
        IntervalCostRouter(n_intervals=2, max_epochs=3, cv=2, safety_check="off"),
    ],
    ids=router_id,
)
def test_save_params_moves_the_policy_weights_alone(router, tiny_logs, tmp_path):
    # save_params/load_params of the skorch net carry the module's weights,
    # not the router: the receiving router must be fitted with the same
    # architecture, models and features (see docs/persistence.rst).
    source = fit(clone(router).set_params(random_state=0), tiny_logs)
    target = fit(clone(router).set_params(random_state=1), tiny_logs)
    assert not np.array_equal(
        source.decision_function(tiny_logs["X"]),
        target.decision_function(tiny_logs["X"]),
    )
    source.net_.save_params(f_params=tmp_path / "policy.pt")
    target.net_.load_params(f_params=tmp_path / "policy.pt")
    assert_same_outputs(
        outputs(target, tiny_logs["X"]), outputs(source, tiny_logs["X"])
    )


def test_the_old_name_of_the_version_warning_still_works_and_says_so():
    import skroute.utils

    with pytest.warns(FutureWarning, match="renamed SkrouteVersionWarning"):
        old = skroute.utils.InconsistentVersionWarning
    assert old is SkrouteVersionWarning
    assert not issubclass(SkrouteVersionWarning, InconsistentVersionWarning)
