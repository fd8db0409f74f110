Feature: A job's processes never outlive its claim
  Every process a job starts carries its run's markers; when the run ends, is cancelled, times
  out or loses its claim, whatever it started is gone (daemons that left with setsid included),
  and a recovery on this host ends a stale run's processes before it releases the job. Outcomes
  are fenced by the claim (job and attempt), so a run that lost its claim writes nothing.

  Background:
    Given a job queue in a temporary database

  Scenario: a daemon a command job started with setsid is gone when the job succeeds
    Given a "command" job "J" that starts a setsid daemon and exits
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is succeeded
    And the daemon of job "J" is gone

  Scenario: a daemon of a command that times out is gone with it
    Given a "command" job "J" that starts a setsid daemon and runs for 300 seconds, with timeout_s 0.5
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is failed
    And the daemon of job "J" is gone

  Scenario: a daemon of a cancelled command is gone with it
    Given a "command" job "J" that starts a setsid daemon and runs for 300 seconds
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And the command of job "J" has started
    And I cancel job "J"
    And worker "A" sends a heartbeat
    And worker "A" runs one pass after the jobs finish
    Then job "J" is cancelled
    And the daemon of job "J" is gone
    And the command of job "J" is gone

  Scenario: a recovery on this host ends the stale run's processes before it releases the job
    Given a "command" job "J" that starts a setsid daemon and runs for 300 seconds
    And a worker "A" on this host, with 1 threads and stale_after=30
    When worker "A" runs one pass
    And the command of job "J" has started
    And 31 seconds pass
    And a worker "B" on this host, with 1 threads and stale_after=30
    Then job "J" is queued
    And the command of job "J" was gone before the job was released
    And the daemon of job "J" is gone
    When worker "A" runs one pass after the jobs finish
    Then job "J" is running
    And job "J" has 2 attempts

  Scenario: a worker that finds its claim taken stops that run at once and records nothing for it
    Given a "command" job "J" that starts a setsid daemon and runs for 300 seconds
    And worker "A" with 2 threads and stale_after=30
    When worker "A" runs one pass
    And the command of job "J" has started
    And 31 seconds pass
    And stale jobs are recovered
    And worker "A" runs one pass
    Then job "J" has 2 attempts
    And job "J" belongs to worker "A"
    When worker "A" sends a heartbeat
    Then the first run's command of job "J" is gone
    And the first run's daemon of job "J" is gone
    And the second run's command of job "J" still runs
    When worker "A" runs one pass after 1 job finishes
    Then job "J" is running
    And job "J" has 2 attempts
    And worker "A" is running 1 jobs

  Scenario: a worker whose heartbeat cannot be written stops its jobs before they go stale
    Given a "command" job "J" that starts a setsid daemon and runs for 300 seconds
    And worker "A" with 2 threads and stale_after=30
    When worker "A" runs one pass
    And the command of job "J" has started
    And worker "A" has written no heartbeat for 26 seconds
    Then worker "A" is fenced
    And the command of job "J" is gone
    And the daemon of job "J" is gone
    When I enqueue a "noop" job "K" with payload '{}'
    And worker "A" runs one pass after the jobs finish
    Then job "J" is queued
    And job "K" is queued
    When worker "A" sends a heartbeat
    Then worker "A" is not fenced
    When worker "A" runs one pass
    Then 2 jobs were claimed

  Scenario: a heartbeat not written for less than stale_after minus one interval fences nothing
    Given a "command" job "J" that starts a setsid daemon and runs for 300 seconds
    And worker "A" with 1 threads and stale_after=30
    When worker "A" runs one pass
    And the command of job "J" has started
    And worker "A" has written no heartbeat for 24 seconds
    Then worker "A" is not fenced
    And the command of job "J" still runs

  Scenario: a worker that starts ends what dead workers of its host left running, and only that
    Given a process left running by a dead worker of this host
    And a process started for a live worker of this host
    And a process started for a worker of another host
    When a worker "B" on this host, with 1 threads and stale_after=30
    Then the process of the dead worker is gone
    And the process of the live worker still runs
    And the process of the other host's worker still runs

  Scenario: a run that finished while its outcome was being recorded is not taken for a lost claim
    Given a "gate" job "J" with payload '{"name": "J"}'
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And gate "J" opens
    And the outcome of job "J" is recorded while worker "A" has not freed its slot yet
    And worker "A" sends a heartbeat
    Then worker "A" stopped no run for a lost claim
    And job "J" is succeeded

  Scenario Outline: a command's leftovers are looked for among the pids allocated since it started
    Given the last pid handed out is <last>
    Then a process with pid <pid> may have started after pid <since>: <verdict>

    Examples:
      | since | last | pid   | verdict |
      | 1000  | 1200 | 1100  | yes     |
      | 1000  | 1200 | 1000  | no      |
      | 1000  | 1200 | 1300  | no      |
      | 30000 | 120  | 31000 | yes     |
      | 30000 | 120  | 50    | yes     |
      | 30000 | 120  | 500   | no      |
