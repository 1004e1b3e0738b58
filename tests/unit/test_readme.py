"""The README documents the settings schema; this keeps the two from drifting apart."""

from __future__ import annotations

from pathlib import Path

from gateway.settings import settings_reference

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_carries_the_current_configuration_reference() -> None:
    table = [line for line in settings_reference().splitlines() if line.startswith("|")]
    text = README.read_text(encoding="utf-8")
    missing = [line for line in table if line not in text]
    assert not missing, f"README.md is missing settings rows (paste `gateway config-doc`): {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8")[:1200]
    assert "make run" in head and "make test" in head
