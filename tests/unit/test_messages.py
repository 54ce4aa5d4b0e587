"""Every sentence the server can send in a problem has its Chinese, and the catalogue holds
nothing the code no longer says (data/i18n/problems.zh.json, service/web/messages.py).

The sentences are found in the code's syntax tree: the message argument of every
``Problem`` (and its subclasses), ``field_error``, ``validated``, ``problem_response`` and
``catalogued`` call, of ``GeometryProblem`` in gis/, a ``"reason"`` in a dict literal, what
a pydantic validator raises as ``ValueError`` and what the message-making helpers return. A
literal is its own template; an f-string's template has ``{0}``, ``{1}`` … for its values.
"""

from __future__ import annotations

import ast
import json
import re
import typing
from pathlib import Path

import pydantic_core
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gis.validate import GEOS_REASONS
from service.errors import pydantic_errors
from service.web import messages

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("service", "maps", "gis")

# callables whose argument (by position, or by keyword) is a message
MESSAGE_ARGS = {
    "Problem": (0, "detail"),
    "NotFound": (0, "detail"),
    "Forbidden": (0, "detail"),
    "Unauthorized": (0, "detail"),
    "GeometryProblem": (0, None),
    "field_error": (1, "reason"),
    "validated": (2, "detail"),
    "problem_response": (1, "detail"),
    "catalogued": (0, "text"),
    "_refuse": (1, "reason"),  # service/layers/uploads.py: "The file … cannot be imported: …"
    "_Refused": (0, None),  # service/cases/photos.py: why a photo is not taken
}
# helpers whose returned text becomes a reason (gis/validate.py's, passed on as str(exc))
MESSAGE_RETURNS = {"_where", "_outside_hint"}

# messages that are not written where they are passed; each is accounted for
DYNAMIC = {
    ("service/errors.py", "reason"): "field_error()'s own: its callers' are read",
    ("service/errors.py", "detail"): "validated()'s detail: its callers' are read",
    ("service/errors.py", "e['msg']"): "pydantic's: said by type and ctx (pydantic_errors)",
    ("service/layers/uploads.py", "reason"): "_refuse()'s reason: its callers' are read",
    ("service/layers/transfer.py", "exc.detail"): "a Problem's detail as a row's reason",
    ("service/web/errors.py", "exc.detail"): "a Problem's detail, read where it is raised",
    ("service/web/errors.py", "exc.description or HTTPStatus(status).phrase"): (
        "werkzeug's words: said by status; flask-wtf's are CSRF_REASONS in messages.py"
    ),
    ("gis/validate.py", "reason.lower()"): "a GEOS reason without a place: GEOS_REASONS",
    ("service/layers/features/write.py", "str(exc)"): "a GeometryProblem: gis/validate.py's",
    ("service/layers/zone_edit.py", "str(exc)"): "a GeometryProblem: gis/validate.py's",
    # a library's own words about a file, beside a detail that is catalogued
    ("service/layers/transfer.py", "reason"): "GDAL's",
    ("service/layers/transfer.py", "uploads.without_paths(str(exc), path)"): "PROJ's",
    ("service/rounds/roads.py", "reason"): "GDAL's",
    ("service/rounds/roads.py", "uploads.without_paths(str(exc), path)"): "pyosmium's",
    ("service/layers/basemap_import.py", "uploads.without_paths(str(exc), path)"): "GDAL's",
}


def _files() -> list[Path]:
    return sorted(p for root in SOURCES for p in (ROOT / root).rglob("*.py"))


