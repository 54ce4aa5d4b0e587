"""Phone photos: only whole, plain images are kept; staff see the original with its GPS
position, a unit's users a copy without EXIF; no photo is ever served as a page."""

import ast
import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import text

from service.cases.photos import MAX_PIXELS
from tests.conftest import bearer

GPS = 0x8825  # the EXIF IFD of the position


def _exif(seed: int = 0) -> Image.Exif:
    """What a phone writes: its make and where the photo was taken (a GPS IFD)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS).update(
        {1: "N", 2: (28.0, 17.0, 24.0), 3: "E", 4: (117.0, 12.0, float(seed % 60))}
    )
    return exif


def _jpeg(seed: int = 0, comment: bytes | None = None) -> bytes:
    """A real 64 × 48 JPEG (a different one per seed) with a GPS position in its EXIF."""
    im = Image.linear_gradient("L").resize((64, 48)).convert("RGB").rotate(seed % 360)
    buf = io.BytesIO()
    extra = {"comment": comment} if comment else {}
    im.save(buf, "JPEG", exif=_exif(seed), quality=90, **extra)
    return buf.getvalue()


def _png(seed: int = 0, text_chunk: str | None = None, size=(4, 4), mode="RGB") -> bytes:
    """A real PNG with a GPS position in its EXIF (eXIf chunk)."""
    info = PngImagePlugin.PngInfo()
    if text_chunk:
        info.add_text("Comment", text_chunk)
    buf = io.BytesIO()
    Image.new(mode, size, seed % 2 if mode == "1" else (seed % 256, 9, 9)).save(
        buf, "PNG", pnginfo=info, exif=_exif(seed)
    )
    return buf.getvalue()


def _webp(seed: int = 0) -> bytes:
    """A real WebP with a GPS position in its EXIF."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (seed % 256, 90, 9)).save(buf, "WEBP", exif=_exif(seed))
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("payload.txt", "what a photo should not carry " * 20)
    return buf.getvalue()


def _report(client, token, photos, lon="117.2150", lat="28.2900"):
    data = {"category": "graffiti", "lon": lon, "lat": lat}
    data["photos"] = [(io.BytesIO(b), name) for name, b in photos]
    return client.post(
        "/api/reports", data=data, headers=bearer(token), content_type="multipart/form-data"
    )


def _kept(app) -> set[Path]:
    return set((Path(app.config["HOME"]) / "photos").rglob("*"))


def _violations(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM violation")).scalar()


def _unit_place(engine, demo, tokens) -> tuple[str, str]:
    """A place the test unit (or one of its communities) owns."""
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM violation WHERE city_id = :c AND unit_id "
                "IN (SELECT id FROM unit WHERE id = :u OR parent_id = :u) ORDER BY id LIMIT 1"
            ),
            {"c": demo[0], "u": tokens["unit"][0].unit_id},
        ).one()
    return str(lon), str(lat)


