"""normalize: simplified, half-width, clean text with offsets that point into the original."""
import pytest

from cxtext.normalize import Normalized, normalize, normalize_frame

CASES = [
    # (original, normalised)
    ("房間很乾淨，服務態度很好！！！", "房间很干净,服务态度很好!"),
    ("等了<b>一個</b>小時&amp;還沒上菜😡😡", "等了一个小时&还没上菜"),
    ("對(duì)不起  ＷｉＦｉ很慢", "对不起 wifi很慢"),
    ("牙医很耐心<br>就是等了很久", "牙医很耐心。就是等了很久"),
    ("  前台小姐姐很热情 ", "前台小姐姐很热情"),
    ("价格&nbsp;合理。。。。下次还来~~~", "价格 合理。下次还来~"),
    ("头发剪得很好", "头发剪得很好"),
    ("", ""),
]


@pytest.mark.parametrize("original, expected", CASES)
def test_normalised_text(original, expected):
    assert normalize(original).text == expected


@pytest.mark.parametrize("original, expected", CASES)
def test_every_normalised_span_maps_back_into_the_original(original, expected):
    norm = normalize(original)
    for i in range(len(norm.text)):
        s, e = norm.to_original(i, i + 1)
        assert 0 <= s < e <= len(original)
    if norm.text:
        s, e = norm.to_original(0, len(norm.text))
        assert original[s:e].strip() == original[s:e]


def test_evidence_offsets_survive_html_emoji_and_traditional():
    original = "<p>房間很髒😡</p>等了<b>一個小時</b>"
    norm = normalize(original)
    start = norm.text.index("一个小时")
    s, e = norm.to_original(start, start + 4)
    assert original[s:e] == "一個小時"
    dirty = norm.text.index("脏")
    s, e = norm.to_original(dirty - 1, dirty + 1)
    assert original[s:e] == "很髒"


def test_plain_text_is_identity_without_offset_table():
    norm = normalize("服务很好")
    assert norm.starts is None and norm.to_original(1, 3) == (1, 3)


def test_empty_span_is_an_error():
    with pytest.raises(ValueError):
        normalize("服务很好").to_original(2, 2)


def test_deterministic_and_input_untouched():
    import pandas as pd

    frame = pd.DataFrame({"text": ["房間很乾淨", "上菜慢😡"]})
    before = frame.copy()
    first = normalize_frame(frame)
    second = normalize_frame(frame)
    assert first.tolist() == second.tolist() == ["房间很干净", "上菜慢"]
    pd.testing.assert_frame_equal(frame, before)


def test_result_is_immutable():
    norm = normalize("很好")
    assert isinstance(norm, Normalized)
    with pytest.raises(AttributeError):
        norm.text = "x"


def test_quick_edit_check_never_misses_an_edit():
    # normalize skips the edit pass when _MAY_EDIT finds nothing, so it must match wherever _EDITS does.
    import random

    from cxtext.normalize import _EDITS, _MAY_EDIT

    rng = random.Random(3)
    pieces = ["很好", "等", "<", "br>", "&", "amp;", "(", "（", "duì", ")", "😡", "☀", "\ufe0f", "！", "，", ",",
              "…", "。", " ", "\t", "\u00a0", "\u3000", "a", "1", "好"]
    texts = [t for t, _ in CASES] + ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
                                     for _ in range(2000)]
    edited = 0
    for text in texts:
        if _EDITS.search(text):
            edited += 1
            assert _MAY_EDIT.search(text), text
    assert edited > 100


def test_traditional_text_is_detected():
    from cxtext.normalize import _has_traditional

    assert _has_traditional("房間很乾淨")
    assert not _has_traditional("房间很干净，ＷｉＦｉ很快")
    assert _has_traditional("\U0002005e😡")  # beyond the BMP, next to an emoji
    assert not _has_traditional("很好😡")


def test_list_and_dict_translation_agree_with_and_without_emoji():
    import random

    from cxtext.normalize import _char_table, _translate

    table = _char_table()
    astral = sorted(code for code in table if code >= 0x10000)
    assert astral, "the traditional table has characters beyond the BMP"
    rng = random.Random(5)
    alphabet = list("房間很乾淨ＷｉＦｉ，！ABCxyz好的服务") + ["😡", chr(astral[0])]
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _translate(text) == text.translate(table), text
    # a traditional character beyond the BMP is found and converted next to an emoji
    assert _translate(chr(astral[0]) + "😡") == table[astral[0]] + "😡"
