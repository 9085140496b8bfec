"""Scaling: the C cut gives jieba's words exactly; first rows come early; the bench's dump builder.

No timings are asserted here (bench/throughput.py measures them).
"""
from __future__ import annotations

import random
import sys

import jieba
import pytest

from cxtext import segment
from cxtext.segment import Segmenter

needs_c = pytest.mark.skipif(segment._jiebacut is None,
                             reason="cxtext._jiebacut was not built (no C compiler at install)")

# Written for this test: user words, waiting/price/odor phrasings, English and digits inside and
# beside Chinese, whitespace of every kind, Windows line ends, full-width and emoji, repeated
# characters (where jieba's route has ties), characters outside jieba's Han range.
SENTENCES = [
    "排队等了四十分钟才轮到我们，前台服务员态度很冷淡。",
    "店家说好评返现5元，加微信wx123456领红包",
    "iPhone15的壳子质量一般般，USB-C线送的是2.0的",
    "价格 比上次 贵了\t不少\r\n下次不来了\r\r\n真的",
    "好好好好好好好好，哈哈哈哈哈，嗯嗯嗯嗯",
    "房间有一股霉味😷😷，空调开了26度也没用！！！",
    "ＷＩＦＩ很慢　网速只有1.5Mb/s，打了3次电话#客服#都没人接",
    "𠮷野家的牛肉饭还行，就是等位号A-108等了45min",
    "C++和.NET的书都有，100%正品，价格&服务都满意_赞",
    "",
    "   ",
    "。",
    "abc",
    "第一次来，老板娘人超好的，推荐了招牌菜，上菜速度也快",
]


def _random_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = list("服务很好态度差等了半小时才上菜干净卫生价格贵便宜预订排队好哦了的是")
    alphabet += list("abcXYZ019+#&._%- \t\r\n，。！？😀①Ａ　𠮷")
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(n)]


@needs_c
@pytest.mark.parametrize("user_words", [(), ("好评返现", "上菜慢", "态度差", "等了半小时")])
def test_c_cut_equals_jieba(user_words):
    """Same words as jieba.Tokenizer.lcut(HMM=False) over the same dictionary, on every text."""
    fast = Segmenter(user_words)
    assert fast.accelerated
    reference = fast._tokenizer
    for text in SENTENCES + _random_texts(3000):
        assert fast.cut(text) == reference.lcut(text, HMM=False), repr(text)


@needs_c
def test_accelerated_and_pure_segmenters_agree_with_lexicon_words(lexicon):
    terms = lexicon.all_terms()
    fast, pure = Segmenter(terms), Segmenter(terms, accelerate=False)
    assert fast.accelerated and not pure.accelerated
    for text in SENTENCES:
        assert fast.boundaries(text) == pure.boundaries(text)


@needs_c
def test_c_cut_follows_dictionary_edits():
    seg = Segmenter([])
    assert "洗剪吹套餐卡" not in seg.cut("办了洗剪吹套餐卡")
    seg._add_word("洗剪吹套餐卡")
    assert "洗剪吹套餐卡" in seg.cut("办了洗剪吹套餐卡")
    assert "洗剪吹套餐卡" not in jieba.lcut("办了洗剪吹套餐卡")


def test_hmm_and_rjieba_do_not_use_the_c_cut():
    assert not Segmenter([], hmm=True).accelerated
    assert not Segmenter([], backend="rjieba").accelerated


def test_c_cut_rejects_bad_arguments():
    if segment._jiebacut is None:
        pytest.skip("cxtext._jiebacut was not built")
    with pytest.raises(TypeError):
        segment._jiebacut.cut(b"bytes", {}, 1)
    with pytest.raises(TypeError):
        segment._jiebacut.cut("文本", [], 1)


# --------------------------------------------------------------------------- start-up


