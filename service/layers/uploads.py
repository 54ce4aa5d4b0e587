"""Files from outside, opened safely: each type by the one reader its name allows, after its
content is checked to be that type, with GDAL unable to reach other files or the network.

GDAL picks a driver by looking at a file's content, and some drivers read other files or
URLs named inside the file (a VRT, a GDAL algorithm pipeline, WFS, OGC API, ...): an upload
named ``.geojson`` that is really such a file would make the server read its own secrets
or fetch internal URLs. So, once per process (``lock_down_gdal``):

- every GDAL driver but the few the layers are read and written with (GeoJSON, GeoPackage,
  Shapefile, KML) is deregistered, so no other driver can be chosen for anything;
- GDAL's network file systems (``/vsicurl/``, ``/vsis3/`` ...) and the ones that wrap other
  paths (``/vsisubfile/``, ``/vsicrypt/`` ...) are removed, and GDAL is told not to list
  a file's folder when it opens it;

and for every upload (``check``): the content must be what the name says (a JSON object;
a KML document without network links or entity declarations; a GeoPackage without virtual
tables other than its spatial index; a zip holding one Shapefile's parts and nothing else,
unpacked by Python into a private folder). Spreadsheets are read by pandas and openpyxl,
never by GDAL. Errors name the file by its name, never by a server path.
"""

from __future__ import annotations

import ctypes
import json
import re
import sqlite3
import threading
import zipfile
import zlib
from pathlib import Path

import pyogrio

from service.errors import Problem, field_error

GDAL_DRIVERS = ("GeoJSON", "GPKG", "ESRI Shapefile", "KML", "MEM")
# virtual file systems that reach the network or wrap another path; /vsimem/ (pyogrio's
# in-memory files) and /vsizip/ (exports) stay
_VSI_REMOVED = (
    "/vsicurl/",
    "/vsicurl_streaming/",
    "/vsis3/",
    "/vsis3_streaming/",
    "/vsigs/",
    "/vsigs_streaming/",
    "/vsiaz/",
    "/vsiaz_streaming/",
    "/vsiadls/",
    "/vsioss/",
    "/vsioss_streaming/",
    "/vsiswift/",
    "/vsiswift_streaming/",
    "/vsiwebhdfs/",
    "/vsihdfs/",
    "/vsistdin/",
    "/vsistdout/",
    "/vsisubfile/",
    "/vsisparse/",
    "/vsicrypt/",
    "/vsicached?",
    "/vsitar/",
    "/vsigzip/",
    "/vsi7z/",
    "/vsirar/",
)
SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
_lock = threading.Lock()
_locked: bool | None = None


def lock_down_gdal() -> bool:
    """Deregister every GDAL driver but ``GDAL_DRIVERS`` and remove the network and
    wrapping file systems, in this process; True when done (idempotent)."""
    global _locked
    with _lock:
        if _locked is None:
            _locked = _lock_down()
        return _locked


def _lock_down() -> bool:
    lib = _libgdal()
    if lib is None:
        return False
    lib.GDALGetDriverCount.restype = ctypes.c_int
    lib.GDALGetDriver.restype = ctypes.c_void_p
    lib.GDALGetDriver.argtypes = [ctypes.c_int]
    lib.GDALGetDriverShortName.restype = ctypes.c_char_p
    lib.GDALGetDriverShortName.argtypes = [ctypes.c_void_p]
    lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
    for i in reversed(range(lib.GDALGetDriverCount())):
        driver = lib.GDALGetDriver(i)
        if lib.GDALGetDriverShortName(driver).decode() not in GDAL_DRIVERS:
            lib.GDALDeregisterDriver(driver)
    lib.VSIRemovePluginHandler.argtypes = [ctypes.c_char_p]
    for prefix in _VSI_REMOVED:
        lib.VSIRemovePluginHandler(prefix.encode())
    pyogrio.set_gdal_config_options(
        {
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
            "GDAL_HTTP_MAX_RETRY": "0",
            "GDAL_HTTP_TIMEOUT": "1",
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".none",
            "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
            "GDAL_VRT_ENABLE_PYTHON": "NO",
            # GDAL's own HTTP client (a GeoJSON 'crs' link, for one) goes to a closed port
            "GDAL_HTTP_PROXY": "127.0.0.1:9",
        }
    )
    return set(pyogrio.list_drivers()) <= set(GDAL_DRIVERS)


def _libgdal() -> ctypes.CDLL | None:
    """The GDAL library pyogrio has loaded (its bundled copy or the system's)."""
    pyogrio.list_drivers()  # make sure it is loaded and its drivers registered
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    paths = {line.split()[-1] for line in maps.splitlines() if "/libgdal" in line}
    return ctypes.CDLL(sorted(paths)[0]) if paths else None


def _refuse(name: str, reason: str, status: int = 422) -> Problem:
    return Problem(
        f"The file {name!r} cannot be imported: {reason}.",
        status=status,
        errors=[field_error("file", reason)],
    )


