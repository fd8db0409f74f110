@postgres
Feature: PostgreSQL, where workers on many machines share one queue
  These scenarios need a PostgreSQL server (the nox postgres_tests session starts a throwaway
  one); the store and worker features run against it as well as against SQLite.

  Scenario: diagnostics names the server's version and the connections in use
    When I run `diagnostics --no-probe`
    Then stdout contains "fail  schema"
    And stdout contains "remedy: agents db upgrade"
    When I run `db upgrade`
    And I run `diagnostics --no-probe`
    Then stdout contains "database      PostgreSQL 15"
    And stdout contains "connections in use"
    When I run `diagnostics --no-probe --format json`
    Then the JSON document has "checks.0.details.dialect" equal to "postgresql"

  Scenario: a commit anywhere wakes a listening change detector at once, and only once
    Given a change detector listening on the database
    Then the detector has seen nothing
    When another connection enqueues a job
    Then the detector sees a change within the deadline
    And the detector has seen nothing

  Scenario: several processes starting on a fresh database at once migrate it once
    When 6 processes' worth of connections migrate a fresh database at once
    Then every migration succeeded and the schema is at head

  Scenario: an idle worker's empty claims wake nobody; claiming or finishing a job does
    Given a job queue in a temporary database
    And a "gate" job "J" with payload '{"name": "J"}'
    And a change detector listening on the database
    And worker "A" with 1 threads
    When worker "A" runs one pass
    Then the detector sees a change within the deadline
    When worker "A" runs one pass
    Then the detector has seen nothing
    When gate "J" opens
    And worker "A" runs one pass after the jobs finish
    Then the detector sees a change within the deadline
    And job "J" is succeeded
    When worker "A" runs one pass
    Then the detector has seen nothing

  Scenario Outline: an idle worker whose connections the server drops keeps running and takes the next job
    Given a job queue in a temporary database
    And worker "W" runs in the background, listening for changes
    When the server terminates <which>
    Then the change feed logs "change feed: reconnected"
    When I enqueue a "noop" job "J" with payload '{}'
    And I wait for job "J" to finish
    Then the wait returned a succeeded job
    And the background worker "W" is still running
    When worker "W" is asked to stop
    Then the background worker "W" stops within the deadline

    Examples:
      | which                  |
      | the LISTEN connection  |
      | every other connection |

  Scenario: a change detector whose LISTEN connection is terminated reconnects and goes on
    Given a job queue in a temporary database
    And a change detector listening on the database
    When the detector's connection is lost
    Then the detector reports a change without raising
    And the detector is connected again
    And the detector has seen nothing
    When another connection enqueues a job
    Then the detector sees a change within the deadline

  Scenario: a listening detector whose connection was closed under it polls until it has reconnected
    Given a change detector listening on the database
    When the detector's connection is closed under it
    Then the detector cannot block
    And the detector reports a change without raising
    And the detector is connected again