def _alternatives(node: ast.expr) -> list[list[str | None]] | None:
    """What an expression can say as lists of literal parts and values (None), or None when
    it is not written there: a literal, an f-string, ``a if c else b``, ``"text" + value``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [[node.value]]
    if isinstance(node, ast.JoinedStr):
        return [[v.value if isinstance(v, ast.Constant) else None for v in node.values]]
    if isinstance(node, ast.IfExp):
        body, orelse = _alternatives(node.body), _alternatives(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _alternatives(node.left), _alternatives(node.right)
        if left is None and right is None:
            return None
        return [a + b for a in left or [[None]] for b in right or [[None]]]
    return None


def _templates(node: ast.expr) -> list[str] | None:
    """The templates an expression can say: literal braces doubled, values ``{0}``, ``{1}``…"""
    alternatives = _alternatives(node)
    if alternatives is None:
        return None
    templates = []
    for parts in alternatives:
        n, out = 0, []
        for part in parts:
            if part is None:
                out.append(f"{{{n}}}")
                n += 1
            else:
                out.append(part.replace("{", "{{").replace("}", "}}"))
        templates.append("".join(out))
    return templates


def _message_nodes(tree: ast.Module):
    """Every expression in ``tree`` that is a message."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            if name in MESSAGE_ARGS:
                index, keyword = MESSAGE_ARGS[name]
                if len(node.args) > index:
                    yield node.args[index]
                yield from (k.value for k in node.keywords if k.arg == keyword)
        elif isinstance(node, ast.Dict):  # a field error written out: {"field", "reason"}
            keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
            if "field" in keys and "reason" in keys:
                reason = node.values[keys.index("reason")]
                if not isinstance(reason, ast.Dict):  # not a schema's {"type": "string"}
                    yield reason
        elif isinstance(node, ast.FunctionDef):
            if node.name in MESSAGE_RETURNS:
                yield from (r.value for r in ast.walk(node) if isinstance(r, ast.Return))
            if any("validator" in ast.unparse(d) for d in node.decorator_list):
                for r in ast.walk(node):
                    if (
                        isinstance(r, ast.Raise)
                        and isinstance(r.exc, ast.Call)
                        and ast.unparse(r.exc.func) == "ValueError"
                        and r.exc.args
                    ):
                        yield r.exc.args[0]


def _returns_message(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func) in MESSAGE_RETURNS


def scan() -> tuple[dict[str, set[str]], set[tuple[str, str]]]:
    """Template → where it is said; and the (file, expression) of every message that is
    not written where it is passed."""
    found: dict[str, set[str]] = {}
    dynamic = set()
    for path in _files():
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: n.value
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        for node in _message_nodes(tree):
            if isinstance(node, ast.Name) and node.id in constants:  # a module's constant
                node = constants[node.id]
            templates = _templates(node)
            if templates is None and _returns_message(node):
                continue  # what MESSAGE_RETURNS return is read where they return it
            if templates is None:
                dynamic.add((where, ast.unparse(node)))
                continue
            for t in templates:
                found.setdefault(t, set()).add(f"{where}:{node.lineno}")
    return found, dynamic


SAID, DYNAMICS = scan()
ZH = messages.chinese()
PYDANTIC_TYPES = set(typing.get_args(pydantic_core.ErrorType))
PLACEHOLDER = re.compile(r"\{(\d+)\}")
CJK = "[\u4e00-\u9fff]"


def test_the_code_says_about_two_hundred_sentences():
    assert len(SAID) > 180, len(SAID)


def test_every_sentence_has_its_chinese():
    missing = {t: sorted(w) for t, w in SAID.items() if t not in ZH}
    assert missing == {}, json.dumps(missing, ensure_ascii=False, indent=1)


def test_the_catalogue_holds_only_what_the_code_says():
    unused = []
    for key in ZH:
        if key.startswith(messages.PYDANTIC):
            kind = key[len(messages.PYDANTIC) :].split(":")[0]
            if kind not in PYDANTIC_TYPES | {"*"}:
                unused.append(key)
        elif key not in SAID and key not in GEOS_REASONS:
            unused.append(key)
    assert unused == []


def test_every_message_not_written_in_place_is_accounted_for():
    assert DYNAMICS == set(DYNAMIC), sorted(DYNAMICS ^ set(DYNAMIC))


def test_the_chinese_takes_the_same_values():
    wrong = {
        key: zh
        for key, zh in ZH.items()
        if not key.startswith(messages.PYDANTIC)
        and set(PLACEHOLDER.findall(key)) != set(PLACEHOLDER.findall(zh))
    }
    assert wrong == {}


ENGLISH_RUN = re.compile(r"(?<![\w./-])[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}(?![\w/-])")


def _english_run(text: str) -> str | None:
    """An English sentence left in Chinese: three or more English words in a row, a word
    being two or more letters with a single space between words. Codes (``grid_cells``),
    lists of them (``from, to, limit``), numbers, units and CRS names are not such a run."""
    m = ENGLISH_RUN.search(text)
    return m.group() if m else None


