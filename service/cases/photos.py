"""Phone photos: checked before they are kept, and a copy without EXIF for non-staff.

A photo is taken only when Pillow decodes the whole of it as the format its first bytes
claim (JPEG, PNG or WebP), it has at most ``MAX_PIXELS`` pixels, nothing follows the
image's end (JPEG: the EOI that closes it; PNG: IEND; WebP: the RIFF length) and no HTML
or script marker appears anywhere in its bytes — a file that is a photo and a web page or
an archive at once (a polyglot) is refused.

Each kept photo is two files in ``root/<sha[:2]>/``, both named by the SHA-256 of the bytes
sent: ``<sha>.<ext>``, the original with its EXIF (GPS position, phone, time) for staff
(``STAFF``), and ``<sha>.stripped.<ext>``, re-encoded by Pillow from the pixels, upright and
with no EXIF, XMP or comments, for everyone else. Photos kept before the stripped copies
existed get theirs on the first request that needs it.

Framework-free: functions take bytes and paths and return data or raise :class:`Problem`.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import NotFound, Problem, field_error

# how a kept photo is referred to: /photos/<its SHA-256>.<its type>
PHOTO_REF = r"^/photos/[0-9a-f]{64}\.(jpg|png|webp)$"

MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# phones save 12-50 MP by default; past that a picture is refused as a possible decompression
# bomb (a 108 or 200 MP full-resolution shot too: it must be sent smaller)
MAX_PIXELS = 50_000_000
# the roles that see the original, GPS position included; any other role gets the copy
STAFF = ("admin", "planner", "inspector", "leader")
MEDIA = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# a photo is never a page: what a browser opening it directly may do with it
HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}

# first bytes → extension (WebP is RIFF....WEBP)
_SIGNATURES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))
_FORMAT = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}  # Pillow's names
_NAME = {"jpg": "JPEG", "png": "PNG", "webp": "WebP"}
_EXT = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}  # MPO: a JPEG with more
# A tag name ends at white space, '/' or '>'. Asking for that end makes it rarer that a
# photo's compressed bytes spell a marker by chance: '<svg' alone turns up in ~1 in 200
# photos of 3 MB, '<svg' and its end in ~1 in 6,000 (the others far less often).
_MARKUP = re.compile(rb"<(script|html|svg|\?php|!doctype)[\s/>]", re.IGNORECASE)


class _Refused(Exception):
    """Why a photo is not taken, for its field's error."""


@dataclass(frozen=True)
class Photo:
    """A photo that passed :func:`check`: the bytes sent and the stripped copy."""

    ext: str
    digest: str  # SHA-256 of the original, hex
    original: bytes
    stripped: bytes

    @property
    def ref(self) -> str:
        return f"/photos/{self.digest}.{self.ext}"


def kind(head: bytes) -> str | None:
    """The extension the first bytes claim, or None when they are no JPEG, PNG or WebP."""
    for magic, ext in _SIGNATURES:
        if head.startswith(magic):
            return ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def check(uploads: Sequence[tuple[str | None, bytes]], sent: int) -> list[Photo]:
    """Check every photo of a report (``uploads``: file name and bytes, at most
    ``MAX_PHOTO_BYTES + 1`` read of each; ``sent``: how many files came); a 422
    :class:`Problem` names each field refused (``photos[i]``) and why."""
    errors, photos = [], []
    if sent > MAX_PHOTOS:
        errors.append(field_error("photos", f"at most {MAX_PHOTOS} photos, got {sent}"))
    for i, (filename, data) in enumerate(uploads[:MAX_PHOTOS]):
        try:
            photos.append(_checked(data))
        except _Refused as exc:
            errors.append(field_error(f"photos[{i}]", f"{filename!r}: it {exc}"))
    if errors:
        raise Problem("Some photos cannot be taken.", status=422, errors=errors)
    return photos


def keep(root: Path, photos: Sequence[Photo]) -> tuple[list[str], list[Path]]:
    """Keep checked photos under ``root``; returns their references and the originals this
    call created (for :func:`discard` if the case they came with is not written)."""
    refs, created = [], []
    for photo in photos:
        path = root / photo.digest[:2] / f"{photo.digest}.{photo.ext}"
        refs.append(photo.ref)
        if not path.exists():
            _write(path, photo.original)
            created.append(path)
        if not stripped_path(path).exists():
            _write(stripped_path(path), photo.stripped)
    return refs, created


def discard(original: Path) -> None:
    """Remove a kept photo and its stripped copy."""
    stripped_path(original).unlink(missing_ok=True)
    original.unlink(missing_ok=True)


def stripped_path(original: Path) -> Path:
    digest, ext = original.name.split(".", 1)
    return original.with_name(f"{digest}.stripped.{ext}")


