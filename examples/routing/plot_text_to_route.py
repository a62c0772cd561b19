"""
From raw prompt text to a route
===============================

Routers take embeddings, but a Pipeline can take the prompts themselves. On
a machine without an embedding model,
:func:`~skroute.text.make_tfidf_embedder` builds features with scikit-learn
alone (TF-IDF, then SVD); :class:`~skroute.text.PromptEmbedder` takes the
same place with a sentence-embedding model (``pip install
"scikit-route[text]"``). Either way the whole Pipeline is fitted on, and
routes, lists of strings.

The prompts are RouterBench's (``shared/data`` beside the repository) when
present; otherwise a small set of generated prompts of two kinds.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline

from skroute import CausalRouterClassifier
from skroute.datasets import load_wide_table, simulate_logging
from skroute.metrics import routing_summary
from skroute.text import make_tfidf_embedder


def _data_folder():
    try:
        here = Path(__file__).resolve()
    except NameError:  # run cell by cell, in a notebook
        here = Path.cwd().resolve() / "plot_text_to_route.py"
    for parent in here.parents:
        folder = parent / "shared" / "data" / "routerbench_subset"
        if folder.is_dir():
            return folder
    return None


folder = _data_folder()
if folder is not None:
    table = load_wide_table(
        folder / "routerbench_subset.csv",
        embeddings=folder / "query_emb_all-MiniLM-L6-v2.f16.npy",
        text_column="query",
    )
    texts, reward, models = np.asarray(table.text), table.reward, table.models
    cost = table.cost * 1000  # USD per 1,000 queries
else:
    rng = np.random.default_rng(0)
    kinds = rng.integers(0, 2, 2000)
    topics = np.array(["Add {} and {}.", "Write a poem about {} and {}."])
    texts = np.array(
        [topics[k].format(*rng.integers(0, 99, 2)) for k in kinds]
    )
    # A cheap model good at sums, an expensive one good at both.
    reward = np.column_stack([kinds == 0, np.ones(2000)]).astype(float)
    reward = np.clip(reward - rng.uniform(0, 0.2, reward.shape), 0, 1)
    cost = np.tile([0.1, 1.0], (2000, 1))
    models = ["small", "large"]

order = np.random.default_rng(1).permutation(len(texts))
train, test = order[: len(order) // 2], order[len(order) // 2 :]

# %%
# Logs and a Pipeline on text
# ---------------------------
# The logging policy needs numbers to choose from: we give it the TF-IDF
# features of the training prompts (the Pipeline below learns its own).
features = make_tfidf_embedder(n_components=64, random_state=0)
logs = simulate_logging(
    features.fit_transform(texts[train]),
    reward[train],
    cost[train],
    models=models,
    random_state=0,
)
router = make_pipeline(
    make_tfidf_embedder(n_components=64, random_state=0),
    CausalRouterClassifier(cost_sensitivity=0.05, random_state=0),
)
router.fit(
    list(texts[train]),
    logs.action,
    causalrouterclassifier__reward=logs.reward,
    causalrouterclassifier__cost=logs.cost,
    causalrouterclassifier__propensity=logs.propensity,
)
print(router.predict(["What is 12 plus 30?", "Write a limerick about tea."]))

# %%
# Routes of the held-out prompts
# ------------------------------
summary = routing_summary(
    reward[test],
    router.predict(list(texts[test])),
    cost=cost[test],
    cost_sensitivity=0.05,
    classes=models,
)
shares = pd.Series(summary["share"], index=models).sort_values()
print(f"quality {summary['quality']:.3f}, cost {summary['cost']:.3f}")
# Models the router never chose are listed here, not drawn as empty bars.
unused = shares.index[shares == 0]
print("never chosen:", ", ".join(unused) or "none")
shares = shares[shares > 0]
ax = shares.plot.barh(figsize=(6.5, 0.35 * len(shares) + 1.8))
ax.set_xlabel("share of held-out prompts")
ax.set_xlim(0, 1)
_ = ax.set_title(
    f"Where the text router sends prompts (λ = 0.05):\n"
    f"{len(shares)} of {len(models)} models chosen",
    fontsize=10,
)
ax.figure.tight_layout()
