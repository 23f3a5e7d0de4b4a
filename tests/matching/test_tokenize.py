from matching import Matcher, Tokenizer
from matching.items import Item
from matching.tokenize import whole_words


def test_user_words_stay_whole_and_text_is_normalised():
    tokenizer = Tokenizer(user_words=["蓝藻水华"])
    words = tokenizer.cut("ＡＩ识别太湖蓝藻水华")
    assert "蓝藻水华" in words
    assert "ai" in words


def test_stop_words_and_punctuation_are_dropped():
    assert Tokenizer().cut("的，了！！和") == []


def test_search_mode_adds_sub_words():
    words = Tokenizer().cut_for_search("人工智能")
    assert {"人工", "智能", "人工智能"} <= set(words)


def test_matching_reads_whole_words_not_their_search_mode_parts():
    words = Tokenizer().cut_for_search("无人机精细化巡检 数据 数据中心")
    assert {"人机", "精细", "细化"} <= set(words)
    assert whole_words(words) == ["无人机", "精细化", "巡检", "数据", "数据中心"]
    assert whole_words([]) == []


def test_a_shared_long_word_counts_once_not_once_per_part():
    # Read as a word, 人机 (a part of 无人机) would tie 人机交互 to drones.
    supply = [
        Item("drones", "无人机巡检服务", "多旋翼无人机"),
        Item("hci", "人机交互大屏", "人机交互界面设计"),
    ]
    drones, hci = Matcher().fit(supply).rank(Item("s", "无人机巡检", "河道")).matches
    assert (drones.supply_id, hci.supply_id) == ("drones", "hci")
    hci_reasons = {r["factor"]: r["text"] for r in hci.reasons}
    assert "words" not in hci_reasons  # no shared word, only a shared bigram
    assert "人机" in hci_reasons["chars"]


def test_empty_and_emoji_text_are_harmless():
    tokenizer = Tokenizer()
    assert tokenizer.cut("") == []
    assert tokenizer.cut("   ") == []
    assert tokenizer.cut("😀🤖 机器人") == ["机器人"]
