import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"


def test_message_catalogues_have_the_same_keys():
    zh = json.loads((DATA / "i18n" / "zh.json").read_text(encoding="utf-8"))
    en = json.loads((DATA / "i18n" / "en.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en)
    assert all(v.strip() for v in [*zh.values(), *en.values()])


def test_violation_categories_name_known_departments():
    departments = {
        d["code"]
        for d in json.loads((DATA / "catalogues" / "departments.json").read_text(encoding="utf-8"))[
            "departments"
        ]
    }
    cats = json.loads(
        (DATA / "catalogues" / "violation_categories.json").read_text(encoding="utf-8")
    )["categories"]
    assert {c["department"] for c in cats} <= departments
    six = {c["name_zh"] for c in cats if c["group"] == "six_disorders"}
    assert six == {"乱停乱放", "乱搭乱建", "乱涂乱画", "乱堆乱占", "乱扯乱挂", "乱摆摊点"}
    assert max(cats, key=lambda c: c["severity"])["code"] == "illegal_building"


def test_point_categories_have_radius_and_checklist():
    cats = json.loads(
        (DATA / "catalogues" / "assessment_point_categories.json").read_text(encoding="utf-8")
    )["categories"]
    assert len(cats) >= 12
    assert all(c["radius_m"] > 0 and c["checklist"] for c in cats)
