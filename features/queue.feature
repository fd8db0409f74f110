Feature: Enqueueing and claiming jobs
  Payloads are validated for their kind and versioned; bad input is refused and writes nothing.
  Jobs are claimed in priority, then creation order, each by exactly one claimer.

  Background:
    Given a job queue in a temporary database

  Scenario: a valid payload is stored with its schema version and defaults
    When I enqueue a "command" job "J" with payload '{"argv": ["true"]}'
    Then job "J" is queued
    And job "J" is stored with payload '{"schema_version": 1, "argv": ["true"], "cwd": null, "env": {}, "timeout_s": null}'

  Scenario Outline: invalid jobs are refused and nothing is written
    When I try to enqueue a "<kind>" job with payload '<payload>'
    Then it is refused with "<message>"
    And the queue holds 0 jobs

    Examples:
      | kind    | payload                                   | message                                          |
      | nope    | {}                                        | unknown job kind 'nope'; known kinds: boom        |
      | sleep   | {"seconds": 1, "schema_version": 2}       | payload schema_version 2 is not supported         |
      | sleep   | {"seconds": 1, "schema_version": "one"}   | payload schema_version 'one' is not supported     |
      | sleep   | {"seconds": 1, "schema_version": true}    | payload schema_version True is not supported      |
      | sleep   | {}                                        | invalid payload for job kind 'sleep': seconds     |
      | sleep   | {"seconds": -1}                           | seconds: Input should be greater than or equal to 0 |
      | sleep   | {"seconds": 1, "extra": 2}                | extra: Extra inputs are not permitted             |
      | command | {"argv": []}                              | argv: List should have at least 1 item            |
      | command | {"argv": ["x"], "timeout_s": -1}          | timeout_s: Input should be greater than 0         |
      | command | {"argv": ["x"], "env": {"GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz012345"}} | secrets are never stored |
      | command | {"argv": ["deploy", "--password", "hunter22"]} | secrets are never stored                     |
      | noop    | [1, 2]                                    | must be a JSON object                             |

  Scenario: a negative priority is refused
    When I try to enqueue a "noop" job with priority -1
    Then it is refused with "priority must be 0 or more"
    And the queue holds 0 jobs

  Scenario: max attempts out of range is refused
    When I try to enqueue a "noop" job with max attempts 0
    Then it is refused with "max attempts must be 1..100"

  Scenario: claims follow priority, then creation order
    Given a "noop" job "late-low" with priority 5
    And a "noop" job "first" with priority 0
    And a "noop" job "second" with priority 0
    And a "noop" job "urgent" with priority 0
    When a worker claims 3 jobs
    Then the claimed jobs are first, second, urgent
    When a worker claims 3 jobs
    Then the claimed jobs are late-low
    And job "late-low" is running
    And job "late-low" has 1 attempts

  Scenario: a job scheduled for later is not claimed before its time
    Given a "noop" job "later" with priority 0
    And job "later" may run only after 60 seconds
    When a worker claims 1 jobs
    Then no job is claimed
    When 61 seconds pass
    And a worker claims 1 jobs
    Then the claimed jobs are later

  Scenario: bulk enqueue keeps the given order
    When I enqueue 1000 "noop" jobs in bulk
    Then the bulk jobs are all queued in the order they were given

  Scenario: claimers racing on separate connections never share a job
    Given 600 queued "noop" jobs
    When 8 threads race to claim 3 jobs at a time until the queue is empty
    Then every job was claimed exactly once

  Scenario: the bulk path stores exactly what the single-job path stores
    Then a job enqueued alone and one enqueued in bulk are stored byte for byte alike
