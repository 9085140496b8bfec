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
    # normalize skips the edit pass when _MAY_EDIT finds nothing, so it must match wherever _EDITS
    # or _SPACED_RUN does.
    import random

    from cxtext.normalize import _EDITS, _MAY_EDIT, _SPACED_RUN

    rng = random.Random(3)
    pieces = ["很好", "等", "<", "br>", "&", "amp;", "(", "（", "duì", ")", "😡", "☀", "\ufe0f", "！", "，", ",",
              "…", "。", " ", "\t", "\u00a0", "\u3000", "a", "1", "好"]
    spaced = ["差 ", "好 ", "4 ", "很好 ", " ", "a", "<", "br>", "，", "!!"]  # runs and their edges
    texts = [t for t, _ in CASES + SPACED_OUT] + [t for t, _, _ in ENTITIES_IN_RUNS]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 10))) for _ in range(2000)]
    texts += ["".join(rng.choice(spaced) for _ in range(rng.randint(1, 10))) for _ in range(500)]
    edited = runs = 0
    for text in texts:
        if _EDITS.search(text) or _SPACED_RUN.search(text):
            edited += 1
            runs += _SPACED_RUN.search(text) is not None
            assert _MAY_EDIT.search(text), text
    assert edited > 100 and runs > 40


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


# Customers space out every character to stress a point or get round a word filter; the spaces
# inside such a run go, a space between phrases (a clause break) stays.
SPACED_OUT = [
    # (original, normalised)
    ("服 务 态 度 差", "服务态度差"),
    ("等 了 一 个 小 时 才 上 菜", "等了一个小时才上菜"),
    ("房 间 很 脏", "房间很脏"),
    ("服 务 态 度 差，等 了 很 久", "服务态度差,等了很久"),  # two runs
    ("我 要 投 诉 你们的服务员", "我要投诉 你们的服务员"),  # the run ends where the phrase starts
    ("环境还行 前 台 很 凶", "环境还行 前台很凶"),
    ("等 了 4 0 分 钟", "等了40分钟"),  # digits spaced out with the characters
    ("態 度 很 差", "态度很差"),
    ("服　务　态　度　差", "服务态度差"),  # full-width spaces
    ("服 务 态 度\xa0差", "服务态度差"),  # a no-break space, as HTML exports write them
    ("<b>上 菜 太 慢</b>！！", "上菜太慢!"),
    ("😡差 差 差", "差差差"),
    ("环境不错 服 务 态 度 差 房间干净 前台热情", "环境不错 服务态度差 房间干净 前台热情"),
    ('<img alt="好 好 好">服 务 很 好', "服务很好"),  # a run inside a tag goes with the tag
]
NOT_SPACED_OUT = [
    "环境不错 服务很好",  # phrases separated by one space
    "房间干净 前台热情",
    "好 吃",  # two isolated characters are too little to go on
    "好吃 好 喝",
    "还 可以 吧",  # single characters, but not a run of them
    "很 好 的app",  # 的 belongs to "的app"
    "1 2 3 好",  # digits do not count towards the three characters
    "房间 3 0 1 很吵",
    "free wifi",
    "wi fi 很 慢",
]


@pytest.mark.parametrize("original, expected", SPACED_OUT)
def test_spaced_out_characters_are_joined(original, expected):
    assert normalize(original).text == expected


@pytest.mark.parametrize("original", NOT_SPACED_OUT + ["Wi Fi"])
def test_spaces_between_phrases_words_and_pairs_stay(original):
    assert normalize(original).text == original.lower()


@pytest.mark.parametrize("original, expected", SPACED_OUT)
def test_joined_characters_map_to_their_own_original_character(original, expected):
    from cxtext.normalize import _translate

    norm = normalize(original)
    mapped = []
    for i in range(len(norm.text)):
        s, e = norm.to_original(i, i + 1)
        if original[s:e] == "！！":
            mapped.append("!")  # doubled punctuation is one edit
            continue
        assert e == s + 1, (i, original[s:e])
        mapped.append(_translate(original[s]))
    assert "".join(mapped) == norm.text == expected  # a deleted space maps to nothing


def test_joined_word_maps_back_to_the_spaced_original():
    original = "等 了 一 个 小 时 才 上 菜"
    norm = normalize(original)
    assert norm.starts == (0, 2, 4, 6, 8, 10, 12, 14, 16)
    assert norm.ends == (1, 3, 5, 7, 9, 11, 13, 15, 17)
    start = norm.text.index("一个小时")
    assert norm.to_original(start, start + 4) == (4, 11)
    assert original[4:11] == "一 个 小 时"
    mixed = "服 务 态 度 差，等 了 4 0 分 钟"
    norm = normalize(mixed)
    start = norm.text.index("等了40分钟")
    s, e = norm.to_original(start, start + 6)
    assert mixed[s:e] == "等 了 4 0 分 钟"


# An HTML entity standing for a Chinese character or a space is that character: a spaced-out run
# through it joins like any other, and the character it gives maps back to the whole entity.
ENTITIES_IN_RUNS = [
    # (original, normalised, the original text behind each normalised character)
    ("好 &#22909; 好", "好好好", ["好", "&#22909;", "好"]),
    ("服 务&nbsp;态 度", "服务态度", ["服", "务", "态", "度"]),
    ("服 &#x52a1; 态 度 差", "服务态度差", ["服", "&#x52a1;", "态", "度", "差"]),
    ("服&#x52a1; 态 度 差", "服务 态度差", ["服", "&#x52a1;", " ", "态", "度", "差"]),  # as 服务 态 度 差
    ("前&#12288;台 很 凶", "前台很凶", ["前", "台", "很", "凶"]),  # an ideographic space
    ("房 &#38291; 很 髒", "房间很脏", ["房", "&#38291;", "很", "髒"]),  # 間, made simplified too
    ("等了&#20037;(jiǔ)", "等了久", ["等", "了", "&#20037;"]),  # its pinyin annotation goes
]


@pytest.mark.parametrize("original, expected, behind", ENTITIES_IN_RUNS)
def test_entities_for_characters_and_spaces_join_like_the_characters(original, expected, behind):
    norm = normalize(original)
    assert norm.text == expected
    assert [original[slice(*norm.to_original(i, i + 1))] for i in range(len(norm.text))] == behind


def test_other_entities_are_never_taken_for_markup_or_entities():
    # Only what stands for a character or a space is decoded before the other edits: an escaped
    # tag stays text, and an escaped entity is decoded once.
    assert normalize("好 吃&lt;br&gt;").text == "好 吃<br>"
    assert normalize("好 好 &amp;#22909; 好").text == "好 好 &#22909; 好"


def test_spaced_out_complaints_are_tagged_with_original_evidence():
    from cxtext.tagger import load_resources, tag_texts

    resources = load_resources()
    expected = {"服 务 态 度 差": ("staff_attitude", "服 务 态 度 差"),
                "等 了 一 个 小 时 才 上 菜": ("waiting_time", "等 了 一 个 小 时")}
    for tagged in tag_texts(list(expected), resources):
        original = tagged.norm.original
        category, evidence = expected[original]
        found = []
        for m in tagged.mentions:
            s, e = tagged.norm.to_original(m.start, m.end)
            found.append((m.category, m.polarity, original[s:e]))
        assert (category, "neg", evidence) in found, found
