"""Loaders of full-feedback routing tables in the layouts the field uses."""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from skroute.utils import (
    check_column_names,
    check_column_values,
    check_embedding_columns,
    check_embeddings,
    check_full_feedback_rows,
    check_has_column,
    check_propensity,
    check_table_path,
    check_unique_columns,
    load_array_file,
)
from skroute.utils._validation import _rows
from skroute.utils._warnings import warn_at_caller

_READERS = {
    ".csv": "read_csv",
    ".pkl": "read_pickle",
    ".pickle": "read_pickle",
    ".parquet": "read_parquet",
}


def _pandas():
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas is in the test extra
        raise ImportError(
            "reading routing tables needs pandas: pip install 'scikit-route[data]'"
        ) from exc
    return pandas


# Cells of a label column that mean "missing" in the usual exports.
_MISSING_LABELS = {"", "na", "n/a", "nan", "null", "none", "<na>", "nat"}


def _csv_header(path):
    """The header row of a CSV file as written (pandas renames duplicates)."""
    import csv

    # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is not part of the
    # first column's name.
    with open(path, newline="", encoding="utf-8-sig") as file:
        return next(csv.reader(file), [])


def _read_table(path, *, trusted=False, label_columns=()):
    """A table file as a DataFrame with string column names.

    ``label_columns`` of a CSV file are read as strings ("01" stays "01").
    Pickled tables can run code as they load: they need ``trusted``.
    """
    path, reader = check_table_path(path, _READERS, trusted=trusted)
    pandas = _pandas()
    try:
        if reader == "read_csv":
            header = _csv_header(path)
            check_unique_columns(header, path)
            # Empty cells stay empty strings, so they are caught as non-numeric.
            table = pandas.read_csv(
                path,
                encoding="utf-8-sig",
                keep_default_na=False,
                dtype={c: str for c in label_columns if c in header},
            )
        elif reader == "read_parquet":
            try:
                table = pandas.read_parquet(path)
            except ImportError as exc:
                raise ValueError(
                    f"{path}: reading parquet needs pyarrow or fastparquet "
                    "(pip install pyarrow), or save the table as CSV."
                ) from exc
        else:
            table = pandas.read_pickle(path)
    except pandas.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty (no columns).") from None
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it "
            "as UTF-8 CSV."
        ) from None
    except pandas.errors.ParserError as exc:
        raise ValueError(f"{path}: not a well-formed CSV table: {exc}") from None
    if not isinstance(table, pandas.DataFrame):
        raise ValueError(
            f"{path}: holds a {type(table).__name__}, not a table (a pandas DataFrame)."
        )
    # Columns are named by strings throughout (a pickle may use integers).
    names = [str(c) for c in table.columns]
    check_unique_columns(names, path)
    table.columns = names
    return table


def _label_column(table, column, path, what):
    """A column of labels with no missing or empty cell, stripped of padding."""
    check_has_column(table.columns, column, path, what)
    values = table[column]
    text = values.astype(str)
    stripped = text.str.strip()
    missing = (values.isna() | stripped.str.lower().isin(_MISSING_LABELS)).to_numpy()
    check_column_values(
        missing,
        column,
        path,
        f"missing or empty {what} labels (empty, NA, NaN, null or None)",
        "; fill or drop those rows.",
    )
    padded = (stripped != text).to_numpy()
    if padded.any():
        warn_at_caller(
            f"{path}: column {column!r} has {what} labels padded with whitespace "
            f"at rows {_rows(padded)}; they are stripped ({text[padded].iloc[0]!r} "
            f"is read as {stripped[padded].iloc[0]!r}).",
            UserWarning,
        )
        if values.dtype == object or str(values.dtype).startswith("str"):
            return stripped.to_numpy()
    return values.to_numpy()


def _numeric_column(table, column, path, what):
    pandas = _pandas()
    check_has_column(table.columns, column, path, what)
    values = pandas.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    check_column_values(
        ~np.isfinite(values),
        column,
        path,
        f"non-numeric or missing {what}",
        "; clean or drop those rows.",
    )
    return values


