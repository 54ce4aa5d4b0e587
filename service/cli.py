"""The ``chuangwen`` command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy import text

from service.accounts.users import create_user, issue_token, set_password
from service.app import create_app
from service.cli_report import report_cli
from service.errors import Problem
from service.store.db import (
    Actor,
    database_url,
    get_engine,
    make_engine,
    prepare,
    reading,
    upgrade,
    writing,
)
from service.store.models import ROLES

main = FlaskGroup(
    create_app=create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    help="chuangwen: the civilized-city campaign's layers, map and inspections.",
)


def _fail(exc: Problem) -> None:
    lines = [exc.detail] + [f"  {e['field']}: {e['reason']}" for e in exc.errors]
    raise click.ClickException("\n".join(lines))


@main.command("demo")
@with_appcontext
def demo() -> None:
    """Load the Guixi demo city (idempotent) and create an admin on the first run."""
    from service.demo.build import build
    from service.demo.load import ADMIN_NAME, load

    prepare(current_app)
    city = build(dt.datetime.now(dt.UTC))
    with writing(Actor(None, "demo")) as conn:
        _, added, password = load(conn, city)
    for table, n in added.items():
        click.echo(f"{table:30s} +{n}")
    if password:
        click.echo(f"admin user '{ADMIN_NAME}' created; password (shown once): {password}")
    else:
        click.echo(
            f"admin user '{ADMIN_NAME}' exists; `chuangwen user password {ADMIN_NAME}` resets it"
        )


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int, threads: int) -> None:
    """Serve the app with waitress (starting the self-managed database if needed)."""
    from waitress import serve as waitress_serve

    prepare(current_app)
    app = current_app._get_current_object()
    get_engine(app)
    if not app.config.get("SECRET_KEY"):
        from service.web.auth import session_key

        app.config["SECRET_KEY"] = session_key(app)
    every = float(app.config["TILE_WARM_SECONDS"])
    if every > 0:
        from service.layers.tiles import start_warmer

        start_warmer(app, every)
    click.echo(f"serving on http://{host}:{port}")
    waitress_serve(app, host=host, port=port, threads=threads, ident="chuangwen")


@main.command("grid")
@click.argument("area_code")
@click.option(
    "--size",
    "size_m",
    default=100,
    show_default=True,
    type=click.IntRange(10, 5000),
    help="Cell size in metres.",
)
@click.option("--city", "city_code", default=None, help="City code when there are several.")
@with_appcontext
def grid(area_code: str, size_m: int, city_code: str | None) -> None:
    """Generate or regenerate the unit grid of an area's communities (codes stay stable)."""
    from service.layers.grids import regenerate

    try:
        with writing(Actor(None, "cli grid")) as conn:
            change = regenerate(conn, city_id(conn, city_code), area_code, size_m)
    except Problem as exc:
        _fail(exc)
    click.echo(
        f"kept {change.kept}, reshaped {change.reshaped}, added {change.added}, "
        f"removed {change.removed}"
    )


@main.command("check-zones")
@click.argument("area_code", required=False)
@click.option("--tolerance-m2", default=1.0, show_default=True, type=click.FloatRange(0))
@click.option("--out", type=click.Path(dir_okay=False), help="Write the findings as GeoJSON.")
@click.option("--city", "city_code", default=None, help="City code when there are several.")
@with_appcontext
def check_zones(area_code, tolerance_m2, out, city_code) -> None:
    """List gaps, overlaps, points with no or two owners and sliver zones."""
    from service.layers.zone_check import check

    try:
        with reading() as conn:
            found = check(conn, city_id(conn, city_code), area_code, tolerance_m2)
    except Problem as exc:
        _fail(exc)
    for f in found["features"]:
        p = f["properties"]
        what = ", ".join(p["zones"] or []) or p["point"] or p["case"] or ""
        area = f"{p['area_m2']:.1f} m²" if p["area_m2"] is not None else ""
        click.echo(f"{p['problem']:20s} {what:40s} {area}")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(found["summary"].items())) or "nothing"
    click.echo(f"found: {summary}")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(found, fh, ensure_ascii=False)


