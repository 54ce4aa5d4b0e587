"""A rounds setting that is no number stops the service at its start, named."""

import pytest

from service.app import create_app


def _app(tmp_path, **config):
    return create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@/none",
            "TESTING": True,
            "HOME": str(tmp_path),
            **config,
        }
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("INSPECTION_QUICK_LEAN", "lots"),
        ("INSPECTION_LATE_START_S", None),
        ("INSPECTION_FLOOR_DAYS", float("nan")),
    ],
)
def test_a_rounds_setting_that_is_no_number_stops_the_start(tmp_path, key, value):
    with pytest.raises(ValueError, match=f"^{key}: a number is needed"):
        _app(tmp_path, **{key: value})


def test_settings_from_the_environment_are_checked_too(tmp_path, monkeypatch):
    monkeypatch.setenv("CHUANGWEN_INSPECTION_LATE_START_S", "0")
    monkeypatch.setenv("CHUANGWEN_INSPECTION_QUICK_LEAN", "0.05")
    app = _app(tmp_path)
    assert app.config["INSPECTION_LATE_START_S"] == 0
    assert app.config["INSPECTION_QUICK_LEAN"] == 0.05
    monkeypatch.setenv("CHUANGWEN_INSPECTION_QUICK_LEAN", "a little")
    with pytest.raises(ValueError, match="INSPECTION_QUICK_LEAN"):
        _app(tmp_path)
