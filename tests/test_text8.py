import bz2
import importlib.util
import zipfile

import numpy as np
import pytest

from keras_sab.tasks import text8
from keras_sab.tasks.text8 import TEXT8_ALPHABET
from keras_sab.tasks.text8 import char_windows_dataset
from keras_sab.tasks.text8 import decode_text8
from keras_sab.tasks.text8 import encode_text8
from keras_sab.tasks.text8 import gensim_wikipedia_excerpt_path
from keras_sab.tasks.text8 import read_text8
from keras_sab.tasks.text8 import text8_filter
from keras_sab.tasks.text8 import text8_splits
from keras_sab.tasks.text8 import wikipedia_xml_to_text8

WIKI_XML = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">
  <page>
    <title>Redirect Page</title>
    <revision>
      <text xml:space="preserve">#REDIRECT [[Target Page]]</text>
    </revision>
  </page>
  <page>
    <title>Anarchism Title</title>
    <revision>
      <id>42</id>
      <text xml:space="preserve">'''Anarchism''' is a [[political philosophy|Political Philosophy]] born in 1840.{{Infobox person|name=X}}
He said &quot;Hello&quot; to Smith&amp;nbsp;Jones.
Cats &amp; dogs&lt;ref&gt;Smith 2004, p. 7&lt;/ref&gt; live in [[Paris]]. See [http://example.com the Example site].
[[Image:Flag.png|thumb|left|200px|A black Flag]]
[[Category:Political Ideologies]]
[[de:Anarchismus]]
{| class=&quot;wikitable&quot;
| cell 3
|}</text>
      <sha1>abc123</sha1>
    </revision>
  </page>
  <page>
    <title>Second</title>
    <revision>
      <text bytes="20" xml:space="preserve">Second PAGE, 2nd line&lt;br /&gt; end</text>
    </revision>
  </page>
</mediawiki>
"""
WIKI_TEXT8 = (
    " anarchism is a political philosophy born in one eight four zero"
    " he said hello to smith jones"
    " cats dogs live in paris see the example site"
    " a black flag"
    " political ideologies"
    " second page two nd line end"
)


@pytest.fixture(scope="module")
def excerpt_text():
    """The gensim excerpt through the filter (the slow part, done once)."""
    return wikipedia_xml_to_text8(gensim_wikipedia_excerpt_path())


def test_filter_turns_wikipedia_markup_into_text8():
    """ALGORITHM.md §9: text8's filter keeps visible article text only (no titles,
    redirects, refs, templates, tables, link targets, image options, URLs),
    decodes entities, lower-cases and spells out digits."""
    assert text8_filter(WIKI_XML) == WIKI_TEXT8


def test_filter_keeps_nothing_outside_text_elements():
    """ALGORITHM.md §9: titles and other XML fields are not article text."""
    assert text8_filter("<title>Some Title 1</title><id>7</id>") == ""


def test_dump_files_plain_and_bz2_give_the_filtered_text(tmp_path):
    """ALGORITHM.md §9: dumps are read from plain or .bz2 XML files."""
    plain = tmp_path / "dump.xml"
    plain.write_text(WIKI_XML, encoding="utf-8")
    packed = tmp_path / "dump.xml.bz2"
    packed.write_bytes(bz2.compress(WIKI_XML.encode("utf-8")))
    assert wikipedia_xml_to_text8(str(plain)) == WIKI_TEXT8
    assert wikipedia_xml_to_text8(str(packed)) == WIKI_TEXT8
    assert wikipedia_xml_to_text8(str(packed), max_chars=20) == WIKI_TEXT8[:20]


def test_gensim_excerpt_gives_millions_of_text8_characters(excerpt_text):
    """ALGORITHM.md §9: gensim's Wikipedia excerpt becomes real text8-style text,
    the same when streamed in chunks as when filtered in one piece."""
    text = excerpt_text
    assert len(text) == 3_085_829
    assert text.startswith(" anarchism is a political philosophy")
    assert set(text) == set(TEXT8_ALPHABET)
    assert "  " not in text
    words = text.split()
    assert words.count("the") > 0.04 * len(words)
    with bz2.open(gensim_wikipedia_excerpt_path(), "rt", encoding="utf-8") as stream:
        assert text8_filter(stream.read()) == text


def test_missing_gensim_says_how_to_install_it(monkeypatch):
    """ALGORITHM.md §9: the excerpt needs gensim; its absence is a clear error."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "gensim" else find_spec(name, *args),
    )
    with pytest.raises(ModuleNotFoundError, match=r"pip install keras-sab\[datasets\]"):
        gensim_wikipedia_excerpt_path()


