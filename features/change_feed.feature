Feature: Waiting for the database to change without polling it
  An idle worker, `jobs wait` and `plan watch` block on the database's change feed: PostgreSQL's
  LISTEN socket, or an inotify watch of the SQLite files. They wake when another connection
  commits or when their own doorbell rings, and cost no CPU in between.

  Background:
    Given a job queue in a temporary database
    And a change feed on the database

  Scenario: an idle feed blocks, and another connection's commit wakes it
    Then the feed can block once the database is quiet
    When a waiter waits up to 600 seconds on the feed in the background
    And another connection enqueues a job
    Then the waiter was woken within the deadline
    And the feed saw the commit

  Scenario: a quiet feed's descriptor becomes readable when another connection commits
    Then the feed can block once the database is quiet
    And the feed's descriptor is not readable
    When another connection enqueues a job
    Then the feed's descriptor becomes readable within the deadline

  Scenario: a waiter blocked on the feed returns as soon as its doorbell is set
    Given a doorbell
    When a waiter waits up to 600 seconds on the feed with the doorbell in the background
    And the doorbell is set from another thread
    Then the waiter was woken within the deadline

  Scenario: a doorbell is readable once set or rung, until it is cleared
    Given a doorbell
    Then the doorbell's descriptor is not readable
    When the doorbell is set from another thread
    Then the doorbell's descriptor is readable and the doorbell is set
    When the doorbell is cleared
    Then the doorbell's descriptor is not readable
    When the doorbell is rung 70000 times
    Then the doorbell's descriptor is readable and the doorbell is not set
    When the doorbell is cleared
    Then the doorbell's descriptor is not readable

  Scenario: a signal's stop request ends an idle worker's wait at once
    Given worker "W" with 1 threads
    When a waiter waits up to 600 seconds on the feed with worker "W"'s wake-up in the background
    And worker "W" is asked to stop as a signal handler does
    Then the waiter was woken within the deadline
    And worker "W" knows it should stop

  @sqlite
  Scenario Outline: without inotify (<why>) the feed polls, and still sees every commit
    Given inotify fails with "<why>"
    And a change feed on the database
    Then the feed cannot block
    When a waiter waits up to 600 seconds on the feed in the background
    And another connection enqueues a job
    Then the waiter was woken within the deadline

    Examples:
      | why                             |
      | too many inotify instances      |
      | too many inotify watches        |
