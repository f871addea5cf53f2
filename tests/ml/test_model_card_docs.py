"""The README's model figures and docs/model-card.md are rendered from a full run's metrics.json
(docs/model-metrics.json, by `make model-card`) of the current declaration, recipe and gate: typed or stale
figures fail here."""

from __future__ import annotations

from ml.carprice import dataset as datasets
from ml.carprice import model as models
from ml.carprice.gate import decide, load_config, read_metrics
from ml.carprice.report import DOCS_CARD, DOCS_METRICS, README, card_markdown, figures, readme_with

STALE = "the committed figures are stale: run `make train && make model-card`"


def test_the_committed_figures_are_a_full_run_of_the_current_declaration_recipe_and_gate() -> None:
    dataset = datasets.active()
    config = load_config(dataset=dataset)
    metrics = read_metrics(DOCS_METRICS)
    ev = metrics.evaluation
    assert not ev.cv.quick and list(ev.cv.seeds) == config.seeds(quick=False), STALE
    assert ev.dataset_digest == dataset.digest and ev.recipe == models.recipe(dataset), STALE
    assert metrics.gate == decide(ev, config), STALE
    assert ev.grouped is not None and ev.cv.inspected_seeds == config.inspected_seeds.value


def test_the_readme_and_the_card_show_those_figures_as_generated() -> None:
    metrics = read_metrics(DOCS_METRICS)
    readme = README.read_text(encoding="utf-8")
    assert readme_with(readme, figures(metrics)) == readme, STALE
    assert DOCS_CARD.read_text(encoding="utf-8") == card_markdown(metrics), STALE
    assert "| strong baseline (random forest) |" in readme and "Grouped by platform" in readme
