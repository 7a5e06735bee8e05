"""How the kind is decided from the model and the rules, and when a wrongful purpose is said."""

from __future__ import annotations

from leakline.process import kindmodel, kinds
from leakline.process.extract import extract


def model(bias: dict[str, float], act: float | None = None) -> kindmodel.Model:
    """A model with no features: its probabilities are its biases' softmax."""
    head = kindmodel.Model(("no", "yes"), (0.0, act), {}) if act is not None else None
    return kindmodel.Model(tuple(bias), tuple(bias.values()), {}, head)


def test_an_accident_kind_is_withheld_while_a_wrongful_act_is_possible():
    text = "書類の件でご報告です。"  # no cue: the model alone
    rules = kinds.read_kind(text)
    sure = kindmodel.decide(model({"misdelivery": 2.0, "theft": -2.0}), text, rules)
    doubtful = kindmodel.decide(model({"misdelivery": 0.5, "theft": 0.0}), text, rules)
    assert sure.kind == "misdelivery"
    assert doubtful.kind is None and "wrongful act is possible" in doubtful.why


def test_strong_cues_of_the_same_kind_stand_against_the_models_doubt():
    text = "封筒を別のお客様に渡してしまいました。誤交付です。"  # a short report: the model knows little
    rules = kinds.read_kind(text)
    assert rules.category == "misdelivery" and rules.weight >= 6
    assert kindmodel.decide(model({"misdelivery": 0.5, "theft": 0.0}), text, rules).kind == "misdelivery"


def test_the_rules_name_the_kind_when_the_model_is_unsure_unless_a_wrongful_act_is_cued():
    flat = model({k: 0.0 for k in ("misdelivery", "theft", "loss", "verbal")})
    plain = "窓口で別のお客様の書類を誤交付しました。"
    stolen = "車上荒らしに遭い、誤交付する予定だった書類が入ったカバンが盗まれました。"
    assert kindmodel.decide(flat, plain, kinds.read_kind(plain)).kind == "misdelivery"
    assert kindmodel.decide(flat, stolen, kinds.read_kind(stolen)).kind in (None, "theft")


def test_without_a_model_the_rules_decide_under_the_same_guard():
    text = "鞄が盗まれ、中の封筒には別のお客様に誤交付した書類が入っていました。"
    assert kindmodel.decide(None, text, kinds.read_kind(text)).kind != "misdelivery"


def test_a_caller_who_said_who_they_were_and_was_not_makes_a_verbal_disclosure_wrongful():
    text = ("「平野の息子です。母が入院したので代わりに確認したい」という男性から電話があり、残高を口頭でお伝えしました。"
            "夕方、平野様ご本人が来店され、息子はいないとのことでした。")
    values = extract("電話照会", text).values
    assert values["wrongful"] is True
    english = ("A man called and said he was a colleague of our guest and we told him her room number. "
               "She said she doesn't know anyone by that name.")
    assert extract("front desk", english).values["wrongful"] is True


def test_replies_are_not_lies():
    assert "wrongful" not in extract("", "メールを誤送信しました。受信者の方が replied で知らせてくれました。").values
