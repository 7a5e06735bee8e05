"""Conventions of counting persons that reports written by other people follow (issue 11, fourth pass):
each case is one general reason a count is or is not of the persons whose data leaked."""

from __future__ import annotations

import pytest

from leakline.process.extract import extract


def persons(text: str, subject: str = "") -> int | None:
    return extract(subject, text).values.get("persons")


@pytest.mark.parametrize("text,number", [
    # our own people at work are not persons whose data leaked
    ("受付で患者様の領収書を別の患者様にお渡ししてしまいました。当時受付は私を含め4名でした。", 1),
    ("We handed one guest's invoice to another guest by mistake. Two staff were on the desk at the time.", 1),
    ("The attached sheet lists 42 employees with their salaries (we are about 90 people in total).", 42),
    # a ratio is not a count: 1人1アカウント says the accounts are persons
    ("不正ログインされた会員アカウントは約2,400件です(1人1アカウント)。", 2400),
])
def test_own_staff_and_ratios_are_not_counts(text, number):
    assert persons(text) == number