def test_dictionary_cache_gives_jiebas_own_dictionary(tmp_path, monkeypatch):
    """cxtext's flat cache of jieba's prefix dictionary loads exactly what jieba.initialize builds;
    an unreadable cache is rebuilt."""
    monkeypatch.setenv("CXTEXT_CACHE_DIR", str(tmp_path))
    reference = jieba.Tokenizer()
    reference.initialize()
    first = Segmenter([])  # builds the cache
    [cache] = tmp_path.glob("jieba-prefix-*.marshal")
    second = Segmenter([])  # loads it
    for seg in (first, second):
        assert seg._tokenizer.FREQ == reference.FREQ and seg.dictionary_total == reference.total
    cache.write_bytes(b"not a cache")
    third = Segmenter(["好评返现"])
    assert third.dictionary_total == reference.total
    # the total the routes are scored with is pinned (see segment.REFERENCE_USER_WORDS)
    assert third._tokenizer.total == reference.total + segment.USER_WORD_FREQ * segment.REFERENCE_USER_WORDS
    assert "好评返现" in third.cut("店家说好评返现")
    assert Segmenter([])._tokenizer.FREQ == reference.FREQ  # rewritten cache is good again


def test_first_chunk_is_cut_small_and_outputs_keep_input_order(dump_dir, tmp_path):
    import pyarrow.parquet as pq

    from cxtext.run import FIRST_CHUNK_ROWS, RunOptions, RunSession, run_dump

    options = RunOptions(chunk_rows=5000, workers=1, reports=False)
    with RunSession([dump_dir], tmp_path / "peek", None, options) as session:
        chunks = list(session.chunks(session.discover()))
    sizes = [len(c.records) for c in chunks]
    assert sizes[0] == FIRST_CHUNK_ROWS and sum(sizes) == 600 - 8  # 8 quarantined rows
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len(chunks[0].quarantine) and not len(chunks[1].quarantine)  # file a's quarantine: head only
    summary = run_dump([dump_dir], tmp_path / "run", options)
    reviews = pq.read_table(tmp_path / "run" / "reviews.parquet").to_pandas()
    assert reviews["review_id"].tolist() == [r for c in chunks for r in c.records["review_id"]]
    assert summary["time_to_first_tagged_row_s"] > 0
    assert summary["time_to_first_tagged_row_from_process_start_s"] >= summary["time_to_first_tagged_row_s"]


# --------------------------------------------------------------------------- outputs


def test_arrow_neutralisation_matches_the_pandas_one():
    import pandas as pd
    import pyarrow as pa

    from cxtext import store

    df = pd.DataFrame({
        "text": ["=HYPERLINK(\"x\")", "+86 电话", "-差评", "@客服", "\t制表开头", "\r回车", "服务很好", None],
        "store": ["静安店", "=门店", None, "徐汇店", "", "@", "'已转义", "浦东店"],
        "n": range(8),
        "score": [0.5] * 8,
    })
    batch = pa.RecordBatch.from_pandas(df, preserve_index=False)
    assert store.neutralise_batch(batch).to_pandas().equals(store.neutralise_frame(batch.to_pandas()))


def test_bench_results_keep_other_sections(tmp_path, monkeypatch):
    import importlib.util

    from cxtext.paths import PROJECT_DIR

    spec = importlib.util.spec_from_file_location("bench_throughput", PROJECT_DIR / "bench" / "throughput.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # its dataclasses look themselves up there
    spec.loader.exec_module(bench)
    results = tmp_path / "throughput.md"
    bench.write_results("<!-- section n=1000000 -->\n## one million\n", 1_000_000, results)
    bench.write_results("<!-- section n=50000 -->\n## fifty thousand, first\n", 50_000, results)
    bench.write_results("<!-- section n=50000 -->\n## fifty thousand, again\n", 50_000, results)
    text = results.read_text(encoding="utf-8")
    assert text.startswith("# Throughput")
    assert "first" not in text and text.index("fifty thousand, again") < text.index("one million")


def test_bench_ratio_is_taken_within_each_round(monkeypatch):
    import importlib.util

    from cxtext.paths import PROJECT_DIR

    spec = importlib.util.spec_from_file_location("bench_throughput", PROJECT_DIR / "bench" / "throughput.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    # The machine sped up in round 2: best against best would say 20/12 = 1.67; each round says 1.90.
    one = [bench.Measure("1 worker", 1000, 70_000, wall, wall, rss) for wall, rss in [(19.0, 400), (12.0, 450)]]
    two = [bench.Measure("2 workers", 1000, 70_000, wall, wall, rss) for wall, rss in [(10.0, 900), (6.3, 800)]]
    assert [round(r, 2) for r in bench.round_ratios(two, one)] == [1.9, 1.9]
    fastest = bench.fastest_of(two)
    assert fastest.wall == 6.3 and fastest.peak_rss_mb == 900 and fastest.extra["walls"] == [10.0, 6.3]
