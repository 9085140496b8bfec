"""The `cxtext` command line: user mistakes end in a message that says what and where, exit 2."""
from __future__ import annotations

from pathlib import Path

from cxtext.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _one_review_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("id,text\n1,前台小姐姐态度很好，就是等了四十分钟才办完入住。\n", encoding="utf-8")
    return path


def test_unknown_sentiment_model_is_a_message_not_a_traceback(tmp_path, capsys):
    missing = tmp_path / "no-such-model"
    code = main(["run", str(_one_review_file(tmp_path)), "--out", str(tmp_path / "out"),
                 "--sentiment", str(missing), "--no-reports"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cxtext run:" in err and "no-such-model" in err
    assert "Traceback" not in err


def test_model_folder_missing_its_files_names_the_file(tmp_path, capsys):
    model_dir = tmp_path / "half-model"
    model_dir.mkdir()
    (model_dir / "model.json").write_text("{}", encoding="utf-8")
    code = main(["run", str(_one_review_file(tmp_path)), "--out", str(tmp_path / "out"),
                 "--sentiment", str(model_dir), "--no-reports"])
    err = capsys.readouterr().err
    assert code == 2
    assert "half-model" in err and "weights.npz" in err


def test_broken_lexicon_folder_names_file_and_line(tmp_path, capsys):
    import shutil

    lexicons = tmp_path / "lexicons"
    shutil.copytree(Path(__file__).resolve().parents[1] / "lexicons", lexicons)
    negators = lexicons / "shared" / "negators.tsv"
    lines = negators.read_text(encoding="utf-8").splitlines()
    lines.append("这一行没有制表符")  # a row without the tab-separated columns the schema needs
    negators.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = main(["run", str(_one_review_file(tmp_path)), "--out", str(tmp_path / "out"),
                 "--lexicons", str(lexicons), "--no-reports"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"negators.tsv:{len(lines)}" in err
    assert "Traceback" not in err
