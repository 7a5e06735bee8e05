"""Patterns that skip, inside the regex engine, every position where no match can start.

Python's `re` tries a pattern at every position of the text unless the pattern begins with plain
characters; ours mostly begin with look-behinds, optional words or groups of alternatives, and
then each of the ~2,000 positions of a report costs a full attempt. `compile` reads the pattern's
possible first characters from its parse tree and puts them in front as a look-ahead
(`(?=[氏住電…])`), which fails at once elsewhere. The gate only ever admits a superset of the
positions where the pattern can match, so matches are the same; a pattern whose first character
can be anything (or that can match the empty string) is compiled as it is.

Most cues are words, and most reports contain few of them: when every alternative of a pattern
starts with letters, those leading words are searched first, as one plain alternation the engine
scans in C, and the pattern runs only from where one first occurs (`Prefiltered`).
"""

from __future__ import annotations

import re
from re import _constants as C  # the parse tree's opcodes (stable since Python 3.11)
from re import _parser

_CATEGORIES = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_SPACE: r"\s", C.CATEGORY_WORD: r"\w"}


class _Unbounded(Exception):
    """The first character can be any character: no gate."""


def _char(code: int) -> str:
    return re.escape(chr(code)) if chr(code) not in "-]^\\" else "\\" + chr(code)


def _class_items(items) -> list[str]:
    out = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(_char(av))
        elif op is C.RANGE:
            out.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is C.CATEGORY and av in _CATEGORIES:
            out.append(_CATEGORIES[av])
        else:  # NEGATE, a negated category: almost anything
            raise _Unbounded
    return out


def _first(items) -> tuple[list[str], bool]:
    """The possible first characters of a sequence, and whether it can match nothing."""
    found: list[str] = []
    for op, av in items:
        chars, nullable = _first_of(op, av)
        found += chars
        if not nullable:
            return found, False
    return found, True


def _first_of(op, av) -> tuple[list[str], bool]:
    if op is C.LITERAL:
        return [_char(av)], False
    if op is C.IN:
        return _class_items(av), False
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return [], True  # zero width: the next item gives the first character
    if op is C.SUBPATTERN:
        return _first(av[3])
    if op is C.ATOMIC_GROUP:
        return _first(av)
    if op is C.BRANCH:
        found, nullable = [], False
        for alternative in av[1]:
            chars, empty = _first(alternative)
            found += chars
            nullable = nullable or empty
        return found, nullable
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        chars, empty = _first(av[2])
        return chars, empty or av[0] == 0
    if op is C.GROUPREF_EXISTS:
        yes, yes_empty = _first(av[1])
        no, no_empty = _first(av[2]) if av[2] else ([], True)
        return yes + no, yes_empty or no_empty
    raise _Unbounded  # ANY, NOT_LITERAL, a back-reference


def gate(pattern: str, flags: int = 0) -> str | None:
    """The look-ahead of the pattern's possible first characters, or None when there is none (or
    when the pattern starts with a character or a class: the engine skips ahead by itself then)."""
    data = _parser.parse(pattern, flags).data
    if data and data[0][0] in (C.LITERAL, C.IN):
        return None
    try:
        chars, nullable = _first(data)
    except _Unbounded:
        return None
    if nullable or not chars:
        return None
    return "(?=[" + "".join(dict.fromkeys(chars)) + "])"


LONGEST, MOST = 10, 120  # leading words grow up to this many characters, and this many words


def _prefixes(items, word: str = "", expand: bool = True) -> set[str] | None:
    """The literal words every match must start with, or None. Each alternative's leading letters,
    carried on through groups, short optional parts and small classes while the words stay few:
    宛先(?:を|の)?誤 gives 宛先を誤, 宛先の誤 and 宛先誤, which occur far more rarely than 宛先.
    Without `expand`, a word ends at the first group once it has a letter."""
    for index, (op, av) in enumerate(items):
        rest = list(items[index + 1:])
        if op is C.LITERAL:
            word += chr(av)
            if len(word) >= LONGEST:
                return {word}
            continue
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue  # zero width: the next letter is still the word's
        if word and not expand:
            break
        if op is C.SUBPATTERN:
            return _prefixes(list(av[3]) + rest, word, expand)
        if op is C.BRANCH:
            return _union([list(alternative) + rest for alternative in av[1]], word, expand)
        if op is C.IN and len(av) <= 8 and all(kind is C.LITERAL for kind, _ in av):
            return _union([[(C.LITERAL, char)] + rest for _, char in av], word, expand)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] == 0 and av[1] == 1:
            return _union([list(av[2]) + rest, rest], word, expand)
        break  # a class, a repeat, any character: the word ends here
    return {word} if word else None


def _union(branches: list[list], word: str, expand: bool) -> set[str] | None:
    found: set[str] = set()
    for branch in branches:
        more = _prefixes(branch, word, expand)
        if more is None:
            return {word} if word else None
        found |= more
        if len(found) > MOST:  # too many words: each branch's first word will do
            return _union(branches, word, False) if expand else ({word} if word else None)
    return found


