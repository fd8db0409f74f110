Feature: agents diagnostics
  Operators and CI pipelines ask whether the system is healthy. Each check is ok, warn or fail,
  anything not ok names the command that fixes it, and the exit code is what CI gates on.

  Scenario: a fresh system is healthy but has no worker; every format says so
    Given I ran `db upgrade`
    When I run `diagnostics --no-probe`
    Then the exit code is 0
    And stdout contains "warn  workers"
    And stdout contains "remedy: agents worker run"
    And stdout contains "status: warn"
    When I run `diagnostics --no-probe --format json`
    Then the JSON document has the fields status, generated_at, duration_ms, checks
    And the JSON document has "status" equal to "warn"
    And every check in the JSON document has name, status, message, details and remedy
    When I run `diagnostics --no-probe --format junit`
    Then stdout is JUnit XML with 11 testcases and 0 failures
    When I run `diagnostics --no-probe --strict`
    Then the exit code is 1

  Scenario: the JUnit report is written to a file while stdout gets the summary
    Given I ran `db upgrade`
    When I run `diagnostics --no-probe --format junit --output [tmp]/report.xml`
    Then the exit code is 0
    And stdout contains "status: warn"
    And the file "report.xml" is JUnit XML with 11 testcases and 0 failures
    And the JUnit case "workers" passed with "no live worker" in its output

  Scenario: a stuck job fails the report, names its remedy, and the remedy fixes it
    Given I ran `jobs enqueue sleep --payload '{"seconds": 60}'`
    And a worker process has claimed the queued jobs
    When the worker's heartbeat is older than 60 second
    And I run `diagnostics --no-probe --format json`
    Then the exit code is 1
    And the check "stuck_jobs" is "fail" with remedy "agents jobs recover"
    And the check "workers" is "warn" with remedy "agents jobs recover"
    When I run `jobs recover`
    And I run `diagnostics --no-probe --format json`
    Then the check "stuck_jobs" is "ok"
    And the check "workers" is "warn" with remedy "agents worker run"

  Scenario: an old schema fails with the upgrade as its remedy
    Given I ran `db upgrade`
    And the database schema is at revision "0001"
    When I run `diagnostics --no-probe --format json`
    Then the exit code is 1
    And the check "schema" is "fail" with remedy "agents db upgrade"

  Scenario: an empty database fails the schema check and the checks that need its tables
    Given an empty database file
    When I run `diagnostics --no-probe --format json`
    Then the exit code is 1
    And the check "schema" is "fail" with remedy "agents db upgrade"
    And the check "queue" is "fail" with remedy "agents db upgrade"
    And the check "plans" is "fail" with remedy "agents db upgrade"

  Scenario: stale locks and plans nobody runs are warnings with their remedies
    Given a sample project "repo" of 2 directories with 3 files each
    And I ran `project add [tmp]/repo`
    And a plan of project "repo" left executing by a dead process with 1 leaves running
    And an expired lock on project "repo"
    When I run `diagnostics --no-probe --format json`
    Then the exit code is 0
    And the check "locks" is "warn" with remedy "agents locks release project"
    And the check "plans" is "warn" with remedy "agents plan execute"

  Scenario: a job running past async.job_timeout is a warning
    Given I ran `jobs enqueue sleep --payload '{"seconds": 60}'`
    And a worker process has claimed the queued jobs
    And the environment variable AGENTS_ASYNC__JOB_TIMEOUT is "1"
    And the running job started an hour ago
    When I run `diagnostics --no-probe --format json`
    Then the check "job_timeouts" is "warn" with remedy "agents jobs cancel"

  Scenario: invalid settings fail the report
    Given the environment variable AGENTS_ASYNC__MAX_WORKERS is "0"
    When I run `diagnostics --format json`
    Then the exit code is 1
    And the check "settings" is "fail" with remedy "agents config show"

  Scenario: the probe passes through a live worker, and is removed afterwards
    Given I ran `db upgrade`
    And a worker for plans runs in the background
    When I run `diagnostics --format json`
    Then the exit code is 0
    And the check "probe" is "ok"
    And the probe reported its latency
    When I run `jobs list --json`
    Then the JSON document is a list of 0

  Scenario: with no worker, the probe fails and names the command that starts one
    Given I ran `db upgrade`
    When I run `diagnostics --probe --probe-timeout 0.2 --format json`
    Then the exit code is 1
    And the check "probe" is "fail" with remedy "agents worker run"
    When I run `jobs list --json`
    Then the JSON document is a list of 0

  Scenario: on a terminal the report is a table
    Given I ran `db upgrade`
    And the environment variable TTY_COMPATIBLE is "1"
    When I run `diagnostics --no-probe`
    Then stdout contains "diagnostics: warn"

  Scenario: --async lets a worker run the checks and keeps the report as the job's result
    Given I ran `db upgrade`
    And I ran `diagnostics --async` and call the job "report"
    When a worker runs the queued jobs
    And I run `jobs show [report] --json`
    Then the JSON document has "status" equal to "succeeded"
    And the JSON document has "result.status" equal to "ok"
    And the JSON document has "kind" equal to "diagnostics.report"

  Scenario: a database without a busy timeout is a warning
    Given I ran `db upgrade`
    And the environment variable AGENTS_SQLITE__BUSY_TIMEOUT_MS is "0"
    When I run `diagnostics --no-probe --format json`
    Then the check "database" is "warn" with remedy "sqlite.busy_timeout_ms"
    And the check "database" is "warn" with remedy "agents config set"

  Scenario: a job queued for long with nobody to run it is a warning; a live worker is ok
    Given I ran `jobs enqueue noop`
    And the queued job was created an hour ago
    When I run `diagnostics --no-probe --format json`
    Then the check "queue" is "warn" with remedy "agents worker run"
    Given a worker for plans runs in the background
    When I run `diagnostics --no-probe --format json`
    Then the check "workers" is "ok"

  Scenario: looking at a database that is not there does not create it
    When I run `diagnostics --format json`
    Then the exit code is 1
    And the check "database" is "fail" with remedy "agents db upgrade"
    And there is no database file
