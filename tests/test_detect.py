"""detect: the taxonomy's categories and hard cases, pinned with sentences of our own.

Each row: (text, category, expected review-level polarity or None for "not mentioned").
"""
import pytest

from cxtext.evaluate import review_labels

TRAPS = [
    # negation flips polarity
    ("浴室一点都不脏，毛巾也是新的", "hygiene", "pos"),
    ("房间里没有异味，睡得很好", "odor", "pos"),
    ("到了直接进去，不用等", "waiting_time", "pos"),
    ("诊室不太干净，椅子上有血迹", "hygiene", "neg"),
    ("外卖送得不是很快", "waiting_time", "neg"),
    ("前台服务员不太热情", "staff_attitude", "neg"),
    ("没有闻到任何异味", "odor", "pos"),
    ("床单没有洗干净", "hygiene", "neg"),
    ("鸡翅上还有毛，没处理干净", "hygiene", "neg"),  # 处理 is also a term (waiting_time)
    # 那种 / 过于 between a negator and its term still let it scope
    ("店员挺客气，从来没有那种爱答不理的架子", "staff_attitude", "pos"),
    ("服务员虽然很忙，但也没有过于冷淡", "staff_attitude", "pos"),
    # ... and across a causative before a feeling
    ("前台的态度实在不让人满意", "staff_attitude", "neg"),
    ("配送时间一点也不让人满意", "waiting_time", "neg"),
    ("收银员的态度一点也不令人失望", "staff_attitude", "pos"),
    # a negation after the term that closes its clause flips it too
    ("护士说话很冲，一点耐心都没有", "staff_attitude", "neg"),
    ("服务员一点热情也没有啊", "staff_attitude", "neg"),
    ("刚装修完的房间，一点异味都没有", "odor", "pos"),
    # ... but not when it belongs to a later verb
    ("店员的耐心都没有白费，问题最后解决了", "staff_attitude", "pos"),
    # double negation cancels
    ("说实话这家也不是不干净", "hygiene", "pos"),
    # a negator belongs to its own verb, not to the next clause's term
    ("饮料一直不上，催了半天", "waiting_time", "neg"),
    # pseudo-negators are not negators
    ("个别虾洗得不是很干净", "hygiene", "neg"),
    ("菜品不错，就是上菜特别慢", "waiting_time", "neg"),
    # contrast: a negative mention wins at review level
    ("房间很干净，就是卫生间有点脏", "hygiene", "neg"),
    ("虽然环境不错，但是服务员态度很差", "staff_attitude", "neg"),
    # a conceded judgement answered by the opposite verdict on the same thing yields to it
    ("虽然有点贵，但是很值", "price", "pos"),
    ("牛腩虽然小贵，但也值了", "price", "pos"),
    # ... not when the answer names someone else, nor across a full stop
    ("虽然前台态度不好，但是经理很热情", "staff_attitude", "neg"),
    ("虽然贵了点。但是服务好", "price", "neg"),
    # expectation, wish and hearsay
    ("希望下次不用排这么久", "waiting_time", "neg"),
    ("送餐快点就更好了", "waiting_time", "neg"),
    ("听说要排队，结果没排就进去了", "waiting_time", "pos"),
    ("店员很热情，希望继续保持", "staff_attitude", "pos"),
    ("网上有人评论说前台态度差", "staff_attitude", None),
    # takeaway delivery
    ("这次外卖送了一个半小时", "waiting_time", "neg"),
    ("下单二十分钟就送到了，很准时", "waiting_time", "pos"),
    ("包装很好，汤一点没洒", "waiting_time", None),
    # delivery slots are not booking; late delivery is waiting
    ("预定12:15送到，结果一点才送来", "booking", None),
    ("预定12:15送到，结果一点才送来", "waiting_time", "neg"),
    ("午饭比预定时间快了二十分钟送到", "booking", None),
    ("午饭比预定时间快了二十分钟送到", "waiting_time", "pos"),
    # ... and a guest later than the booked time is neither a wait nor a broken booking
    ("我们比预定时间晚到了四十分钟，酒店还留着房", "waiting_time", None),
    ("我们比预定时间晚到了四十分钟，酒店还留着房", "booking", "pos"),
    # facilities that are slow are not waiting_time
    ("酒店的网速太慢了", "waiting_time", None),
    ("淋浴的热水要等二十分钟才来", "waiting_time", None),
    ("两部电梯高峰时要等很久", "waiting_time", None),
    ("在前台等了二十分钟才办好入住", "waiting_time", "neg"),
    ("电梯慢得要命，热水也不热", "waiting_time", None),
    ("这台笔记本开机特别慢", "waiting_time", None),
    # odor vs taste
    ("这家的鱼香肉丝味道不错", "odor", None),
    ("汤的味道有点淡", "odor", None),
    ("臭豆腐很正宗，臭鳜鱼也好吃", "odor", None),
    ("一进房间就有股霉味", "odor", "neg"),
    ("卫生间有很重的下水道味", "odor", "neg"),
    ("房间的味道很大，开窗也散不掉", "odor", "neg"),
    # "no such smell" across a modifier is a good smell report; a pleasant scent is not a bad one
    ("房间打扫得很勤，完全没有那种刺鼻的消毒水味", "odor", "pos"),
    ("大堂有股淡淡的香薰味，很好闻", "odor", "pos"),
    ("床单没有晒干，盖着有一股霉味", "odor", "neg"),
    # spoiled food that smells: odor and hygiene
    ("米饭馊了，闻着都反胃", "odor", "neg"),
    ("米饭馊了，闻着都反胃", "hygiene", "neg"),
    # spoiled food that smells is both (taxonomy): 肉臭了
    ("外卖里的肉都臭了", "odor", "neg"),
    ("外卖里的肉都臭了", "hygiene", "neg"),
    ("臭豆腐闻着臭吃着香，很正宗", "hygiene", None),
    # review prompts vs the customer's own praise
    ("结账时店员让我给个好评", "review_prompt", "neg"),
    ("袋子里塞了张卡片，五星好评送饮料", "review_prompt", "neg"),
    ("商家打电话来求我改差评", "review_prompt", "neg"),
    ("还没送到就让我评价", "review_prompt", "neg"),
    # "not even … yet, and already": the negator belongs to the verb before 就, not to the prompt
    ("洗发水还没用就让我给好评", "review_prompt", "neg"),
    ("还没入座就催我们扫码写评价", "review_prompt", "neg"),
    # the 好评 a business asks for is not the customer's judgement of the person asking
    ("前台小姐姐让我给个好评", "staff_attitude", None),
    ("前台小姐姐让我给个好评", "review_prompt", "neg"),
    ("店长很热情，结账时让我给好评", "staff_attitude", "pos"),
    # ... but only the phrase's own words are claimed, not an opinion in one of its gaps
    ("送了小菜服务很好让我们写好评", "staff_attitude", "pos"),
    # ... and a phrase that is negated still owns its words
    ("服务员没有让我们给好评", "staff_attitude", None),
    # 另外 ("moreover") is not a separate charge
    ("另外服务费全免", "price", None),
    # a table nobody wiped, whatever ends the clause
    ("桌子都没擦就让我们坐", "hygiene", "neg"),
    ("桌子没擦～", "hygiene", "neg"),
    ("出门没擦防晒", "hygiene", None),
    ("菜很好吃，给个好评！", "review_prompt", None),
    ("五星好评，下次还来", "review_prompt", None),
    ("住过最好的五星级酒店", "review_prompt", None),
    ("连个好评返现都不给", "review_prompt", None),
    ("差评！再也不来了", "review_prompt", None),
    # price
    ("黑鱼38/斤", "price", "neu"),
    ("美团198小程序128，差太多了", "price", "neg"),
    ("价格实惠，性价比很高", "price", "pos"),
    ("理发一次两百多，太贵了", "price", "neg"),
    ("一进门就推销办卡", "price", "neg"),
    ("结账的时候多收了二十块", "price", "neg"),
    ("价格不贵，分量也足", "price", "pos"),
    ("这个价位算不上便宜", "price", "neg"),
    # booking
    ("在小程序上预约了周六的洗牙", "booking", "neu"),
    ("转了好几个客服才约上", "booking", "neg"),
    ("牙科周末一直约不上", "booking", "neg"),
    ("到了前台说没有我的预订信息", "booking", "neg"),
    ("网上买了个吹风机，订单显示已发货", "booking", None),
    # waiting time
    ("排队排了一个多小时", "waiting_time", "neg"),
    ("上菜太慢了", "waiting_time", "neg"),
    ("客服半天不回消息", "waiting_time", "neg"),
    ("发货很快，第二天就收到了", "waiting_time", "pos"),
    ("工作日去不用排队", "waiting_time", "pos"),
    # staff attitude (speed is not attitude)
    ("护士很耐心，讲解也很细", "staff_attitude", "pos"),
    ("收银员爱答不理的", "staff_attitude", "neg"),
    ("客服推来推去，没人管", "staff_attitude", "neg"),
    ("服务员上菜很快", "staff_attitude", None),
    ("送餐小哥态度很好", "staff_attitude", "pos"),
    ("送餐小哥态度很好", "waiting_time", None),
    # hygiene details
    ("汤里吃出一根头发", "hygiene", "neg"),
    ("洗发水很好用，洗完头发很顺", "hygiene", None),
    ("床头柜上全是灰尘", "hygiene", "neg"),
    ("汤汁洒干净了", "hygiene", None),
    # 快 meaning "almost", a rhetorical 这不是…吗, an adjective that is part of a noun
    ("上菜太慢了，锅底都快烧干了", "waiting_time", "neg"),
    ("剪之前没说价格，这不是坑人吗", "price", "neg"),
    # a customer who will praise is not asked to (必须要好评 is their own)
    ("衣服很合身，这次必须要好评", "review_prompt", None),
    ("骑手刚放下袋子就要好评", "review_prompt", "neg"),
    # a rhetorical 对得起 is the opposite of praise
    ("线头到处都是，这种做工对得起这价格吗", "price", "neg"),
    ("菜量足味道好，对得起这个价钱", "price", "pos"),
    ("刚下单第二天就降了两百，价保还不给", "price", "neg"),
    ("拍片的小房间有股霉味", "environment", None),
    # a review about customer service is not a complaint log
    ("客服回复超级慢，等了两个小时", "waiting_time", "neg"),
    # traditional characters, full width, emoji and HTML carry the same labels
    ("房間很髒😡", "hygiene", "neg"),
    ("<p>等了<b>四十分鐘</b></p>", "waiting_time", "neg"),
    ("ＷｉＦｉ很慢，但是前臺很熱情", "staff_attitude", "pos"),
    ("ＷｉＦｉ很慢，但是前臺很熱情", "waiting_time", None),
]