MISSES = 6  # words found where the pattern does not match, before the whole pattern scans on


class Prefiltered:
    """A pattern tried only where one of its leading words occurs: fast for the many cues a report
    does not contain, and for the few places where it does. Matches are those of the pattern itself
    (a match starts with one of the words; look-behinds still see the text before a starting
    position), found left to right without overlaps as `re.finditer` finds them."""

    def __init__(self, full: re.Pattern, words: re.Pattern):
        self.full, self.words = full, words
        self.pattern, self.flags, self.groupindex = full.pattern, full.flags, full.groupindex

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None):
        end = len(text) if endpos is None else min(endpos, len(text))
        words, full = self.words.search, self.full.match
        misses = 0
        while pos <= end:
            hit = words(text, pos, end)
            if hit is None:
                return
            start = hit.start()
            if misses >= MISSES:  # a common word: the engine's own scan from here is cheaper
                yield from self.full.finditer(text, start, end)
                return
            match = full(text, start, end)
            if match is None:
                misses += 1
                pos = start + 1  # the next place a word starts, overlapping this one or not
                continue
            yield match
            pos = max(match.end(), start + 1)

    def search(self, text: str, pos: int = 0, endpos: int | None = None):
        end = len(text) if endpos is None else min(endpos, len(text))
        words, full = self.words.search, self.full.match
        for _ in range(MISSES):
            hit = words(text, pos, end)
            if hit is None:
                return None
            match = full(text, hit.start(), end)
            if match is not None:
                return match
            pos = hit.start() + 1
        hit = words(text, pos, end)
        return None if hit is None else self.full.search(text, hit.start(), end)

    def findall(self, text: str, pos: int = 0, endpos: int | None = None) -> list:
        found = []
        for match in self.finditer(text, pos, endpos):
            groups = match.groups()
            found.append(match.group(0) if not groups else groups[0] if len(groups) == 1 else groups)
        return found

    def match(self, text: str, pos: int = 0, endpos: int | None = None):
        return self.full.match(text, pos) if endpos is None else self.full.match(text, pos, endpos)


class Lazy:
    """A pattern compiled on first use: importing the extractor (as every CLI command does) costs
    no compiling; the first report pays it once. After that its methods are the compiled ones."""

    METHODS = ("search", "match", "finditer", "findall", "sub", "fullmatch", "split")

    def __init__(self, pattern: str, flags: int = 0):
        self.pattern, self.flags = pattern, flags

    def __getattr__(self, name: str):  # only for what is not yet on the instance
        if name.startswith("__"):
            raise AttributeError(name)
        real = build(self.pattern, self.flags)
        for method in self.METHODS:
            if hasattr(real, method):
                setattr(self, method, getattr(real, method))
        self.groupindex, self.compiled = real.groupindex, real
        return getattr(real, name)


def compile(pattern: str, flags: int = 0) -> Lazy:
    """The pattern, built by `build` when first used."""
    return Lazy(pattern, flags)


def build(pattern: str, flags: int = 0) -> re.Pattern | Prefiltered:
    """`re.compile` with the gate in front when the pattern has one (same matches, fewer attempts),
    and behind a search for its leading words when every alternative starts with letters."""
    front = gate(pattern, flags)
    full = re.compile(f"{front}(?:{pattern})" if front else pattern, flags)
    if flags & re.IGNORECASE:
        return full
    try:
        words = _prefixes(list(_parser.parse(pattern, flags).data))
    except RecursionError:
        words = None
    if not words:
        return full
    return Prefiltered(full, re.compile(trie(words)))


def near(pattern, text: str, cores: list[tuple[int, int]], before: int, after: int = 16):
    """The matches of `pattern` within `before` characters before and `after` after the core spans
    (where every match must have a core: a unit, a digit), in order and without overlaps, as
    `finditer` over the whole text gives them, for the cost of the windows alone. Windows that
    touch are read as one."""
    last = -1
    for low, high in _merged(cores, before, after, len(text)):
        for match in pattern.finditer(text, max(low, last), high):
            last = match.end()
            yield match


def _merged(cores: list[tuple[int, int]], before: int, after: int, size: int) -> list[tuple[int, int]]:
    ranges: list[list[int]] = []
    for start, end in sorted(cores):
        low, high = max(start - before, 0), min(end + after, size)
        if ranges and low <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], high)
        else:
            ranges.append([low, high])
    return [(low, high) for low, high in ranges]


def trie(words: set[str]) -> str:
    """An alternation of words as a trie (c(?:ard|ustomer)): at each position the engine tries the
    one branch that starts with the character there, not every word. Any of the words matches
    where it starts; which one does not matter here."""
    root: dict = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        if "" in node:
            return ""  # a word ends here: the shortest one is enough to say where it starts
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return emit(root)
