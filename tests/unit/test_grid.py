import math

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box

from gis.crs import gk3_epsg
from gis.grid import cell_code, cells_lonlat, number_cells, square_cells
from gis.partition import as_multipolygon, voronoi_partition


def test_cells_cover_the_area_exactly_without_overlap():
    area = Polygon([(0, 0), (730, 40), (690, 510), (20, 430)])
    cells = square_cells(area, 100)
    assert math.isclose(cells.area.sum(), area.area, rel_tol=1e-9)
    assert math.isclose(shapely.union_all(cells.geometry).area, area.area, rel_tol=1e-9)
    assert cells.area.max() <= 100 * 100 + 1e-6


def test_same_ground_square_keeps_its_row_and_col_in_any_area():
    origin = (0.0, 1000.0)
    small = square_cells(box(200, 500, 400, 700), 100, origin)
    large = square_cells(box(0, 0, 1000, 1000), 100, origin)
    key = lambda f: {(r, c): g.wkt for r, c, g in zip(f["row"], f["col"], f.geometry, strict=True)}  # noqa: E731
    small_k, large_k = key(small), key(large)
    assert set(small_k) <= set(large_k)
    assert all(
        shapely.equals(shapely.from_wkt(small_k[k]), shapely.from_wkt(large_k[k])) for k in small_k
    )


def test_numbering_runs_west_to_east_then_north_to_south():
    cells = square_cells(box(0, 0, 300, 200), 100, origin_m=(0.0, 200.0))
    numbers = number_cells(cells)
    by_number = {n: (r, c) for n, r, c in zip(numbers, cells["row"], cells["col"], strict=True)}
    assert [by_number[n] for n in range(1, 7)] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    north_west = cells.geometry[list(numbers).index(1)]
    assert north_west.bounds == (0.0, 100.0, 100.0, 200.0)


def test_slivers_below_one_percent_are_dropped():
    cells = square_cells(box(0, 0, 100.5, 100), 100, origin_m=(0.0, 100.0))
    assert len(cells) == 1


def test_cell_code_is_fifteen_digits_then_seventeen_and_validated():
    assert cell_code("360681001002", 12) == "360681001002012"
    assert cell_code("360681001002", 999) == "360681001002999"
    assert cell_code("360681001002", 1000) == "36068100100201000"
    with pytest.raises(ValueError, match="community_code"):
        cell_code("3606810010", 1)
    for wrong in (0, 100_000):
        with pytest.raises(ValueError, match="number"):
            cell_code("360681001002", wrong)


def test_bad_size_is_named():
    with pytest.raises(ValueError, match="size_m"):
        square_cells(box(0, 0, 1, 1), 0)


def test_lonlat_cells_nest_exactly_and_keep_their_squares():
    area = Polygon([(117.20, 28.29), (117.215, 28.292), (117.212, 28.305), (117.199, 28.30)])
    cells = cells_lonlat(area, 100, 4548)
    assert cells.within(area.buffer(1e-9)).all()  # exact up to float rounding
    # only slivers under 1 % of a cell are left out at the edges
    assert math.isclose(
        cells.to_crs(4548).area.sum(),
        gpd.GeoSeries([area], crs=4326).to_crs(4548).area.sum(),
        rel_tol=1e-3,
    )
    part = cells_lonlat(box(117.203, 28.295, 117.207, 28.299), 100, 4548)
    whole = {(r, c): g for r, c, g in zip(cells["row"], cells["col"], cells.geometry, strict=True)}
    inner = [
        (r, c, g)
        for r, c, g in zip(part["row"], part["col"], part.geometry, strict=True)
        if math.isclose(g.area, whole[(r, c)].area, rel_tol=1e-9)
    ]
    assert inner and all(g.equals_exact(whole[(r, c)], 1e-9) for r, c, g in inner)


def test_gauss_krueger_zone_for_chinese_cities():
    assert gk3_epsg(117.2) == 4548  # Guixi
    assert gk3_epsg(116.3) == 4548  # Haidian, central meridian 117E
    assert gk3_epsg(114.3) == 4547  # Xian'an
    assert gk3_epsg(75.9) == 4534
    with pytest.raises(ValueError, match="lon"):
        gk3_epsg(10.0)
    with pytest.raises(ValueError, match="lon"):
        gk3_epsg(200.0)


def test_voronoi_partition_covers_boundary_once():
    import geopandas as gpd
    from shapely.geometry import Point

    boundary = Polygon([(0, 0), (10, 0), (10, 6), (4, 9), (0, 6)])
    seeds = gpd.GeoSeries(
        [Point(2, 2), Point(8, 2), Point(5, 6), Point(3, 4)], index=[10, 11, 12, 13]
    )
    parts = voronoi_partition(seeds, boundary)
    assert list(parts.index) == [10, 11, 12, 13]
    assert math.isclose(parts.area.sum(), boundary.area, rel_tol=1e-9)
    for i, seed in seeds.items():
        assert parts[i].contains(seed)


def test_as_multipolygon_rejects_lines():
    with pytest.raises(ValueError, match="polygonal"):
        as_multipolygon(shapely.LineString([(0, 0), (1, 1)]))
