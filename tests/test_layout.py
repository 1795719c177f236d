"""The layout's rules, read from the code itself (README, "Layout"): who may import whom, and one
owner for each name that crosses layers. A new module that breaks a rule fails here, naming it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import topics
from processors import mirror_types

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("config", "schemas", "processors", "sinks", "streams", "infra", "services")
ABOVE_PRODUCT = ("miroir", "tools")  # the CLI and the tools' wing: nothing below may import them
PROJECT = PRODUCT + ABOVE_PRODUCT
CLIENTS = ("kafka", "aiokafka", "faust", "mode", "redis")
MAX_LINES = 300


def modules(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Top-level names of every module `path` imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def string_literals(path: Path) -> Iterator[tuple[int, str]]:
    """Every string constant of a module (f-string pieces included), docstrings left out."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


# ---------------------------------------------------------------- imports


@pytest.mark.parametrize("package", PRODUCT)
def test_no_product_module_imports_the_cli_or_the_tools(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(imported(path) & set(ABOVE_PRODUCT))}"
        for path in modules(package)
        if imported(path) & set(ABOVE_PRODUCT)
    ]
    assert offenders == []


def test_config_is_the_ground_floor() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(imported(path) & set(PROJECT) - {'config'})}"
        for path in modules("config")
        if imported(path) & set(PROJECT) - {"config"}
    ]
    assert offenders == []


def test_processors_are_pure_domain() -> None:
    """No codec, no Kafka or Redis client, no worker: processors receive decoded records."""
    banned = {"schemas", "sinks", "streams", "infra", *CLIENTS}
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(imported(path) & banned)}"
        for path in modules("processors")
        if imported(path) & banned
    ]
    assert offenders == []


def test_services_stand_apart_from_the_worker() -> None:
    """services/<name>/ (an ASGI app and process each) keep answering while workers rebalance:
    they import config, schemas, processors and sinks, never the worker or the stack; and no
    other product layer imports a service."""
    banned = {"streams", "infra", "faust", "mode"}
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(imported(path) & banned)}"
        for path in modules("services")
        if imported(path) & banned
    ]
    offenders += [
        f"{path.relative_to(ROOT)} imports services"
        for package in set(PRODUCT) - {"services"}
        for path in modules(package)
        if "services" in imported(path)
    ]
    assert offenders == []


def test_the_rule_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from tools.demo import run_demo\n    import redis.asyncio\n")
    assert imported(module) == {"tools", "redis"}


# ---------------------------------------------------------------- one owner per shared name

TOPIC_NAMES = {
    topics.SURVEY_RESPONSES,
    topics.STAFF_FEEDBACK,
    topics.MIRROR_STATES,
    topics.STEP_ALERTS,
    topics.CALLBACK_REQUESTS,
    topics.CALLBACK_OUTCOMES,
    topics.DEAD_LETTERS,
    topics.DEAD_LETTER_LOG,
}
INTERNAL_NAME = re.compile(r"journey-deltas|-changelog$")
REDIS_KEY = re.compile(r"^miroir:")
TYPE_WORDS = {t.id for t in mirror_types.SIX} | {
    label for t in mirror_types.TYPES for label in (t.fr, t.en) if label not in mirror_types.SHARED_WORDS
}


def _misplaced(packages: tuple[str, ...], owner: Path, bad: re.Pattern[str] | set[str]) -> list[str]:
    found = []
    for path in modules(*packages):
        if path in (owner, Path(__file__).resolve()):  # this file spells them to look for them
            continue
        for line, text in string_literals(path):
            if text in bad if isinstance(bad, set) else bad.search(text):
                found.append(f"{where(path, line)} {text!r}")
    return found


def test_topic_names_are_spelled_only_in_config_topics() -> None:
    owner = ROOT / "config" / "topics.py"
    misplaced = _misplaced((*PROJECT, "tests"), owner, TOPIC_NAMES) + _misplaced(
        (*PROJECT, "tests"), owner, INTERNAL_NAME
    )
    assert misplaced == [], "use settings.pipeline.topics (config/topics.py)"


def test_redis_keys_are_spelled_only_by_the_callback_queue() -> None:
    owner = ROOT / "sinks" / "callback_queue.py"
    misplaced = _misplaced((*PROJECT, "tests"), owner, REDIS_KEY)
    assert misplaced == [], "use the key functions of sinks/callback_queue.py"


ACCOUNTS_KEY = re.compile(r"^accounts:")


def test_the_accounts_keys_are_spelled_only_by_the_accounts_store() -> None:
    """The managers' accounts, sessions and tokens live under `miroir:accounts:` (sinks/accounts.py owns
    the namespace; sinks/credentials.py builds its keys from it)."""
    owner = ROOT / "sinks" / "accounts.py"
    misplaced = _misplaced((*PROJECT, "tests"), owner, ACCOUNTS_KEY)
    assert misplaced == [], "use sinks.accounts.NAMESPACE"


NOTIFY_KEY = re.compile(r"^notify:")


def test_the_notifier_keys_are_spelled_only_by_its_store() -> None:
    """The notifier's deliveries live under `miroir:notify:` (sinks/notify/store.py owns the namespace)."""
    owner = ROOT / "sinks" / "notify" / "store.py"
    misplaced = _misplaced((*PROJECT, "tests"), owner, NOTIFY_KEY)
    assert misplaced == [], "use sinks.notify.store.NAMESPACE"


PRIVACY_KEY = re.compile(r"^privacy:")


def test_the_privacy_keys_are_spelled_only_by_its_store() -> None:
    """Erasures, the privacy audit and the subject hashes' secret live under `miroir:privacy:`
    (sinks/privacy.py owns the namespace)."""
    owner = ROOT / "sinks" / "privacy.py"
    misplaced = _misplaced((*PROJECT, "tests"), owner, PRIVACY_KEY)
    assert misplaced == [], "use sinks.privacy.NAMESPACE"


def test_mirror_types_are_named_only_by_their_table() -> None:
    owner = ROOT / "processors" / "mirror_types.py"
    misplaced = _misplaced(PROJECT, owner, TYPE_WORDS)
    web = ROOT / "streams" / "web"
    for asset in sorted([*web.glob("*.js"), *web.glob("*.css"), *web.glob("*.html")]):
        for number, line in enumerate(asset.read_text().splitlines(), start=1):
            misplaced += [f"{where(asset, number)} {word!r}" for word in TYPE_WORDS if re.search(rf"\b{word}\b", line)]
    assert misplaced == [], "use processors/mirror_types.py (served to the page as types/)"


def test_the_literal_checks_see_what_they_look_for(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""survey-responses in a docstring is fine."""\nT = "survey-responses"\nK = f"miroir:cb:{x}"\n')
    assert [text for _, text in string_literals(module)] == ["survey-responses", "miroir:cb:"]


# ---------------------------------------------------------------- size and the README


def test_long_modules_say_why() -> None:
    """A module over ~300 lines is two modules, unless its docstring says why it is one."""
    long = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for path in modules(*PROJECT)
        if (n := len(path.read_text().splitlines())) > MAX_LINES
        and "long on purpose" not in (ast.get_docstring(ast.parse(path.read_text())) or "").lower()
    ]
    assert long == []


def test_the_readme_has_a_line_for_every_folder() -> None:
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = [f for f in (*PROJECT, "tests", "bench", "scripts", "docs") if f"`{f}/`" not in layout]
    assert missing == []
