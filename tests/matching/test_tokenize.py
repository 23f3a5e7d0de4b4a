from matching import Tokenizer


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


def test_empty_and_emoji_text_are_harmless():
    tokenizer = Tokenizer()
    assert tokenizer.cut("") == []
    assert tokenizer.cut("   ") == []
    assert tokenizer.cut("😀🤖 机器人") == ["机器人"]
