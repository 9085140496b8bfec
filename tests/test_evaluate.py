"""evaluate: review-level labels from mentions and the P/R/F1 arithmetic."""
import json
from types import SimpleNamespace as M

import pytest

from cxtext.evaluate import GoldFormatError, read_gold, review_labels, score_labels


def test_review_label_neg_beats_pos_beats_neu():
    labels = review_labels([M(category="hygiene", polarity="pos"), M(category="hygiene", polarity="neg"),
                            M(category="price", polarity="neu"), M(category="price", polarity="pos")])
    assert labels == {"hygiene": "neg", "price": "pos"}


def test_scores_by_hand():
    gold = [{"hygiene": "neg", "price": ""}, {"hygiene": "pos", "price": "neg"}, {"hygiene": "", "price": ""}]
    pred = [{"hygiene": "neg"}, {"hygiene": "neg", "price": "pos"}, {"price": "neg"}]
    table = score_labels(gold, pred)
    # hygiene mentions: tp 2, fp 0, fn 0; pains: tp 1, fp 1, fn 0
    assert table.loc["hygiene", "mention_f1"] == pytest.approx(1.0)
    assert table.loc["hygiene", "pain_p"] == pytest.approx(0.5)
    # price mentions: tp 1, fp 1, fn 0 -> p .5 r 1; pains: tp 0, fp 1, fn 1
    assert table.loc["price", "mention_p"] == pytest.approx(0.5)
    assert table.loc["price", "pain_f1"] == 0
    assert table.loc["micro", "mention_p"] == pytest.approx(3 / 4)
    assert table.loc["micro", "pain_r"] == pytest.approx(1 / 2)


def test_gold_errors_name_the_line(tmp_path):
    path = tmp_path / "gold.jsonl"
    rows = [json.dumps({"id": "a", "text": "很好", "hygiene": "pos"}, ensure_ascii=False), "{not json",
            json.dumps({"id": "b", "text": "很脏", "hygiene": "dirty"}, ensure_ascii=False)]
    path.write_text("\n".join(rows), encoding="utf-8")
    with pytest.raises(GoldFormatError) as info:
        read_gold(path)
    assert f"{path}:2" in str(info.value) and f"{path}:3" in str(info.value)


def test_eval_command_on_a_small_gold_file(tmp_path, capsys):
    from cxtext.cli import main

    gold = tmp_path / "gold.jsonl"
    rows = [
        {"id": "1", "text": "等了一个小时才上菜，服务员态度很差", "sentiment": "neg",
         "waiting_time": "neg", "staff_attitude": "neg"},
        {"id": "2", "text": "房间干净，价格实惠", "sentiment": "pos", "hygiene": "pos", "price": "pos"},
    ]
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    errors = tmp_path / "errors.jsonl"
    assert main(["eval", str(gold), "--errors", str(errors)]) == 0
    out = capsys.readouterr().out
    assert "| micro |" in out and "sentiment accuracy" in out
    assert errors.exists()


def test_dev_gold_meets_the_bar_when_present():
    """The team's dev gold, when it is beside the project (skipped elsewhere)."""
    from cxtext.paths import shared_data_dir

    shared = shared_data_dir()
    if shared is None or not (shared / "gold" / "dev.jsonl").exists():
        pytest.skip("../shared/data/gold/dev.jsonl is not present")
    from cxtext.evaluate import evaluate
    from cxtext.tagger import load_resources

    table, _, _ = evaluate(read_gold(shared / "gold" / "dev.jsonl"), load_resources(sentiment="none"))
    assert table.loc["micro", "mention_f1"] >= 0.85
    assert table.loc["micro", "pain_f1"] >= 0.75


def test_gold_parts_split_the_rows_without_overlap():
    from cxtext.evaluate import gold_part

    rows = [{"id": f"r{i}", "text": "很好"} for i in range(300)]
    tune, holdout = gold_part(rows, "tune"), gold_part(rows, "holdout")
    assert len(tune) + len(holdout) == 300 and 60 < len(holdout) < 140
    assert not {r["id"] for r in tune} & {r["id"] for r in holdout}
    assert gold_part(rows, "all") == rows
