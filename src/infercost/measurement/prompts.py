"""Synthetic prompts that look like text, unique from their first token, of exact length.

Text is drawn from a corpus shipped with the package (`data/corpus.txt`, original prose).
Request k's prompt is

    [group prefix]  its head word  corpus text from its own offset …

- the head word is the k-th of the corpus's distinct words (capitalised), so consecutive
  prompts differ from their first token (after the shared prefix, when one is asked for) for
  as many requests as the corpus has distinct words, and the text that follows starts at a
  different place in the corpus for every request: no two prompts share a prefix a server
  could cache, unless the user asks for one;
- a shared prefix of N tokens (`shared_prefix_tokens`), one of `groups` different ones
  (request k uses prefix k mod groups), is built the same way from the corpus's end;
- the length is fitted in the counter's tokens: words are added or removed until the count
  is exact, then single short words are tried for the last token or two. A prompt that
  cannot be fitted exactly (a tokenizer that merges across every boundary tried) keeps the
  closest count, and the record says how far it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from infercost.errors import InputError
from infercost.measurement.tokens import Counter

FILLERS = (" a", " the", " and", " of", ".", ",", " to", " in")
MAX_TRIES = 12
HEAD_TRIES = 64
TOKENS_PER_WORD = 1.3  # a first guess, refined as prompts are fitted


@dataclass(frozen=True)
class Prompt:
    text: str
    tokens: int  # as the counter counts them
    target: int
    source: str  # tokenizer | server | estimated


@cache
def corpus_words() -> tuple[str, ...]:
    text = resources.files("infercost.measurement").joinpath("data/corpus.txt").read_text("utf-8")
    return tuple(text.split())


@cache
def head_words() -> tuple[str, ...]:
    """The corpus's distinct words, capitalised, in order of first appearance."""
    seen: dict[str, None] = {}
    for word in corpus_words():
        bare = re.sub(r"[^A-Za-z]", "", word).lower()
        if len(bare) > 1:
            seen.setdefault(bare.capitalize(), None)
    return tuple(seen)


def _body(offset: int, words: int) -> str:
    source = corpus_words()
    return " ".join(source[(offset + i) % len(source)] for i in range(words))


class Fitter:
    """Texts of exact token counts, learning the words-per-token ratio as it goes."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.ratio = TOKENS_PER_WORD

    def fit(self, start: str, offset: int, target: int) -> Prompt:
        """`start` followed by corpus words from `offset`, `target` tokens in all: the most
        words that stay at or under the target, then short words for the rest."""
        base = self.counter.count(start) if start else 0
        counts: dict[int, int] = {}

        def count(words: int) -> int:
            if words not in counts:
                counts[words] = self.counter.count(_join(start, _body(offset, words)))
            return counts[words]

        low, high = 0, None  # most words known under the target, fewest known over it
        words = max(round((target - base) / self.ratio), 0)
        for _ in range(MAX_TRIES):
            got = count(words)
            if got == target:
                return Prompt(_join(start, _body(offset, words)), got, target, self.counter.source)
            if words > 0 and got > base:
                self.ratio = (got - base) / words
            if got < target:
                low = max(low, words)
            else:
                high = words if high is None else min(high, words)
            guess = words + round((target - got) / max(self.ratio, 0.25))
            upper = high - 1 if high is not None else guess
            words = min(max(guess, low + 1), upper)
            if words <= low or words in counts:
                break
        got, text = self._pad(count(low), _join(start, _body(offset, low)), target)
        return Prompt(text, got, target, self.counter.source)

    def _pad(self, got: int, text: str, target: int) -> tuple[int, str]:
        """Short words added one at a time for the last few tokens."""
        for _ in range(4):
            if got >= target:
                break
            for filler in FILLERS:
                trial = self.counter.count(text + filler)
                if got < trial <= target:
                    got, text = trial, text + filler
                    break
            else:
                break
        return got, text


def _join(start: str, body: str) -> str:
    return f"{start} {body}" if start and body else start or body


def _start(fitter: Fitter, prefix: str, k: int, target: int) -> str:
    """The shared prefix and request k's head word; for a target too short for that word,
    the next head words that fit are tried."""
    heads = head_words()
    for tried in range(HEAD_TRIES):
        j = k + tried
        head = heads[j % len(heads)]
        if j >= len(heads):
            head += f" {heads[j // len(heads) % len(heads)]}"
        start = _join(prefix, head)
        if fitter.counter.count(start) <= target:
            return start
    raise InputError(
        "input_tokens",
        f"{target} tokens cannot hold the shared prefix and a unique start "
        f"({fitter.counter.count(_join(prefix, heads[k % len(heads)]))} tokens)",
    )


def build_prompts(
    targets: list[int],
    counter: Counter,
    shared_prefix_tokens: int = 0,
    groups: int = 1,
    first: int = 0,
) -> list[Prompt]:
    """One prompt per target length (see the module docstring); the requests are numbered
    from `first`, so that another batch of prompts starts elsewhere."""
    fitter = Fitter(counter)
    prefixes = [
        fitter.fit("", len(corpus_words()) - 1 - 97 * g, shared_prefix_tokens).text
        for g in range(groups if shared_prefix_tokens else 0)
    ]
    out = []
    for k, target in enumerate(targets, start=first):
        prefix = prefixes[k % groups] if prefixes else ""
        start = _start(fitter, prefix, k, target)
        out.append(fitter.fit(start, (k * 7919 + 1) % len(corpus_words()), target))
    return out
