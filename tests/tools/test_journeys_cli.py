"""`miroir journeys check`: a journey file checked offline, with what a sample text hits."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from miroir.cli import app

AGENCY = """
steps:
  agency_welcome:
    label: {fr: Accueil, en: Welcome}
    cues: {fr: [accueil*, "*conseill*"], en: [welcome*, adviser*]}
  agency_wait:
    label: {fr: Attente, en: Waiting}
    cues: {fr: [attente], en: [wait*]}
journeys:
  agency:
    label: {fr: Agence, en: Branch}
    steps: [agency_welcome, agency_wait]
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["journeys", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_a_good_file_passes_and_the_sample_shows_each_step_it_hits(tmp_path: Path) -> None:
    (tmp_path / "agency.yaml").write_text(AGENCY)
    code, out = run("check", str(tmp_path), "--text", "Les téléconseillers sont aimables. L'attente est interminable.")
    assert code == 0, out
    assert "1 journey(s)" in out and "agency; 0 problem(s)" in out
    assert "agency_welcome (Accueil)" in out and "Les téléconseillers sont aimables" in out  # inside-word cue
    assert "agency_wait (Attente)" in out


def test_each_stumble_is_named_and_exits_1(tmp_path: Path) -> None:
    mine = tmp_path / "agency.yaml"
    for broken, said in (
        (AGENCY.replace("agency_wait]", "agency_queue]"), "unknown step 'agency_queue'"),
        (AGENCY.replace("en: [wait*]", "en: []"), "needs both fr and en cues"),
        (AGENCY.replace('"*conseill*"', "*conseill*"), "must be quoted"),
        (AGENCY.replace("agency_wait:\n", "pickup:\n").replace("agency_wait]", "pickup]"), "already declared in"),
        (AGENCY.replace("{fr: [attente]", "{fr: [attente, accueil]"), "also matches step"),
        (AGENCY.replace("{fr: Attente, en: Waiting}", "{fr: Attente}"), "has no label in en"),
    ):
        mine.write_text(broken)
        code, out = run("check", str(mine))
        assert code == 1 and said in " ".join(out.split()), out


def test_list_shows_the_shipped_journeys_and_their_files() -> None:
    code, out = run("list")
    assert code == 0 and "insurance" in out and "insurance.yaml" in out


def test_the_readme_example_is_a_journey_file_that_passes_the_check(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Adding a journey") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```", section.index("```yaml\n") + 8)]
    (tmp_path / "agency.yaml").write_text(example)
    code, out = run("check", str(tmp_path), "--text", "Les téléconseillers sont injoignables.")
    assert code == 0 and "0 problem(s)" in out, out
    assert "agency_contact" in out
