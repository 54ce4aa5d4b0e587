import datetime as dt

import pytest
import shapely

from service.demo.build import build

NOW = dt.datetime(2026, 11, 28, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def city():
    return build(NOW)


def test_demo_has_the_promised_sizes(city):
    assert 130 <= len(city.points) <= 170
    assert len(city.violations) == 2000
    assert len(city.stalls) == 3
    assert city.points["code"].is_unique and city.violations["case_no"].is_unique


def test_invented_records_say_so(city):
    invented = city.points[city.points["provenance"] == "invented"]
    assert len(invented) > 50
    assert invented["name"].str.endswith("*").all()
    assert set(city.points["provenance"]) <= {"osm", "derived", "invented"}


def test_communities_partition_their_street(city):
    areas = city.areas.to_crs(4548)
    for _, street in areas[areas["level"] == "street"].iterrows():
        kids = areas[areas["code"].str.startswith(street["code"]) & (areas["level"] == "community")]
        if kids.empty:
            continue
        union = shapely.union_all(kids.geometry)
        assert abs(union.area - street.geometry.area) < 1.0
        assert abs(kids.area.sum() - union.area) < 1.0  # no overlaps


def test_grid_codes_are_fifteen_digits_of_their_community(city):
    cells = city.cells
    assert cells["code"].str.fullmatch(r"\d{15}").all()
    assert cells["code"].is_unique
    assert (cells["code"].str[:12] == cells["community_code"]).all()
    assert 2000 < len(cells) < 6000


def test_violations_are_inside_the_city_and_in_the_last_90_days(city):
    assert city.violations.within(city.extent).all()
    observed = city.violations["observed_at"]
    assert observed.max() <= NOW and observed.min() >= NOW - dt.timedelta(days=91)
    assert (city.violations["due_at"] > observed).all()
    mix = city.violations["category_code"].value_counts(normalize=True)
    assert mix.index[0] == "disorderly_parking"
    assert {"open", "dispatched", "rectifying", "resolved", "closed"} <= set(
        city.violations["status"]
    )


def test_build_is_reproducible(city):
    again = build(NOW)
    assert city.violations.drop(columns="geometry").equals(
        again.violations.drop(columns="geometry")
    )
    assert city.points.geometry.geom_equals(again.points.geometry).all()
