"""Bulk insert of violations: COPY into a staging table, then one INSERT … SELECT of the
rows judged together by ``violation_judge_many`` (the set-based form of the rules the row
trigger applies one case at a time).

A file's properties are checked a column at a time (``checked``): a row whose every value
passes plainly is staged from the columns; any other row goes through the one-row validator,
which says what is wrong. A value the column check is not sure of (whitespace to strip, a
time it cannot read the way the validator does) is never judged here, only passed on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Connection, text

from service.layers import partitions
from service.layers.features import write
from service.layers.features.write import next_case_numbers
from service.store.models import VIOLATION_SOURCES, VIOLATION_STATUSES

COLUMNS = (
    "row_no",
    "case_no",
    "category_code",
    "description",
    "observed_at",
    "reported_by",
    "source",
    "status",
    "resolved_at",
    "photos",
    "provenance",
    "location_accuracy_m",
    "wkb",
)
# a violations file's properties that are checked a column at a time: (most, least) characters
TEXTS = {"case_no": (32, 1), "category": (32, 1), "description": (2000, 0)}
CHOICES = {"status": (VIOLATION_STATUSES, "open"), "source": (VIOLATION_SOURCES, "inspection")}
TIMES = ("observed_at", "resolved_at")
# the staging table's columns, in COLUMNS' order
STAGING = (
    "(row_no int, case_no text, category_code text, description text, "
    "observed_at timestamptz, reported_by bigint, source text, status text, "
    "resolved_at timestamptz, photos jsonb, provenance text, location_accuracy_m real, "
    "wkb text)"
)
ACCURACY_DIGITS = write.ACCURACY_DIGITS


def checked(
    frame: pd.DataFrame, ignored: set, categories: set, tz: ZoneInfo, now: dt.datetime
) -> tuple[np.ndarray, pd.DataFrame | None]:
    """The rows of a violations file whose properties pass checked a column at a time (a
    mask), and their staging columns (without ``row_no``, ``wkb`` and ``reported_by``).
    ``ignored``: the properties a read returns that a write leaves out. Nothing passes when
    the file has a property this check does not know: the validator names it."""
    n = len(frame)
    known = {*TEXTS, *CHOICES, *TIMES, "location_accuracy_m"}
    columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    if "category" not in columns or not set(columns) <= known | ignored:
        return np.zeros(n, bool), None
    ok = np.ones(n, bool)
    for name in set(columns) & ignored:  # left out, but a NUL in them is still refused
        other = frame[name].map(lambda v: not isinstance(v, str | list | tuple | dict)).to_numpy()
        ok &= _texts(frame, name, 1 << 30, 0)[1] | other
    accuracy, fine = _numbers(frame, "location_accuracy_m", 0, 10_000)
    ok &= fine
    out = {}
    for name, (most, least) in TEXTS.items():
        values, fine = _texts(frame, name, most, least)
        out[name] = values
        ok &= fine
    ok &= out["category"].isin(categories).to_numpy()
    for name, (allowed, default) in CHOICES.items():
        values, fine = _texts(frame, name, 32, 1)
        ok &= fine & (values.isna() | values.isin(allowed)).to_numpy()
        out[name] = values.fillna(default)
    for name in TIMES:
        out[name], fine = _times(frame, name, tz)
        ok &= fine
    out["observed_at"] = out["observed_at"].fillna(pd.Timestamp(now))
    done = out["status"].isin(("resolved", "closed")) & out["resolved_at"].isna()
    out["resolved_at"] = out["resolved_at"].mask(done, pd.Timestamp(now))
    staged = pd.DataFrame(
        {
            "case_no": out["case_no"],
            "category_code": out["category"],
            "description": out["description"],
            "observed_at": out["observed_at"],
            "source": out["source"],
            "status": out["status"],
            "resolved_at": out["resolved_at"],
            "photos": "[]",
            "provenance": "import",
            "location_accuracy_m": accuracy,
        }
    )
    return ok, staged


def _numbers(frame, name: str, least: float, most: float) -> tuple[pd.Series, np.ndarray]:
    """A number column: its values (None where absent) and which pass plainly (numbers,
    not text, within the bounds)."""
    if name not in frame:
        return _no_column(frame)
    raw = frame[name].astype(object)
    absent = _absent(raw)
    number = raw.map(
        lambda v: (
            isinstance(v, int | float | np.integer | np.floating)
            and not isinstance(v, bool | np.bool_)
        )
    ).to_numpy()
    values = pd.to_numeric(raw.where(number, np.nan), errors="coerce")
    fine = number & (values >= least).to_numpy() & (values <= most).to_numpy()
    kept = values.astype(object).map(lambda v: round(v, ACCURACY_DIGITS) if v == v else None)
    return kept.where(~absent, None), absent | fine


def _absent(values: pd.Series) -> np.ndarray:
    """What a file's cell holds when it holds nothing, as the one-row reader (transfer._plain)
    takes it: None, NaN, NaT or ''."""
    return values.map(_nothing).to_numpy(dtype=bool)


def _nothing(v) -> bool:
    return (
        v is None
        or v is pd.NaT
        or (isinstance(v, float) and v != v)
        or (isinstance(v, str) and v == "")
    )


def _whole_minutes(offset: dt.timedelta | None) -> bool:
    """An offset from UTC the validator reads (an old local mean time, +08:05:43, it does not)."""
    return offset is not None and offset.total_seconds() % 60 == 0


def _no_column(frame) -> tuple[pd.Series, np.ndarray]:
    """A property the file does not have: absent in every row, which passes."""
    return pd.Series([None] * len(frame), dtype=object, index=frame.index), np.ones(
        len(frame), bool
    )


def _texts(frame, name: str, most: int, least: int) -> tuple[pd.Series, np.ndarray]:
    """A text column: its values (None where absent) and which pass plainly: text already
    stripped, within its length, without NUL, not a JSON list (the file reader makes those
    lists). Each distinct value is looked at once."""
    if name not in frame:
        return _no_column(frame)
    raw = frame[name].astype(object)
    try:
        codes, distinct = pd.factorize(raw)  # None, NaN and NaT: -1
    except TypeError:  # a list, which has no hash: every value on its own
        codes, distinct = np.arange(len(raw)), raw.to_numpy()
    absent = np.array([_nothing(v) for v in distinct] + [True], bool)[codes]
    missing = codes < 0  # pandas' missing values: some (pd.NA) are not a file's nothing
    absent[missing] = _absent(raw[missing])
    plain = np.array([_plain_text(v, most, least) for v in distinct] + [False], bool)
    return raw.where(~absent, None), absent | plain[codes]


def _plain_text(v, most: int, least: int) -> bool:
    return (
        type(v) is str
        and least <= len(v) <= most
        and v.strip() == v
        and "\x00" not in v
        and not (v.startswith("[") and v.endswith("]"))
    )


def _times(frame, name: str, tz: ZoneInfo) -> tuple[pd.Series, np.ndarray]:
    """A time column in UTC (NaT where absent) and which values pass plainly: times of a
    datetime column (without a zone: the city's), or ISO texts as the validator reads them."""
    n = len(frame)
    if name not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]"), np.ones(n, bool)
    col = frame[name]
    if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(col):
        absent = col.isna().to_numpy()
        local = (
            col
            if col.dt.tz is not None
            else col.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        )
        utc = local.dt.tz_convert("UTC")
        offset = local.dt.tz_localize(None) - utc.dt.tz_localize(None)
        # a time that is not one instant of the city's, finer than a microsecond, or in an
        # offset of seconds: the validator decides
        fine = absent | (
            local.notna().to_numpy()
            & (col.dt.nanosecond == 0).to_numpy()
            & (offset.dt.total_seconds() % 60 == 0).to_numpy()
        )
        return utc, fine
    parsed, fine = [], np.zeros(n, bool)
    for k, v in enumerate(col.astype(object)):
        if _nothing(v):
            parsed.append(None)
            fine[k] = True
        elif type(v) is str and v == v.strip():
            try:
                when = dt.datetime.fromisoformat(v)
            except ValueError:
                parsed.append(None)
                continue
            when = when if when.tzinfo else when.replace(tzinfo=tz)
            fine[k] = _whole_minutes(when.utcoffset())
            parsed.append(when if fine[k] else None)
        elif isinstance(v, dt.datetime) and getattr(v, "nanosecond", 0) == 0:
            when = v if v.tzinfo else v.replace(tzinfo=tz)
            fine[k] = _whole_minutes(when.utcoffset())
            parsed.append(when if fine[k] else None)
        else:
            parsed.append(None)
    return pd.Series(pd.to_datetime(parsed, utc=True), index=frame.index), fine