def check(path: Path, fmt: str, name: str) -> Path:
    """Check that the file at ``path`` is what ``fmt`` says; return the path to open (a
    zipped Shapefile is unpacked beside it). ``name`` is what errors call the file."""
    if fmt in ("GeoJSON", "GPKG", "ESRI Shapefile", "KML") and not lock_down_gdal():
        raise _refuse(name, "this server cannot open it with GDAL safely", status=415)
    with path.open("rb") as fh:
        head = fh.read(65536)
    if fmt == "GeoJSON":
        _check_geojson(path, head, name)
    elif fmt == "KML":
        _check_kml(path, name)
    elif fmt == "GPKG":
        _check_geopackage(path, head, name)
    elif fmt == "ESRI Shapefile" and path.suffix.lower() == ".zip":
        return _unzip_shapefile(path, name)
    elif fmt == "ESRI Shapefile":
        if head[:4] != b"\x00\x00\x27\x0a":
            raise _refuse(name, "not a Shapefile")
    elif fmt == "XLSX":
        if head[:4] != b"PK\x03\x04":
            raise _refuse(name, "not an XLSX workbook")
    elif fmt == "CSV":
        with path.open("rb") as fh:
            if any(b"\x00" in block for block in iter(lambda: fh.read(1 << 20), b"")):
                raise _refuse(name, "a CSV file holds text; this one holds NUL bytes")
    return path


def _check_geojson(path: Path, head: bytes, name: str) -> None:
    """One JSON object whose ``crs``, if any, names a CRS: GDAL's reader would fetch a
    ``link`` or ``url`` CRS over HTTP (RFC 7946 has no ``crs`` member at all)."""
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        raise _refuse(name, "a GeoJSON file holds one JSON object")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _refuse(name, "not JSON (or nested too deep)") from None
    if not isinstance(doc, dict):
        raise _refuse(name, "a GeoJSON file holds one JSON object")
    crs = doc.get("crs")
    if crs is not None and not (
        isinstance(crs, dict)
        and crs.get("type") == "name"
        and isinstance((crs.get("properties") or {}).get("name"), str)
    ):
        raise _refuse(name, "its 'crs' may only name a CRS (no links or URLs are followed)")


_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_NETWORK_LINK = re.compile(rb"<([\w.-]+:)?NetworkLink[\s>/]", re.IGNORECASE)
_KML_ROOT = re.compile(rb"^(<\?xml[^>]*\?>)?\s*(<!--.*?-->\s*)*<([\w.-]+:)?kml[\s>]", re.DOTALL)


def _check_kml(path: Path, name: str) -> None:
    data = path.read_bytes()
    if _DECLARATION.search(data):
        raise _refuse(name, "KML with a DOCTYPE or entity declarations is not read")
    if not _KML_ROOT.match(data.lstrip(b"\xef\xbb\xbf \t\r\n")):
        raise _refuse(name, "not a KML document (its root element is not <kml>)")
    if _NETWORK_LINK.search(data):
        raise _refuse(name, "KML network links are not followed; import the linked file")


def _check_geopackage(path: Path, head: bytes, name: str) -> None:
    if head[:16] != b"SQLite format 3\x00" or head[68:72] not in (b"GPKG", b"GP10", b"GP11"):
        raise _refuse(name, "not a GeoPackage")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True) as db:
            virtual = db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                "AND sql LIKE 'CREATE VIRTUAL TABLE%'"
            ).fetchall()
    except sqlite3.DatabaseError:
        raise _refuse(name, "not a readable GeoPackage") from None
    for table, sql in virtual:
        if not re.search(r"\bUSING\s+rtree\s*\(", sql, re.IGNORECASE):
            raise _refuse(name, f"the GeoPackage's virtual table {table!r} is not read")


def _unzip_shapefile(path: Path, name: str) -> Path:
    """The one Shapefile in a zip, unpacked into a folder of its own beside the upload."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _refuse(name, "not a zip file") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        parts = {}
        for m in members:
            stem, suffix = Path(m.filename).stem, Path(m.filename).suffix.lower()
            if suffix not in SHAPEFILE_PARTS or stem.startswith("."):
                raise _refuse(
                    name, f"the zip may hold only a Shapefile's {sorted(SHAPEFILE_PARTS)} parts"
                )
            parts.setdefault(stem, {})[suffix] = m
        if len(parts) != 1 or ".shp" not in next(iter(parts.values())):
            raise _refuse(name, "the zip should hold exactly one Shapefile (.shp with its parts)")
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise _refuse(name, f"unpacked it is over {MAX_UNZIPPED_BYTES // 2**20} MB")
        out = path.parent / "shapefile"
        out.mkdir(mode=0o700)
        try:
            _extract(archive, next(iter(parts.values())), out, name)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError):
            raise _refuse(name, "a part of the zip cannot be unpacked") from None
    shp = out / "layer.shp"
    with shp.open("rb") as fh:
        if fh.read(4) != b"\x00\x00\x27\x0a":
            raise _refuse(name, "the .shp in the zip is not a Shapefile")
    return shp


def _extract(archive: zipfile.ZipFile, members: dict, out: Path, name: str) -> None:
    for suffix, m in members.items():
        # written under a fixed name: nothing in the archive chooses a path
        with archive.open(m) as src, (out / f"layer{suffix}").open("wb") as dst:
            written = 0
            for block in iter(lambda: src.read(1 << 20), b""):
                written += len(block)
                if written > MAX_UNZIPPED_BYTES:
                    raise _refuse(name, "it unpacks to more than it says")
                dst.write(block)


def without_paths(message: str, *paths: Path) -> str:
    """A reader's message with the server's folders taken out."""
    for p in paths:
        message = message.replace(str(p.parent) + "/", "").replace(str(p), p.name)
    return re.sub(r"(/[\w.-]+){2,}/", "", message)
