"""Tests for cxtext.sentiment (scorers, storage) and cxtext.train (retraining on a user's file)."""
from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cxtext import sentiment as sm
from cxtext import train as tr
from cxtext.cli import main as cli_main
from cxtext.paths import shared_data_dir

# Sentences we wrote, across the businesses cxtext serves.
CLEAR = [
    ("服务特别热情，下次还来", "pos"),
    ("等了一个小时还没上菜，太失望了", "neg"),
    ("房间干净整洁，前台小姐姐很耐心，住得很舒服", "pos"),
    ("床单上有头发，卫生间一股霉味，再也不住了", "neg"),
    ("外卖送得很快，饭菜还是热的，味道不错", "pos"),
    ("送餐超时四十分钟，汤全洒了，商家也不理人", "neg"),
    ("外套的面料厚实，针脚整齐，尺码也合适", "pos"),
    ("收到的手机屏幕是碎的，客服一直推脱，差评", "neg"),
    ("理发师很专业，剪得很满意，价格也实惠", "pos"),
    ("办了卡以后态度完全变了，推销个不停，很反感", "neg"),
    ("牙医动作很轻，一点都不疼，讲解也很细致", "pos"),
    ("拔牙等了两个小时，医生还很不耐烦，太差了", "neg"),
    ("性价比很高，物流也快，非常推荐", "pos"),
    ("东西是假货，质量太差，退货还不给退", "neg"),
    ("环境很好，菜品新鲜，服务员很周到", "pos"),
    ("菜是凉的，肉也不新鲜，吃完肚子疼", "neg"),
    ("早餐种类丰富，位置方便，性价比高，值得入住", "pos"),
    ("隔音太差，空调坏了也没人修，一晚上没睡好", "neg"),
    ("洗头很舒服，技师手法很好，会再来的", "pos"),
    ("包装破损，水果全烂了，非常不满意", "neg"),
]

POS_PHRASES = ["服务很周到", "味道很好", "环境干净", "下次还来", "非常满意", "价格实惠", "态度热情", "推荐大家"]
NEG_PHRASES = ["等了很久", "态度很差", "太脏了", "再也不来", "非常失望", "价格太贵", "没人理", "不推荐"]
PLACES = ["这家店", "这个酒店", "这家外卖", "这家理发店", "这家诊所", "这个商家", "这家餐厅", "这家网店"]


@pytest.fixture(scope="module")
def segmenter():
    return tr.make_segmenter()


@pytest.fixture(scope="module")
def model():
    return sm.load_sentiment("default")


def _prepared(texts, segmenter):
    return tr.prepare(texts, segmenter)


def _user_rows(n_per_class: int = 128) -> pd.DataFrame:
    """Labelled rows composed from our own phrases (every combination is a distinct review)."""
    rows = []
    for label, phrases in ((1, POS_PHRASES), (0, NEG_PHRASES)):
        combos = [(p, a, b) for p in PLACES for a in phrases for b in phrases if a != b]
        for place, a, b in combos[:n_per_class]:
            rows.append({"text": f"{place}{a}，{b}。", "label": label})
    return pd.DataFrame(rows)


# --- the shipped model ------------------------------------------------------------------------

def test_shipped_model_gets_clear_sentences_right(model, segmenter):
    texts = [t for t, _ in CLEAR]
    norms, tokens = _prepared(texts, segmenter)
    scores = model.score(norms, tokens)
    wrong = [(t, want, round(float(s), 3)) for (t, want), s in zip(CLEAR, scores)
             if (s > 0.5) != (want == "pos")]
    assert not wrong, wrong
    assert ((scores >= 0) & (scores <= 1)).all()


def test_labels_use_the_neutral_band(model):
    labels = model.label(np.array([0.05, 0.39, 0.4, 0.5, 0.6, 0.61, 0.97]))
    assert list(labels) == ["neg", "neg", "neu", "neu", "neu", "pos", "pos"]


def test_scores_are_deterministic_and_independent_of_batch(model, segmenter):
    texts = [t for t, _ in CLEAR]
    norms, tokens = _prepared(texts, segmenter)
    whole = model.score(norms, tokens)
    again = model.score(norms, tokens)
    one_by_one = np.concatenate([model.score([n], [t]) for n, t in zip(norms, tokens)])
    np.testing.assert_array_equal(whole, again)
    np.testing.assert_allclose(whole, one_by_one, rtol=1e-6)