def _gps(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as im:
        return dict(im.getexif().get_ifd(GPS))


def test_staff_get_the_original_with_gps_and_a_unit_a_copy_without(
    client, tokens, engine, demo, app
):
    lon, lat = _unit_place(engine, demo, tokens)
    sent = {"a.jpg": _jpeg(1), "b.webp": _webp(1), "c.png": _png(1)}
    resp = _report(client, tokens["inspector"][1], sent.items(), lon=lon, lat=lat)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    refs = resp.get_json()["properties"]["photos"]
    assert len(refs) == 3  # one reference per photo, as before
    media = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
    for (name, original), ref in zip(sent.items(), refs, strict=True):
        ext = name.rsplit(".", 1)[1]
        assert ref.endswith("." + ext)
        for role in ("inspector", "planner"):
            got = client.get(ref, headers=bearer(tokens[role][1]))
            assert got.status_code == 200 and got.data == original
        copy = client.get(ref, headers=bearer(tokens["unit"][1]))
        assert copy.status_code == 200, copy.get_data(as_text=True)
        assert copy.mimetype == media[ext]
        assert copy.data != original
        with Image.open(io.BytesIO(copy.data)) as im, Image.open(io.BytesIO(original)) as orig:
            assert im.format == orig.format and im.size == orig.size
            assert dict(im.getexif()) == {} and im.getexif().get_ifd(GPS) == {}
            im.load()
        # the stripped copy is kept next to the original, named by the same digest
        digest = ref.rsplit("/", 1)[1].split(".")[0]
        folder = Path(app.config["HOME"]) / "photos" / digest[:2]
        assert (folder / f"{digest}.{ext}").read_bytes() == original
        assert (folder / f"{digest}.stripped.{ext}").read_bytes() == copy.data
    assert all(_gps(original)[1] == "N" for original in sent.values())  # they had GPS


def test_a_photo_kept_before_copies_gets_its_copy_on_a_units_first_request(
    client, tokens, engine, demo, app
):
    lon, lat = _unit_place(engine, demo, tokens)
    original = _jpeg(2)
    resp = _report(client, tokens["inspector"][1], [("old.jpg", original)], lon=lon, lat=lat)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    ref = resp.get_json()["properties"]["photos"][0]
    digest = ref.rsplit("/", 1)[1].split(".")[0]
    stripped = Path(app.config["HOME"]) / "photos" / digest[:2] / f"{digest}.stripped.jpg"
    stripped.unlink()  # as a photo kept before this change
    assert client.get(ref, headers=bearer(tokens["planner"][1])).data == original
    assert not stripped.exists()  # staff need no copy
    got = client.get(ref, headers=bearer(tokens["unit"][1]))
    assert got.status_code == 200 and _gps(got.data) == {}
    assert stripped.read_bytes() == got.data


def test_a_photo_is_never_a_page(client, tokens, engine, demo):
    lon, lat = _unit_place(engine, demo, tokens)
    resp = _report(client, tokens["inspector"][1], [("p.png", _png(3))], lon=lon, lat=lat)
    ref = resp.get_json()["properties"]["photos"][0]
    for role in ("planner", "unit"):
        got = client.get(ref, headers=bearer(tokens[role][1]))
        assert got.status_code == 200
        assert got.headers.get("Content-Security-Policy") == "sandbox; default-src 'none'"
        assert got.headers.get("X-Content-Type-Options") == "nosniff"


def _big_png() -> bytes:
    """Over the pixel limit, yet a few kB: a blank one-bit picture."""
    side = int(MAX_PIXELS**0.5) + 100
    return _png(size=(side, side), mode="1")


BAD = {
    "zip appended to a JPEG": (lambda: _jpeg(10) + _zip(), "after the end of the JPEG"),
    "HTML appended to a JPEG": (
        lambda: _jpeg(11) + b"<!DOCTYPE html><p>hi</p>",
        "HTML or script",
    ),
    "script in a JPEG comment": (
        lambda: _jpeg(12, comment=b"<SCRIPT>alert(1)</SCRIPT>"),
        "HTML or script",
    ),
    "script in a PNG tEXt chunk": (
        lambda: _png(13, text_chunk="<script>alert(1)</script>"),
        "HTML or script",
    ),
    "bytes after a PNG's IEND": (lambda: _png(14) + b"\x00" * 16, "after the end of the PNG"),
    "bytes beyond a WebP's RIFF length": (lambda: _webp(15) + b"PK\x05\x06", "after the end"),
    "truncated JPEG": (lambda: _jpeg(16)[:-200], "not a whole"),
    "JPEG magic, garbage after": (
        lambda: b"\xff\xd8\xff\xe0" + bytes(range(60, 256)) * 8,
        "not a whole, readable image",
    ),
    "over the pixel limit": (_big_png, "megapixels"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_photo_that_is_not_a_plain_whole_image_is_refused_and_nothing_kept(
    case, client, tokens, engine, app
):
    make, reason = BAD[case]
    before, kept = _violations(engine), _kept(app)
    good = _jpeg(100 + len(kept))  # a photo not kept yet: it must not be kept either
    resp = _report(client, tokens["inspector"][1], [("good.jpg", good), ("bad.jpg", make())])
    assert resp.status_code == 422, resp.get_data(as_text=True)
    body = resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert [e["field"] for e in body["errors"]] == ["photos[1]"]
    assert reason in body["errors"][0]["reason"] and "'bad.jpg'" in body["errors"][0]["reason"]
    assert _violations(engine) == before
    assert _kept(app) == kept


def test_the_photo_room_speaks_no_http():
    """service/cases/photos.py takes bytes and paths; Flask stays in the views (reports.py)."""
    import service.cases.photos

    tree = ast.parse(Path(service.cases.photos.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in imported if m.split(".")[0] in ("flask", "werkzeug", "sqlalchemy")}