def stripped_copy(original: Path) -> Path:
    """The stripped copy of a kept photo, made now if it was kept before copies were."""
    path = stripped_path(original)
    if not path.exists():
        try:
            data = strip(original.read_bytes())
        except _Refused as exc:
            raise NotFound(f"The photo cannot be shown: it {exc}.") from None
        _write(path, data)
    return path


def strip(data: bytes) -> bytes:
    """The image re-encoded by Pillow from its pixels, turned upright, in the same format,
    with no EXIF (GPS position), XMP or comment; the colour profile stays."""
    with _opened(data) as im:
        fmt = "JPEG" if im.format == "MPO" else im.format
        im.load()
        try:
            clean = ImageOps.exif_transpose(im)
        except Exception:  # EXIF Pillow cannot read: the picture stays as it lies
            clean = im.copy()
    # Pillow writes some of the source's info back (a JPEG's comment, a PNG's profile):
    # only what the pixels need goes on, and the colour profile is passed on purpose
    params = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    if icc := clean.info.get("icc_profile"):
        params["icc_profile"] = icc
    clean.info = {k: v for k, v in clean.info.items() if k == "transparency"}
    out = io.BytesIO()
    try:
        clean.save(out, fmt, **params)
    except Exception as exc:
        raise _Refused(f"cannot be re-encoded as {fmt} ({exc})") from None
    return out.getvalue()


def _checked(data: bytes) -> Photo:
    if len(data) > MAX_PHOTO_BYTES:
        raise _Refused(f"is over {MAX_PHOTO_BYTES // 2**20} MB")
    ext = kind(data[:16])
    if ext is None:
        raise _Refused("is not a JPEG, PNG or WebP image")
    if m := _MARKUP.search(data):
        marker = m.group(0)[:-1].decode("ascii")
        raise _Refused(f"carries HTML or script ({marker!r}): a photo can hold none")
    with _opened(data) as im:
        got = _EXT.get(im.format or "")
        if got != ext:
            raise _Refused(f"starts like a {_NAME[ext]} but decodes as {im.format}")
        im.verify()
    with _opened(data) as im:
        im.load()
    end = _end(data, ext)
    if end < len(data):
        raise _Refused(
            f"has {len(data) - end} byte(s) after the end of the {_NAME[ext]} image "
            "(a photo with another file inside is refused)"
        )
    return Photo(ext, hashlib.sha256(data).hexdigest(), data, strip(data))


@contextmanager
def _opened(data: bytes) -> Iterator[Image.Image]:
    """Open with Pillow, refusing a picture of more than MAX_PIXELS and anything that does
    not decode, as :class:`_Refused`."""
    # Pillow warns (or, past twice its limit, fails) while opening a picture it fears;
    # either is a refusal. Our own lower limit is checked on the size read from the header,
    # before anything is decoded, so it holds whatever the warnings filters are.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=tuple(_FORMAT.values())) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise _Refused(
                        f"is {w} × {h} pixels, over the limit of {MAX_PIXELS // 10**6} megapixels"
                    )
                yield im
        except _Refused:
            raise
        except UnidentifiedImageError:
            raise _Refused("is not a JPEG, PNG or WebP image Pillow can read") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _Refused(
                f"has too many pixels: over the limit of {MAX_PIXELS // 10**6} megapixels"
            ) from None
        except Exception as exc:  # whatever decoding untrusted bytes raises is a refusal
            raise _Refused(f"is not a whole, readable image ({exc})") from None


def _end(data: bytes, ext: str) -> int:
    """Where the image that starts ``data`` ends."""
    if ext == "webp":
        return 8 + int.from_bytes(data[4:8], "little")
    if ext == "png":
        return _png_end(data)
    return _jpeg_end(data)


def _png_end(data: bytes) -> int:
    i = 8
    while i + 8 <= len(data):
        length, chunk = int.from_bytes(data[i : i + 4], "big"), data[i + 4 : i + 8]
        i += 12 + length  # length, type, data, CRC
        if chunk == b"IEND":
            return i
    raise _Refused("is not a whole PNG image (no IEND)")


def _jpeg_end(data: bytes) -> int:
    """After the EOI that closes the image: segments are walked by their lengths (an EXIF
    thumbnail's own EOI is inside one), entropy-coded data up to the next marker."""
    i, n = 2, len(data)
    while i < n:
        if data[i] != 0xFF:
            break
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            break
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            return i
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length
            continue
        i += int.from_bytes(data[i : i + 2], "big")
        if marker == 0xDA:  # SOS: scan data runs to the next marker (not FF00, not RSTn)
            while (j := data.find(b"\xff", i)) != -1 and j + 1 < n:
                follower = data[j + 1]
                if follower == 0 or 0xD0 <= follower <= 0xD7 or follower == 0xFF:
                    i = j + 1
                    continue
                i = j
                break
            else:
                break
    raise _Refused("is not a whole JPEG image (no end of image marker)")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)  # whole or not at all
