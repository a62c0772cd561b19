"""Per-query costs from per-model token prices, for tables that have none."""

import json
from pathlib import Path

import numpy as np

from skroute.utils import check_number, check_price_entry, check_prompts

# Keys of a price file in the layout of LLMRouter's model list.
_INPUT_KEY = "input_price_per_1M_tokens"
_OUTPUT_KEY = "output_price_per_1M_tokens"


def load_model_prices(path):
    """Read per-model token prices from a JSON file.

    The file maps each model to its prices in USD per million tokens, either
    as ``{"input_price_per_1M_tokens": p_in, "output_price_per_1M_tokens":
    p_out, ...}`` (other keys are ignored) or as a pair ``[p_in, p_out]``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        ``{model: (input_price, output_price)}`` in USD per million tokens, in
        the order of the file.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from skroute.datasets import load_model_prices
    >>> path = os.path.join(tempfile.mkdtemp(), "prices.json")
    >>> with open(path, "w") as f:
    ...     json.dump({"small": [0.1, 0.2], "large": {
    ...         "input_price_per_1M_tokens": 10, "output_price_per_1M_tokens": 30}}, f)
    >>> load_model_prices(path)
    {'small': (0.1, 0.2), 'large': (10.0, 30.0)}
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}).") from exc
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path}: expected a JSON object mapping models to prices.")
    prices = {}
    for model, entry in raw.items():
        prices[str(model)] = check_price_entry(
            entry, model, path, (_INPUT_KEY, _OUTPUT_KEY)
        )
    return prices


def costs_from_token_prices(
    prompts, prices, *, models=None, output_tokens=256, chars_per_token=4.0
):
    """Per-query cost of each model from its token prices.

    ``cost[i, t] = (n_in[i] * input_price[t] + output_tokens * output_price[t])
    / 1e6`` in USD, with ``n_in[i] = len(prompts[i]) / chars_per_token``.

    This is an assumption, not a measurement: tables such as LLMRouter's
    carry prices but no token counts. The prompt length is estimated from its
    characters (about four per token for English text), and every answer is
    taken to be ``output_tokens`` long, whatever the model and the query. Costs
    then differ between models by their prices and between queries by their
    prompt length; where answers differ in length between models (verbose
    models, long chains of thought), the true cost differs more.

    Parameters
    ----------
    prompts : array-like of str of shape (n_samples,)
        The text sent to the models.
    prices : dict
        ``{model: (input_price, output_price)}`` in USD per million tokens,
        e.g. from :func:`load_model_prices`.
    models : list of str, default=None
        The column order of the result; every one must be in ``prices``.
        Defaults to the order of ``prices``.
    output_tokens : float, default=256
        Assumed answer length in tokens.
    chars_per_token : float, default=4.0

    Returns
    -------
    ndarray of shape (n_samples, n_models)
        USD per query.

    Examples
    --------
    >>> from skroute.datasets import costs_from_token_prices
    >>> costs_from_token_prices(["a" * 400, "b" * 4000],
    ...                         {"small": (0.2, 0.2), "large": (10.0, 30.0)},
    ...                         output_tokens=100)
    array([[4.0e-05, 4.0e-03],
           [2.2e-04, 1.3e-02]])
    """
    prompts = check_prompts(prompts)
    prices = {str(model): price for model, price in prices.items()}
    models = list(prices) if models is None else [str(m) for m in models]
    unknown = [m for m in models if m not in prices]
    if unknown:
        raise ValueError(
            f"no prices for models {unknown}; prices cover {sorted(prices)}."
        )
    check_number(output_tokens, "output_tokens", low=0, type_error=ValueError)
    check_number(
        chars_per_token,
        "chars_per_token",
        low=0,
        closed="neither",
        type_error=ValueError,
    )
    input_tokens = np.array([len(p) for p in prompts], dtype=np.float64)
    input_tokens /= chars_per_token
    price = np.array([prices[m] for m in models], dtype=np.float64).reshape(-1, 2)
    return (np.outer(input_tokens, price[:, 0]) + output_tokens * price[:, 1]) / 1e6