def test_read_text8_reads_the_zip_and_the_plain_file(tmp_path):
    """ALGORITHM.md §9: a user with the real text8.zip points the loader at it."""
    corpus = " anarchism originated as a term of abuse"
    archive = tmp_path / "text8.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("text8", corpus)
    plain = tmp_path / "text8"
    plain.write_text(corpus)
    assert read_text8(str(archive)) == corpus
    assert read_text8(str(plain)) == corpus


def test_splits_are_90_5_5_in_order():
    """ALGORITHM.md §8 (Text8): train/valid/test are the first 90%, next 5%, last 5%
    (90M/5M/5M on the full 100M characters)."""
    text = decode_text8(np.random.default_rng(0).integers(0, 27, size=2000))
    train, valid, test = text8_splits(text)
    assert (len(train), len(valid), len(test)) == (1800, 100, 100)
    assert train + valid + test == text
    assert valid == text[1800:1900]


def test_encoding_maps_space_to_0_and_letters_to_1_to_26():
    """ALGORITHM.md §8 (Text8): 27 symbols, round-trip exact."""
    ids = encode_text8(" az b")
    assert ids.tolist() == [0, 1, 26, 0, 2]
    assert decode_text8(ids) == " az b"
    assert decode_text8(encode_text8(TEXT8_ALPHABET)) == TEXT8_ALPHABET
    with pytest.raises(ValueError, match=r"Received 'B' at position 2"):
        encode_text8("a B")
    with pytest.raises(ValueError, match="position 1"):
        encode_text8("aé")


def test_char_windows_predict_the_next_character():
    """ALGORITHM.md §8 (Text8): next-character prediction, y is x shifted by one."""
    text = " the quick brown fox jumps"
    ds = char_windows_dataset(text, seq_len=5, batch_size=2)
    batches = list(ds.as_numpy_iterator())
    x = np.concatenate([batch[0] for batch in batches])
    y = np.concatenate([batch[1] for batch in batches])
    assert x.shape == ((len(text) - 1) // 5, 5, 27) and x.dtype == np.float32
    assert y.dtype == np.int32
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    for i in range(len(x)):
        assert decode_text8(x[i].argmax(axis=-1)) == text[5 * i : 5 * i + 5]
        assert decode_text8(y[i]) == text[5 * i + 1 : 5 * i + 6]


def test_char_windows_as_ids_and_shuffled_hold_the_same_windows():
    """ALGORITHM.md §8 (Text8): integer inputs for an Embedding; shuffling reorders
    whole windows only."""
    text = decode_text8(np.random.default_rng(1).integers(0, 27, size=401))
    plain = list(
        char_windows_dataset(text, 10, 8, one_hot=False).unbatch().as_numpy_iterator()
    )
    shuffled = list(
        char_windows_dataset(text, 10, 8, one_hot=False, shuffle=True, seed=3)
        .unbatch()
        .as_numpy_iterator()
    )
    assert len(plain) == 40 and plain[0][0].shape == (10,)
    np.testing.assert_array_equal(plain[3][0], encode_text8(text[30:40]))
    def as_set(windows):
        return sorted(x.tobytes() + y.tobytes() for x, y in windows)

    assert as_set(plain) == as_set(shuffled)
    assert [x.tobytes() for x, _ in plain] != [x.tobytes() for x, _ in shuffled]


def test_char_windows_reject_bad_arguments():
    """ALGORITHM.md §8 (Text8): bad settings are ValueErrors naming the argument."""
    with pytest.raises(ValueError, match="`seq_len` must be an integer >= 1"):
        char_windows_dataset("abc", seq_len=0, batch_size=1)
    with pytest.raises(ValueError, match="at least seq_len \\+ 1 = 4 characters"):
        char_windows_dataset("abc", seq_len=3, batch_size=1)


def test_excerpt_path_points_into_the_gensim_package():
    """ALGORITHM.md §9: the excerpt is located inside the installed gensim."""
    path = gensim_wikipedia_excerpt_path()
    assert path.endswith(text8.GENSIM_EXCERPT)
    with bz2.open(path, "rt", encoding="utf-8") as stream:
        assert stream.read(100).startswith("<mediawiki")