@pytest.mark.parametrize("text, category, expected", TRAPS)
def test_taxonomy_traps(detect, text, category, expected):
    mentions = detect(text)

    class M:  # review_labels reads .category and .polarity
        def __init__(self, c, p):
            self.category, self.polarity = c, p

    labels = review_labels([M(c, p) for c, p, _, _ in mentions])
    assert labels.get(category) == expected, mentions


@pytest.mark.parametrize("text", [t for t, _, _ in TRAPS])
def test_evidence_is_a_slice_of_the_original(detect, text):
    for _, _, evidence, rule in detect(text):
        assert evidence and evidence in text, rule


COMPLAINT_LOGS = [
    # only the customer's turns are tagged; offsets still point into the original
    ("客户：我在店里等了四十分钟\n客服：非常抱歉，我们服务员态度不好\n客户：而且卫生间很脏",
     {"waiting_time": "neg", "hygiene": "neg"}, {"staff_attitude"}),
    ("顾客说昨天理发排队两个小时。坐席回复已反馈门店，门店环境很干净。",
     {"waiting_time": "neg"}, {"hygiene"}),
    ("房间很好，前台很热情。酒店回复2026年3月2日：感谢您的入住，我们的价格实惠",
     {"staff_attitude": "pos"}, {"price"}),
    # one side only and no colon: a review about the agent, not a log
    ("客服回复超级慢，问个尺寸隔了两个小时才回", {"waiting_time": "neg"}, set()),
    # turns marked in brackets, as ticket systems export them
    ("【客户】我想问下营业时间。【客服】抱歉让您久等了，我们的环境很卫生", {}, {"waiting_time", "hygiene"}),
    ("[顾客]技师态度很不耐烦[客服]我们会加强培训", {"staff_attitude": "neg"}, set()),
]


