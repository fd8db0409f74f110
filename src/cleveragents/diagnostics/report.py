"""The diagnostics report: overall status, and its documents: plain text lines, JSON and JUnit
XML (what ``--format`` writes to a file or a pipe; the terminal table is the CLI's)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from cleveragents.diagnostics.results import CheckResult, Status


class ReportFormat(StrEnum):
    """The documents a report renders to."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"


@dataclass
class Report:
    """Every check's result, when it was made and how long it took."""

    checks: list[CheckResult]
    generated_at: datetime
    duration_ms: float

    def status(self, strict: bool = False) -> Status:
        """fail if any check failed (or, with ``strict``, warned); else warn or ok."""
        statuses = {check.status for check in self.checks}
        if Status.FAIL in statuses or (strict and Status.WARN in statuses):
            return Status.FAIL
        return Status.WARN if Status.WARN in statuses else Status.OK

    def to_json(self, strict: bool = False) -> dict[str, Any]:
        """``{"status", "generated_at", "duration_ms", "checks": [...]}``."""
        return {
            "status": self.status(strict).value,
            "generated_at": self.generated_at.isoformat(),
            "duration_ms": round(self.duration_ms, 1),
            "checks": [check.to_json() for check in self.checks],
        }

    def to_junit(self) -> str:
        """JUnit XML: one testcase per check; ``fail`` is a failure, ``warn`` passes with its
        message in system-out, so CI systems show both natively."""
        failures = sum(1 for check in self.checks if check.status is Status.FAIL)
        suite = ET.Element(
            "testsuite",
            name="agents diagnostics",
            tests=str(len(self.checks)),
            failures=str(failures),
            errors="0",
            skipped="0",
            time=f"{self.duration_ms / 1000:.3f}",
            timestamp=self.generated_at.isoformat(),
        )
        for check in self.checks:
            case = ET.SubElement(
                suite, "testcase", classname="agents.diagnostics", name=check.name, time="0"
            )
            text = check.message + (f"\nremedy: {check.remedy}" if check.remedy else "")
            if check.status is Status.FAIL:
                failure = ET.SubElement(case, "failure", message=check.message, type="fail")
                failure.text = text
            elif check.status is Status.WARN:
                ET.SubElement(case, "system-out").text = f"warn: {text}"
        suites = ET.Element("testsuites", tests=str(len(self.checks)), failures=str(failures))
        suites.append(suite)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"

    def text_lines(self, strict: bool = False) -> list[str]:
        """One line per check (and one per remedy of a check not ``ok``), then the status."""
        lines = []
        for check in self.checks:
            lines.append(f"{check.status.value:<4}  {check.name:<12}  {check.message}")
            if check.remedy and check.status is not Status.OK:
                lines.append(f"      {'':<12}  remedy: {check.remedy}")
        lines.append(f"status: {self.status(strict).value} ({self.duration_ms:.0f} ms)")
        return lines

    def document(self, output_format: ReportFormat, strict: bool = False) -> str:
        """The whole report in ``output_format``, ending in a newline."""
        if output_format is ReportFormat.JSON:
            return json.dumps(self.to_json(strict), indent=2) + "\n"
        if output_format is ReportFormat.JUNIT:
            return self.to_junit()
        return "".join(f"{text}\n" for text in self.text_lines(strict))
