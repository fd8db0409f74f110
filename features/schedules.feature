Feature: Schedules
  `agents schedule add NAME (--cron EXPR [--timezone TZ] | --every D) KIND` makes any running
  worker enqueue a KIND job at each slot: exactly one job per slot however many workers run (a
  row per slot, keyed by the database), and after downtime at most the latest missed slot.

  Background:
    Given a job queue in a temporary database

  Scenario: two workers racing over 1,000 slots enqueue exactly one job per slot
    Given a schedule "tick" of "noop" jobs every 1 seconds
    When 2 workers race over the next 1000 slots, one second apart
    Then every one of the 1000 slots has exactly one job, and the queue holds just those

  Scenario: after an hour of downtime only the latest missed slot runs
    Given a schedule "tick" of "noop" jobs every 1 seconds
    When 3600.5 seconds pass
    And due schedules are enqueued
    Then 1 scheduled jobs were enqueued
    And the scheduled job was for the slot 2026-01-01T13:00:00Z
    And schedule "tick" runs next at 2026-01-01T13:00:01Z
    When due schedules are enqueued
    Then 0 scheduled jobs were enqueued

  Scenario: with catch-up "skip", missed slots do not run at all
    Given a schedule "tick" of "noop" jobs every 600 seconds, catching up "skip"
    When 3900 seconds pass
    And due schedules are enqueued
    Then 0 scheduled jobs were enqueued
    And schedule "tick" runs next at 2026-01-01T13:10:00Z
    When 300 seconds pass
    And due schedules are enqueued
    Then 1 scheduled jobs were enqueued

  Scenario: a cron expression runs in its time zone, across daylight saving
    Given the clock is at 2026-01-01T12:00:00Z
    And a schedule "morning" of "noop" jobs on cron "0 9 * * *" in "Europe/Paris"
    Then schedule "morning" runs next at 2026-01-02T08:00:00Z
    When the clock is at 2026-01-02T08:00:30Z
    And due schedules are enqueued
    Then the scheduled job was for the slot 2026-01-02T08:00:00Z
    When the clock is at 2026-07-01T07:00:05Z
    And due schedules are enqueued
    Then the scheduled job was for the slot 2026-07-01T07:00:00Z
    And schedule "morning" runs next at 2026-07-02T07:00:00Z

  Scenario: when daylight saving ends, a repeated wall-clock time never gives a slot in the past
    Given the clock is at 2026-11-01T06:10:00Z
    And a schedule "night" of "noop" jobs on cron "30 1 * * *" in "America/New_York"
    Then schedule "night" runs next at 2026-11-02T06:30:00Z

  Scenario: a schedule this worker cannot run is paused, saying why, and the others go on
    Given a schedule "good" of "noop" jobs every 1 seconds
    And a schedule "odd" of "noop" jobs on cron "* * * * *" in "Europe/Paris"
    And the time zone of schedule "odd" is "Mars/Olympus" in the database
    When 61 seconds pass
    And due schedules are enqueued
    Then 1 scheduled jobs were enqueued
    And schedule "odd" was paused because "unknown time zone 'Mars/Olympus'"

  Scenario: a paused schedule enqueues nothing, and resumes from its next slot
    Given a schedule "tick" of "noop" jobs every 10 seconds
    When schedule "tick" is paused
    And 25 seconds pass
    And due schedules are enqueued
    Then 0 scheduled jobs were enqueued
    When schedule "tick" is resumed
    Then schedule "tick" runs next at 2026-01-01T12:00:30Z

  Scenario: a worker enqueues due schedules itself, checking at most once a second
    Given a schedule "tick" of "noop" jobs every 1 seconds
    And worker "A" with 1 threads
    And worker "A" counts its schedule checks
    When 1 seconds pass
    And worker "A" runs one pass
    Then 1 jobs were claimed
    When worker "A" runs one pass
    And worker "A" runs one pass
    Then the worker checked the schedules 1 times
    When 1 seconds pass
    And worker "A" runs one pass after the jobs finish
    Then the worker checked the schedules 2 times
    And 1 jobs were claimed

  Scenario: add, list, show, pause, resume and remove from the command line
    When I run `schedule add report --cron "0 3 * * *" --timezone Europe/Paris command -- make report`
    Then the exit code is 0
    And stdout contains "schedule report: 0 3 * * * (Europe/Paris), next run"
    Given I ran `config set async.retries 2`
    When I run `schedule add ping --every 30s noop --queue pings --json`
    Then the JSON document has "every_s" equal to 30.0
    And the JSON document has "job.queue" equal to "pings"
    And the JSON document has "job.retries" equal to 2
    And the JSON document has "job.max_attempts" equal to 3
    When I run `schedule list --json`
    Then the JSON document is a list of 2
    When I run `schedule pause ping`
    And I run `schedule show ping --json`
    Then the JSON document has "paused" equal to true
    When I run `schedule resume ping`
    Then stdout contains "resumed schedule ping: next run"
    When I run `schedule show report`
    Then stdout contains "runs      0 3 * * * (Europe/Paris)"
    When I run `schedule remove report`
    And I run `schedule list`
    Then stdout does not contain "report"

  Scenario Outline: bad schedules are one clear line with the right exit code, and nothing is added
    Given I ran `schedule add taken --every 1h noop`
    When I run `schedule <arguments>`
    Then the exit code is <code>
    And stderr is one line containing "<message>"
    When I run `schedule list --json`
    Then the JSON document is a list of 1

    Examples:
      | arguments                                               | code | message                                                     |
      | add x --cron "61 * * * *" noop                          | 2    | invalid cron expression '61 * * * *' at field 1 (minute: '61') |
      | add x --cron "* * * * 9" noop                           | 2    | at field 5 (day of week: '9')                               |
      | add x --cron "* * *" noop                               | 2    | it has 3 fields, cron has 5                                 |
      | add x --cron "0 3 * * *" --timezone Mars/Olympus noop   | 2    | unknown time zone 'Mars/Olympus'                            |
      | add x noop                                              | 2    | give --cron or --every (one of them)                        |
      | add x --cron "* * * * *" --every 1m noop                | 2    | give --cron or --every (one of them)                        |
      | add x --every 1m --timezone UTC noop                    | 2    | --timezone goes with --cron                                 |
      | add x --every 0.5s noop                                 | 2    | --every must be at least 1 s                                |
      | add x --every 3000000d noop                             | 2    | and at most a year                                          |
      | add x --every 1m sleep --payload '{"seconds": -1}'      | 2    | seconds                                                     |
      | add x --every 1m nosuchkind                             | 2    | nosuchkind                                                  |
      | add "x y" --every 1m noop                               | 2    | invalid schedule name 'x y'                                 |
      | add taken --every 1m noop                               | 3    | a schedule named 'taken' exists already                     |
      | show nosuch                                             | 4    | no schedule named 'nosuch'                                  |
      | remove nosuch                                           | 4    | no schedule named 'nosuch'                                  |
