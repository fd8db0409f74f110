Feature: The jobs, worker and db commands
  What a user types at the terminal, end to end in one process against a real SQLite file.

  Scenario: enqueue prints the id, a burst worker drains the queue, and the job shows as succeeded
    Given I ran `jobs enqueue sleep --payload '{"seconds": 0}'` and call the job "S"
    And I ran `jobs enqueue command -- sh -c "echo hello from $AGENTS_JOB_ID"` and call the job "C"
    When I run `jobs list --status queued`
    Then stdout contains "[S]"
    When I run `worker run --burst --max-workers 2`
    Then the exit code is 0
    When I run `jobs show [C] --json`
    Then stdout is one JSON document
    And the JSON document has the fields id, kind, status, priority, attempts, max_attempts, payload, worker_id, created_at, started_at, finished_at, last_heartbeat, cancel_requested, error_message, result
    And the JSON document has "status" equal to "succeeded"
    And the JSON document has "result.exit_code" equal to 0
    When I run `jobs show [S]`
    Then stdout contains "succeeded"
    When I run `jobs wait [S]`
    Then the exit code is 0
    And stdout contains "[S] succeeded"

  Scenario: listings print exactly one JSON document
    Given I ran `jobs enqueue noop --count 3`
    When I run `jobs list --json --limit 2`
    Then stdout is one JSON document
    And the JSON document is a list of 2
    When I run `jobs enqueue noop --count 2 --json`
    Then stdout is one JSON document
    And the JSON document has "count" equal to 2
    When I run `jobs enqueue noop --json --priority 3 --max-attempts 5`
    Then the JSON document has the fields id, kind, status, priority, max_attempts
    When I run `jobs list --kind noop`
    Then stdout is 7 lines

  Scenario: a worker lists itself, with its counters
    Given I ran `jobs enqueue noop`
    And I ran `worker run --burst`
    When I run `worker list --json`
    Then stdout is one JSON document
    And the JSON document is a list of 0
    When I run `worker list --all --json`
    Then the JSON document is a list of 1
    And the JSON document has "0.status" equal to "stopped"
    And the JSON document has "0.jobs_succeeded" equal to 1
    When I run `worker list --all`
    Then stdout contains "stopped"

  Scenario: cancel a queued job, and refuse to cancel it again
    Given I ran `jobs enqueue sleep --payload '{"seconds": 5}'` and call the job "S"
    When I run `jobs cancel [S]`
    Then the exit code is 0
    And stdout contains "cancelled [S]"
    When I run `jobs wait [S] --json`
    Then the exit code is 1
    When I run `jobs cancel [S]`
    Then the exit code is 3
    And stderr is one line containing "cannot be cancelled: it has already cancelled"

  Scenario: waiting on a job nobody runs times out with 124
    Given I ran `jobs enqueue noop` and call the job "N"
    When I run `jobs wait [N] --timeout 0.05`
    Then the exit code is 124
    And stdout contains "[N] queued"

  Scenario: a failed job makes wait exit 1 and shows why
    Given I ran `jobs enqueue command -- sh -c "exit 7"` and call the job "F"
    And I ran `worker run --burst`
    When I run `jobs wait [F]`
    Then the exit code is 1
    And stdout contains "failed: command exited with code 7"

  Scenario: prune deletes finished jobs older than the given age
    Given I ran `jobs enqueue noop --count 4`
    And I ran `jobs enqueue sleep --payload '{"seconds": 1}'`
    And I ran `worker run --burst`
    And I ran `jobs enqueue noop`
    When I run `jobs prune --older-than 0s`
    Then stdout contains "deleted 5 finished job(s)"
    When I run `jobs prune --json`
    Then the JSON document has "deleted" equal to 0
    When I run `jobs list --json`
    Then the JSON document is a list of 1

  Scenario: recover reports what it did
    When I run `jobs recover`
    Then stdout contains "requeued      none"
    When I run `jobs recover --json`
    Then stdout is one JSON document
    And the JSON document has "requeued" equal to []

  Scenario: db current reports without changing anything; db upgrade migrates
    When I run `db current --json`
    Then the JSON document has "at_head" equal to false
    And the JSON document has "current" equal to null
    When I run `db upgrade`
    Then stdout contains "database at revision 0018 (was empty)"
    When I run `db current --json`
    Then the JSON document has "at_head" equal to true
    And the JSON document has "current" equal to "0018"
    When I run `db upgrade`
    Then stdout is 1 lines
    And stdout contains "database at revision 0018"
    When I run `db current`
    Then stdout contains "at_head  True"

  Scenario: any other command creates the schema on first use
    When I run `jobs list --json`
    Then the JSON document is a list of 0
    When I run `db current --json`
    Then the JSON document has "current" equal to "0018"

  Scenario Outline: bad input gets one clear line, the right exit code, and changes nothing
    Given I ran `jobs enqueue noop`
    When I run `<command>`
    Then the exit code is <code>
    And stderr is one line containing "<message>"
    When I run `jobs list --json`
    Then the JSON document is a list of 1

    Examples:
      | command                                                   | code | message                                                |
      | jobs enqueue nope                                         | 2    | unknown job kind 'nope'                                |
      | jobs enqueue sleep --payload '{"seconds": '               | 2    | --payload is not valid JSON                            |
      | jobs enqueue sleep --payload '[1]'                        | 2    | --payload must be a JSON object                        |
      | jobs enqueue sleep --payload '{"seconds": 1, "schema_version": 3}' | 2 | payload schema_version 3 is not supported      |
      | jobs enqueue sleep --payload '{"secs": 1}'                | 2    | invalid payload for job kind 'sleep'                   |
      | jobs enqueue noop --priority -1                           | 2    | priority must be 0 or more                             |
      | jobs enqueue noop --max-attempts 0                        | 2    | max attempts must be 1..100                            |
      | jobs enqueue noop -- ls                                   | 2    | only the `command` kind takes an argv                  |
      | jobs show 01ARZ3NDEKTSV4RRFFQ69G5FAV                      | 4    | no job with id 01ARZ3NDEKTSV4RRFFQ69G5FAV              |
      | jobs cancel nope                                          | 4    | no job with id nope                                    |
      | jobs wait nope                                            | 4    | no job with id nope                                    |
      | jobs prune --older-than soon                              | 2    | invalid duration 'soon'                                |
      | worker run --max-workers 0 --burst                        | 2    | async.max_workers = 0 is not valid: must be 1..256 (from command line |

  Scenario: --debug shows the traceback of an error
    When I run `--debug jobs show nope`
    Then the exit code is 4
    And stderr contains "Traceback"
    And stderr contains "error: no job with id nope"

  Scenario: --version prints the version
    When I run `--version`
    Then the exit code is 0
    And stdout contains "agents 0.1.0"

  Scenario: with async.enabled, plan phases run in a worker by default
    Given the environment variable AGENTS_ASYNC__ENABLED is "true"
    And a directory "repo" with 3 files
    And I ran `project add [tmp]/repo`
    And I ran `plan create --project repo --action builtin:noop`
    When I run `plan execute [plan] --json`
    Then the JSON document has the fields plan_id, job_id
    When I run `plan execute [plan] --no-async`
    Then the exit code is 3
    And stderr is one line containing "already has job"

  Scenario: on a terminal, listings are drawn as tables
    Given the environment variable TTY_COMPATIBLE is "1"
    And I ran `jobs enqueue noop` and call the job "N"
    And I ran `worker run --burst`
    When I run `jobs list`
    Then stdout contains "┃ id"
    And stdout contains "[N]"
    When I run `worker list --all`
    Then stdout contains "┃ id"

  Scenario Outline: usage errors are one line too
    When I run `<command>`
    Then the exit code is 2
    And stderr is one line containing "<message>"

    Examples:
      | command                          | message                                                  |
      | jobs enqueue noop --count 0      | Invalid value for '--count'                              |
      | jobs list --status bogus         | 'bogus' is not one of 'queued'                           |
      | --bogus                          | No such option: --bogus                                  |
      | jobs show                        | Missing argument                                         |

  Scenario: a bare command group shows its help
    When I run `jobs`
    Then the exit code is 2
    And stdout contains "enqueue"

  Scenario: cancelling a running job from the CLI asks its worker
    Given I ran `jobs enqueue sleep --payload '{"seconds": 60}'` and call the job "S"
    And a worker process has claimed the queued jobs
    When I run `jobs cancel [S]`
    Then the exit code is 0
    And stdout contains "cancel requested for [S]; its worker will stop it"
    When I run `jobs show [S] --json`
    Then the JSON document has "cancel_requested" equal to true
    And the JSON document has "status" equal to "running"

  Scenario: a worker that stopped heartbeating is listed as stale, and recovery marks it lost
    Given the environment variable AGENTS_ASYNC__STALE_AFTER is "0.3"
    And the environment variable AGENTS_ASYNC__HEARTBEAT_INTERVAL is "0.1"
    And I ran `jobs enqueue sleep --payload '{"seconds": 60}'` and call the job "S"
    And a worker process has claimed the queued jobs
    When the worker's heartbeat is older than 1 second
    And I run `worker list --json`
    Then the JSON document has "0.liveness" equal to "stale"
    When I run `jobs recover`
    Then stdout contains "requeued      [S]"
    When I run `worker list --all --json`
    Then the JSON document has "0.status" equal to "lost"

  Scenario: a worker whose heartbeat thread dies exits 1
    Given the environment variable AGENTS_ASYNC__HEARTBEAT_INTERVAL is "0.05"
    And the heartbeat of workers is broken
    When I run `worker run`
    Then the exit code is 1
    And stderr contains "heartbeat thread died; stopping the worker"

  Scenario: logs can be JSON lines, or rich on a terminal
    Given I ran `jobs enqueue noop`
    When I run `--log-format json worker run --burst`
    Then stderr contains ""message": "burst: nothing left to claim; stopping""
    Given the environment variable TTY_COMPATIBLE is "1"
    When I run `worker run --burst`
    Then stderr contains "burst: nothing left to claim"

  Scenario: help flows a docstring's paragraphs and shows no type on flags
    When I run `plan execute --help`
    Then the exit code is 0
    And stdout contains "their changes; applied ones are kept"
    And stdout does not contain "<bool>"
    And stdout contains "PLAN_ID"
    When I run `--help`
    Then stdout does not contain "<bool>"
    And stdout does not contain "<int>"

  Scenario: a value that starts with a dash is a value
    When I run `config set plans.retries -4`
    Then the exit code is 2
    And stderr is one line containing "plans.retries = '-4' is not valid: must be 0..10"
    When I run `config set plans.retries 3`
    Then the exit code is 0
