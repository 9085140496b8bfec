"""The bundled sample in data/sample/: encodings, sizes, domains, turns and the bad rows are as
data/README.md documents them, so `make run` and the demo report have something real to show.

Each file is read with its known encoding and plain pandas/openpyxl, independently of
cxtext.ingest, so a reader bug cannot hide a broken sample (and the reverse).
"""
from __future__ import annotations

import csv
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from opencc import OpenCC

from cxtext.paths import shared_data_dir

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"

# file -> (rows documented in data/README.md, text column, store column, time column, rating column)
FILES = {
    "dental_salon_reviews.csv": (65, "content", "store", "created_at", "rating"),
    "hotel_reviews.xlsx": (44, "评价内容", "门店", "评论时间", "评分"),
    "restaurant_reviews.tsv": (45, "评论", "门店", "评论时间", "评分"),
    "takeaway_orders.jsonl": (41, "text", "store", "created_at", "rating"),
    "shop_reviews.csv": (34, "content", "store", "created_at", "rating"),
    "complaint_logs.csv": (30, "content", "store", "created_at", None),
}

# The bad rows listed in data/README.md: (file, row counted from 1 after the header).
EMPTY_ROWS = {("dental_salon_reviews.csv", 39), ("dental_salon_reviews.csv", 58),
              ("takeaway_orders.jsonl", 20), ("takeaway_orders.jsonl", 31)}
DUPLICATE_ROWS = {("dental_salon_reviews.csv", 27), ("takeaway_orders.jsonl", 18)}

# Store-name cues of each business in the sample.
DOMAINS = {"dental": "口腔", "salon": "造型", "hotel": "酒店", "restaurant": "火锅|粤香楼",
           "takeaway": "麻辣烫|小馆|水果捞", "ecommerce": "旗舰店"}

CUSTOMER = r"(客户|客戶|顾客|顧客|用户)"
AGENT = r"(客服|坐席|商家回复)"


def read(name: str) -> pd.DataFrame:
    """Read one sample file the way its documentation says it is encoded."""
    path = SAMPLE / name
    if name.endswith(".xlsx"):
        return pd.read_excel(path, dtype={"评论id": str}, engine="openpyxl")
    if name.endswith(".jsonl"):
        return pd.read_json(path, lines=True, dtype=False, encoding="utf-8")
    if name.endswith(".tsv"):
        return pd.read_csv(path, sep="\t", encoding="gb18030", quoting=csv.QUOTE_NONE,
                           dtype=str, keep_default_na=False)
    encoding = "utf-8-sig" if name == "shop_reviews.csv" else "utf-8"
    return pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {name: read(name) for name in FILES}


@pytest.fixture(scope="module")
def texts(frames) -> dict[str, list[str]]:
    """Usable texts per file: the bad rows left out."""
    out = {}
    for name, df in frames.items():
        col = FILES[name][1]
        out[name] = [t for i, t in enumerate(df[col], 1)
                     if (name, i) not in EMPTY_ROWS | DUPLICATE_ROWS]
    return out


def all_texts(texts) -> list[str]:
    return [t for ts in texts.values() for t in ts]


def domain_of(store: str) -> str:
    hits = [d for d, cue in DOMAINS.items() if re.search(cue, store)]
    assert len(hits) == 1, f"store {store!r} matches domains {hits}"
    return hits[0]


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_file_has_its_documented_rows_and_columns(frames, name):
    rows, text_col, store_col, time_col, rating_col = FILES[name]
    df = frames[name]
    assert len(df) == rows, f"{name}: {len(df)} rows, README says {rows}"
    for col in (text_col, store_col, time_col, rating_col):
        assert col is None or col in df.columns, f"{name}: no column {col!r} in {list(df.columns)}"


def test_at_least_200_usable_records(texts):
    usable = [t for t in all_texts(texts) if isinstance(t, str) and t.strip()]
    assert len(usable) >= 200
    assert len(usable) == len(all_texts(texts)), "an empty text outside the documented bad rows"


