Feature: Plan and project locks with a TTL, renewal and re-entrancy
  A lock gives one owner a plan or a project until it expires. The database decides every race:
  the same owner re-enters (extending the expiry), another owner is refused with the holder and
  the expiry named, and an expired lock is taken over. A run holds its plan's lock for the whole
  execution, renews it, and stops rather than run on unprotected if it is lost.
  Times in "acquired at N s" and "expiring at N s" are seconds on the scenario's fake clock.

  Scenario: a free lock is acquired, and its owner re-enters it, extending only the expiry
    Given a lock service on a fake clock
    When "alice" acquires the plan lock "P1" for 60 seconds
    Then the plan lock "P1" belongs to "alice", acquired at 0 s and expiring at 60 s
    And the plan lock "P1" is locked now
    And the project lock "P1" is free now
    When 30 seconds pass
    And "alice" acquires the plan lock "P1" for 60 seconds
    Then the plan lock "P1" belongs to "alice", acquired at 0 s and expiring at 90 s
    And the locks table holds 1 locks

  Scenario Outline: another owner is refused with the holder and the expiry named
    Given a lock service on a fake clock
    And "<holder>" holds the plan lock "P1" for 60 seconds
    When "bob" acquires the plan lock "P1" for 600 seconds
    Then the lock call raised LockConflictError saying "plan P1 is locked by <named>"
    And the lock call raised LockConflictError saying "until 2026-01-01T12:01:00+00:00"
    And the plan lock "P1" belongs to "<holder>", acquired at 0 s and expiring at 60 s

    Examples:
      | holder              | named                                           |
      | build-7:4242:a1b2c3 | build-7:4242:a1b2c3 (host build-7, pid 4242)    |
      | ci-job-17           | ci-job-17 until                                 |

  Scenario: an expired lock is free, and another owner takes it over
    Given a lock service on a fake clock
    And "alice" holds the plan lock "P1" for 60 seconds
    When 59 seconds pass
    Then the plan lock "P1" is locked now
    When 1 seconds pass
    Then the plan lock "P1" is free now
    And the stale lock count is 1
    When "bob" acquires the plan lock "P1" for 60 seconds
    Then the plan lock "P1" belongs to "bob", acquired at 60 s and expiring at 120 s
    And the plan lock "P1" is locked now
    And the stale lock count is 0
    When "alice" renews the plan lock "P1" for 60 seconds
    Then the lock call raised LockExpiredError saying "the lock on plan P1 was lost"
    When "alice" releases the plan lock "P1"
    Then the lock call returned false
    And the plan lock "P1" belongs to "bob"

  Scenario: renewing extends a held lock; a lock that expired cannot be renewed
    Given a lock service on a fake clock
    And "alice" holds the project lock "R1" for 600 seconds
    When 500 seconds pass
    And "alice" renews the project lock "R1" for 600 seconds
    Then the project lock "R1" belongs to "alice", acquired at 0 s and expiring at 1100 s
    When 600 seconds pass
    And "alice" renews the project lock "R1" for 600 seconds
    Then the lock call raised LockExpiredError saying "the lock on project R1 was lost"
    And the project lock "R1" belongs to "alice", acquired at 0 s and expiring at 1100 s
    When "bob" renews the project lock "nothing-here" for 600 seconds
    Then the lock call raised LockExpiredError saying "was lost"

  Scenario: renewing every lock of an owner is one statement, each type with its TTL
    Given a lock service on a fake clock
    And "alice" holds 60 plan locks and 40 project locks for 30 seconds
    And "alice" holds the plan lock "short" for 5 seconds
    And "bob" holds the plan lock "bobs" for 30 seconds
    When 10 seconds pass
    And "alice" renews all its locks, plans for 300 s and projects for 600 s
    Then the lock call returned 100
    And renewing them took one statement
    And every bulk lock of "alice" expires at 310 s for plans and 610 s for projects
    And the plan lock "short" belongs to "alice", acquired at 0 s and expiring at 5 s
    And the plan lock "short" is free now
    And the plan lock "bobs" belongs to "bob", acquired at 0 s and expiring at 30 s

  Scenario: an owner releases only its own locks
    Given a lock service on a fake clock
    And "alice" holds the plan lock "P1" for 60 seconds
    And "alice" holds the project lock "R1" for 60 seconds
    And "bob" holds the plan lock "P2" for 60 seconds
    When "bob" releases the plan lock "P1"
    Then the lock call returned false
    And the plan lock "P1" belongs to "alice"
    When "alice" releases the plan lock "P1"
    Then the lock call returned true
    And there is no plan lock "P1"
    When "alice" releases the plan lock "P1"
    Then the lock call returned false
    When "alice" releases all its locks
    Then the lock call returned 1
    And there is no project lock "R1"
    And the plan lock "P2" belongs to "bob"
    When "alice" releases all its locks
    Then the lock call returned 0

  Scenario: expired locks are counted and cleaned up; live ones stay
    Given a lock service on a fake clock
    And "alice" holds the plan lock "P1" for 60 seconds
    And "alice" holds the project lock "R1" for 600 seconds
    And "bob" holds the plan lock "P2" for 120 seconds
    When 120 seconds pass
    Then the stale lock count is 2
    When expired locks are cleaned up
    Then the lock call returned 2
    And the stale lock count is 0
    And the locks table holds 1 locks
    And the project lock "R1" belongs to "alice"
    When expired locks are cleaned up
    Then the lock call returned 0

  Scenario: 8 threads race for one lock and exactly one wins each round
    Given a lock service on a fake clock
    When 8 threads, each on its own database, race for the plan lock "hot" for 20 rounds
    Then every round had exactly one winner and 7 lock conflicts
    And there is no plan lock "hot"

  Scenario: a holder that is provably dead on this host is taken over at once
    Given a lock service on a fake clock
    And the plan lock "P1" is held for 300 seconds by a process of this host that is gone
    When "runner" acquires the plan lock "P1" for 300 seconds
    Then the lock call raised LockConflictError saying "pid 999999999"
    When "runner" takes the plan lock "P1" for its run for 300 seconds
    Then the plan lock "P1" belongs to "runner", acquired at 0 s and expiring at 300 s

  Scenario: a holder that is alive is not taken over before its lock expires
    Given a lock service on a fake clock
    And the plan lock "P1" is held for 300 seconds by this process under another nonce
    When "runner" takes the plan lock "P1" for its run for 300 seconds
    Then the lock call raised LockConflictError saying "until 2026-01-01T12:05:00+00:00"
    And the conflict names this host and this process's pid
    When 300 seconds pass
    And "runner" takes the plan lock "P1" for its run for 300 seconds
    Then the plan lock "P1" belongs to "runner", acquired at 300 s and expiring at 600 s

  Scenario: the renewer keeps a held lock and reports a lost one once
    Given a lock service on a fake clock
    And "run" holds the plan lock "P1" for 30 seconds
    When 20 seconds pass
    And the renewer of "run" for the plan lock "P1" with a TTL of 30 s renews once
    Then the renewal kept the lock
    And the plan lock "P1" belongs to "run", acquired at 0 s and expiring at 50 s
    When 50 seconds pass
    And the renewer of "run" for the plan lock "P1" with a TTL of 30 s renews once
    Then the renewer lost the lock saying "the lock on plan P1 was lost" and called back once

  Scenario: a renewer whose renewals cannot reach the database stops the run before the lock can lapse
    Given a lock service on a fake clock
    And "run" holds the plan lock "P1" for 30 seconds
    When the renewer of "run" for the plan lock "P1" with a TTL of 30 s has not renewed for 24 seconds
    Then the renewal kept the lock
    When the renewer of "run" for the plan lock "P1" with a TTL of 30 s has not renewed for 25.5 seconds
    Then the renewer lost the lock saying "the lock on plan P1 was not renewed for 25.5 s (its TTL is 30 s)" and called back once
    When the renewer of "run" for the plan lock "P1" with a TTL of 30 s has not renewed for 40 seconds
    Then the renewer lost the lock saying "was not renewed for 25.5 s" and called back once

  Scenario: a run that loses its lock stops its subplans and fails
    Given a sample project "repo" of 6 directories with 10 files each
    And I ran `project add [tmp]/repo`
    And a plan of project "repo" with the builtin sleep of 60 seconds
    When the plan executes in the background with a plan lock TTL of 6 seconds
    And its leaves are running
    And "thief" force-releases the lock of the plan and takes it for 300 seconds
    Then the background execution ends with the plan "failed"
    And the background run's report says "was lost"
    And the plan's error says "its subplans were stopped rather than run unprotected"
    And the lock of the plan belongs to "thief"

  Scenario: a run holds its plan's lock while it runs and gives it up when it ends
    Given a sample project "repo" of 6 directories with 10 files each
    And I ran `project add [tmp]/repo`
    And a plan of project "repo" with the builtin sleep of 60 seconds
    When the plan executes in the background
    And its leaves are running
    And I run `locks list --json`
    Then the exit code is 0
    And the JSON document's lock names this host and this process
    When I run `plan cancel [plan]`
    Then the background execution ends with the plan "cancelled"
    When I run `locks list --json`
    Then the JSON document is a list of 0
    When I run `plan run --project repo --action builtin:noop`
    Then the exit code is 0
    When I run `locks list --json`
    Then the JSON document is a list of 0
    Given the file "repo/d2/f0.txt" contains the marker
    When I run `plan run --project repo --action builtin:fail-on-marker`
    Then the exit code is 1
    When I run `locks list --json`
    Then the JSON document is a list of 0

  Scenario: a worker's graceful shutdown gives up the lock of the plan it was running
    Given a sample project "repo" of 6 directories with 10 files each
    And I ran `project add [tmp]/repo`
    And an action file "await.toml" whose command waits for the file "go"
    And a worker for plans runs in the background
    And I ran `plan create --project repo --action [tmp]/await.toml --max-parallel 2`
    And I ran `plan execute [plan] --async`
    When its leaves are running
    And I run `locks list --json`
    Then the JSON document is a list of 1
    And the JSON document has "0.resource_type" equal to "plan"
    When the worker for plans shuts down
    Then the plan's phase is "cancelled"
    When I run `locks list --json`
    Then the JSON document is a list of 0

  Scenario: a worker purges expired locks when it starts
    Given a job queue in a temporary database
    And "gone-run" holds the plan lock "P1" for 60 seconds
    And "gone-run" holds the project lock "R1" for 60 seconds
    And "live-run" holds the plan lock "P2" for 600 seconds
    When 120 seconds pass
    Then the stale lock count is 2
    When worker "W" with 1 threads
    Then the stale lock count is 0
    And the locks table holds 1 locks
    And the plan lock "P2" belongs to "live-run"

  Scenario: locks list shows every lock, its holder, and whether it is stale
    Given a lock service on the wall clock
    And "build-7:4242:a1b2c3" holds the plan lock "P1" for 300 seconds
    And "ci-job-17" held the project lock "R1" for 600 seconds an hour ago
    When I run `locks list --json`
    Then the exit code is 0
    And the JSON document is a list of 2
    And the JSON document has the fields resource_type, resource_id, owner_id, host, pid, acquired_at, expires_at, stale
    And the JSON document has "0.resource_type" equal to "plan"
    And the JSON document has "0.resource_id" equal to "P1"
    And the JSON document has "0.owner_id" equal to "build-7:4242:a1b2c3"
    And the JSON document has "0.host" equal to "build-7"
    And the JSON document has "0.pid" equal to 4242
    And the JSON document has "0.stale" equal to false
    And the JSON document has "1.resource_type" equal to "project"
    And the JSON document has "1.host" equal to null
    And the JSON document has "1.pid" equal to null
    And the JSON document has "1.stale" equal to true
    When I run `locks list`
    Then the exit code is 0
    And stdout contains "build-7:4242:a1b2c3 (host build-7, pid 4242)"
    And the row of "plan P1" in stdout says stale "no"
    And the row of "project R1" in stdout says stale "yes"

  Scenario: locks release frees only the owner's own lock, or any with --force and a warning
    Given a lock service on the wall clock
    And "build-7:4242:a1b2c3" holds the plan lock "P1" for 300 seconds
    And "build-7:4242:a1b2c3" holds the plan lock "P2" for 300 seconds
    And "ci-job-17" held the project lock "R1" for 600 seconds an hour ago
    When I run `locks release plan P1`
    Then the exit code is 3
    And stderr is one line containing "plan P1 is locked by build-7:4242:a1b2c3 (host build-7, pid 4242)"
    When I run `locks release plan P1 --owner someone-else`
    Then the exit code is 3
    And stderr is one line containing "pass --owner with your own owner id, or --force"
    And the plan lock "P1" belongs to "build-7:4242:a1b2c3"
    When I run `locks release plan P1 --owner build-7:4242:a1b2c3`
    Then the exit code is 0
    And stdout contains "released the lock on plan P1"
    And there is no plan lock "P1"
    When I run `locks release plan P2 --force`
    Then the exit code is 0
    And stdout contains "released the lock on plan P2"
    And stderr is one line containing "warning: released a live lock held by build-7:4242:a1b2c3"
    And there is no plan lock "P2"
    When I run `locks release project R1 --force`
    Then the exit code is 0
    And stderr does not contain "warning"
    When I run `locks list --json`
    Then the JSON document is a list of 0

  Scenario Outline: locks release of an unknown lock or type is refused with one line
    When I run `<command>`
    Then the exit code is <code>
    And stderr is one line containing "<message>"

    Examples:
      | command                        | code | message                   |
      | locks release plan nope        | 4    | no lock on plan nope      |
      | locks release project nope     | 4    | no lock on project nope   |
      | locks release bogus P1         | 2    | 'bogus' is not one of     |
      | locks release plan             | 2    | Missing argument          |

  Scenario: the lock TTLs are settings with defaults, and out-of-range values are refused
    When I run `config get locks.plan_ttl --json`
    Then the JSON document has "value" equal to 300
    And the JSON document has "source" equal to "default"
    When I run `config get locks.project_ttl --json`
    Then the JSON document has "value" equal to 600
    When I run `config get locks.plan_ttl`
    Then stdout contains "300"
    Given the environment variable AGENTS_LOCKS__PLAN_TTL is "45"
    When I run `config get locks.plan_ttl --json`
    Then the JSON document has "value" equal to 45
    And the JSON document has "source" equal to "environment AGENTS_LOCKS__PLAN_TTL"
    Given the environment variable AGENTS_LOCKS__PLAN_TTL is "0"
    When I run `config get locks.plan_ttl`
    Then the exit code is 2
    And stderr is one line containing "locks.plan_ttl = '0' is not valid: must be 1..86400"
    And stderr contains "(from environment AGENTS_LOCKS__PLAN_TTL)"