def test_the_chinese_is_chinese():
    english = {}
    for key, zh in ZH.items():
        bare = re.sub(r"\{\w+\}", " ", zh)
        if _english_run(bare) or (re.search("[A-Za-z]", bare) and not re.search(CJK, zh)):
            english[key] = zh
    assert english == {}


def test_each_sentence_is_read_back_by_its_own_template():
    """A sentence made from its template with plain values is translated by that template,
    not by a wider one that also matches it."""
    wrong = {}
    for template in SAID:
        n = len(set(PLACEHOLDER.findall(template)))
        if not n:
            continue
        values = [f"v{i}x" for i in range(n)]
        text = template.format(*values)
        if messages.said(text, "zh") != ZH[template].format(*values):
            wrong[template] = messages.said(text, "zh")
    assert wrong == {}


def test_a_sentence_is_said_in_chinese_with_its_values():
    assert messages.said("The report is not complete.", "zh") == "上报内容不完整。"
    assert messages.said("missing", "zh") == "必填"
    said = messages.said("should be from 1 to 1000, got 5000", "zh")
    assert "1" in said and "1000" in said and "5000" in said and "应" in said
    # a value that is itself a catalogued sentence is said in Chinese too
    outside = "self-intersection at 117.2100000,28.2950000; send ?repair=true to have it repaired"
    assert "自相交" in messages.said(outside, "zh")
    assert messages.said("The report is not complete.", "en") == "The report is not complete."
    assert messages.said("GDAL: something only GDAL says", "zh") is None


def test_a_detail_no_template_knows_is_said_by_its_status():
    werkzeug = "The requested URL was not found on the server."
    assert messages.detail_message(werkzeug, 404, "zh") == ZH["Nothing is at this address."]
    assert messages.detail_message(werkzeug, 404, "en") == werkzeug
    assert messages.detail_message("whatever", 418, "zh") == ZH["The request is not understood."]


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=32)
    description: str | None = Field(default=None, max_length=20)
    weight: float = Field(gt=0, le=100)
    count: int = 1
    status: typing.Literal["open", "closed"] = "open"
    opens_at: str = "08:00"

    @field_validator("opens_at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not re.fullmatch(r"\d\d:\d\d", v):
            raise ValueError("should be a time of day as HH:MM")
        return v


@pytest.mark.parametrize(
    "value, field, zh",
    [
        ({"weight": 1}, "category", "必填"),
        ({"category": "", "weight": 1}, "category", "不能为空"),
        ({"category": "x" * 40, "weight": 1}, "category", "32"),
        ({"category": "a", "description": "d" * 30, "weight": 1}, "description", "20"),
        ({"category": "a", "weight": "heavy"}, "weight", "数"),
        ({"category": "a", "weight": 0}, "weight", "0"),
        ({"category": "a", "weight": 1, "count": "many"}, "count", "整数"),
        ({"category": "a", "weight": 1, "status": "gone"}, "status", "'open'、'closed'"),
        ({"category": "a", "weight": 1, "colour": "red"}, "colour", "字段"),
        ({"category": "a", "weight": 1, "opens_at": "8am"}, "opens_at", "HH:MM"),
    ],
)
def test_pydantic_errors_are_said_by_type_and_context(value, field, zh):
    with pytest.raises(ValidationError) as caught:
        _Report.model_validate(value)
    errors = {e["field"]: e for e in pydantic_errors(caught.value)}
    error = errors[field]
    said = messages.reason_message(error, "zh")
    assert zh in said and re.search(CJK, said), said
    assert not _english_run(said), said
    english = messages.reason_message(error, "en")
    assert english == error["reason"] or error["_pydantic"]["type"] == "value_error"
    assert "_pydantic" not in messages.with_messages([error], "zh")[0]


def test_a_text_longer_than_any_sentence_is_left_as_it_is():
    # a client makes such a text (a parameter's name); matching it against every template's
    # lazy groups would cost a power of its length
    from service.web import messages

    known = "unknown parameter; takes bbox, limit"
    assert messages.said(known, "zh") not in (None, known)
    long = "x" * (messages.MATCHED_AT_MOST + 1)
    assert messages.said(long + " is not a number", "zh") is None
