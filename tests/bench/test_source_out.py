"""Each real source left out of training (bench/source_out.py): the splits on the
project's own data, the scores on parses made up for the purpose."""

from __future__ import annotations

from pathlib import Path

from bench.held_out import TRAIN_DIR, load_folder
from bench.source_out import served_scores, served_sweep, source_of_text, splits, sweep_table


def test_each_real_source_is_parsed_by_a_model_that_never_saw_it() -> None:
    data = load_folder(TRAIN_DIR)
    sources = source_of_text()
    parts = splits(data, sources)
    assert len(parts) == len(set(sources.values())) >= 3
    for source, train, test in parts:
        assert test.intent_examples, source
        assert all(sources[e.get("text")] == source for e in test.intent_examples)
        assert not any(sources.get(e.get("text")) == source for e in train.intent_examples)
        # The team's own examples and the other sources are always trained on.
        assert len(train.intent_examples) + len(test.intent_examples) \
            == len(data.intent_examples)
        assert train.regex_features == data.regex_features


def test_copies_of_one_corpus_are_one_source(tmp_path: Path) -> None:
    # Two repositories hold Taobao's ECD chats: left out apart, the model would have
    # seen the very chats it is scored on.
    manifest = tmp_path / "sources.tsv"
    manifest.write_text("text\tintent\tsource_repo\tpath\n"
                        "包邮吗\task_price\tcooelf/DeepUtteranceAggregation\tECD_sample/train\n"
                        "能便宜点吗\tobjection_price\tLinzheLai/ecommerce-customer-service-posttrain"
                        "\tdata/raw/dev.txt\n"
                        "有发票吗\tfaq/invoice\tclshenNLP/QASC\tShoe_domain.txt\n",
                        encoding="utf-8")
    sources = source_of_text(manifest)
    assert sources["能便宜点吗"] == sources["包邮吗"] == "cooelf/DeepUtteranceAggregation"
    assert sources["有发票吗"] == "clshenNLP/QASC"


def test_served_scores_count_a_clarification_wrong_and_exclude_out_of_scope() -> None:
    parses = [
        ("ask_price", "ask_price", 0.9, 0.05, "ask_product"),      # right
        ("ask_price", "ask_price", 0.2, 0.1, "ask_product"),       # right but clarified
        ("complain", "after_sales", 0.8, 0.1, "complain"),         # wrong
        ("out_of_scope", "greet", 0.1, 0.05, "thank"),             # clarified, not counted
    ]
    scores = served_scores(parses, threshold=0.3, ambiguity=0.05)
    assert scores["accuracy"] == 0.25
    assert scores["clarified"] == round(1 / 3, 4)
    # ask_price: 1 of 2 found, precision 1 → F1 2/3; complain and out_of_scope 0.
    assert scores["macro_f1"] == round((2 / 3) / 3, 4)


def test_the_sweep_scores_every_threshold_pair_as_served() -> None:
    parses = [
        ("ask_price", "ask_price", 0.9, 0.05, "ask_product"),
        ("ask_price", "ask_price", 0.27, 0.1, "ask_product"),   # clarified from 0.3 up
        ("complain", "after_sales", 0.8, 0.1, "complain"),
    ]
    rows = {(r["threshold"], r["ambiguity"]): r for r in served_sweep(parses)}
    assert rows[(0.25, 0.0)]["clarified"] == 0.0
    assert rows[(0.25, 0.0)]["accuracy"] == round(2 / 3, 4)
    assert rows[(0.3, 0.0)]["clarified"] == round(1 / 3, 4)
    assert rows[(0.3, 0.0)]["accuracy"] == round(1 / 3, 4)
    assert rows[(0.3, 0.0)]["cost"] == round((1 + 0.5) / 3, 4)
    assert "| 0.3 | 0.0 | " in sweep_table(list(rows.values()))