def _collection_arg(ctx, param, value: str):
    from service.layers.features.collections import COLLECTIONS

    if value not in COLLECTIONS:
        raise click.BadParameter(f"one of {', '.join(COLLECTIONS)}")
    return COLLECTIONS[value]


_CRS = click.Choice(["wgs84", "gcj02", "bd09"])


@main.command("import")
@click.argument("collection", callback=_collection_arg)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate every row and write nothing.")
@click.option(
    "--crs",
    default="wgs84",
    type=_CRS,
    show_default=True,
    help="Coordinates of CSV/XLSX longitude/latitude columns.",
)
@click.option("--repair", is_flag=True, help="Repair invalid polygons instead of rejecting.")
@click.option("--lon-col", default=None, help="Longitude column of a CSV/XLSX file.")
@click.option("--lat-col", default=None, help="Latitude column of a CSV/XLSX file.")
@click.option("--city", "city_code", default=None, help="City code when there are several.")
@click.option(
    "--valid-from",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z"]),
    default=None,
    help="Zones: when those without their own valid_from start (default: the city's first "
    "case, so that they own the cases already reported).",
)
@with_appcontext
def import_cmd(
    collection, file, dry_run, crs, repair, lon_col, lat_col, city_code, valid_from
) -> None:
    """Import a file into a collection: every row or none (report of bad rows)."""
    from service.layers.transfer import import_features, read_features

    try:
        frame, fmt = read_features(file, lon_col, lat_col, collection=collection)
        with writing(Actor(None, f"cli import {file.name}")) as conn:
            city = city_id(conn, city_code)
            with click.progressbar(
                length=len(frame), label=f"{fmt} rows", file=sys.stderr, show_pos=True
            ) as bar:
                report = import_features(
                    conn,
                    collection,
                    city,
                    frame,
                    crs=crs,
                    repair=repair,
                    actor_id=None,
                    dry_run=dry_run,
                    progress=bar.update,
                    valid_from=_aware(valid_from, conn, city),
                )
    except Problem as exc:
        _fail(exc)
    for e in report.errors:
        click.echo(f"row {e['row']}: {e['field']}: {e['reason']}")
    if report.errors:
        raise click.ClickException(
            f"{len(report.errors)} problem(s) in {report.rows} rows; nothing was written"
        )
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {report.rows if dry_run else report.inserted} of {report.rows} rows")


def _aware(moment, conn, city_id: int):
    """A time typed without a zone is the city's local time."""
    if moment is None or moment.tzinfo is not None:
        return moment
    from zoneinfo import ZoneInfo

    tz = conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city_id}).scalar()
    return moment.replace(tzinfo=ZoneInfo(tz))


@main.command("import-roads")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--city", "city_code", default=None, help="City code when there are several.")
@with_appcontext
def import_roads(path: Path, city_code: str | None) -> None:
    """Replace a city's street network with an OSM file (.osm, .osm.pbf) or a line layer;
    an OSM file's water, buildings and green areas replace the base map's too."""
    from service.layers import basemap_import as bm
    from service.rounds import roads

    try:
        frame = roads.read(path)
        features = bm.read_osm(path) if bm.is_osm(path) else None
        with writing(Actor(None, "cli import-roads")) as conn:
            city = city_id(conn, city_code)
            n = roads.store(conn, city, frame, "osm", path.name)
            has = features is not None and len(features) > 0
            counts = bm.store(conn, city, features, "osm", path.name) if has else None
    except Problem as exc:
        _fail(exc)
    km = frame.to_crs(frame.estimate_utm_crs()).length.sum() / 1000
    click.echo(f"{n} streets, {km:.0f} km, {int((frame['oneway'] != 0).sum())} one-way")
    none = "none in the file" if bm.is_osm(path) else "`import-basemap FILE.osm.pbf` takes them"
    click.echo(f"base map: {bm.summary(counts) if counts else f'kept as it was ({none})'}")