@pytest.mark.parametrize("text, expected, absent", COMPLAINT_LOGS)
def test_complaint_logs_tag_only_customer_turns(detect, text, expected, absent):
    mentions = detect(text)
    found = {c: p for c, p, _, _ in mentions}
    for category, polarity in expected.items():
        assert found.get(category) == polarity, mentions
    assert not absent & set(found), mentions


def test_reported_speech_is_not_a_turn(lexicon, segmenter):
    from cxtext.detect import build_detector

    detector = build_detector(lexicon)
    text = "联系客服说是预售款，等了十天才发货"
    words, starts = segmenter.boundaries(text)
    mentions, is_log = detector.detect(text, words, starts)
    assert not is_log
    assert any(m.category == "waiting_time" and m.polarity == "neg" for m in mentions)


def test_detection_is_deterministic(detect):
    text = "等了一个小时，服务员态度很差，房间倒是很干净"
    assert detect(text) == detect(text)


def test_empty_and_punctuation_only_text(detect):
    assert detect("") == []
    assert detect("。。。！！") == []


def test_rule_ids_name_lexicon_rows(lexicon, detect):
    ids = {r.rule_id for r in lexicon.rules}
    for _, _, _, rule in detect("上菜慢，价格贵，卫生间脏，店员冷漠"):
        assert rule in ids


