Feature: Retries of failed jobs, with backoff
  A job enqueued with `--retries N` that fails is queued again, up to N times, each time after a
  random wait of up to `--backoff` doubled per failure (full jitter), capped by
  `async.max_backoff`. Each run that did not succeed is kept with its error; the job is `failed`
  only when its retries are spent. A cancelled job is never retried. `max_attempts` counts only
  the runs lost with their worker.

  Background:
    Given a job queue in a temporary database

  Scenario: a failing job waits its backoff before each retry, and fails when they are spent
    Given a "boom" job "J" with 3 retries and a backoff of 10 s
    And worker "A" with 1 threads and max_backoff=1000
    When worker "A" runs job "J" until it ends, claiming it only once it is due
    Then job "J" is failed
    And job "J" has error "boom"
    And the waits before its retries were at most 10, 20 and 40
    And job "J" kept 4 failed attempts, each with error "boom", the last one final

  Scenario: the backoff is capped by async.max_backoff
    Given a "boom" job "J" with 4 retries and a backoff of 100 s
    And worker "A" with 1 threads and max_backoff=150
    When worker "A" runs job "J" until it ends, claiming it only once it is due
    Then the waits before its retries were at most 100, 150, 150 and 150

  Scenario: retries are jittered over the whole backoff, so failures at once do not retry at once
    Given 100 "boom" jobs with 1 retries and a backoff of 100 s
    And worker "A" with 8 threads and max_backoff=1000
    When worker "A" runs every failed bulk job once
    Then their retries wait between 0 and 100 seconds, spread over that range

  Scenario: a job without retries fails at its first failure
    Given a "boom" job "J" with 0 retries and a backoff of 10 s
    And worker "A" with 1 threads
    When worker "A" runs job "J" until it ends, claiming it only once it is due
    Then job "J" is failed
    And job "J" kept 1 failed attempts, each with error "boom", the last one final

  Scenario: a cancelled job is never retried
    Given a "gate" job "J" with 3 retries and a backoff of 0 s
    And worker "A" with 1 threads
    And worker "A" runs one pass
    And gate "J" has started
    When I cancel job "J"
    And 1 seconds pass
    And worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is cancelled
    And job "J" kept no attempts

  Scenario: a run that fails after a cancel was asked for is not retried
    Given a "failing_gate" job "J" with 3 retries and a backoff of 0 s
    And worker "A" with 1 threads
    And worker "A" runs one pass
    And gate "J" has started
    When I cancel job "J"
    And gate "J" opens
    And worker "A" runs one pass after the jobs finish
    Then job "J" is failed
    And job "J" kept 1 failed attempts, each with error "gave up", the last one final

  Scenario: failed runs do not use up max_attempts
    Given a "boom" job "J" with 2 retries, a backoff of 0 s and max attempts 1
    And worker "A" with 1 threads
    When worker "A" runs job "J" until it ends, claiming it only once it is due
    Then job "J" is failed
    And job "J" has 3 attempts
    And job "J" kept 3 failed attempts, each with error "boom", the last one final

  Scenario: a run lost with its worker is kept in the history and does not use up retries
    Given a "gate" job "J" with 1 retries, a backoff of 0 s and max attempts 2
    And worker "A" with 1 threads and stale_after=30
    And worker "A" runs one pass
    And gate "J" has started
    When 31 seconds pass
    And worker "B" with 1 threads and stale_after=30
    Then job "J" is queued
    And job "J" kept a lost attempt 1 saying "worker lost: no heartbeat for over 30 s"
    When gate "J" opens
    And worker "B" runs one pass
    And worker "B" runs one pass after the jobs finish
    Then job "J" is succeeded
    And job "J" has 2 attempts

  Scenario: a failing command is retried by a real worker, and `jobs show` lists its runs
    Given I ran `jobs enqueue command --retries 2 --backoff 0 -- false` and call the job "J"
    When I run `worker run --burst`
    And I run `jobs show [J] --json`
    Then the JSON document has "status" equal to "failed"
    And the JSON document has "failures" equal to 3
    And the JSON document's "history" holds 3 items
    And the JSON document has "history.0.outcome" equal to "failed"
    And the JSON document has "history.0.error_message" equal to "command exited with code 1"
    And the JSON document has "history.2.retry_at" equal to null
    When I run `jobs show [J]`
    Then stdout contains "runs that did not succeed:"
    And stdout contains "attempt 3 failed"
    When I run `jobs list`
    Then the column "retries" of [J] in stdout is "2/2"
    And the column "attempts" of [J] in stdout is "3"
    And the column "queue" of [J] in stdout is "default"

  Scenario: a command that fails twice, then succeeds, ends succeeded
    Given I ran `jobs enqueue command --retries 2 --backoff 0 --max-attempts 1 -- sh -c "echo run >> [tmp]/runs; test $(wc -l < [tmp]/runs) -ge 3"` and call the job "J"
    When I run `worker run --burst`
    And I run `jobs show [J] --json`
    Then the JSON document has "status" equal to "succeeded"
    And the JSON document's "history" holds 2 items

  Scenario: async.retries and async.backoff are the defaults of a job
    Given I ran `config set async.retries 4`
    And I ran `config set async.backoff 2.5`
    When I run `jobs enqueue noop --json`
    Then the JSON document has "retries" equal to 4
    And the JSON document has "backoff_s" equal to 2.5
    When I run `jobs enqueue noop --retries 1 --backoff 1m --json`
    Then the JSON document has "retries" equal to 1
    And the JSON document has "backoff_s" equal to 60.0

  Scenario Outline: bad retry options are one clear line, exit 2, and nothing is queued
    When I run `jobs enqueue noop <options>`
    Then the exit code is 2
    And stderr is one line containing "<message>"
    When I run `jobs list --json`
    Then the JSON document is a list of 0

    Examples:
      | options         | message                      |
      | --retries 101   | retries must be 0..100       |
      | --retries -1    | retries must be 0..100       |
      | --backoff soon  | invalid duration 'soon'      |
      | --backoff 2d    | the backoff is 0 s to 1 day  |