@main.command("import-basemap")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--city", "city_code", default=None, help="City code when there are several.")
@with_appcontext
def import_basemap(path: Path, city_code: str | None) -> None:
    """Replace the own base map's water, waterways, buildings and green areas with those of
    an OpenStreetMap file (.osm, .osm.pbf), clipped to the city."""
    from service.layers import basemap_import as bm

    if not bm.is_osm(path):
        raise click.ClickException(f"{path.name}: takes an OpenStreetMap file (.osm, .osm.pbf)")
    try:
        features = bm.read_osm(path)
        with writing(Actor(None, "cli import-basemap")) as conn:
            counts = bm.store(conn, city_id(conn, city_code), features, "osm", path.name)
    except Problem as exc:
        _fail(exc)
    click.echo(bm.summary(counts))


@main.command("plan")
@click.option("--date", "day", required=True, help="YYYY-MM-DD")
@click.option("--from", "window_start", required=True, help="HH:MM city time")
@click.option("--to", "window_end", required=True, help="HH:MM city time (past midnight: next day)")
@click.option("--depot", required=True, help="lon,lat")
@click.option("--mode", default="walk", type=click.Choice(["walk", "bike", "drive"]))
@click.option("--team", required=True, help="user names, comma-separated")
@click.option("--area", default=None, help="admin area code")
@click.option("--as", "as_user", required=True, help="the leader or admin planning it")
@click.option("--format", "fmt", default="json", type=click.Choice(["json", "gpx", "geojson"]))
@click.option("--city", "city_code", default=None)
@with_appcontext
def plan(day, window_start, window_end, depot, mode, team, area, as_user, fmt, city_code):
    """Plan an unannounced inspection round and print it (JSON, GPX or GeoJSON)."""
    from service.accounts.users import find_user_by_name
    from service.rounds import inspections

    try:
        with writing(Actor(None, "cli plan")) as conn:
            city = city_id(conn, city_code)
            user = find_user_by_name(conn, as_user)
            members = [find_user_by_name(conn, n.strip()) for n in team.split(",")]
            if user is None or user.role not in inspections.PLANNERS:
                raise click.ClickException("--as: a leader or admin of this city")
            if any(m is None for m in members):
                raise click.ClickException("--team: unknown user name")
            lon, lat = (float(v) for v in depot.split(","))
            body = {
                "date": day,
                "window_start": window_start,
                "window_end": window_end,
                "depot": [lon, lat],
                "mode": mode,
                "team": [m.id for m in members],
                "area": area,
            }
            (pid,) = inspections.create(conn, city, user.id, body, current_app.config)
            out = inspections.read(conn, city, user, pid, f"cli {fmt}")
    except Problem as exc:
        _fail(exc)
    if fmt == "gpx":
        click.echo(inspections.gpx(out))
    elif fmt == "geojson":
        click.echo(json.dumps(inspections.geojson(out), ensure_ascii=False))
    else:
        click.echo(json.dumps(out, ensure_ascii=False, indent=1))


@main.command("export")
@click.argument("collection", callback=_collection_arg)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--crs",
    default="wgs84",
    type=_CRS,
    show_default=True,
    help="Coordinates written to CSV/XLSX longitude/latitude columns.",
)
@click.option("--city", "city_code", default=None, help="City code when there are several.")
@with_appcontext
def export_cmd(collection, file, crs, city_code) -> None:
    """Export a collection to GeoJSON, GeoPackage, zipped Shapefile, KML, CSV or XLSX."""
    from service.layers.transfer import export_features

    try:
        with reading() as conn:
            n = export_features(conn, collection, city_id(conn, city_code), file, crs)
    except Problem as exc:
        _fail(exc)
    click.echo(f"exported {n} features to {file}")


