Feature: Delayed jobs
  `jobs enqueue --delay D` or `--at TIME` queues a job that no worker claims before then;
  `jobs list` shows when it may run.

  Scenario: a delayed job stays queued, unclaimed, until its time; one due already runs
    Given I ran `jobs enqueue noop --delay 1h` and call the job "LATER"
    And I ran `jobs enqueue noop --at 2020-01-01T00:00:00Z` and call the job "DUE"
    Then stderr is one line containing "--at 2020-01-01T00:00:00Z is in the past: the job may run at once"
    When I run `worker run --burst`
    Then the exit code is 0
    When I run `jobs show [LATER] --json`
    Then the JSON document has "status" equal to "queued"
    When I run `jobs show [DUE] --json`
    Then the JSON document has "status" equal to "succeeded"
    When I run `jobs list --status queued`
    Then stdout contains "not before"
    And the line of [LATER] in stdout ends with a time

  Scenario: --at takes any time zone and keeps the moment
    When I run `jobs enqueue noop --at 2099-06-01T10:00:00+02:00 --json`
    Then the JSON document has "run_after" equal to "2099-06-01T08:00:00Z"

  Scenario Outline: a bad time is one clear line, exit 2, and nothing is queued
    When I run `jobs enqueue noop <options>`
    Then the exit code is 2
    And stderr is one line containing "<message>"
    When I run `jobs list --json`
    Then the JSON document is a list of 0

    Examples:
      | options                               | message                                                |
      | --delay soon                          | invalid duration 'soon'                                |
      | --at tomorrow                         | invalid time 'tomorrow': use ISO 8601 with a time zone |
      | --at 2026-12-24T08:00:00              | invalid time '2026-12-24T08:00:00'                     |
      | --delay 1h --at 2026-12-24T08:00:00Z  | give --delay or --at, not both                         |