# --- the regex prefilter: skipping a rule must never lose a match ------------------------------

def test_regex_requirements_are_literal_strings():
    import re

    from cxtext.detect import _requirements

    def reqs(pattern):
        return _requirements(re._parser.parse(pattern))

    assert reqs("(?:高|不错|很高)的性价比") == [frozenset({"高", "不错"}), frozenset({"的性价比"})]
    assert reqs("排队(?:了)?[0-9]+分钟") == [frozenset({"排队"}), frozenset("0123456789"), frozenset({"分钟"})]
    # optional parts, negated classes and wide classes require nothing
    assert reqs("(?:很)?[^，。]{0,4}[\u4e00-\u9fff]") == []
    # a branch with one alternative that requires nothing requires nothing
    assert reqs("(?:送到|.+)") == []


def test_regex_prefilter_never_skips_a_rule_that_matches(lexicon):
    from cxtext.detect import build_detector
    from cxtext.normalize import normalize

    from conftest import CLAUSES

    detector = build_detector(lexicon)
    texts = [normalize(t).text for t, _, _ in TRAPS] + list(CLAUSES)
    admitted = 0
    for text in texts:
        candidates = set(detector.regex_candidates(text))
        for k, (rule, pattern) in enumerate(detector._regex_pairs):
            if pattern.search(text):
                assert k in candidates, (rule.rule_id, text)
        admitted += len(candidates)
    # and it does skip: most rules never run on a given review
    assert admitted < 0.2 * len(texts) * len(detector._regex_pairs)


def test_regex_rules_with_ignorecase_always_run(lexicon):
    import re

    from cxtext.detect import _regex_prefilter

    pairs = [(None, re.compile("(?i)wifi很慢")), (None, re.compile("wifi很慢"))]
    always = _regex_prefilter(pairs).always
    assert always == (0,)


def _clauses_by_cutting(text, words, starts, spans, contrast):
    """The plain statement of clause splitting: cut at every punctuation run's edges and before
    every contrast word, then strip punctuation and whitespace from each piece."""
    from cxtext.detect import CLAUSE_PUNCT

    cuts = sorted({0, len(text)} | {i for i in range(len(text) + 1)
                                    if (i < len(text) and text[i] in CLAUSE_PUNCT) != (i > 0 and text[i - 1] in CLAUSE_PUNCT)}
                  | {s for w, s in zip(words, starts) if w in contrast})
    out = []
    for lo, hi in spans:
        edges = [lo, *[c for c in cuts if lo < c < hi], hi]
        for a, b in zip(edges, edges[1:]):
            while a < b and (text[a] in CLAUSE_PUNCT or text[a].isspace()):
                a += 1
            while b > a and (text[b - 1] in CLAUSE_PUNCT or text[b - 1].isspace()):
                b -= 1
            if b > a:
                out.append((a, b))
    return out


