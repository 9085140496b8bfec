"""segment: a tokenizer the project owns, lexicon terms kept whole, jieba's globals untouched."""
import jieba
import pytest

from cxtext.segment import Segmenter


def test_user_words_stay_whole():
    seg = Segmenter(["好评返现", "上菜慢"])
    assert "好评返现" in seg.cut("卡片上写着好评返现五元")
    assert "上菜慢" in seg.cut("这家店上菜慢得离谱")


def test_two_segmenters_do_not_share_a_dictionary():
    with_word = Segmenter(["蛀牙补得好"])
    without = Segmenter([])
    assert "蛀牙补得好" in with_word.cut("这次蛀牙补得好")
    assert "蛀牙补得好" not in without.cut("这次蛀牙补得好")


def test_module_level_jieba_is_not_changed():
    Segmenter(["洗剪吹套餐卡"])
    assert "洗剪吹套餐卡" not in jieba.lcut("办了洗剪吹套餐卡")


def test_boundaries_rebuild_the_text():
    seg = Segmenter([])
    text = "前台小姐姐很热情，就是等了很久"
    words, starts = seg.boundaries(text)
    assert "".join(words) == text
    assert starts[-1] == len(text)
    assert all(text[starts[i]:starts[i + 1]] == w for i, w in enumerate(words))


def test_split_terms_reports_what_the_segmenter_still_cuts():
    seg = Segmenter([])
    report = dict(seg.split_terms(["态度", "没收到预约短信"]))
    assert "态度" not in report and "没收到预约短信" in report


def test_every_lexicon_term_stays_whole(lexicon, segmenter):
    """The lexicon and the segmenter agree: no single-word lexicon term is cut."""
    terms = [t for t in lexicon.all_terms() if " " not in t]
    assert segmenter.split_terms(terms) == []


@pytest.mark.parametrize("backend", ["jieba", "rjieba"])
def test_backends_are_selectable(backend):
    seg = Segmenter(["好评返现"], backend=backend)
    assert "好评返现" in seg.cut("店家说好评返现")


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="backend"):
        Segmenter([], backend="thulac")


def test_pickling_rebuilds_the_tokenizer():
    import pickle

    seg = pickle.loads(pickle.dumps(Segmenter(["好评返现"])))
    assert "好评返现" in seg.cut("好评返现卡")


def test_a_new_user_word_does_not_move_unrelated_cuts():
    # jieba adds each user word's frequency to its total, which enters every route's score; the
    # total is pinned so that one more lexicon term changes only the cuts that meet it
    words = ["上菜慢", "服务态度", "排队"]
    before = Segmenter(words)
    after = Segmenter(words + ["苍蝇馆子"])
    assert before._tokenizer.total == after._tokenizer.total
    for text in ["收银台的工作效率低得出奇", "这一单的送达时长有四十分钟", "房间干净，服务态度很好"]:
        assert before.cut(text) == after.cut(text)
    assert after.cut("巷子里的苍蝇馆子")[-1] == "苍蝇馆子"


def test_a_thread_waits_for_jieba_being_imported_by_another(monkeypatch):
    import sys
    import threading
    import types

    import jieba as whole

    from cxtext import segment

    # Another thread is halfway through importing jieba (Prefect's thread runner tags chunks in
    # threads): sys.modules already holds the half-built module, and the import lock is held.
    half_built = types.ModuleType("jieba")
    monkeypatch.setitem(sys.modules, "jieba", half_built)
    got = []
    with segment._JIEBA_IMPORT_LOCK:
        t = threading.Thread(target=lambda: got.append(segment._import_jieba()))
        t.start()
        t.join(0.3)
        assert got == []  # it waits rather than taking the half-built module
        sys.modules["jieba"] = whole  # the import finishes
    t.join(5)
    assert got == [whole]
