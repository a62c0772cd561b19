"""What a router file must hold: every metadata key and every array, checked.

:func:`check_router_file` is called on what :func:`read_router_file` returns,
before any of it is used. It checks each metadata value's type and range,
that the arrays are exactly those the metadata calls for (no more, no fewer),
with the dtype and shape that the computation reading them expects, and that
the floats are finite. A file that passes can be served without any error
other than those of the caller's input.
"""

import math

import numpy as np

from skroute.serving._file import ROUTER_FILE_FORMAT, RouterFileError, not_a_router_file

POLICIES = ("constant", "constant_lines", "lines", "corrected_lines", "mlp", "hash")
_MAX_CLASSES = 100_000
_MAX_FEATURES = 10_000_000
_MAX_MEMBERS = 1_000
_MAX_LAYERS = 64
_MAX_STEPS = 64
# Pipeline steps read from the file, each with the arrays it holds: name ->
# (required arrays, optional arrays).
STEP_ARRAYS = {
    "standard_scaler": ((), ("mean", "scale")),
    "robust_scaler": ((), ("center", "scale")),
    "max_abs_scaler": (("scale",), ()),
    "min_max_scaler": (("scale", "min"), ()),
    "normalizer": ((), ()),
    "pca": (("mean", "components"), ("variance",)),
    "truncated_svd": (("components",), ()),
    "prompt_embedder": ((), ()),
}
_TRUNCATIONS = ("head", "tail", "last_block")


