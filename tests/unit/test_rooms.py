"""The house's rooms import one way: web → domain rooms → store, and the domain rooms and
the store load no web framework (werkzeug's password hashing is a library they may use)."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import service

DOMAIN_ROOMS = (
    "layers",
    "rounds",
    "accounts",
    "cases",
    "ranking",
    "assessments",
    "summaries",
    "ads",
)
SERVICE = Path(service.__file__).parent


def _modules(room: str) -> list[str]:
    pkg = __import__(f"service.{room}", fromlist=["_"])
    return [f"service.{room}"] + [
        m.name
        for m in pkgutil.walk_packages(pkg.__path__, f"service.{room}.")
        if ".migrations" not in m.name
    ]


def test_domain_rooms_and_the_store_load_no_web_framework():
    modules = [m for room in (*DOMAIN_ROOMS, "store") for m in _modules(room)]
    assert len(modules) > 20
    code = (
        f"import sys, importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_login', 'flask_wtf'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_imports_point_one_way():
    """The store imports no room; the domain rooms import no web; nothing imports upward
    from gis or maps."""
    wrong = []
    for path in SERVICE.rglob("*.py"):
        room = path.relative_to(SERVICE).parts[0]
        for name in _imports(path):
            if room == "store" and name.startswith(
                ("service.web", *[f"service.{r}" for r in DOMAIN_ROOMS])
            ):
                wrong.append(f"{path.relative_to(SERVICE)} imports {name}")
            if room in DOMAIN_ROOMS and name.startswith(
                ("service.web", "flask", "service.cli", "service.app")
            ):
                wrong.append(f"{path.relative_to(SERVICE)} imports {name}")
    for base in ("gis", "maps"):
        for path in (SERVICE.parent / base).rglob("*.py"):
            wrong += [
                f"{base}/{path.name} imports {n}" for n in _imports(path) if n.startswith("service")
            ]
    assert wrong == []
