Feature: A long wait outlives a database that goes away for a while
  `jobs wait`, `plan watch` and `plan execute --wait` wait through runtime.waiting.wait_until. A
  database that cannot be used at all is an error at once; one that goes away after the first
  read (a restart, a failover) is waited out, re-read with a back-off.

  Background:
    Given a job queue in a temporary database

  Scenario: a wait re-reads through an outage and returns what it waited for
    When a wait reads "pending", fails 3 times with a database error, then reads "done"
    Then the wait returned "done" after 5 reads
    And the wait logged "database unreachable while waiting" once
    And the wait logged "database reachable again"

  Scenario: a wait whose time runs out while the database is unreachable says why
    When a wait of 0.3 seconds reads "pending", then fails with a database error every time
    Then the wait raised "database error: server closed the connection"

  Scenario: a damaged database ends a wait at once
    When a wait reads "pending", then finds the database damaged
    Then the wait raised "damaged"
    And the wait read 2 times

  Scenario: a database that cannot be used at the first read is an error at once
    When a wait fails with a database error at its first read
    Then the wait raised "database error: server closed the connection"
    And the wait read 1 times