def _cost_column(table, column, path):
    """A numeric, non-negative cost column."""
    cost = _numeric_column(table, column, path, "cost")
    check_column_values(cost < 0, column, path, "negative costs", ".")
    return cost


def _check_unique(table, column, path):
    check_has_column(table.columns, column, path, "id")
    check_column_values(
        table[column].duplicated(keep=False).to_numpy(),
        column,
        path,
        "duplicate query ids",
        "; each query must appear once.",
    )


def _refuse_list_column(table, column, path):
    """A column of whole embeddings (lists, as ``DataFrame.to_csv`` writes
    them) gets its own error, with the fix."""
    if column not in table.columns:
        return
    first = table[column].iloc[0] if len(table) else None
    text = first if isinstance(first, str) else None
    if isinstance(first, (list, tuple, np.ndarray)) or (
        text is not None and text.lstrip().startswith("[")
    ):
        raise ValueError(
            f"{path}: column {column!r} holds a whole embedding per row (a list, "
            "as DataFrame.to_csv writes one), not one number. Save the embeddings "
            "as a .npy file, e.g. np.save('embeddings.npy', "
            f"np.stack(table[{column!r}])), and pass it with --embeddings "
            "(embeddings= in Python)."
        )


def _load_embeddings(embeddings, n_rows, path):
    if embeddings is None:
        return None
    source = embeddings
    if isinstance(embeddings, (str, Path)):
        embeddings = load_array_file(embeddings, "the embeddings")
    return check_embeddings(embeddings, n_rows, path, source)


def load_wide_table(
    path,
    *,
    models=None,
    cost_suffix="|total_cost",
    embeddings=None,
    id_column=None,
    text_column=None,
    task_column=None,
    trusted=False,
):
    """Load a full-feedback table in RouterBench's wide layout.

    One row per query; a quality column named by each model and, when costs
    are known, a ``<model>|total_cost`` column beside it.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.pkl``/``.pickle`` or ``.parquet`` file.
    models : list of str, default=None
        The model columns; by default every column ``m`` for which
        ``m + cost_suffix`` is also a column.
    cost_suffix : str, optional
        Ending of the cost columns: model ``m``'s costs are in the column
        ``m + cost_suffix``. The default, ``"|total_cost"``, is RouterBench's.
    embeddings : str, Path or array-like of shape (n_rows, n_features), default=None
        Query embeddings row-aligned with the table (an ``.npy`` file or an
        array); to compute them, pass the output of an embedding model applied
        to ``text``.
    id_column, text_column, task_column : str, default=None
        Optional columns: unique query ids (checked), the query text, a task
        label.
    trusted : bool, default=False
        Read a ``.pkl``/``.pickle`` file. Unpickling runs whatever code the
        file names, so pickles are refused unless you trust the file's
        source; CSV and parquet need no trust.

    Returns
    -------
    Bunch
        ``X`` (float32 embeddings, or None), ``reward`` (n_rows, n_models),
        ``cost`` (n_rows, n_models) or None when the table has no cost
        columns, ``models``, ``ids``, ``text``, ``task`` (None when not
        asked for) and ``frame``, the table itself.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from skroute.datasets import load_wide_table
    >>> table = pd.DataFrame({"q": ["a", "b"],
    ...                       "m1": [1, 0], "m1|total_cost": [0.1, 0.1],
    ...                       "m2": [0, 1], "m2|total_cost": [2.0, 2.5]})
    >>> path = os.path.join(tempfile.mkdtemp(), "table.csv")
    >>> table.to_csv(path, index=False)
    >>> data = load_wide_table(path, text_column="q")
    >>> data.models.tolist(), data.cost.shape
    (['m1', 'm2'], (2, 2))
    """
    if not isinstance(cost_suffix, str) or not cost_suffix:
        raise TypeError(
            f"cost_suffix must be a non-empty string such as '|total_cost'; got "
            f"{cost_suffix!r}."
        )
    table = _read_table(
        path,
        trusted=trusted,
        label_columns=tuple(c for c in (id_column, task_column) if c is not None),
    )
    columns = list(table.columns)
    if models is None:
        models = [c for c in columns if not c.endswith(cost_suffix)]
        models = [c for c in models if c + cost_suffix in columns]
        if not models:
            raise ValueError(
                f"{path}: no model columns found; expected pairs of '<model>' and "
                f"'<model>{cost_suffix}' columns, or pass models=[...]."
            )
    models = check_column_names(models, "models")
    reward = np.column_stack(
        [_numeric_column(table, m, path, "quality") for m in models]
    )
    cost_columns = [m + cost_suffix for m in models]
    present = [c in columns for c in cost_columns]
    cost = None
    if any(present):
        cost = np.column_stack([_cost_column(table, c, path) for c in cost_columns])
    if id_column is not None:
        _check_unique(table, id_column, path)
    optional = {}
    for name, column in (
        ("ids", id_column),
        ("text", text_column),
        ("task", task_column),
    ):
        if column is not None:
            check_has_column(table.columns, column, path, name)
        optional[name] = None if column is None else table[column].to_numpy()
    return Bunch(
        X=_load_embeddings(embeddings, len(table), path),
        reward=reward,
        cost=cost,
        models=np.array(models),
        frame=table,
        **optional,
    )