def test_empty_input_and_empty_text(model):
    assert model.score([], []).shape == (0,)
    assert model.label(np.zeros(0)).shape == (0,)
    s = model.score([""], [[]])
    assert s.shape == (1,) and 0 <= s[0] <= 1


def test_mismatched_lengths_are_an_error(model):
    with pytest.raises(ValueError, match="differ in length"):
        model.score(["服务很好"], [])


def test_manifest_names_version_and_hash(model):
    man = model.manifest()
    assert man["name"] == "default" and man["version"] and len(man["sha256"]) == 64
    assert man["sha256"] == sm.model_sha256(sm.shipped_model_dir())
    assert set(man["files"]) == set(sm.MODEL_FILES)


def test_shipped_model_is_small_and_holds_no_sentences():
    d = sm.shipped_model_dir()
    assert sum((d / f).stat().st_size for f in sm.MODEL_FILES) <= 20_000_000
    assert sorted(p.name for p in d.iterdir()) == sorted(sm.MODEL_FILES)
    with np.load(d / "weights.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    # numbers only: the vocabulary is 64-bit keys, and a character key holds at most 3 code points
    assert all(a.dtype.kind in "fiu" for a in arrays.values())
    assert int(arrays["char_keys"].max()) < 1 << 63 and int(arrays["char_keys"].min()) > 0


def test_long_words_give_no_word_ngrams():
    words, chars = sm.ngrams(["服务", "excellentservice", "很好"], "服务excellentservice很好")
    assert words == ["服务", "很好"]
    assert "exc" in chars


def test_loading_never_unpickles(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle used while loading a model")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    loaded = sm.LinearSentiment.load(sm.shipped_model_dir())
    assert loaded.featurizer.n_features > 0


def test_an_object_array_in_the_npz_is_refused(tmp_path, model):
    for f in ("model.json",):
        (tmp_path / f).write_bytes((sm.shipped_model_dir() / f).read_bytes())
    np.savez(tmp_path / "weights.npz", weights=np.array([{"a": 1}], dtype=object))
    with pytest.raises(sm.SentimentModelError, match="weights.npz"):
        sm.LinearSentiment.load(tmp_path)


def test_missing_file_is_named(tmp_path):
    (tmp_path / "model.json").write_text("{}", encoding="utf-8")
    with pytest.raises(sm.SentimentModelError, match="missing weights.npz"):
        sm.LinearSentiment.load(tmp_path)


# --- names ------------------------------------------------------------------------------------

def test_none_scorer_is_neutral():
    none = sm.load_sentiment("none")
    scores = none.score(["很好", "很差"], [["很", "好"], ["很", "差"]])
    assert list(scores) == [0.5, 0.5] and list(none.label(scores)) == ["neu", "neu"]


def test_unknown_name_lists_the_choices():
    with pytest.raises(sm.SentimentModelError, match="snownlp-retrained"):
        sm.load_sentiment("bert")


def test_snownlp_retrained_missing_says_how_to_create_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CXTEXT_CACHE_DIR", str(tmp_path))
    with pytest.raises(sm.SentimentModelError, match="make bench-sentiment"):
        sm.load_sentiment("snownlp-retrained")


def test_snownlp_baseline_works_offline_on_our_tokens(segmenter):
    snow = sm.load_sentiment("snownlp")
    norms, tokens = _prepared(["质量非常好，很喜欢，推荐购买", "质量太差了，非常失望，退货"], segmenter)
    scores = snow.score(norms, tokens)
    assert scores[0] > 0.5 > scores[1]
    assert snow.manifest()["sha256"]


# --- features ---------------------------------------------------------------------------------

def test_featurizer_matches_scikit_learn_tfidf(segmenter):
    texts = [t for t, _ in CLEAR]
    norms, tokens = _prepared(texts, segmenter)
    feat, vec = tr._fit_featurizer(norms, tokens, min_df=1)
    ours = feat.transform(norms, tokens).toarray()
    theirs = vec.transform(list(zip(norms, tokens))).toarray()
    # the same columns, in the featurizer's order (words, bigrams, characters, each by key)
    grams = [k for k in vec.vocabulary_ if k[0] == "w"] + [k for k in vec.vocabulary_ if k[0] == "c"]
    n_words = sum(k[0] == "w" for k in grams)
    _, order = sm.NgramFeaturizer.from_grams([k[1:] for k in grams[:n_words]], [k[1:] for k in grams[n_words:]],
                                             np.ones(len(grams)))
    assert ours.shape == theirs.shape and (ours > 0).sum(axis=1).min() > 10
    np.testing.assert_allclose(ours, theirs[:, [vec.vocabulary_[grams[i]] for i in order]], atol=1e-6)


def test_scoring_matches_the_sparse_matrix_product(model, segmenter):
    norms, tokens = _prepared([t for t, _ in CLEAR], segmenter)
    both = model.featurizer.transform(norms, tokens) @ np.hstack([model.weights, model.gate])
    k = model.weights.shape[1]
    gate = np.exp(both[:, k:] + model.gate_bias)
    gate /= gate.sum(axis=1, keepdims=True)
    expert = both[:, :k] + model.bias
    np.testing.assert_allclose(model.logits(norms, tokens), expert[:, 0] + (gate * expert[:, 1:]).sum(axis=1),
                               rtol=1e-4, atol=1e-4)


def test_word_keys_depend_only_on_the_word():
    words = ["服务", "很好", "好", "服", "务服", "no", "on", "", "超长的一个英文单词excellent"]
    keys = sm.word_keys(words)
    assert len(set(keys[:-1].tolist())) == len(words) - 1  # distinct words, distinct keys (order matters)
    assert keys[-1] == sm._NO_KEY  # too long to be a vocabulary word
    shuffled = sm.word_keys(words[::-1] + ["服务"])
    assert shuffled[::-1][1:].tolist() == keys.tolist() and shuffled[-1] == keys[0]


def _sorted_lookup(keys, query):
    """Reference answer: binary search in the sorted key array."""
    pos = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
    found = keys[pos] == query if len(keys) else np.zeros(len(query), dtype=bool)
    return found, pos[found]


def _same_as_sorted(keys, query):
    where, pos = sm.KeyTable(keys).lookup(query)
    found = np.zeros(len(query), dtype=bool)
    found[where] = True
    assert (np.diff(where) > 0).all()
    want_found, want_pos = _sorted_lookup(keys, query)
    assert found.tolist() == want_found.tolist()
    assert pos.dtype == np.int64 and pos.tolist() == want_pos.tolist()
    return found


def test_key_table_finds_exactly_its_keys():
    rng = np.random.default_rng(7)
    keys = np.unique(rng.integers(0, 2**64 - 1, 5000, dtype=np.uint64))
    absent = rng.integers(0, 2**64 - 1, 3000, dtype=np.uint64)
    absent = np.concatenate([absent[~np.isin(absent, keys)], [sm._EMPTY, np.uint64(0), sm._NO_KEY]])
    query = np.concatenate([keys[::-1], absent, keys[:10]])
    found = _same_as_sorted(keys, query)
    assert found.tolist() == [True] * len(keys) + [False] * len(absent) + [True] * 10
    table = sm.KeyTable(keys)
    assert table.lookup(query[:0])[0].shape == (0,)
    assert (table.slots != sm._EMPTY).sum() == len(keys)  # each key stored once
    assert len(table.slots) >= 2 * len(keys)  # load factor at most one half
    assert _same_as_sorted(keys[:0], keys[:5]).tolist() == [False] * 5


def test_key_table_collisions_and_the_empty_value():
    # Keys that all hash to the last home slot: a long probe run into the overflow tail.
    bits = (2 * 300 - 1).bit_length()
    inverse = pow(int(sm._SLOT_MUL), -1, 2**64)
    last = [(((2**bits - 1) << (64 - bits)) | j) * inverse % 2**64 for j in range(1, 200)]
    keys = np.unique(np.concatenate([np.array(last, dtype=np.uint64),
                                     np.random.default_rng(3).integers(0, 2**62, 100, dtype=np.uint64)]))
    table = sm.KeyTable(keys)
    assert len(table.slots) > 2**table.bits and table.slots[-1] == sm._EMPTY
    neighbours = np.array([(k + 1) % 2**64 for k in last], dtype=np.uint64)  # absent, nearby homes
    _same_as_sorted(keys, np.concatenate([keys, neighbours, [sm._EMPTY]]))
    # A vocabulary that holds the reserved value itself still answers it (and only it).
    with_empty = np.append(keys, sm._EMPTY)
    found = _same_as_sorted(with_empty, np.array([sm._EMPTY, keys[0], neighbours[0], sm._EMPTY], dtype=np.uint64))
    assert found.tolist() == [True, True, False, True]
    assert sm.KeyTable(with_empty[-1:]).lookup(np.array([sm._EMPTY, 0], dtype=np.uint64))[1].tolist() == [0]


def test_key_tables_of_the_shipped_model_hold_its_vocabulary(model):
    feat = model.featurizer
    for keys, table in ((feat.word_keys, feat._word_table), (feat.bigram_keys, feat._bigram_table),
                        (feat.char_keys, feat._char_table)):
        where, pos = table.lookup(keys)
        assert (where == np.arange(len(keys))).all() and (pos == np.arange(len(keys))).all()
        gaps = np.flatnonzero(np.diff(keys) > 1)  # key + 1 is not a key either
        assert len(gaps) > 100 and len(table.lookup(keys[gaps] + np.uint64(1))[0]) == 0


@pytest.mark.parametrize("n_cols", [640_000, 2**31 + 11])  # 32-bit keys, then 64-bit keys
def test_count_pairs_matches_unique(n_cols):
    rng = np.random.default_rng(5)
    rows = np.repeat(np.arange(6, dtype=np.int64), [40, 0, 25, 60, 1, 30])
    cols = rng.choice(np.array([0, 1, 7, n_cols - 2, n_cols - 1], dtype=np.int64), len(rows))
    cols[-1] = n_cols - 1  # the largest key of the batch
    r, c, counts = sm._count_pairs(rows, cols, 6, n_cols)
    keys, want = np.unique(rows * n_cols + cols, return_counts=True)
    assert r.tolist() == (keys // n_cols).tolist() and c.tolist() == (keys % n_cols).tolist()
    assert counts.tolist() == want.tolist() and counts.sum() == len(rows)
    assert [len(x) for x in sm._count_pairs(rows[:0], cols[:0], 6, n_cols)] == [0, 0, 0]


def test_ngrams_ignore_whitespace():
    w1, c1 = sm.ngrams(["服务", " ", "很好"], "服务 很好")
    w2, c2 = sm.ngrams(["服务", "很好"], "服务很好")
    assert (w1, c1) == (w2, c2)
    assert "服务 很好" in w1 and "务很好" in c1


def test_batch_features_ignore_whitespace_and_nul(model):
    feat = model.featurizer
    tokens = [["服务", "很好"], ["房间", "干净"], ["太", "失望"]]
    plain = ["服务很好", "房间干净", "太失望"]
    spaced = ["服务\u3000很好\n", " 房间\t干净", "太失望"]
    with_nul = ["服务很\x00好", "房间干净", "太\x00失望 "]  # a NUL inside a text is not a separator
    want = feat.entries(plain, tokens)
    assert len(want[0]) > 15
    for texts in (spaced, with_nul):
        got = feat.entries(texts, tokens)
        assert all(np.array_equal(a, b) for a, b in zip(got, want))
    # each document's character n-grams stay its own: one text per batch gives the same rows
    alone = [feat.entries([t], [w]) for t, w in zip(plain, tokens)]
    assert [c.tolist() for _, c, _ in alone] == [want[1][want[0] == i].tolist() for i in range(3)]


# --- training on a user's file ----------------------------------------------------------------

def test_train_cli_round_trip(tmp_path, segmenter):
    data = tmp_path / "labelled.csv"
    rows = _user_rows()
    rows["label"] = rows["label"].map({1: "正面", 0: "负面"})
    rows.rename(columns={"text": "评论"}).to_csv(data, index=False)
    out = tmp_path / "model"
    assert cli_main(["train", "sentiment", str(data), "--text-col", "评论", "--out", str(out)]) == 0
    loaded = sm.load_sentiment(str(out))
    assert loaded.manifest()["version"].startswith("user-")
    norms, tokens = _prepared(["这家店非常满意，下次还来。", "这家店态度很差，非常失望。"], segmenter)
    scores = loaded.score(norms, tokens)
    assert scores[0] > 0.5 > scores[1]
    # save → load again gives the same scores and the same bytes (reruns are idempotent)
    again = tmp_path / "again"
    loaded.save(again)
    for f in sm.MODEL_FILES:
        assert (again / f).read_bytes() == (out / f).read_bytes(), f
    np.testing.assert_allclose(sm.load_sentiment(model_path=str(again)).score(norms, tokens), scores, rtol=1e-6)


def _write(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_unusable_labels_name_file_column_and_rows(tmp_path):
    rows = _user_rows()
    rows["label"] = rows["label"].astype(object)
    rows.loc[[3, 7], "label"] = "还行"
    path = _write(tmp_path, rows)
    with pytest.raises(tr.TrainingDataError) as err:
        tr.read_labelled_file(path)
    msg = str(err.value)
    assert str(path) in msg and "'label'" in msg and "row 4: '还行'" in msg and "row 8" in msg


def test_too_few_rows(tmp_path):
    path = _write(tmp_path, _user_rows(40))
    with pytest.raises(tr.TrainingDataError, match="only 80 labelled rows"):
        tr.read_labelled_file(path)


def test_single_class(tmp_path):
    rows = _user_rows()
    rows["label"] = 1
    path = _write(tmp_path, rows)
    with pytest.raises(tr.TrainingDataError, match="256 positive and 0 negative"):
        tr.read_labelled_file(path)


def test_missing_column_lists_columns(tmp_path):
    path = _write(tmp_path, _user_rows())
    with pytest.raises(tr.TrainingDataError, match=r"no column 'review'.*\['text', 'label'\]"):
        tr.read_labelled_file(path, text_col="review")


def test_cli_reports_bad_data_as_an_error(tmp_path):
    path = _write(tmp_path, _user_rows(40))
    with pytest.raises(SystemExit, match="only 80 labelled rows"):
        cli_main(["train", "sentiment", str(path), "--out", str(tmp_path / "m")])


def test_label_spellings():
    for value, want in [("1", 1), (1.0, 1), ("POS", 1), ("positive", 1), ("正面", 1), ("0", 0), ("neg", 0),
                        ("负面", 0), ("negative", 0)]:
        assert tr._parse_label(value) == want, value
    assert np.isnan(tr._parse_label("2")) and np.isnan(tr._parse_label(None))


def test_split_is_by_folded_text():
    assert tr.split_of("服务 很好\n下次再来") == tr.split_of("服务  很好 下次再来")
    parts = pd.Series([tr.split_of(f"第{i}条评论：服务很好") for i in range(3000)]).value_counts(normalize=True)
    assert 0.12 < parts["val"] < 0.18 and 0.05 < parts["calib"] < 0.11


# --- held-out accuracy (team data only) -------------------------------------------------------

@pytest.mark.shared
@pytest.mark.skipif(shared_data_dir() is None, reason="../shared/data is absent")
def test_shipped_vocabulary_copies_no_review_text():
    tool = shared_data_dir().parent / "tools" / "corpus_copies.py"
    if not tool.is_file():
        pytest.skip("../shared/tools/corpus_copies.py is absent")
    done = subprocess.run([sys.executable, str(tool)] + [str(sm.shipped_model_dir() / f) for f in sm.MODEL_FILES],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.shared
@pytest.mark.skipif(shared_data_dir() is None, reason="../shared/data is absent")
def test_held_out_accuracy(model, segmenter):
    rows = tr.load_shared_corpora(shared_data_dir())
    val = rows[rows["split"] == "val"]
    floors = {"takeaway": 0.90, "ecommerce": 0.93, "hotel": 0.89}
    for corpus, floor in floors.items():
        frame = val[val["corpus"] == corpus]
        norms, tokens = _prepared(frame["text"].tolist(), segmenter)
        acc = ((model.score(norms, tokens) > 0.5).astype(int) == frame["label"].to_numpy()).mean()
        assert acc >= floor, (corpus, acc)
