"""The shape of the decision table (leakline.disposition): its behaviour is tested through the
Flow harness (test_flow_loops, test_flow_reporter, ...); here, that the table is well formed."""

from leakline.disposition import ACTIONS, CHAIN, QUIET_ACTIONS


def test_each_rule_is_named_once_and_says_what_it_does():
    names = [link.rule.name for link in CHAIN]
    assert len(names) == len(set(names))
    assert all(link.rule.description for link in CHAIN)


def test_every_action_is_one_of_the_vocabulary():
    assert {link.action for link in CHAIN} <= set(ACTIONS)
    assert set(QUIET_ACTIONS) <= set(ACTIONS)


def test_a_decisive_rule_says_how_the_message_is_stored_and_a_deferring_one_does_not():
    assert all((link.kind is None) == link.defer for link in CHAIN)


def test_what_is_ours_or_a_programs_is_settled_before_anyone_s_words_are_read():
    order = [link.rule.name for link in CHAIN]
    for machine in ("own_copy", "own_mail", "bounce", "stray_bounce", "machine"):
        for words in ("new_report", "acknowledgement", "fact_reply", "followup"):
            assert order.index(machine) < order.index(words)
    assert order[-1] == "followup"  # fires on any message on a case: the walk always decides
