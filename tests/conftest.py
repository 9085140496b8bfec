"""Shared fixtures. Every review text here is a sentence written for these tests."""
from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

# Clauses combined into synthetic reviews: waiting, attitude, hygiene, odor, price, praise.
CLAUSES = (
    "排队等了四十分钟才轮到我们",
    "前台服务员态度很冷淡",
    "房间打扫得很干净",
    "卫生间有一股霉味",
    "价格比上次贵了不少",
    "上菜速度太慢了",
    "店员很热情地帮我们推荐",
    "环境安静适合聊天",
    "预约的时间到了还要等",
    "结账的时候多收了钱",
    "第一次来体验还不错",
    "下次还会再来",
)
STORES = ("静安店", "徐汇店", "浦东店")


def write_dump(path: Path, rows: int, seed: int = 0, encoding: str = "utf-8", start_id: int = 0) -> Path:
    """A CSV export with Chinese headers: 评论id, 门店, 评分, 评价内容.

    Every 97th text is empty (EMPTY_TEXT), row 5 repeats row 4 (DUPLICATE) and one text starts
    with '=' to exercise formula neutralisation in CSV exports.
    """
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(["评论id", "门店", "评分", "评价内容"])
        previous = None
        for i in range(rows):
            text = "，".join(rng.sample(CLAUSES, 3)) + "。"
            if i % 97 == 96:
                text = "   "
            if i == 7:
                text = "=1+1 结账的时候多收了钱"
            row = [f"r{start_id + i}", rng.choice(STORES), str(rng.randint(1, 5)), text]
            if i == 5 and previous:
                row = previous
            writer.writerow(row)
            previous = row
    return path


@pytest.fixture(scope="session")
def dump_dir(tmp_path_factory) -> Path:
    """A small dump folder: one UTF-8 CSV and one GB18030 CSV (about 600 rows)."""
    folder = tmp_path_factory.mktemp("dump")
    write_dump(folder / "a_门店评价.csv", 400, seed=1)
    write_dump(folder / "b_gbk.csv", 200, seed=2, encoding="gb18030", start_id=1000)
    return folder


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes 15-25 s to start).

    The start-up timeout comes from PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (120 s, set by
    `pipelines`), not the harness's fixed 30 s, which a fresh database can exceed.
    """
    import pipelines  # noqa: F401  (Prefect environment before Prefect is imported)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=None):
        yield


@pytest.fixture(scope="session")
def lexicon():
    """The bundled lexicons, loaded once per test session."""
    from cxtext.lexicon import load_lexicons

    return load_lexicons()


@pytest.fixture(scope="session")
def segmenter(lexicon):
    from cxtext.segment import Segmenter

    return Segmenter(lexicon.all_terms())


@pytest.fixture(scope="session")
def detect(lexicon, segmenter):
    """detect(text) -> [(category, polarity, evidence_in_original, rule)] using the real rules."""
    from cxtext.detect import build_detector
    from cxtext.normalize import normalize

    detector = build_detector(lexicon)

    def run(text: str):
        norm = normalize(text)
        words, starts = segmenter.boundaries(norm.text)
        mentions, _ = detector.detect(norm.text, words, starts)
        out = []
        for m in mentions:
            s, e = norm.to_original(m.start, m.end)
            out.append((m.category, m.polarity, text[s:e], m.rule))
        return out

    return run
