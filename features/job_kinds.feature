Feature: Job kinds from installed packages, payload upgrades, and the Python API
  A package registers kinds under the entry point group `cleveragents.job_kinds` (the test
  package features/fixtures/kindpkg, installed into the test environment, defines `test.greet`
  with the public API at payload version 2, upgrading version 1). `jobs enqueue --help` lists
  the installed kinds; a package that fails to load is reported by diagnostics and the worker
  runs every other kind. `from cleveragents import enqueue, enqueue_many, wait` works from Python.

  Scenario: an installed kind is listed, enqueued and run by a real worker
    When I run `jobs enqueue --help`
    Then stdout contains "Installed kinds:"
    And stdout contains "test.greet"
    Given I ran `jobs enqueue test.greet --payload '{"name": "Ada"}'` and call the job "G"
    When I run `worker run --burst`
    And I run `jobs show [G] --json`
    Then the JSON document has "status" equal to "succeeded"
    And the JSON document has "result.said" equal to "hello Ada"
    When I run `diagnostics --format json`
    Then the check "job_kinds" is "ok"

  Scenario: a payload of an older version is upgraded: at enqueue, and when a stored job is read
    When I run `jobs enqueue test.greet --payload '{"schema_version": 1, "who": "Ada"}' --json`
    Then the JSON document has "payload" equal to {"schema_version": 2, "name": "Ada"}
    Given a job queue in a temporary database
    And a job row "OLD" of kind "test.greet" with payload '{"schema_version": 1, "who": "Bob"}' written by another version
    And a job row "NEW" of kind "test.greet" with payload '{"schema_version": 3, "name": "Eve"}' written by another version
    And worker "A" with 2 threads
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    Then job "OLD" is succeeded
    And job "OLD" has result field "said" containing "hello Bob"
    And job "NEW" is failed
    And job "NEW" has error "payload schema_version 3 is not supported by job kind 'test.greet' (supported: 1 to 2)"

  Scenario: a package whose kinds fail to load is reported, and every other kind still runs
    Given the environment variable AGENTS_TEST_BROKEN_KINDS is "1"
    And I ran `jobs enqueue test.greet --payload '{"name": "Ada"}'` and call the job "G"
    And I ran `jobs enqueue noop` and call the job "N"
    When I run `diagnostics --format json`
    Then the check "job_kinds" is "warn" with remedy "fix or uninstall the package"
    When I run `jobs enqueue --help`
    Then stdout contains "Not loaded:"
    When I run `worker run --burst`
    And I run `jobs show [G] --json`
    Then the JSON document has "status" equal to "succeeded"
    When I run `jobs show [N] --json`
    Then the JSON document has "status" equal to "succeeded"

  Scenario: enqueue, enqueue many and wait from Python
    When I enqueue 1 "test.greet" jobs from Python with payload '{"name": "Ada"}'
    And I run `worker run --burst`
    Then waiting from Python gives each of them succeeded with result "said" equal to "hello Ada"
    When I enqueue 3 "test.greet" jobs from Python with payload '{"name": "Bo"}'
    And I run `worker run --burst`
    Then waiting from Python gives each of them succeeded with result "said" equal to "hello Bo"
    When I enqueue from Python with an unknown option
    Then the Python error says "priority must be 0 or more"