user_cli = AppGroup("user", help="Accounts: add, passwords, tokens, disable and enable.")
main.add_command(user_cli)


def city_id(conn, code: str | None) -> int:
    rows = conn.execute(text("SELECT id, code FROM city ORDER BY id")).all()
    if code:
        match = [r.id for r in rows if r.code == code]
        if not match:
            raise click.ClickException(f"--city: no city with code {code!r}")
        return match[0]
    if len(rows) != 1:
        raise click.ClickException(
            "--city: give the city's code"
            if rows
            else "no city yet: run `chuangwen demo` or import one first"
        )
    return rows[0].id


@user_cli.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password", default=None, help="Lets the user sign in on the login page.")
@click.option("--unit", "unit_code", default=None, help="Unit code (needed for the unit role).")
@click.option("--city", "city_code", default=None, help="City code when there are several.")
@click.option("--display-name", default=None)
def user_add(name, role, password, unit_code, city_code, display_name) -> None:
    """Create a user and print an API token for it alone on the last line."""
    try:
        with writing(Actor(None, "cli")) as conn:
            user = create_user(
                conn,
                city_id(conn, city_code),
                name,
                role,
                password=password,
                unit_code=unit_code,
                display_name=display_name,
            )
            token = issue_token(conn, user, label="created by chuangwen user add")
    except Problem as exc:
        _fail(exc)
    click.echo(f"user {user.name} (id {user.id}, role {user.role}) created; API token:")
    click.echo(token)


@user_cli.command("password")
@click.argument("name")
@click.password_option()
def user_password(name: str, password: str) -> None:
    """Set a user's password."""
    try:
        with writing(Actor(None, "cli")) as conn:
            set_password(conn, name, password)
    except Problem as exc:
        _fail(exc)
    click.echo(f"password of {name} changed")


@user_cli.command("token")
@click.argument("name")
def user_token(name: str) -> None:
    """Issue another API token for an existing user (printed alone on the last line)."""
    from service.accounts.users import find_user_by_name

    with writing(Actor(None, "cli")) as conn:
        user = find_user_by_name(conn, name)
        if user is None:
            raise click.ClickException(f"NAME: no user named {name!r}")
        token = issue_token(conn, user, label="created by chuangwen user token")
    click.echo(token)


def _named_user(conn, name: str):
    from service.accounts.users import find_user_by_name

    user = find_user_by_name(conn, name)
    if user is None:
        raise click.ClickException(f"NAME: no user named {name!r}")
    return user


@user_cli.command("revoke-token")
@click.argument("name")
@click.option("--id", "token_id", type=int, default=None, help="One token (else all of them).")
def user_revoke_token(name: str, token_id: int | None) -> None:
    """Revoke one of a user's API tokens, or all of them."""
    from service.accounts.users import revoke_tokens

    with writing(Actor(None, "cli")) as conn:
        done = revoke_tokens(conn, _named_user(conn, name), token_id)
    if token_id is not None and not done:
        raise click.ClickException(f"--id: no live token {token_id} of {name}")
    click.echo(f"{done} token(s) of {name} revoked")


def _set_active(name: str, active: bool) -> None:
    from service.accounts.users import set_active

    try:
        with writing(Actor(None, "cli")) as conn:
            set_active(conn, name, active)
    except Problem as exc:
        _fail(exc)
    click.echo(f"{name} {'enabled' if active else 'disabled'}")


@user_cli.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable a user: its sign-ins end and its tokens stop working."""
    _set_active(name, False)


@user_cli.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Enable a disabled user again."""
    _set_active(name, True)


city_cli = AppGroup("city", help="Cities: add one from its boundary, list them.")
main.add_command(city_cli)


