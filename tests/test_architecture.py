"""The house rule: knowledge (regulation/) does not know who watches it (tracker/)."""

import ast
from pathlib import Path

import regulation


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_regulation_never_imports_tracker():
    package = Path(regulation.__file__).parent
    offenders = {
        str(path.relative_to(package.parent)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "tracker"
        )
        for path in package.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_an_offending_import(tmp_path):
    offending = tmp_path / "module.py"
    offending.write_text("from tracker.models import Heartbeat\nimport tracker.tasks\n")
    assert imported_modules(offending) == {"tracker.models", "tracker.tasks"}
