Feature: Named queues
  `jobs enqueue --queue NAME` puts a job in a queue (default: `default`). A worker serves
  `default` only unless `worker run --queues a,b` names others (claiming from `a` first) or
  `--queues '*'` asks for every queue; `--concurrency-limit a=2` keeps at most 2 jobs of `a`
  running on that worker. `jobs list`, `worker list` and diagnostics show each queue's depth.

  Background:
    Given a job queue in a temporary database

  Scenario: a worker serves only its queues, preferring the first it names
    Given a "gate" job "B1" in queue "b"
    And a "gate" job "B2" in queue "b"
    And a "gate" job "A1" in queue "a" with priority 9
    And a "gate" job "D1" in queue "default"
    And a "gate" job "X1" in queue "x"
    And worker "W" with 2 threads serving "a,b"
    When worker "W" runs one pass
    Then 2 jobs were claimed
    And the running jobs are A1 and B1

  Scenario: by default a worker serves the queue "default" only
    Given a "gate" job "M1" in queue "mail"
    And a "gate" job "D1" in queue "default"
    And worker "W" with 4 threads
    When worker "W" runs one pass
    Then 1 jobs were claimed
    And the running jobs are D1

  Scenario: '*' serves every queue, in priority order
    Given a "gate" job "M1" in queue "mail" with priority 1
    And a "gate" job "D1" in queue "default" with priority 2
    And a "gate" job "X1" in queue "x" with priority 0
    And worker "W" with 2 threads serving "*"
    When worker "W" runs one pass
    Then the running jobs are X1 and M1

  Scenario: a concurrency limit keeps a queue to its share of the threads, pass after pass
    Given a "gate" job "S1" in queue "slow"
    And a "gate" job "S2" in queue "slow"
    And a "gate" job "F1" in queue "fast"
    And worker "W" with 4 threads serving "slow,fast" with limits "slow=1"
    When worker "W" runs one pass
    Then the running jobs are S1 and F1
    When worker "W" runs one pass
    Then 0 jobs were claimed
    When gate "S1" opens and worker "W" records it
    Then the running jobs are S2 and F1
    And job "S1" is succeeded

  Scenario: '*' with a limit takes the limited queue up to its limit, then any other
    Given a "gate" job "S1" in queue "slow"
    And a "gate" job "S2" in queue "slow"
    And a "gate" job "O1" in queue "other"
    And a "gate" job "D1" in queue "default"
    And worker "W" with 4 threads serving "*" with limits "slow=1"
    When worker "W" runs one pass
    Then 3 jobs were claimed
    And the running jobs are S1, O1 and D1

  Scenario: a real worker runs only its queues; depths are shown per queue
    Given I ran `jobs enqueue noop --queue mail --count 2`
    And I ran `jobs enqueue noop`
    When I run `jobs list`
    Then stderr contains "by queue: default 1 queued 0 running, mail 2 queued 0 running"
    When I run `worker run --burst`
    And I run `jobs list --status queued --queue mail --json`
    Then the JSON document is a list of 2
    When I run `diagnostics --format json`
    Then the queue check's details have the queues {"mail": {"queued": 2, "running": 0}}
    When I run `worker run --burst --queues mail,default --concurrency-limit mail=1`
    And I run `jobs list --status queued --json`
    Then the JSON document is a list of 0
    When I run `worker list --all --json`
    Then the JSON document has "0.queues" equal to "mail=1,default"
    Given I ran `jobs enqueue noop --queue mail --delay 1h`
    When I run `worker list --all`
    Then stdout contains "mail=1,default"
    And stderr contains "by queue: mail 1 queued 0 running"

  Scenario: cancel the queued jobs of one queue
    Given I ran `jobs enqueue noop --queue mail --count 3`
    And I ran `jobs enqueue noop --count 2`
    When I run `jobs cancel --status queued --queue mail`
    Then stdout contains "cancelled 3 job(s)"
    When I run `jobs list --status queued --json`
    Then the JSON document is a list of 2

  Scenario Outline: a bad queue name or limit is one clear line, exit 2, and nothing is queued
    When I run `<command>`
    Then the exit code is 2
    And stderr is one line containing "<message>"
    When I run `jobs list --json`
    Then the JSON document is a list of 0

    Examples:
      | command                                                   | message                                                    |
      | jobs enqueue noop --queue "a b"                           | invalid queue name 'a b'                                   |
      | jobs enqueue noop --queue ""                              | invalid queue name ''                                      |
      | worker run --burst --queues "mail,x y"                    | invalid queue name 'x y'                                   |
      | worker run --burst --queues mail --concurrency-limit y=2  | --concurrency-limit names 'y', which this worker does not serve |
      | worker run --burst --concurrency-limit default=0          | invalid --concurrency-limit 'default=0'                    |