def test_clauses_match_cutting_at_every_boundary(lexicon, segmenter):
    import random

    from cxtext.detect import build_detector

    detector = build_detector(lexicon)
    rng = random.Random(7)
    pieces = ["房间很干净", "但是", "不过", "就是", "，", "。", "！！", " ", "\u2028", "\x0b", "……", "(", "服务", "慢"]
    texts = [t for t, _, _ in TRAPS] + ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
                                        for _ in range(300)]
    for text in texts:
        words, starts = segmenter.boundaries(text)
        spans_options = [[(0, len(text))], [(0, len(text) // 2), (len(text) // 2 + 1, len(text))]]
        for spans in spans_options:
            expected = _clauses_by_cutting(text, words, starts, spans, detector._contrast)
            assert detector.clauses(text, words, starts, spans) == expected, (text, spans)


def test_a_closing_negation_is_part_of_the_evidence(detect):
    found = [(c, p, ev) for c, p, ev, _ in detect("前台一点礼貌都没有。") if c == "staff_attitude"]
    assert found == [("staff_attitude", "neg", "一点礼貌都没有")]


def test_an_opinion_row_keeps_its_own_excludes(detect):
    # 快 before 睡着 is "almost", so the queue number is not called "fast"; 都快 after a list of
    # speeds still is.
    assert [(c, p) for c, p, _, _ in detect("叫号叫到我都快睡着了") if c == "waiting_time"] == [("waiting_time", "neg")]
    assert ("waiting_time", "pos") in [(c, p) for c, p, _, _ in detect("配送速度、上门速度都快")]
    # an exclude counts only where it overlaps the opinion, not anywhere in the clause
    assert ("waiting_time", "pos") in [(c, p) for c, p, _, _ in detect("快关门的时候去的上菜还是很快")]
    assert ("waiting_time", "pos") in [(c, p) for c, p, _, _ in detect("上菜很快没等多久")]


def test_a_phrase_is_the_verdict_on_the_words_inside_it(detect):
    # 没有…划算 is one comparison (price neg), not also a price that is 划算
    assert [(c, p) for c, p, _, _ in detect("办了年卡以后发现还没有团购划算") if c == "price"] == [("price", "neg")]
    assert [(c, p) for c, p, _, _ in detect("会员价还没有平台上买便宜") if c == "price"] == [("price", "neg")]
    # a term of the same category beside the phrase, not inside it, still counts
    assert ("price", "pos") in [(c, p) for c, p, _, _ in detect("套餐很划算，单点还没有团购便宜")]


def test_bad_is_not_a_negator_of_what_follows(detect):
    # 不好 is a judgement (口感不好), not 不 + 好 scoping over the next term
    assert [(c, p) for c, p, _, _ in detect("面包口感不好有霉味") if c == "odor"] == [("odor", "neg")]
    assert [(c, p) for c, p, _, _ in detect("看着不好不值这个价") if c == "price"] == [("price", "neg")]
    assert [(c, p) for c, p, _, _ in detect("卫生不好") if c == "hygiene"] == [("hygiene", "neg")]


def test_a_one_character_opinion_before_the_aspect(detect):
    # joined by 的 and graded, or a complaint: a judgement of the aspect
    assert ("staff_attitude", "neg") in [(c, p) for c, p, _, _ in detect("碰到这么差的客服真是头一回")]
    assert ("staff_attitude", "pos") in [(c, p) for c, p, _, _ in detect("冲着那么好的服务也会再来")]
    assert ("staff_attitude", "neg") in [(c, p) for c, p, _, _ in detect("最差的服务就在这家")]
    # a relative clause or a promise is not
    assert [c for c, _, _, _ in detect("条件好的房间都留给了熟客") if c == "environment"] == []
    assert [c for c, _, _, _ in detect("以后会为大家提供更好的服务") if c == "staff_attitude"] == []


def test_a_wish_far_back_in_an_unpunctuated_review_does_not_flip_a_later_term(detect):
    # a review typed without punctuation is one clause; 建议 belongs to its own request only
    text = "建议周末早点来不然要排很久的队我们这次点了烤鱼和两个小炒鱼很新鲜小炒有点咸总体不错价格也不贵"
    assert [(c, p) for c, p, _, _ in detect(text) if c == "price"] == [("price", "pos")]
    assert ("price", "neg") in [(c, p) for c, p, _, _ in detect("建议价格再便宜一点")]


def test_hao_before_a_complaint_is_a_degree_word(detect):
    # 好差 is 'very bad': the 好 grades what follows it and praises nothing
    assert [(c, p) for c, p, _, _ in detect("前台的服务态度好差") if c == "staff_attitude"] == [("staff_attitude", "neg")]
    assert [(c, p) for c, p, _, _ in detect("那个收银员态度好恶劣") if c == "staff_attitude"] == [("staff_attitude", "neg")]
    assert [(c, p) for c, p, _, _ in detect("这里的价格好贵") if c == "price"] == [("price", "neg")]
    assert [(c, p) for c, p, _, _ in detect("今天上菜好慢啊") if c == "waiting_time"] == [("waiting_time", "neg")]
    # before praise both readings praise; 好多了 is 'much better'; 好几天 is a quantity
    assert ("staff_attitude", "pos") in [(c, p) for c, p, _, _ in detect("他们家服务好周到")]
    assert ("staff_attitude", "pos") in [(c, p) for c, p, _, _ in detect("换了店长以后服务好多了")]
    assert ("delivery", "pos") not in [(c, p) for c, p, _, _ in detect("快递好几天才到")]
    # 大 is praise for a room and a complaint about noise: not a complaint word on its own
    assert [(c, p) for c, p, _, _ in detect("我们的房间好大") if c == "environment"] == [("environment", "pos")]


def test_a_comparison_that_falls_short_is_a_complaint(detect):
    assert [(c, p) for c, p, _, _ in detect("这次的卫生比不上上回那家分店") if c == "hygiene"] == [("hygiene", "neg")]
    assert [(c, p) for c, p, _, _ in detect("店里的卫生条件不如以前了") if c == "hygiene"] == [("hygiene", "neg")]
    # 不如 proposing something else judges nothing
    assert [c for c, _, _, _ in detect("店员说不如换一家分店试试") if c == "staff_attitude"] == []


def test_a_result_that_was_not_reached_is_a_complaint(detect):
    # 没 + verb + result: 没 denies the result, though a verb stands between them
    assert [(c, p) for c, p, _, _ in detect("前台和客房部没沟通好") if c == "staff_attitude"] == [("staff_attitude", "neg")]
    assert [(c, p) for c, p, _, _ in detect("我们到的时候房间还没打扫好") if c == "hygiene"] == [("hygiene", "neg")]
    assert [(c, p) for c, p, _, _ in detect("餐厅的卫生没有做到位") if c == "hygiene"] == [("hygiene", "neg")]
    assert [(c, p) for c, p, _, _ in detect("虾线都不处理干净就端上来") if c == "hygiene"] == [("hygiene", "neg")]
    # a negation further back denies something else; 不错 and 不小 are judgements, not 不 + verb
    assert [(c, p) for c, p, _, _ in detect("没想到这家店这么干净") if c == "hygiene"] == [("hygiene", "pos")]
    assert [(c, p) for c, p, _, _ in detect("店面不大不小干净简单") if c == "hygiene"] == [("hygiene", "pos")]
    assert [(c, p) for c, p, _, _ in detect("装修不错也干净") if c == "hygiene"] == [("hygiene", "pos")]


def test_yiban_as_an_adverb_judges_nothing(detect):
    # 一般 is 'mediocre' when it ends its phrase, 'usually' or 'ordinary' before more words
    assert [(c, p) for c, p, _, _ in detect("这家店服务一般，上菜也慢") if c == "staff_attitude"] == [("staff_attitude", "neg")]
    assert [(c, p) for c, p, _, _ in detect("有要求跟服务员说，一般都会满足") if c == "staff_attitude"] == []
    assert [(c, p) for c, p, _, _ in detect("烤鸭的价格一般在两百左右") if c == "price"] == [("price", "neu")]


def test_an_opinion_about_what_the_staff_recommended_is_not_about_the_staff(detect):
    assert [c for c, _, _, _ in detect("店长推荐的招牌鱼很一般") if c == "staff_attitude"] == []
    # 做的 + degree word is a complement: the aspect itself is judged
    assert [(c, p) for c, p, _, _ in detect("这家的卫生做的不好") if c == "hygiene"] == [("hygiene", "neg")]
    assert ("noise", "pos") in [(c, p) for c, p, _, _ in detect("房间的隔音做的不错")]


def test_a_repair_wait_is_not_a_service_wait(detect):
    assert ("waiting_time", "neg") not in [(c, p) for c, p, _, _ in detect("手机送修，又是漫长的等待配件")]
    assert ("waiting_time", "neg") in [(c, p) for c, p, _, _ in detect("点了外卖，又是一次漫长的等待")]