def stage(
    conn: Connection,
    city_id: int,
    columns: pd.DataFrame | None,
    rows: list[tuple[int, dict]],
    actor_id: int | None,
) -> list[dict]:
    """COPY the rows into a temporary table: ``columns`` (staging columns, ``row_no`` and
    ``wkb`` among them) checked a column at a time, and ``rows`` validated one by one;
    return case-number conflicts by row."""
    conn.execute(
        text(f"CREATE TEMP TABLE IF NOT EXISTS violation_staging {STAGING} ON COMMIT DROP")
    )
    conn.execute(text("TRUNCATE violation_staging"))
    one_by_one = pd.DataFrame(
        [
            {
                "row_no": row_no,
                "photos": r.get("photos") or "[]",
                "provenance": r.get("provenance", "import"),
                **{k: r.get(k) for k in COLUMNS if k not in ("row_no", "photos", "provenance")},
            }
            for row_no, r in rows
        ],
        columns=[c for c in COLUMNS if c != "reported_by"],
    )
    for name in TIMES:
        one_by_one[name] = pd.to_datetime(one_by_one[name], utc=True)
    table = one_by_one if columns is None else pd.concat([columns, one_by_one])
    table = table.sort_values("row_no", kind="stable").reset_index(drop=True)
    missing = table["case_no"].isna().to_numpy()
    table.loc[missing, "case_no"] = next_case_numbers(conn, int(missing.sum()))
    table["reported_by"] = actor_id
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cur,
        # a thread of its own sends the rows: the server reads a piece while the next is made
        cur.copy(
            f"COPY violation_staging ({', '.join(COLUMNS)}) FROM STDIN",
            writer=QueuedLibpqWriter(cur),
        ) as copy,
    ):
        for piece in copy_chunks(table[list(COLUMNS)]):
            copy.write(piece)
    conn.execute(text("ANALYZE violation_staging"))  # the planner's row counts for what follows
    stored = set(
        conn.execute(
            text(
                "SELECT s.row_no FROM violation_staging s JOIN violation v "
                "ON v.city_id = :c AND v.case_no = s.case_no"
            ),
            {"c": city_id},
        ).scalars()
    )
    # a case number on more than one row of the file (compared as the database compares
    # text: character for character)
    twice = table["case_no"].duplicated(keep=False).to_numpy()
    clashes = table[twice | table["row_no"].isin(stored).to_numpy()]
    return [
        {
            "row": int(row_no),
            "field": "properties.case_no",
            "reason": f"{case_no} is already stored"
            if row_no in stored
            else f"{case_no} is used by another row of the file",
        }
        for row_no, case_no in zip(clashes["row_no"], clashes["case_no"], strict=True)
    ]