def load_long_table(
    path,
    *,
    query_column="query_id",
    model_column="model",
    quality_column="quality",
    cost_column=None,
    embeddings=None,
    trusted=False,
):
    """Load a full-feedback table in long layout: one row per (query, model).

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.pkl``/``.pickle`` or ``.parquet`` file.
    query_column, model_column, quality_column : str
        The columns of the query id, the model, and the quality of that
        model's answer to the query; by default ``"query_id"``, ``"model"``
        and ``"quality"``.
    cost_column : str, default=None
        The column of the cost of the answer; None when costs are not known.
    embeddings : str, Path or array-like, default=None
        Row-aligned with the queries in order of first appearance.
    trusted : bool, default=False
        Read a ``.pkl``/``.pickle`` file. Unpickling runs whatever code the
        file names, so pickles are refused unless you trust the file's
        source; CSV and parquet need no trust.

    Returns
    -------
    Bunch
        ``X``, ``reward``, ``cost`` (or None), ``models`` (sorted), ``ids``
        (queries in order of first appearance).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from skroute.datasets import load_long_table
    >>> table = pd.DataFrame({"query_id": ["q2", "q2", "q1", "q1"],
    ...                       "model": ["small", "large", "small", "large"],
    ...                       "quality": [0.0, 1.0, 1.0, 1.0],
    ...                       "cost": [0.1, 2.0, 0.1, 2.5]})
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> table.to_csv(folder / "long.csv", index=False)
    >>> data = load_long_table(folder / "long.csv", cost_column="cost")
    >>> data.ids.tolist(), data.models.tolist()
    (['q2', 'q1'], ['large', 'small'])
    >>> data.reward.tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    >>> data.cost.tolist()
    [[2.0, 0.1], [2.5, 0.1]]
    """
    table = _read_table(
        path, trusted=trusted, label_columns=(query_column, model_column)
    )
    for column, what in ((query_column, "query"), (model_column, "model")):
        _label_column(table, column, path, what)
    quality = _numeric_column(table, quality_column, path, "quality")
    cost = None
    if cost_column is not None:
        cost = _cost_column(table, cost_column, path)
    pairs = table[[query_column, model_column]]
    check_full_feedback_rows(pairs.duplicated(keep=False).to_numpy(), path)
    try:
        ids, query_index = np.unique(
            table[query_column].to_numpy(), return_inverse=True
        )
    except TypeError as exc:
        raise TypeError(
            f"{path}: column {query_column!r} mixes query ids of different types "
            f"(e.g. numbers and strings); use one type ({exc})."
        ) from None
    first = np.full(ids.size, len(table))
    np.minimum.at(first, query_index, np.arange(len(table)))
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    rows = rank[query_index]
    models, model_index = np.unique(
        table[model_column].astype(str), return_inverse=True
    )
    filled = np.zeros((ids.size, models.size), dtype=bool)
    filled[rows, model_index] = True
    if not filled.all():
        missing = np.flatnonzero(~filled.all(axis=1))
        raise ValueError(
            f"{path}: not every model has a result for every query (queries "
            f"{ids[order][missing][:10].tolist()} lack some); full feedback needs all."
        )
    reward = np.empty((ids.size, models.size))
    reward[rows, model_index] = quality
    cost_matrix = None
    if cost is not None:
        cost_matrix = np.empty((ids.size, models.size))
        cost_matrix[rows, model_index] = cost
    return Bunch(
        X=_load_embeddings(embeddings, ids.size, path),
        reward=reward,
        cost=cost_matrix,
        models=models,
        ids=ids[order],
    )


