Feature: The AsyncWorker
  A worker claims only as many jobs as it has free threads, runs them, records how they ended,
  heartbeats, recovers the jobs of dead workers, honours cancel requests and timeouts, and on a
  graceful stop puts unfinished jobs back in the queue. Driven by run_once(now) and a fake clock.

  Background:
    Given a job queue in a temporary database

  Scenario: a job runs and succeeds, and the worker counts it
    Given a "sleep" job "J" with payload '{"seconds": 0}'
    And worker "A" with 2 threads
    When worker "A" runs one pass
    Then 1 jobs were claimed
    And job "J" is running
    And job "J" belongs to worker "A"
    When worker "A" runs one pass after the jobs finish
    Then job "J" is succeeded
    And job "J" has result field "slept_s" equal to 0.0
    And job "J" has no error
    When worker "A" sends a heartbeat
    Then worker "A" counted 1 succeeded jobs

  Scenario: capacity comes before the claim
    Given a "gate" job "g1" with payload '{"name": "g1"}'
    And a "gate" job "g2" with payload '{"name": "g2"}'
    And a "gate" job "g3" with payload '{"name": "g3"}'
    And a "gate" job "g4" with payload '{"name": "g4"}'
    And worker "A" with 2 threads
    When worker "A" runs one pass
    Then 2 jobs were claimed
    And job "g3" is queued
    When worker "A" runs one pass
    Then 0 jobs were claimed
    And worker "A" is running 2 jobs
    When gate "g1" opens
    And worker "A" runs one pass after 1 job finishes
    Then 1 jobs were claimed
    And job "g1" is succeeded
    And job "g3" is running
    And job "g4" is queued

  Scenario: a failing command is failed with its exit code and output
    Given a "command" job "J" with payload '{"argv": ["sh", "-c", "echo about to fail; printf 'pass%sword=hunter22\\n' ''; exit 3"]}'
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is failed
    And job "J" has error "command exited with code 3"
    And job "J" has result field "exit_code" equal to 3
    And job "J" has result field "output_tail" containing "about to fail"
    And job "J" has result field "output_tail" not containing "hunter22"

  Scenario: a command that succeeds records its output and sees its job id
    Given a "command" job "J" with payload '{"argv": ["sh", "-c", "echo job=$AGENTS_JOB_ID"]}'
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is succeeded
    And job "J" has result field "exit_code" equal to 0
    And job "J" has result field "output_tail" containing "job=01"

  Scenario: a process a command leaves behind is ended with it, after a short grace
    Given a "command" job "J" with payload '{"argv": ["sh", "-c", "sleep 300 & echo child=$!"]}'
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is succeeded
    And the process whose pid job "J" printed as "child" is gone

  Scenario: a command that cannot start fails the job with a clear message
    Given a "command" job "J" with payload '{"argv": ["/no/such/program"]}'
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is failed
    And job "J" has error "command could not be started"

  Scenario: a command past its own timeout_s is stopped and failed
    Given a "command" job "J" with payload '{"argv": ["sleep", "30"], "timeout_s": 0.2}'
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is failed
    And job "J" has error "command timed out after 0.2 s"

  Scenario: a handler that raises fails the job with a redacted message
    Given a "boom" job "J" with payload '{"message": "cannot reach postgresql://app:s3cr3tpw@db/x"}'
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is failed
    And job "J" has error "RuntimeError: cannot reach postgresql://app:[REDACTED]@db/x"

  Scenario: a row of an unknown kind or a bad payload is failed, never half-run
    Given a job row "K" of unknown kind "from.the.future" written by another version
    And a job row "P" of kind "sleep" with payload '{"schema_version": 7, "seconds": 1}' written by another version
    And worker "A" with 2 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "K" is failed
    And job "K" has error "unknown job kind 'from.the.future'"
    And job "P" is failed
    And job "P" has error "payload schema_version 7 is not supported"

  Scenario: the heartbeat refreshes the worker and its running jobs
    Given a "gate" job "J" with payload '{"name": "J"}'
    And worker "A" with 1 threads
    And worker "A" runs one pass
    When 3 seconds pass
    And worker "A" sends a heartbeat
    Then job "J" has a heartbeat from now
    And worker "A" is registered as running with a heartbeat from now

  Scenario: a dead worker's job is recovered and finished by another worker
    Given a "gate" job "J" with payload '{"name": "J"}'
    And worker "A" with 1 threads and stale_after=30
    And worker "A" runs one pass
    And gate "J" has started
    When 31 seconds pass
    And worker "B" with 1 threads and stale_after=30
    Then job "J" is queued
    And job "J" belongs to no worker
    And worker "A" is registered as lost
    When gate "J" opens
    And worker "B" runs one pass
    And worker "B" runs one pass after the jobs finish
    Then job "J" is succeeded
    And job "J" has 2 attempts
    And job "J" belongs to worker "B"
    When worker "A" runs one pass after the jobs finish
    Then job "J" belongs to worker "B"

  Scenario: a worker restarted with its dead predecessor's host and pid neither inherits nor hides its jobs
    Given a "gate" job "J" with payload '{"name": "J"}'
    And worker "A" with 1 threads and stale_after=30
    And worker "A" runs one pass
    And gate "J" has started
    When worker "A2" starts on the host and with the pid worker "A" had, with stale_after=30
    Then worker "A2" has an id of its own, not worker "A"'s
    And job "J" belongs to worker "A"
    When 31 seconds pass
    And worker "A2" does its housekeeping
    Then job "J" is queued
    And worker "A" is registered as lost
    When gate "J" opens
    And worker "A2" runs one pass
    And worker "A2" runs one pass after the jobs finish
    Then job "J" is succeeded
    And job "J" belongs to worker "A2"

  Scenario: a job whose worker died on its last attempt is failed, saying why
    Given a "gate" job "J" with payload '{"name": "J"}' and max attempts 1
    And worker "A" with 1 threads
    And worker "A" runs one pass
    When 31 seconds pass
    And stale jobs are recovered
    Then the recovery failed "J"
    And job "J" is failed
    And job "J" has error "worker lost: no heartbeat for over 30 s and no attempts left"

  Scenario: a job with a fresh heartbeat is left alone
    Given a "gate" job "J" with payload '{"name": "J"}'
    And worker "A" with 1 threads
    And worker "A" runs one pass
    When 20 seconds pass
    And worker "A" sends a heartbeat
    And 20 seconds pass
    And stale jobs are recovered
    Then the recovery did nothing
    And job "J" is running

  Scenario: cancelling a queued job cancels it at once
    Given a "noop" job "J" with payload '{}'
    When I cancel job "J"
    Then job "J" is cancelled
    Given worker "A" with 1 threads
    When worker "A" runs one pass
    Then 0 jobs were claimed

  Scenario: cancelling a running job asks its worker, which stops it
    Given a "gate" job "J" with payload '{"name": "J"}'
    And worker "A" with 1 threads
    And worker "A" runs one pass
    And gate "J" has started
    When I cancel job "J"
    Then job "J" is running
    And job "J" has a cancel request
    When 1 seconds pass
    And worker "A" runs one pass
    Then the token of job "J" on worker "A" is cancelled for cancelled
    When worker "A" runs one pass after the jobs finish
    Then job "J" is cancelled
    And job "J" has error "cancelled on request"
    When worker "A" sends a heartbeat
    Then worker "A" counted 1 cancelled jobs

  Scenario: the heartbeat also delivers cancel requests
    Given a "sleep" job "J" with payload '{"seconds": 600}'
    And worker "A" with 1 threads
    And worker "A" runs one pass
    When I cancel job "J"
    And worker "A" sends a heartbeat
    Then the token of job "J" on worker "A" is cancelled for cancelled
    When worker "A" runs one pass after the jobs finish
    Then job "J" is cancelled

  Scenario: cancelling a finished job is a conflict
    Given a "noop" job "J" with payload '{}'
    And worker "A" with 1 threads
    And worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    When I cancel job "J"
    Then the cancel is refused as a conflict
    And job "J" is succeeded

  Scenario: a job past job_timeout is cancelled through its token and failed
    Given a "sleep" job "J" with payload '{"seconds": 600}'
    And worker "A" with 1 threads and job_timeout=5
    And worker "A" runs one pass
    When 6 seconds pass
    And worker "A" runs one pass
    Then the token of job "J" on worker "A" is cancelled for timeout
    When worker "A" runs one pass after the jobs finish
    Then job "J" is failed
    And job "J" has error "timed out after 5 s"

  Scenario: a graceful stop puts unfinished jobs back in the queue with their attempt refunded
    Given a "gate" job "J" with payload '{"name": "J"}'
    And a "noop" job "N" with payload '{}'
    And worker "A" with 1 threads and shutdown_grace=0
    And worker "A" runs one pass
    And gate "J" has started
    When worker "A" shuts down
    Then job "J" is queued
    And job "J" has 0 attempts
    And job "J" belongs to no worker
    And job "N" is queued
    And worker "A" is registered as stopped

  Scenario: a sleeping job is woken by the shutdown and goes back to the queue
    Given a "sleep" job "J" with payload '{"seconds": 600}'
    And worker "A" with 1 threads and shutdown_grace=0
    And worker "A" runs one pass
    When worker "A" shuts down
    Then job "J" is queued
    And worker "A" counted 1 requeued jobs

  Scenario: a job that ignores its token is still requeued when the worker stops
    Given a "stubborn" job "J" with payload '{"name": "J"}'
    And worker "A" with 1 threads and shutdown_grace=0
    And worker "A" runs one pass
    And gate "J" has started
    When worker "A" gives stopped jobs 0.1 seconds to return
    And worker "A" shuts down
    Then job "J" is queued
    And job "J" has 0 attempts
    And worker "A" has 1 thread that did not stop

  Scenario: jobs that finish within the grace period are recorded
    Given a "sleep" job "J" with payload '{"seconds": 0.2}'
    And worker "A" with 1 threads and shutdown_grace=20
    And worker "A" runs one pass
    When worker "A" shuts down
    Then job "J" is succeeded
    And worker "A" counted 1 succeeded jobs

  Scenario: burst mode drains the queue and stops
    Given 50 queued "noop" jobs
    And a "command" job "C" with payload '{"argv": ["true"]}'
    And worker "A" with 4 threads
    When worker "A" runs in burst mode
    Then job "C" is succeeded
    And worker "A" is registered as stopped
    And worker "A" counted 51 succeeded jobs

  Scenario: a running worker picks up new work without waiting for its poll interval
    Given worker "W" runs in the background with 2 threads
    When I enqueue a "sleep" job "J" with payload '{"seconds": 0}'
    And I wait for job "J" to finish
    Then the wait returned a succeeded job
    When worker "W" is asked to stop
    Then the background worker "W" stops within the deadline
    And worker "W" is registered as stopped

  Scenario: waiting for a job that nobody runs gives up at the timeout
    Given a "noop" job "J" with payload '{}'
    When I wait for job "J" for 0.05 seconds
    Then the wait returned a queued job

  Scenario: a worker whose heartbeat thread dies stops instead of limping on
    Given worker "W" runs in the background with 1 threads
    When worker "W" heartbeat thread breaks
    Then worker "W" stopped because of "disk on fire"

  Scenario: finished jobs past their TTL are deleted in batches, newer ones kept
    Given 2500 "noop" jobs finished 8 days ago
    And 10 "noop" jobs finished 1 days ago
    And a "noop" job "Q" with payload '{}'
    When finished jobs older than 7 days are pruned in batches of 1000
    Then 2500 jobs were pruned
    And the jobs finished 8 days ago are gone
    And the jobs finished 1 days ago are kept
    And job "Q" is queued

  Scenario: the worker prunes expired jobs during its housekeeping
    Given 5 "noop" jobs finished 8 days ago
    And worker "A" with 1 threads
    When worker "A" does its housekeeping
    Then the jobs finished 8 days ago are gone

  @sqlite
  Scenario: a locked database makes a worker wait and retry, never die or lose an outcome
    Given worker "W" runs in the background on a database that gives up on locks quickly
    When I enqueue a "sleep" job "J" with payload '{"seconds": 0.3}'
    And another process holds the database write lock
    Then the worker logs "queue pass failed, retrying"
    And the worker logs "heartbeat failed, will retry"
    When the lock is released
    And I wait for job "J" to finish
    Then the wait returned a succeeded job
    When worker "W" is asked to stop
    Then the background worker "W" stops within the deadline

  Scenario: a signal ends a worker's wait after a failed pass at once, however long the interval
    Given worker "W" runs in the background with 1 threads, polling every 3600 seconds, its first queue pass failing with a database error
    When I enqueue a "noop" job "J" with payload '{}'
    Then the worker logs "queue pass failed, retrying"
    When worker "W" receives SIGTERM
    Then the background worker "W" stops within the deadline
    And job "J" is queued

  Scenario: cancelling a running command stops its process group
    Given a "command" job "J" with payload '{"argv": ["sh", "-c", "sleep 30 & sleep 30; wait"]}'
    And worker "A" with 1 threads
    And worker "A" runs one pass
    When I cancel job "J"
    And 1 seconds pass
    And worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "J" is cancelled

  Scenario: the probe job records when and where it ran
    Given a "diagnostics.probe" job "P" with payload '{}'
    And worker "A" with 1 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "P" is succeeded
    And job "P" has result field "ran_at" equal to "2026-01-01T12:00:00+00:00"

  Scenario: a job that timed out stays a timeout even if a cancel request arrives too
    Given a "sleep" job "J" with payload '{"seconds": 600}'
    And worker "A" with 1 threads and job_timeout=5
    And worker "A" runs one pass
    When 6 seconds pass
    And worker "A" runs one pass
    And I cancel job "J"
    And worker "A" sends a heartbeat
    Then the token of job "J" on worker "A" is cancelled for timeout
    When worker "A" runs one pass after the jobs finish
    Then job "J" is failed

  Scenario: a worker declared lost that comes back is running again
    Given worker "A" with 1 threads
    When 31 seconds pass
    And worker "B" with 1 threads and stale_after=30
    Then worker "A" is registered as lost
    When worker "A" sends a heartbeat
    Then worker "A" is registered as running with a heartbeat from now

  Scenario: a worker whose start-up clean-up meets a database blip (a restart) starts anyway
    Given the next clean-up of expired locks fails with "database error: the connection is lost"
    When worker "W" with 1 threads
    Then worker "W" is registered as running
    And the worker logs "start-up housekeeping failed (it runs again later): database error: the connection is lost"
    Given a "noop" job "J" with payload '{}'
    When worker "W" runs one pass
    And worker "W" runs one pass after the jobs finish
    Then job "J" is succeeded

  Scenario: a pass that waited seconds before its claim stamps the claim with the time it claimed
    # Stamped with the pass's start, the claim would look stale to other workers at once, and
    # their recovery would run the job a second time while this worker runs it.
    Given a "noop" job "J" with payload '{}'
    And worker "W" with 1 threads
    When worker "W" runs one pass that began 30 seconds ago
    Then job "J" started now
    And job "J" has a heartbeat from now