def judged_insert(into: str, staged: str) -> str:
    """SQL: the rows of the staging table ``staged`` written into ``into`` (the cases' table,
    or a copy of it) with what ``violation_judge_many`` finds for them, city ``:c``, and
    dispatched on arrival where their category says so."""
    return (
        f"INSERT INTO {into} (city_id, case_no, category_code, description, observed_at, "
        "reported_by, source, status, resolved_at, photos, provenance, location_accuracy_m, "
        "geom, grid_cell_id, zone_id, unit_id, department_code, severity, permitted, "
        "near_points, due_at) "
        "SELECT :c, s.case_no, s.category_code, s.description, s.observed_at, s.reported_by, "
        # dispatched on arrival, as violation_dispatch_on_arrival does for one case
        "s.source, CASE WHEN s.status = 'open' AND j.unit_id IS NOT NULL AND k.auto_dispatch "
        "THEN 'dispatched' ELSE s.status END, s.resolved_at, s.photos, s.provenance, "
        "s.location_accuracy_m, "
        "ST_SetSRID(CAST(s.wkb AS geometry), 4326), j.grid_cell_id, j.zone_id, j.unit_id, "
        "j.department_code, j.severity, j.permitted, j.near_points, j.due_at "
        f"FROM {staged} s JOIN violation_judge_many(:c, 'SELECT row_no AS k, "
        "ST_SetSRID(CAST(wkb AS geometry), 4326) AS geom, category_code, observed_at "
        f"FROM {staged}') j ON j.k = s.row_no "
        "LEFT JOIN violation_category k ON k.city_id = :c AND k.code = s.category_code "
        # in spatial order: each insert into the spatial index lands beside the one
        # before (a fifth less time than file order at a million rows)
        "ORDER BY ST_SetSRID(CAST(s.wkb AS geometry), 4326), s.row_no"
    )


