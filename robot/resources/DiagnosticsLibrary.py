"""Keywords about `agents diagnostics`: its JSON report checked against its exit code, one check
of it, a wait for a check's status, and its JUnit XML parsed and compared with the JSON.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from _robot_support import WAIT_TIMEOUT, agents_library, poll_until
from robot.api import logger
from robot.api.deco import keyword, library


@library(scope="GLOBAL", auto_keywords=False)
class DiagnosticsLibrary:
    """`agents diagnostics` reports, JSON and JUnit."""

    @keyword
    def run_diagnostics(self, *args: str, rc: int | None = None) -> dict[str, Any]:
        """Run ``agents diagnostics --format json ARGS``; return the report.

        Whatever ``rc`` says, the exit code must agree with the report: 1 exactly when its
        status is ``fail`` (0 for ``ok`` and ``warn``); with ``rc``, it must be that too. Each
        check must be named once.
        """
        result = agents_library().run_agents("diagnostics", "--format", "json", *args)
        report: dict[str, Any] = agents_library().parse_json(result.stdout)
        expected = 1 if report["status"] == "fail" else 0
        if result.rc != expected:
            raise AssertionError(
                f"exit {result.rc} for a report with status {report['status']}\n{result}"
            )
        if rc is not None and result.rc != int(rc):
            raise AssertionError(f"expected exit {rc}\n{result}")
        names = [check["name"] for check in report["checks"]]
        if len(set(names)) != len(names):
            raise AssertionError(f"a check is named twice: {names}")
        return report

    @keyword
    def diagnostics_check(self, report: dict[str, Any], name: str) -> dict[str, Any]:
        """The check called ``name`` in a diagnostics report (it must be there)."""
        for check in report["checks"]:
            if check["name"] == name:
                found: dict[str, Any] = check
                return found
        names = [check["name"] for check in report["checks"]]
        raise AssertionError(f"no check {name!r} in the report; checks: {names}")

    @keyword
    def wait_until_diagnostics_check_is(
        self, name: str, status: str, *args: str, timeout: str = WAIT_TIMEOUT
    ) -> dict[str, Any]:
        """Poll `agents diagnostics --format json ARGS` until the check ``name`` has
        ``status``; return that report."""
        seen: dict[str, Any] = {}

        def reached() -> dict[str, Any] | None:
            report = self.run_diagnostics(*args)
            check = seen["check"] = self.diagnostics_check(report, name)
            return report if check["status"] == status else None

        return poll_until(reached, timeout, lambda: f"check {name} to be {status}: {seen['check']}")

    @keyword
    def parse_junit_report(self, path: str) -> dict[str, Any]:
        """Parse a JUnit XML file as `agents diagnostics --format junit` writes it: one
        <testsuites> holding one <testsuite>, whose ``tests`` and ``failures`` attributes (and
        the root's) count its <testcase> and <failure> elements.

        Returns ``{"tests", "failures", "cases": [{"name", "status", "text"}]}``: a case with
        a <failure> is ``fail``, one with only <system-out> ``warn``, one with neither ``ok``.
        """
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise AssertionError(f"{path} is not well-formed XML: {exc}") from None
        if root.tag != "testsuites":
            raise AssertionError(f"the root element is <{root.tag}>, expected <testsuites>")
        suites = root.findall("testsuite")
        if len(suites) != 1 or len(root) != 1:
            raise AssertionError(f"expected one <testsuite>, found {[e.tag for e in root]}")
        suite = suites[0]
        cases = []
        for case in suite:
            if case.tag != "testcase":
                raise AssertionError(f"unexpected <{case.tag}> in the testsuite")
            failure = case.find("failure")
            out = case.find("system-out")
            if failure is not None and out is not None:
                raise AssertionError(f"testcase {case.get('name')} has both failure and output")
            if failure is not None:
                status, text = "fail", failure.text or ""
                if not failure.get("message"):
                    raise AssertionError(f"the failure of {case.get('name')} has no message")
            elif out is not None:
                status, text = "warn", out.text or ""
            else:
                status, text = "ok", ""
            cases.append({"name": case.get("name"), "status": status, "text": text})
        failures = sum(1 for case in cases if case["status"] == "fail")
        for element in (root, suite):
            counts = (element.get("tests"), element.get("failures"))
            if counts != (str(len(cases)), str(failures)):
                raise AssertionError(
                    f"<{element.tag}> says tests={counts[0]} failures={counts[1]}, but it "
                    f"holds {len(cases)} testcase(s) with {failures} failure(s)"
                )
        logger.info(f"{path}: {len(cases)} testcase(s), {failures} failure(s)")
        return {"tests": len(cases), "failures": failures, "cases": cases}

    @keyword
    def junit_report_should_match(self, junit: dict[str, Any], report: dict[str, Any]) -> None:
        """A parsed JUnit report (`Parse JUnit Report`) holds the checks of a JSON report:
        one testcase per check, in order, with the same status; the failure or output text
        holds the check's message and, when it has one, its remedy."""
        got = [(case["name"], case["status"]) for case in junit["cases"]]
        want = [(check["name"], check["status"]) for check in report["checks"]]
        if got != want:
            raise AssertionError(f"JUnit testcases {got}\ndo not match the checks {want}")
        for case, check in zip(junit["cases"], report["checks"], strict=True):
            if check["status"] == "ok":
                continue
            if check["message"] not in case["text"]:
                raise AssertionError(f"{case['name']}: {case['text']!r} lacks the message")
            if check["remedy"] and f"remedy: {check['remedy']}" not in case["text"]:
                raise AssertionError(f"{case['name']}: {case['text']!r} lacks the remedy")