def _finite(value):
    """Whether a JSON number is a finite float (a huge integer is not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _numbers(values, length):
    """Whether ``values`` is a JSON list of ``length`` finite numbers."""
    return (
        isinstance(values, list)
        and len(values) == length
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and _finite(v)
            for v in values
        )
    )


class _Checker:
    """Checks against one file, each failure a :class:`RouterFileError`."""

    def __init__(self, meta, arrays, path):
        self.meta = meta
        self.arrays = arrays
        self.path = path
        self.used = set()

    def fail(self, reason):
        raise not_a_router_file(self.path, reason)

    # --- metadata -----------------------------------------------------------

    def value(self, key, kind, *, source=None, optional=False, default=None):
        source = self.meta if source is None else source
        if key not in source:
            if optional:
                return default
            self.fail(f"no {key!r} in its metadata")
        value = source[key]
        if value is None and optional:
            return default
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": isinstance(value, str) and len(value) <= 1_000,
        }[kind]
        if kind == "float" and ok:
            ok = _finite(value)
        if not ok:
            what = {
                "int": "an integer",
                "float": "a finite number",
                "bool": "true or false",
                "str": "a string",
            }[kind]
            self.fail(f"its metadata's {key!r} is not {what}: {str(value)[:60]!r}")
        return value

    def integer(self, key, low, high, **options):
        value = self.value(key, "int", **options)
        if value is not None and not low <= value <= high:
            self.fail(f"its metadata's {key!r} is {value}, outside [{low}, {high}]")
        return value

    def number(self, key, *, low=-math.inf, **options):
        value = self.value(key, "float", **options)
        if value is not None and value < low:
            self.fail(f"its metadata's {key!r} is {value}, below {low}")
        return None if value is None else float(value)

    def choice(self, key, choices, **options):
        value = self.value(key, "str", **options)
        if value is not None and value not in choices:
            self.fail(f"its metadata's {key!r} is {value[:60]!r}")
        return value

    # --- arrays -------------------------------------------------------------

    def array(self, key, kind, shape=None, *, size=None, finite=True):
        if key not in self.arrays:
            self.fail(f"no array {key!r}")
        array = self.arrays[key]
        self.used.add(key)
        kinds = {
            "float": "f",
            "bool": "b",
            "uint": "u",
            "text": "U",
            "label": "Uiub",
        }[kind]
        if array.dtype.kind not in kinds:
            self.fail(f"array {key!r} has dtype {array.dtype}, not {kind}")
        if shape is not None and array.shape != tuple(shape):
            self.fail(f"array {key!r} has shape {array.shape}, not {tuple(shape)}")
        if size is not None and array.size != size:
            self.fail(f"array {key!r} has {array.size} values, not {size}")
        if array.size == 0:
            self.fail(f"array {key!r} is empty")
        if kind == "float" and finite and not np.isfinite(array).all():
            self.fail(f"array {key!r} holds NaN or infinity")
        if kind == "float" and np.isnan(array).any():
            self.fail(f"array {key!r} holds NaN")
        return array

    def layers(self, prefix, n_inputs, n_outputs=None, min_layers=0):
        """A chain of linear layers from ``n_inputs``; the width it ends with."""
        n_layers = self.integer(prefix + "n_layers", min_layers, _MAX_LAYERS)
        width = n_inputs
        for k in range(n_layers):
            weight = self.array(f"{prefix}{k}/weight", "float")
            if weight.ndim != 2 or weight.shape[1] != width or weight.shape[0] < 1:
                self.fail(f"array '{prefix}{k}/weight' has shape {weight.shape}")
            width = weight.shape[0]
            self.array(f"{prefix}{k}/bias", "float", (width,))
        if n_outputs is not None and width != n_outputs:
            self.fail(f"the layers under {prefix!r} end with {width} outputs")
        return width


def check_router_file(meta, arrays, path):
    """Check a router file's metadata and arrays; return the metadata to use.

    Raises
    ------
    RouterFileError
    """
    check = _Checker(meta, arrays, path)
    version = check.integer("format", 0, 10**6)
    if version > ROUTER_FILE_FORMAT:
        writer = " ".join(str(meta.get("skroute_version")).split())[:40]
        raise RouterFileError(
            f"{path}: a router file of format {version}, written by skroute "
            f"{writer!r}; this version reads format "
            f"{ROUTER_FILE_FORMAT} and earlier. Read it with that version or a "
            "later one."
        )
    check.value("skroute_version", "str")
    check.value("router", "str")
    classes = check.array("classes", "label")
    if classes.ndim != 1 or not 1 <= classes.size <= _MAX_CLASSES:
        check.fail(f"its classes have shape {classes.shape}")
    if np.unique(classes).size != classes.size:
        check.fail("two of its models share a name")
    n_classes = classes.size
    n_features = check.integer("n_features", 1, _MAX_FEATURES)
    check.number("cost_sensitivity", low=0.0)
    if check.number("cost_scale", low=0.0, optional=True) == 0:
        check.fail("its metadata's 'cost_scale' is 0")
    check.value("cost_unit", "str", optional=True)
    _check_range(check)
    n_members = _check_policy(check, n_classes, n_features)
    steps = _check_steps(check, n_features)
    names = arrays.get("feature_names")
    if names is not None:
        n_inputs = check.integer("n_features_in", 1, _MAX_FEATURES, optional=True)
        n_inputs = n_features if n_inputs is None else n_inputs
        check.array("feature_names", "text", (n_inputs,))
        if np.unique(names).size != names.size:
            check.fail("two of its feature names are the same")
    unknown = set(arrays) - check.used
    if unknown:
        check.fail(f"an array it does not use: {sorted(unknown)[0]!r}")
    known = _meta_keys(n_members)
    unknown = set(meta) - known
    if unknown:
        check.fail(f"a metadata key it does not use: {sorted(unknown)[0][:60]!r}")
    return steps


def _meta_keys(n_members):
    keys = {
        "format",
        "skroute_version",
        "router",
        "n_features",
        "n_features_in",
        "cost_sensitivity",
        "cost_scale",
        "cost_unit",
        "range",
        "out_of_range",
        "budget_mixture",
        "policy",
        "proba",
        "proba_factor",
        "has_cost",
        "training_scale",
        "steps",
    }
    if n_members:
        keys.add("n_members")
    for m in range(n_members):
        keys.update({f"member/{m}/layers/n_layers", f"member/{m}/trunk/n_layers"})
    return keys


def _check_range(check):
    meta = check.meta
    if "range" in meta:
        bounds = meta["range"]
        if not _numbers(bounds, 2) or not 0 <= bounds[0] <= bounds[1]:
            check.fail(f"its metadata's 'range' is {str(bounds)[:60]}")
        check.choice("out_of_range", ("clip", "error"))
    mixture = meta.get("budget_mixture")
    if mixture is not None:
        if not isinstance(mixture, dict) or set(mixture) != {
            "low",
            "high",
            "high_probability",
        }:
            check.fail("its metadata's 'budget_mixture' is malformed")
        for key in ("low", "high"):
            check.number(key, source=mixture, low=0.0)
        probability = check.number("high_probability", source=mixture, low=0.0)
        if probability > 1:
            check.fail("its budget mixture's probability exceeds 1")
        low, high = meta.get("range", (0.0, math.inf))
        if not low <= mixture["low"] <= mixture["high"] <= high:
            check.fail("its budget mixture lies outside its range")


def _check_policy(check, n_classes, n_features):
    policy = check.choice("policy", POLICIES)
    proba = check.choice("proba", ("one_hot", "softmax"))
    if proba == "softmax":
        check.number("proba_factor")
    if policy == "constant":
        check.array("values", "float", (n_classes,))
    elif policy == "constant_lines":
        check.array("quality", "float", (n_classes,))
        check.array("cost", "float", (n_classes,))
    elif policy == "hash":
        check.array("hash_multipliers", "uint", (n_features,))
    elif policy == "mlp":
        n_members = check.integer("n_members", 1, _MAX_MEMBERS)
        _check_scaling(check, n_features)
        for m in range(n_members):
            check.layers(f"member/{m}/layers/", n_features, n_classes, min_layers=1)
        return n_members
    else:
        n_arms = n_classes
        _check_arms(check, "reward", n_classes, n_features)
        if check.value("has_cost", "bool", optional=True, default=False):
            _check_arms(check, "cost", n_classes, n_features)
            n_arms += n_classes
        # Predicting stacks every arm's coefficients, n_features by n_arms:
        # the file must hold those numbers, not just claim them.
        held = sum(array.size for array in check.arrays.values())
        if n_features * n_arms > 4 * held + 2**20:
            check.fail(
                f"it claims {n_features:,} features for {n_arms:,} outcome models "
                f"but holds {held:,} numbers"
            )
        if policy == "corrected_lines":
            n_members = check.integer("n_members", 1, _MAX_MEMBERS)
            check.number("training_scale", low=0.0)
            _check_scaling(check, n_features)
            for m in range(n_members):
                prefix = f"member/{m}/"
                width = check.layers(prefix + "trunk/", n_features)
                check.array(prefix + "quality/weight", "float", (n_classes, width))
                check.array(prefix + "quality/bias", "float", (n_classes,))
                check.array(prefix + "log_sharpness", "float", size=1)
            return n_members
    return 0


def _check_scaling(check, n_features):
    check.array("shift", "float", (n_features,))
    scale = check.array("scale", "float", (n_features,))
    if (scale == 0).any():
        check.fail("array 'scale' holds a zero")


def _check_arms(check, role, n_classes, n_features):
    for t in range(n_classes):
        prefix = f"{role}/{t}/"
        if prefix + "value" in check.arrays:
            check.array(prefix + "value", "float", size=1)
            continue
        check.array(prefix + "mean", "float", size=n_features)
        check.array(prefix + "coef", "float", size=n_features)
        check.array(prefix + "target_mean", "float", size=1)
        check.array(prefix + "platt", "float", size=2)
        check.array(prefix + "calibrated", "bool", size=1)
        # The bounds of a clipped prediction may be infinite.
        check.array(prefix + "low", "float", size=1, finite=False)
        check.array(prefix + "high", "float", size=1, finite=False)


def _check_steps(check, n_features):
    """The Pipeline steps before the router: a list of dicts, checked."""
    steps = check.meta.get("steps", [])
    if not isinstance(steps, list) or len(steps) > _MAX_STEPS:
        check.fail("its metadata's 'steps' is not a list of steps")
    if steps:
        first = steps[0]
        text = isinstance(first, dict) and first.get("kind") == "prompt_embedder"
        width = None if text else check.integer("n_features_in", 1, _MAX_FEATURES)
    else:
        width = n_features
        if check.integer("n_features_in", 1, _MAX_FEATURES, optional=True) not in (
            None,
            n_features,
        ):
            check.fail("its metadata's 'n_features_in' differs from 'n_features'")
    for k, step in enumerate(steps):
        if not isinstance(step, dict) or "kind" not in step:
            check.fail(f"its step {k} is not a step")
        kind = check.choice("kind", tuple(STEP_ARRAYS), source=step)
        width = _check_step(check, k, step, kind, width)
    if width != n_features:
        check.fail(
            f"its steps end with {width} features; the router reads {n_features}"
        )
    return steps


def _check_step(check, k, step, kind, width):
    prefix = f"step/{k}/"
    required, optional = STEP_ARRAYS[kind]
    allowed = {"kind"}
    if kind == "prompt_embedder":
        if k != 0:
            check.fail("its prompt embedder is not the first step")
        check.value("model", "str", source=step, optional=True)
        check.integer("batch_size", 1, 1_000_000, source=step)
        check.value("normalize", "bool", source=step)
        check.choice("truncate", _TRUNCATIONS, source=step)
        check.integer("max_seq_length", 1, 1_000_000, source=step, optional=True)
        allowed |= {"model", "batch_size", "normalize", "truncate", "max_seq_length"}
        allowed.add("dimension")
        width = check.integer("dimension", 1, _MAX_FEATURES, source=step)
    elif kind == "normalizer":
        check.choice("norm", ("l1", "l2", "max"), source=step)
        allowed.add("norm")
    elif kind == "max_abs_scaler":
        check.value("clip", "bool", source=step, optional=True)
        allowed.add("clip")
    elif kind == "min_max_scaler":
        check.value("clip", "bool", source=step)
        if not _numbers(step.get("feature_range"), 2):
            check.fail(f"its step {k}'s feature_range is malformed")
        allowed |= {"clip", "feature_range"}
    unknown = set(step) - allowed
    if unknown:
        check.fail(f"its step {k} has an unknown setting {sorted(unknown)[0][:60]!r}")
    for name in required + optional:
        key = prefix + name
        if name in optional and key not in check.arrays:
            continue
        if name == "components":
            components = check.array(key, "float")
            if components.ndim != 2 or components.shape[1] != width:
                check.fail(f"array {key!r} has shape {components.shape}")
            out = components.shape[0]
        elif name == "variance":
            variance = check.array(key, "float", (out,))
            if (variance <= 0).any():
                check.fail(f"array {key!r} holds a value that is not positive")
        else:
            values = check.array(key, "float", (width,))
            if name == "scale" and (values == 0).any():
                check.fail(f"array {key!r} holds a zero")
    if kind in ("pca", "truncated_svd"):
        width = out
    return width
