Feature: Unique jobs
  `jobs enqueue --unique-key KEY`: while a job with that key is queued or running, enqueueing
  another adds none and gives back that job's id (exit 0, said on stderr; --json has
  "deduplicated": true). The database enforces it, with a partial unique index.

  Scenario: a second enqueue with a live key gives back the first job; once it ends, a new one is added
    Given I ran `jobs enqueue noop --unique-key nightly --json` and keep its JSON as "FIRST"
    When I run `jobs enqueue noop --unique-key nightly --json`
    Then the exit code is 0
    And the JSON document has "id" equal to "[FIRST]"
    And the JSON document has "deduplicated" equal to true
    When I run `jobs enqueue sleep --payload '{"seconds": 1}' --unique-key nightly`
    Then the exit code is 0
    And stdout contains "[FIRST]"
    And stderr is one line containing "holds the unique key 'nightly': none added"
    When I run `jobs enqueue noop --unique-key weekly --json`
    Then the JSON document has "deduplicated" equal to false
    When I run `worker run --burst`
    And I run `jobs enqueue noop --unique-key nightly --json`
    Then the JSON document has "deduplicated" equal to false
    And the JSON document has "unique_key" equal to "nightly"
    When I run `jobs list --json`
    Then the JSON document is a list of 3

  Scenario: the database refuses a second live job with the same key, whoever inserts it
    Given I ran `jobs enqueue noop --unique-key only-one`
    Then inserting another queued job with the unique key "only-one" straight into the table fails

  Scenario Outline: bad unique keys are one clear line, exit 2, and nothing is queued
    When I run `jobs enqueue noop <options>`
    Then the exit code is 2
    And stderr is one line containing "<message>"
    When I run `jobs list --json`
    Then the JSON document is a list of 0

    Examples:
      | options                          | message                                                    |
      | --unique-key k --count 2         | --unique-key enqueues one job; it does not go with --count |
      | --unique-key ""                  | a unique key is 1 to 200 characters                        |