def load_logs(
    path,
    *,
    model_column="model",
    quality_column="quality",
    cost_column=None,
    propensity_column=None,
    embedding_columns=None,
    embeddings=None,
    trusted=False,
):
    """Load routing logs: one row per query, the model that answered and its outcome.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.pkl``/``.pickle`` or ``.parquet`` file.
    model_column, quality_column : str
        The logged model and the quality of its answer.
    cost_column, propensity_column : str, default=None
        The cost of the answer, and the logging probability of the model.
    embedding_columns : list of str, default=None
        Columns holding the query embedding; or pass ``embeddings``.
    embeddings : str, Path or array-like, default=None
        Row-aligned embeddings (an ``.npy`` file or an array).
    trusted : bool, default=False
        Read a ``.pkl``/``.pickle`` file. Unpickling runs whatever code the
        file names, so pickles are refused unless you trust the file's
        source; CSV and parquet need no trust.

    Returns
    -------
    Bunch
        ``X``, ``action`` (the logged model), ``reward``, ``cost`` and
        ``propensity`` (None when not given), ready for
        ``router.fit(X, action, reward=..., cost=..., propensity=...)``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from skroute.datasets import load_logs
    >>> table = pd.DataFrame({"model": ["small", "large", "small"],
    ...                       "quality": [1.0, 1.0, 0.0],
    ...                       "cost": [0.1, 2.0, 0.1],
    ...                       "propensity": [0.5, 0.5, 0.5],
    ...                       "e0": [0.2, -1.0, 0.4], "e1": [1.5, 0.3, -0.7]})
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> table.to_csv(folder / "logs.csv", index=False)
    >>> logs = load_logs(folder / "logs.csv", cost_column="cost",
    ...                  propensity_column="propensity",
    ...                  embedding_columns=["e0", "e1"])
    >>> logs.X.shape, logs.X.dtype.name
    ((3, 2), 'float32')
    >>> logs.action.tolist(), logs.reward.tolist(), logs.cost.tolist()
    (['small', 'large', 'small'], [1.0, 1.0, 0.0], [0.1, 2.0, 0.1])
    """
    table = _read_table(path, trusted=trusted, label_columns=(model_column,))
    action = _label_column(table, model_column, path, "model")
    if (embedding_columns is None) == (embeddings is None):
        raise ValueError(
            "pass exactly one of embedding_columns (columns of the table) and "
            "embeddings (an .npy file or an array)."
        )
    if embedding_columns is not None:
        columns = check_column_names(embedding_columns, "embedding_columns")
        for column in columns:
            _refuse_list_column(table, column, path)
        X = np.column_stack(
            [_numeric_column(table, c, path, "embedding") for c in columns]
        )
        check_embedding_columns(X, columns, path)
        X = X.astype(np.float32)
    else:
        X = _load_embeddings(embeddings, len(table), path)
    cost = None
    if cost_column is not None:
        cost = _cost_column(table, cost_column, path)
    propensity = None
    if propensity_column is not None:
        propensity = _numeric_column(table, propensity_column, path, "propensity")
        propensity = check_propensity(
            propensity,
            name=f"{path}: column {propensity_column!r}",
            hint="Fix or drop those rows, or leave out propensity_column to "
            "estimate the propensities.",
        )
    return Bunch(
        X=X,
        action=action,
        reward=_numeric_column(table, quality_column, path, "quality"),
        cost=cost,
        propensity=propensity,
    )
