"""Links from the HTML display of each estimator to its API page."""

from skroute import CausalRouterClassifier


def test_html_repr_links_each_estimator_to_its_api_page():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skroute import IntervalCostRouter
    from skroute.causal import RidgeOutcomeModel
    from skroute.text import PromptEmbedder

    base = "https://skroute.readthedocs.io/en/latest/generated/"
    html = make_pipeline(StandardScaler(), CausalRouterClassifier())._repr_html_()
    assert f'href="{base}skroute.CausalRouterClassifier.html"' in html
    assert IntervalCostRouter()._get_doc_link() == (
        base + "skroute.IntervalCostRouter.html"
    )
    assert RidgeOutcomeModel()._get_doc_link() == (
        base + "skroute.causal.RidgeOutcomeModel.html"
    )
    assert PromptEmbedder()._get_doc_link() == base + "skroute.text.PromptEmbedder.html"
