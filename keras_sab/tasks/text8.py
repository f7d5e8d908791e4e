"""Text8-style character-level language modelling data (ALGORITHM.md §8, §9).

text8 is the first 10^8 bytes of an English Wikipedia dump passed through
Matt Mahoney's filter `wikifil.pl`: only the visible article text is kept,
lower-cased, with digits spelled out and every other character turned into a
single space. `text8_filter` is a rule-by-rule port of that filter, so the
same text can be produced offline from any Wikipedia XML dump, for example
the Wikipedia excerpt shipped with gensim (`gensim_wikipedia_excerpt_path`).

Characters are encoded as 27 symbols: `' '` is `0`, `'a'` .. `'z'` are
`1` .. `26` (`TEXT8_ALPHABET[i]` is the character of id `i`).
"""

import bz2
import functools
import re
import string
import zipfile

import numpy as np
import tensorflow as tf

from keras_sab import validation
from keras_sab.tasks._package_data import package_data_path

TEXT8_ALPHABET = " abcdefghijklmnopqrstuvwxyz"
TEXT8_VOCAB_SIZE = len(TEXT8_ALPHABET)
GENSIM_EXCERPT = (
    "test/test_data/"
    "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
)

_ASCII_IGNORECASE = re.ASCII | re.IGNORECASE
_REDIRECT = re.compile(r"#redirect", _ASCII_IGNORECASE)
_FIRST_XML_TAG = re.compile(r"<.*>")
# wikifil.pl's substitutions, in its order: (pattern, replacement, flags).
_MARKUP_RULES = [
    (re.compile(pattern, flags), replacement)
    for pattern, replacement, flags in (
        (r"&amp;", "&", 0),  # Decode the escaped characters.
        (r"&lt;", "<", 0),
        (r"&gt;", ">", 0),
        (r"<ref[^<]*</ref>", "", 0),  # References.
        (r"<[^>]*>", "", 0),  # XHTML tags.
        (r"\[http:[^\] ]*", "[", 0),  # URL of an external link; keep its text.
        (r"\|thumb", "", _ASCII_IGNORECASE),  # Image options; keep the caption.
        (r"\|left", "", _ASCII_IGNORECASE),
        (r"\|right", "", _ASCII_IGNORECASE),
        (r"\|[0-9]+px", "", _ASCII_IGNORECASE),
        (r"\[\[image:[^\[\]]*\|", "", _ASCII_IGNORECASE),
        (r"\[\[category:([^|\]]*)[^\]]*\]\]", r"[[\1]]", _ASCII_IGNORECASE),
        (r"\[\[[a-z\-]*:[^\]]*\]\]", "", 0),  # Links to other languages.
        (r"\[\[[^|\]]*\|", "[[", 0),  # Link target; keep the anchor text.
        (r"\{\{[^}]*\}\}", "", 0),  # Templates.
        (r"\{[^}]*\}", "", 0),  # Tables.
        (r"\[", "", 0),
        (r"\]", "", 0),
        (r"&[^;]*;", " ", 0),  # Any other entity.
    )
]
_DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
_LOWER_AND_SPELL_DIGITS = str.maketrans(
    {
        **dict(zip(string.ascii_uppercase, string.ascii_lowercase)),
        **{digit: f" {word} " for digit, word in zip(string.digits, _DIGIT_WORDS)},
    }
)
_NOT_A_TO_Z = re.compile(r"[^a-z]+")
_DECODE = np.frombuffer(TEXT8_ALPHABET.encode("ascii"), dtype=np.uint8)
_ENCODE = np.full(256, TEXT8_VOCAB_SIZE, dtype=np.uint8)  # Invalid by default.
_ENCODE[_DECODE] = np.arange(TEXT8_VOCAB_SIZE)


def text8_filter(xml):
    """Filters Wikipedia XML into text8-style text, exactly like `wikifil.pl`.

    As in the original, the input is cut into records that end with `>`;
    records from one containing `<text ` up to the one containing `</text>`
    are kept, and a record mentioning `#redirect` (any case) drops the rest of
    its page. Each kept record loses XML tags, references, templates, tables,
    link targets, image options and URLs, keeps link anchors and image
    captions, is lower-cased, has its digits spelled out (`"7"` becomes
    `" seven "`) and every run of other characters becomes one space. The
    output starts with a space and never holds two spaces in a row.

    Args:
        xml: Wikipedia XML (a MediaWiki dump or part of one), as a string.

    Returns:
        The filtered text: only `' '` and `'a'` .. `'z'`.

    Example:

    >>> text8_filter('<text xml:space="preserve">The [[Cat|cats]] of 1999</text>')
    ' the cats of one nine nine nine'
    """
    return "".join(_filter_records(_split_records([xml])))