def test_restaurant_tsv_is_gb18030_and_not_utf8():
    raw = (SAMPLE / "restaurant_reviews.tsv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert text.splitlines()[0].split("\t") == ["评论id", "门店", "评论时间", "评分", "渠道", "评论"]
    assert "\r" not in text and '"' not in text, "the TSV is unquoted and LF-only"


def test_shop_csv_has_bom_crlf_and_a_quoted_newline(frames):
    raw = (SAMPLE / "shop_reviews.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    # Every record ends in CRLF; bare LFs occur only inside the quoted multi-line reviews.
    assert raw.count(b"\r\n") == FILES["shop_reviews.csv"][0] + 1
    multi_line = [t for t in frames["shop_reviews.csv"]["content"] if "\n" in t]
    assert len(multi_line) >= 1
    assert raw.count(b"\n") - raw.count(b"\r\n") == sum(t.count("\n") for t in multi_line)


@pytest.mark.parametrize("name", ["dental_salon_reviews.csv", "takeaway_orders.jsonl", "complaint_logs.csv"])
def test_utf8_files_have_no_bom_and_lf_endings(name):
    raw = (SAMPLE / name).read_bytes()
    raw.decode("utf-8")
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw


def test_takeaway_jsonl_is_one_object_a_line():
    for n, line in enumerate((SAMPLE / "takeaway_orders.jsonl").read_text("utf-8").splitlines(), 1):
        obj = json.loads(line)
        assert set(obj) == {"order_id", "store", "created_at", "rating", "text"}, f"line {n}"


def test_every_domain_is_present_with_enough_reviews(frames):
    counts = Counter()
    for name, df in frames.items():
        if name != "complaint_logs.csv":
            counts.update(domain_of(s) for s in df[FILES[name][2]])
    assert set(counts) == set(DOMAINS)
    assert min(counts.values()) >= 25, counts
    logs = {domain_of(s) for s in frames["complaint_logs.csv"]["store"]}
    assert logs == set(DOMAINS), "complaint logs should reach every kind of business"


def test_each_chain_has_at_least_two_stores(frames):
    stores = {s for name, df in frames.items() for s in df[FILES[name][2]]}
    by_domain = Counter(domain_of(s) for s in stores)
    assert all(by_domain[d] >= 2 for d in DOMAINS), by_domain


def test_complaint_logs_have_customer_and_agent_turns(frames):
    logs = list(frames["complaint_logs.csv"]["content"])
    assert len(logs) >= 25
    for n, log in enumerate(logs, 1):
        assert re.search(CUSTOMER, log), f"log {n} has no customer turn"
        assert re.search(AGENT, log), f"log {n} has no agent turn"
    one_per_line = [g for g in logs if re.search(rf"\n{AGENT}：", g)]
    inline = [g for g in logs if "\n" not in g]
    assert len(one_per_line) >= 10 and len(inline) >= 5
    assert any(re.search(rf"{CUSTOMER}说", g) for g in inline), "an inline log in narrative form"
    assert any(re.search(rf"。{AGENT}：", g) for g in inline), "an inline log with colon turns"


def test_times_span_six_months_of_2026(frames):
    months = Counter()
    for name, df in frames.items():
        times = pd.to_datetime(df[FILES[name][3]], format="mixed")
        assert times.notna().all(), name
        assert times.min() >= pd.Timestamp("2026-01-01") and times.max() < pd.Timestamp("2026-07-01"), name
        months.update(times.dt.month)
    assert sorted(months) == [1, 2, 3, 4, 5, 6]
    assert min(months.values()) >= 25, months


def test_ratings_are_one_to_five_and_all_used(frames):
    stars = Counter()
    for name, df in frames.items():
        col = FILES[name][4]
        if col:
            values = pd.to_numeric(df[col], errors="raise")
            assert values.between(1, 5).all() and (values == values.round()).all(), name
            stars.update(values.astype(int))
    assert sorted(stars) == [1, 2, 3, 4, 5]


def test_bad_rows_are_where_the_readme_says(frames):
    for name, df in frames.items():
        col = FILES[name][1]
        empty = {(name, i) for i, t in enumerate(df[col], 1) if not isinstance(t, str) or not t.strip()}
        assert empty == {r for r in EMPTY_ROWS if r[0] == name}, name
        dup = {(name, i) for i, d in enumerate(df.astype(str).duplicated(), 1) if d}
        assert dup == {r for r in DUPLICATE_ROWS if r[0] == name}, name


def test_ids_are_unique_apart_from_the_documented_duplicates(frames):
    for name, df in frames.items():
        ids = df.iloc[:, 0].astype(str)
        assert ids.duplicated().sum() == len([r for r in DUPLICATE_ROWS if r[0] == name]), name


def test_text_noise_for_the_normaliser_is_present(texts):
    everything = all_texts(texts)
    t2s = OpenCC("t2s")
    traditional = [t for t in everything if t2s.convert(t) != t]
    assert len(traditional) >= 8
    checks = {
        "html": r"<br>|&nbsp;|<b>",
        "emoji": r"[\U0001F300-\U0001FAFF]",
        "full-width ASCII": r"[\uFF21-\uFF5A]",
        "repeated punctuation": r"！！！|。。。",
        "pinyin annotation": r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]+\)",
    }
    for what, pattern in checks.items():
        assert any(re.search(pattern, t) for t in everything), f"no {what} in the sample"