def insert_staged(
    conn: Connection, city_id: int, lap: Callable[[str], None] = lambda step: None
) -> int:
    """Insert the staged rows, judged together by ``violation_judge_many``; return how many.
    ``lap`` is told when each step of a city's first import ends (partitions.load_alone)."""
    conn.execute(text("SELECT set_config('chuangwen.judged', 'on', true)"))
    # the file's rows are sorted by place and by row in memory, not on disk
    before = conn.execute(text("SELECT current_setting('work_mem')")).scalar()
    conn.execute(text("SELECT set_config('work_mem', '256MB', true)"))

    def write(into: str) -> int:
        return conn.execute(text(judged_insert(into, "violation_staging")), {"c": city_id}).rowcount

    rows = conn.execute(text("SELECT count(*) FROM violation_staging")).scalar()
    n = partitions.load_alone(conn, city_id, rows, write, lap)
    if n is None:  # into the city's partition as it stands, indexed
        n = write("violation")
    conn.execute(text("SELECT set_config('chuangwen.judged', 'off', true)"))
    conn.execute(text("SELECT set_config('work_mem', :w, true)"), {"w": before})
    return n


def copy_text(table: pd.DataFrame) -> bytes:
    """The rows in COPY's text format (``copy_chunks``) in one piece."""
    return b"".join(copy_chunks(table, max(len(table), 1)))


def copy_chunks(table: pd.DataFrame, rows: int = 100_000) -> Iterator[bytes]:
    """The rows in COPY's text format, ``rows`` at a time: NULL as \\N, text with
    backslashes, tabs and line ends escaped, times in UTC."""
    for start in range(0, len(table), rows):
        part = table.iloc[start : start + rows]
        columns = [_copy_words(part[name]) for name in part.columns]
        yield ("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n").encode()


def _copy_words(col: pd.Series) -> np.ndarray:
    """A column's values as COPY text words."""
    absent = col.isna().to_numpy()
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        utc = col.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
        words = np.char.add(utc.astype(str), "Z").astype(object)
    else:
        if pd.api.types.is_string_dtype(col.dtype) and col.dtype != object:
            words = col.to_numpy(dtype=object, na_value="")  # strings already
        else:
            words = np.array([str(v) for v in col.to_numpy(dtype=object)], dtype=object)
        every = "".join(words)
        if any(c in every for c in "\\\t\n\r"):
            words = np.array([_escaped(w) for w in words], dtype=object)
    words[absent] = "\\N"
    return words


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