def wikipedia_xml_to_text8(path, max_chars=None):
    """Streams a Wikipedia XML dump, plain or `.bz2`, through `text8_filter`.

    Args:
        path: path of the dump; a name ending in `.bz2` is decompressed.
        max_chars: if not `None`, stop reading once this many characters of
            text are produced, and return exactly that many. Defaults to
            `None` (the whole dump).

    Returns:
        The filtered text, as `text8_filter` would return it for the whole
        file (or its first `max_chars` characters).

    Example:

    >>> text = wikipedia_xml_to_text8(gensim_wikipedia_excerpt_path())
    >>> len(text)
    3085829
    """
    max_chars = validation.check_int("max_chars", max_chars, 1, allow_none=True)
    opener = bz2.open if str(path).endswith(".bz2") else open
    pieces, size = [], 0
    with opener(path, "rt", encoding="utf-8", errors="replace") as stream:
        chunks = iter(functools.partial(stream.read, 1 << 20), "")
        for piece in _filter_records(_split_records(chunks)):
            pieces.append(piece)
            size += len(piece)
            if max_chars is not None and size >= max_chars:
                break
    return "".join(pieces)[:max_chars]


def read_text8(path):
    """Reads text8 from `text8.zip` (as distributed) or a plain text file.

    Args:
        path: path of `text8.zip`, or of the unzipped `text8` file.

    Returns:
        The corpus as a string.

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "text8.zip")
    >>> with zipfile.ZipFile(path, "w") as archive:
    ...     archive.writestr("text8", " anarchism originated as a term")
    >>> read_text8(path)
    ' anarchism originated as a term'
    """
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) != 1:
                raise ValueError(
                    f"{path} must hold exactly one file (the text). "
                    f"It holds: {names}"
                )
            data = archive.read(names[0])
    else:
        with open(path, "rb") as stream:
            data = stream.read()
    return data.decode("ascii")


def text8_splits(text):
    """Splits a corpus 90% / 5% / 5% into train, validation and test.

    On the full text8 (10^8 characters) this is the standard split: the first
    90M characters, the next 5M, the last 5M.

    Args:
        text: the corpus, a string.

    Returns:
        A tuple `(train, valid, test)` of strings.

    Example:

    >>> text8_splits("abcdefghijklmnopqrst")
    ('abcdefghijklmnopqr', 's', 't')
    """
    train_end = len(text) * 90 // 100
    valid_end = len(text) * 95 // 100
    return text[:train_end], text[train_end:valid_end], text[valid_end:]


def encode_text8(text):
    """Maps text8 characters to ids: `' '` to `0`, `'a'` .. `'z'` to `1` .. `26`.

    Args:
        text: a string of spaces and lower-case letters `a` to `z`.

    Returns:
        uint8 array of shape `(len(text),)`.

    Raises:
        ValueError: if `text` holds any other character.

    Example:

    >>> encode_text8("ab z").tolist()
    [1, 2, 0, 26]
    """
    ids = _ENCODE[np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8)]
    bad = np.flatnonzero(ids == TEXT8_VOCAB_SIZE)
    if bad.size:
        raise ValueError(
            "`text` must hold only ' ' and 'a'-'z' (text8 characters). "
            f"Received {text[bad[0]]!r} at position {bad[0]}."
        )
    return ids


def decode_text8(ids):
    """Maps ids back to text8 characters (inverse of `encode_text8`).

    Args:
        ids: integer ids in `0 .. 26`, any array-like of rank 1.

    Returns:
        The string.

    Example:

    >>> decode_text8([1, 2, 0, 26])
    'ab z'
    """
    return _DECODE[np.asarray(ids)].tobytes().decode("ascii")