@city_cli.command("add")
@click.argument("code")
@click.argument("name")
@click.option(
    "--boundary",
    "boundary_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The city's outline: GeoJSON, GeoPackage, zipped Shapefile or KML (its polygons "
    "are joined), in any CRS the file states (EPSG:4490, 4326, a Gauss-Krüger zone ...).",
)
@click.option("--name-en", default=None)
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@click.option("--crs", "crs_epsg", type=int, default=None, help="EPSG of the metric CRS.")
@click.option("--gcj02", is_flag=True, help="The boundary's coordinates are GCJ-02.")
@click.option("--area-code", default=None, help="Code of its top area (default: CODE).")
@with_appcontext
def city_add(code, name, boundary_file, name_en, timezone, crs_epsg, gcj02, area_code) -> None:
    """Add a city: extent and metric CRS from its boundary, the boundary as its top area,
    the catalogues. Prints the city's code alone on the last line."""
    import numpy as np
    import shapely

    from gis.chinacrs import TO_WGS84
    from service.layers.cities import add_city
    from service.layers.transfer import read_features

    try:
        frame, _ = read_features(boundary_file)
        boundary = shapely.union_all(frame.geometry.values)
        if gcj02:
            boundary = shapely.transform(
                boundary, lambda xy: np.column_stack(TO_WGS84["gcj02"](xy[:, 0], xy[:, 1]))
            )
        with writing(Actor(None, "cli city add")) as conn:
            city = add_city(
                conn,
                code,
                name,
                boundary,
                name_en=name_en,
                timezone=timezone,
                crs_epsg=crs_epsg,
                area_code=area_code,
            )
    except Problem as exc:
        _fail(exc)
    click.echo(f"city {city['name']} added: EPSG:{city['crs_epsg']}, {city['timezone']}")
    click.echo(city["code"])


@city_cli.command("list")
@with_appcontext
def city_list() -> None:
    """The cities with what each holds."""
    from service.layers.cities import list_cities

    with reading() as conn:
        for c in list_cities(conn):
            click.echo(
                f"{c['code']}\t{c['name']}\tEPSG:{c['crs_epsg']}\t{c['timezone']}\t"
                f"{c['areas']} areas\t{c['units']} units\t{c['points']} points\t"
                f"{c['cases']} cases\t{c['users']} users"
            )


db_cli = AppGroup("db", help="The database: start, stop, status, url, upgrade.")


def _cluster():
    from service.store.pgcluster import Cluster

    return Cluster(Path(current_app.config["HOME"]))


@db_cli.command("start")
def db_start() -> None:
    """Start the self-managed cluster (initialising it the first time) and migrate."""
    url = prepare(current_app)
    click.echo(f"running: {url}")


@db_cli.command("stop")
def db_stop() -> None:
    _cluster().stop()
    click.echo("stopped")


@db_cli.command("status")
def db_status() -> None:
    """'running', 'stopped' or 'absent', with where the cluster lives."""
    if current_app.config.get("DATABASE_URL") or os.environ.get("DATABASE_URL"):
        url = database_url(current_app.config)
        with make_engine(url).connect() as conn:
            version = conn.execute(text("SELECT postgis_full_version()")).scalar()
        click.echo(f"external: {url}\n{version}")
        return
    cluster = _cluster()
    state = cluster.status()
    click.echo(f"{state}: {cluster.data_dir}")
    if state == "running":
        with make_engine(cluster.url).connect() as conn:
            pg = conn.execute(text("SHOW server_version")).scalar()
            gis = conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            ).scalar()
        click.echo(
            f"PostgreSQL {pg}, PostGIS {gis or 'not yet created'}, socket {cluster.socket_dir}"
        )
    else:
        raise SystemExit(1)


@db_cli.command("url")
def db_url() -> None:
    click.echo(database_url(current_app.config))


@db_cli.command("upgrade")
def db_upgrade() -> None:
    upgrade(database_url(current_app.config))
    click.echo("migrated to head")


main.add_command(db_cli)  # also reachable as `flask --app service.app db ...`
main.add_command(report_cli)