# Phrases that carry the categories and the taxonomy's hard cases; each must occur somewhere.
REQUIRED = [
    "等了", "不用等", "排队", "上菜太慢", "半天不回",                     # waiting_time
    "卫生太差", "一点都不脏", "很干净", "头发", "虫子",                   # hygiene
    "约不上", "约满", "订了房，到店却说满房", "在携程预订的",               # booking
    "烟味", "霉味", "下水道", "没有异味", "馊味",                         # odor
    "好评返现", "求我把差评改掉", "删", "京豆", "让我评价", "五星好评",      # review_prompt + own praise
    "美团上洗牙套餐198，到店发现小程序才128", "黑鱼38/斤", "性价比", "太贵|偏贵",  # price
    "态度太差", "爱答不理", "很热情", "耐心",                              # staff_attitude
    "一点都不脏", "就是浴室地漏", "希望下次不用等", "早餐味道不错",          # negation, contrast, hypothetical, taste
    "臭豆腐", "臭鳜鱼", "五星级酒店", "ＷｉＦｉ有點慢", "电梯太慢", "预定12:15送到", "电脑开机很慢",
    "退款", "保修", "送错", "洒了", "包装", "装修", "吵",                  # after_sales, delivery, environment
    "第一次", "初次", "首次", "又来", "第二次", "回头客", "老顾客", "老会员", "办了",  # tenure
    "还会再来", "下次还来", "再也不来", "不会再",                          # repurchase intent
    "新客", "会员价反而更贵",                                              # returning customers treated worse
]


@pytest.mark.parametrize("phrase", sorted(set(REQUIRED)))
def test_sample_covers_categories_and_traps(texts, phrase):
    assert any(re.search(phrase, t) for t in all_texts(texts)), phrase


def test_wanda_hotpot_queues_peak_in_may(frames):
    df = frames["restaurant_reviews.tsv"]
    wanda = df[df["门店"] == "蜀渝老灶火锅(万达店)"]
    month = pd.to_datetime(wanda["评论时间"], format="%Y/%m/%d %H:%M").dt.month
    # A wait counted in hours ("排了两个小时", "等了一小时十分钟") is the complaint the trend chart shows.
    hours = wanda["评论"].str.contains(r"(?:等|排)[^，。！]{0,6}小时")
    per_month = Counter(month[hours])
    assert per_month[5] >= 5 and all(per_month[m] == 0 for m in (1, 2, 3, 4, 6)), per_month


def test_stars_disagree_with_the_text_in_a_few_reviews(texts, frames):
    # The report's star-vs-sentiment chart needs a few reviews where the two disagree.
    praise_one_star = complaint_five_star = 0
    for name, df in frames.items():
        rating_col = FILES[name][4]
        if not rating_col:
            continue
        for stars, text in zip(df[rating_col], df[FILES[name][1]]):
            if not isinstance(text, str):
                continue
            if int(stars) == 1 and re.search(r"下次还来|好评！|很好用", text):
                praise_one_star += 1
            if int(stars) == 5 and re.search(r"就是前台|等了快一个小时|一点都不甜", text):
                complaint_five_star += 1
    assert praise_one_star >= 2 and complaint_five_star >= 2


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_sample", SAMPLE / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hotel_workbook_matches_its_generator():
    gen = _load_generator()
    sheet = openpyxl.load_workbook(SAMPLE / "hotel_reviews.xlsx", read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == gen.HEADER
    assert values[1:] == gen.rows(), "hotel_reviews.xlsx is stale: run data/sample/make_sample.py"


def test_hotel_generator_is_deterministic():
    gen = _load_generator()
    assert gen.xlsx_bytes(gen.workbook()) == gen.xlsx_bytes(gen.workbook())


def _windows(text: str, k: int = 14):
    s = "".join(re.findall(r"\w+", text))
    return {s[i:i + k] for i in range(len(s) - k + 1)}


@pytest.mark.shared
def test_no_text_is_copied_from_the_shared_corpora(texts):
    shared = shared_data_dir()
    if shared is None:
        pytest.skip("../shared/data is absent: the copy check needs the team's corpora")
    ours = {w: t for t in all_texts(texts) for w in _windows(t)}
    hits = set()
    for path in sorted((shared / "corpora").glob("*.csv")):
        for review in pd.read_csv(path, usecols=["review"], dtype=str)["review"].dropna():
            hits.update(ours[w] for w in _windows(review) if w in ours)
    assert not hits, f"sample texts sharing a 14-character run with the corpora: {sorted(hits)[:5]}"