def char_windows_dataset(
    text, seq_len, batch_size, one_hot=True, shuffle=False, seed=0, drop_remainder=False
):
    """Next-character prediction windows over a text8-style string.

    Window `i` starts at character `i * seq_len` (windows do not overlap):
    `x = ids[i * L : i * L + L]`, `y = ids[i * L + 1 : i * L + L + 1]`, with
    `ids = encode_text8(text)` and `L = seq_len`.

    Args:
        text: a string of spaces and lower-case letters `a` to `z`.
        seq_len: steps per window (`L`). An integer >= 1.
        batch_size: windows per batch. An integer >= 1.
        one_hot: whether `x` is one-hot float32 of width 27 (ready for an RNN)
            or int32 ids (for an `Embedding` layer). Defaults to `True`.
        shuffle: whether to shuffle the windows (on every pass). Defaults to
            `False`.
        seed: seed of the shuffle. Defaults to `0`.
        drop_remainder: whether to drop a last, smaller batch. Defaults to
            `False`.

    Returns:
        A `tf.data.Dataset` of `(x, y)`: `x` of shape `(batch, L, 27)` float32
        (or `(batch, L)` int32), `y` int32 ids of shape `(batch, L)`.

    Example:

    >>> ds = char_windows_dataset(" the cat sat", seq_len=4, batch_size=2)
    >>> x, y = next(iter(ds))
    >>> tuple(x.shape), decode_text8(y[0].numpy())
    ((2, 4, 27), 'the ')
    """
    seq_len = validation.check_int("seq_len", seq_len, 1)
    batch_size = validation.check_int("batch_size", batch_size, 1)
    ids = tf.constant(encode_text8(text))
    num_windows = (len(text) - 1) // seq_len
    if num_windows < 1:
        raise ValueError(
            f"`text` must hold at least seq_len + 1 = {seq_len + 1} characters. "
            f"Received {len(text)} characters."
        )
    windows = tf.data.Dataset.range(num_windows)
    if shuffle:
        windows = windows.shuffle(num_windows, seed=seed)

    def to_example(window):
        x = tf.cast(window[:, :-1], tf.int32)
        y = tf.cast(window[:, 1:], tf.int32)
        return (tf.one_hot(x, TEXT8_VOCAB_SIZE) if one_hot else x), y

    def window(index):
        start = index * seq_len
        return tf.reshape(ids[start : start + seq_len + 1], (seq_len + 1,))

    return (
        windows.map(window)
        .batch(batch_size, drop_remainder=drop_remainder)
        .map(to_example)
        .prefetch(tf.data.AUTOTUNE)
    )


def gensim_wikipedia_excerpt_path():
    """Path of the English Wikipedia XML excerpt shipped in the gensim wheel.

    A 1.7 MB `.bz2` file (6 MB of XML, 206 pages) that
    `wikipedia_xml_to_text8` turns into 3,085,829 characters of text8-style
    text, the same as `wikifil.pl` gives: real English text for machines
    without `text8.zip`. gensim is only looked up, not imported.

    Returns:
        The path, a string.

    Raises:
        ModuleNotFoundError: if gensim is not installed.
        FileNotFoundError: if the installed gensim lacks the file.

    Example:

    >>> import os
    >>> path = gensim_wikipedia_excerpt_path()
    >>> os.path.basename(path)
    'enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2'
    >>> wikipedia_xml_to_text8(path, max_chars=30)
    ' anarchism is a political phil'
    """
    return package_data_path("gensim", GENSIM_EXCERPT, "The Wikipedia excerpt")


def _split_records(chunks):
    """Cuts a stream of strings into wikifil.pl records, each ending with `>`."""
    pending = ""
    for chunk in chunks:
        *records, pending = (pending + chunk).split(">")
        for record in records:
            yield record + ">"
    if pending:
        yield pending


def _filter_records(records):
    """wikifil.pl's main loop: yields the cleaned text of the kept records."""
    in_text = False
    for record in records:
        if "<text " in record:
            in_text = True
        if _REDIRECT.search(record):
            in_text = False
        if in_text:
            if "</text>" in record:
                in_text = False
            yield _clean_record(record)


def _clean_record(record):
    """Cleans one kept record: markup out, lower case, digits spelled out."""
    record = _FIRST_XML_TAG.sub("", record, count=1)
    for pattern, replacement in _MARKUP_RULES:
        record = pattern.sub(replacement, record)
    record = f" {record} ".translate(_LOWER_AND_SPELL_DIGITS)
    return _NOT_A_TO_Z.sub(" ", record)[:-1]
