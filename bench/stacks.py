"""Summarise py-spy's raw (collapsed) stacks: where the samples are, by function, self and total.

Usage: python bench/stacks.py FILE [--top 25] [--thread NAME] [--under FUNC]

FILE is what `py-spy record --format raw` wrote (bench/pipeline.py --profile DIR writes
DIR/listener.txt and DIR/worker.txt). A frame is "function (file:line)"; the line number is
dropped so that all samples of one function add up. --under keeps only stacks that pass through
a function whose name contains FUNC, and shows shares of those samples.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

LINE_NO = re.compile(r":\d+\)$")


def frames_of(stack: str) -> list[str]:
    return [LINE_NO.sub(")", frame.strip()) for frame in stack.split(";")]


def summarise(path: str, thread: str | None, under: str | None) -> tuple[int, Counter, Counter]:
    total, inclusive, own = 0, Counter(), Counter()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = frames_of(stack)
            if thread and not any(thread in f for f in frames[:2]):
                continue
            if under and not any(under in f for f in frames):
                continue
            n = int(count)
            total += n
            for frame in set(frames):
                inclusive[frame] += n
            own[frames[-1]] += n
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--thread")
    parser.add_argument("--under")
    args = parser.parse_args()
    total, inclusive, own = summarise(args.file, args.thread, args.under)
    print(f"{total} samples in {args.file}" + (f" under {args.under}" if args.under else ""))
    for title, counter in (("total (inclusive)", inclusive), ("self", own)):
        print(f"\n-- {title}")
        for frame, n in counter.most_common(args.top):
            print(f"{100 * n / max(total, 1):5.1f}%  {frame[:150]}")


if __name__ == "__main__":
    main()
