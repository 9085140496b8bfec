"""lexicon: lexicons are data, validated on load with every problem named by file and line."""
import shutil
from pathlib import Path

import pytest

from cxtext.lexicon import LexiconError, load_lexicons
from cxtext.paths import lexicon_dir


@pytest.fixture()
def lexicon_copy(tmp_path: Path) -> Path:
    target = tmp_path / "lexicons"
    shutil.copytree(lexicon_dir(), target)
    return target


def test_bundled_lexicons_load(lexicon):
    assert {"waiting_time", "hygiene", "booking", "odor", "review_prompt", "price", "staff_attitude",
            "after_sales", "delivery", "environment", "returning_customer"} <= set(lexicon.categories)
    assert lexicon.version and len(lexicon.sha256) == 64
    assert all(r.stage in ("pre", "arrival", "service", "payment", "post") for r in lexicon.rules)


def test_every_category_has_rules(lexicon):
    with_rules = {r.category for r in lexicon.rules}
    assert set(lexicon.categories) == with_rules


def test_rule_ids_are_unique_and_traceable(lexicon):
    ids = [r.rule_id for r in lexicon.rules]
    assert len(ids) == len(set(ids))
    assert all(":" in r.source for r in lexicon.rules)


def test_all_problems_reported_at_once_with_file_and_line(lexicon_copy: Path):
    path = lexicon_copy / "categories" / "odor.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header_line = next(i for i, l in enumerate(lines) if l.startswith("id\t"))
    lines.append("o.bad.1\t霉味\tsignal\tterrible\t\t\t\t\t\t0.8\t")
    lines.append("o.bad.2\tre:([\tsignal\tneg\t\t\t\t\t\t0.8\t")
    lines.append("o.bad.3\t臭\tsignal\tneg\t\t@no_such_set\t\t\t\t2\t")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (lexicon_copy / "categories.tsv").write_text(
        (lexicon_copy / "categories.tsv").read_text(encoding="utf-8") + "noise2\tnowhere\tpain\tno\tbad stage\n",
        encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        load_lexicons(lexicon_copy)
    problems = info.value.problems
    n = len(lines)
    assert any(f"odor.tsv:{n - 2}" in p and "polarity" in p for p in problems)
    assert any(f"odor.tsv:{n - 1}" in p and "regular expression" in p for p in problems)
    assert any(f"odor.tsv:{n}" in p and "@no_such_set" in p for p in problems)
    assert any(f"odor.tsv:{n}" in p and "confidence" in p for p in problems)
    assert any("categories.tsv" in p and "stage" in p for p in problems)
    assert any("noise2.tsv" in p and "missing" in p for p in problems)
    assert header_line >= 0


def test_duplicate_rule_id_is_reported(lexicon_copy: Path):
    path = lexicon_copy / "categories" / "price.tsv"
    path.write_text(path.read_text(encoding="utf-8") + "w.sig.slow\t好贵\tsignal\tneg\t\t\t\t\t\t0.8\t\n",
                    encoding="utf-8")
    with pytest.raises(LexiconError, match="already used at"):
        load_lexicons(lexicon_copy)


def test_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(LexiconError, match="not found"):
        load_lexicons(tmp_path / "nowhere")


def test_hash_changes_with_content(lexicon_copy: Path, lexicon):
    assert load_lexicons(lexicon_copy).sha256 == lexicon.sha256
    path = lexicon_copy / "shared" / "opinions.tsv"
    path.write_text(path.read_text(encoding="utf-8") + "拉胯\tneg\n", encoding="utf-8")
    assert load_lexicons(lexicon_copy).sha256 != lexicon.sha256


def test_loaded_lexicon_is_immutable(lexicon):
    with pytest.raises(TypeError):
        lexicon.opinions["好"] = "neg"
    with pytest.raises(AttributeError):
        lexicon.rules[0].term = "x"


def test_lexicons_command_reports_split_terms_and_errors(lexicon_copy: Path, capsys):
    from cxtext.cli import main

    assert main(["lexicons", "--lexicons", str(lexicon_copy)]) == 0
    assert "0 term(s) the segmenter still splits" in capsys.readouterr().out
    path = lexicon_copy / "categories" / "noise.tsv"
    path.write_text(path.read_text(encoding="utf-8") + "n.test.split\t吵 闹\tsignal\tneg\t\t\t\t\t\t0.8\t\n",
                    encoding="utf-8")
    assert main(["lexicons", "--lexicons", str(lexicon_copy)]) == 1
    assert "split by the segmenter: '吵 闹'" in capsys.readouterr().out
    path.write_text(path.read_text(encoding="utf-8") + "n.test.bad\t闹\tsignal\tloud\t\t\t\t\t\t0.8\t\n",
                    encoding="utf-8")
    assert main(["lexicons", "--lexicons", str(lexicon_copy)]) == 2
    assert "noise.tsv" in capsys.readouterr().err


def test_negation_tails_are_read_on_the_text_not_added_as_words(lexicon):
    tails = {t for t, kind in lexicon.markers.items() if kind == "negation_tail"}
    assert {"都没有", "一点也没有"} <= tails
    # as user words they would change how jieba cuts 我们都没有 (and the sentiment model's tokens);
    # tails that are also negators (都没, 也没) stay words as negators
    assert not (tails - set(lexicon.negators)) & set(lexicon.all_terms())
    assert "就更好了" in lexicon.all_terms()  # other markers stay words


def test_lexicon_error_crosses_process_boundaries_whole():
    # A worker process that cannot load the lexicons sends this error back pickled.
    import pickle

    error = LexiconError(["odor.tsv:7: polarity 'bad' not one of ('neg', 'pos', 'neu')", "x.tsv:2: y"])
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems and str(again) == str(error)


# Single characters that are lexicon words today. A one-character user word enters jieba at the
# user-word frequency and splits dictionary words that hold it (才 as an exclude word split 天才
# and moved cuts in unrelated reviews); a new one must be a deliberate choice, made here.
KNOWN_SINGLE_CHARACTER_WORDS = frozenset("$/¥不久交他付价但位低值元冲凶别券劝办加千卖卤却厨取号吃吵吼咸售喝嚼地坑块墙壶大太她好小尝巨差床座强很快慢戴房折挺换排推收放料新无旧晚未杯桌棒椅款求汤没浓涨淡灶炒炸烂烤烦煮牛猪甜略百盒真破硬碗穿等筷箱粉粥约羊肉脏臭芳茶菜葱蒜蒸虫虽虾蛮装要订让说账贵费贼赞超辣返连退送逼酱酸重钱锅错长闷难霉预餐饭饼馊香高鱼鲜鸡鸭￥")


def test_no_new_single_character_user_words(lexicon):
    new = sorted(t for t in lexicon.all_terms() if len(t) == 1 and t not in KNOWN_SINGLE_CHARACTER_WORDS)
    assert not new, (
        f"new one-character lexicon words {new}: each becomes a jieba user word that splits the "
        "dictionary words holding it. Write the context as a look-around in a regex rule "
        "(re:(?<!只)等…) or a longer word instead, or add it to KNOWN_SINGLE_CHARACTER_WORDS on purpose.")
