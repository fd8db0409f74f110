Feature: Bulk operations on jobs
  `jobs retry`, `jobs cancel` and `jobs purge` act on jobs named by id, or on all that match
  `--status`, `--kind` and an age; they say how many, and `--dry-run` changes nothing. Jobs named
  by id are all acted on or none is (exit 3).

  Background:
    Given I ran `jobs enqueue command -- false` and call the job "F1"
    And I ran `jobs enqueue command -- false` and call the job "F2"
    And I ran `jobs enqueue noop` and call the job "OK"
    And I ran `worker run --burst`

  Scenario: retry the failed jobs after fixing the cause; their history stays
    When I run `jobs retry --status failed --dry-run`
    Then the exit code is 0
    And stdout contains "would retry 2 job(s):"
    When I run `jobs list --status failed --json`
    Then the JSON document is a list of 2
    When I run `jobs retry --status failed --json`
    Then the JSON document has "count" equal to 2
    And the JSON document has "dry_run" equal to false
    When I run `jobs list --status queued --json`
    Then the JSON document is a list of 2
    When I run `worker run --burst`
    And I run `jobs show [F1] --json`
    Then the JSON document has "status" equal to "failed"
    And the JSON document's "history" holds 2 items
    And the JSON document has "attempts" equal to 2

  Scenario: filters narrow what is retried
    When I run `jobs retry --status failed --kind noop`
    Then stdout contains "retried 0 job(s)"
    When I run `jobs retry --status failed --since 1h`
    Then stdout contains "retried 2 job(s)"

  Scenario: jobs named by id are all retried, or none is
    When I run `jobs retry [F1] [OK]`
    Then the exit code is 3
    And stderr is one line containing "job [OK] cannot be retried: it is succeeded"
    When I run `jobs list --status failed --json`
    Then the JSON document is a list of 2
    When I run `jobs retry [F1]`
    Then stdout contains "retried 1 job(s)"

  Scenario: a job whose unique key a live job holds is left, and said so
    Given I ran `jobs enqueue command --unique-key nightly -- false` and call the job "U"
    And I ran `worker run --burst`
    And I ran `jobs enqueue noop --unique-key nightly --delay 1h`
    When I run `jobs retry [U] --dry-run`
    Then the exit code is 3
    And stderr contains "a live job holds its unique key 'nightly'"
    When I run `jobs retry --status failed`
    Then stdout contains "retried 2 job(s)"
    And stderr contains "left [U]: a live job holds its unique key 'nightly'"

  Scenario: cancel the queued jobs of a kind
    Given I ran `jobs enqueue sleep --payload '{"seconds": 1}' --count 3 --delay 1h`
    And I ran `jobs enqueue noop --delay 1h` and call the job "LATER"
    When I run `jobs cancel --status queued --kind sleep --dry-run --json`
    Then the JSON document has "count" equal to 3
    When I run `jobs cancel --status queued --kind sleep`
    Then stdout contains "cancelled 3 job(s)"
    When I run `jobs list --status cancelled --json`
    Then the JSON document is a list of 3
    When I run `jobs show [LATER] --json`
    Then the JSON document has "status" equal to "queued"

  Scenario: purge finished jobs by status and age
    When I run `jobs purge --status failed --older-than 1h`
    Then stdout contains "purged 0 job(s)"
    When I run `jobs purge --status failed --older-than 0s --dry-run`
    Then stdout contains "would purge 2 job(s):"
    When I run `jobs purge --status failed --older-than 0s`
    Then stdout contains "purged 2 job(s)"
    When I run `jobs list --json`
    Then the JSON document is a list of 1

  Scenario Outline: a bulk command that names no jobs, or the wrong ones, is one line, exit 2, and changes nothing
    When I run `jobs <command>`
    Then the exit code is 2
    And stderr is one line containing "<message>"
    When I run `jobs list --status failed --json`
    Then the JSON document is a list of 2

    Examples:
      | command                        | message                                                   |
      | retry                          | name the jobs: give their ids, or choose them with --status |
      | retry --status running         | only cancelled or failed jobs can be retried, not running ones |
      | cancel --status failed         | only queued or running jobs can be cancelled, not failed ones |
      | purge                          | name the jobs: give their ids, --status or --older-than   |
      | purge --status queued          | only finished jobs (succeeded, failed or cancelled) can be purged |
      | purge --status failed --older-than soon | invalid duration 'soon'                          |
