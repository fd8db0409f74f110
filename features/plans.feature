Feature: Plans: decompose a project, run its leaf subplans in parallel, resume what did not finish
  A plan applies an action to a project's files. Its leaves run at most max_parallel at once;
  fail-fast stops the rest at the first failure, continue-on-error runs everything and lists
  every failure. Every transition is an event, and a failed or interrupted plan resumes where it
  stopped.

  Background:
    Given a sample project "repo" of 6 directories with 10 files each
    And I ran `project add [tmp]/repo`

  Scenario: the cap is reached under load and never exceeded
    Given a plan of project "repo" with 20 leaves at a gate, 4 at a time
    When the dispatcher runs them
    Then 4 leaves are inside the action at once and 16 are pending
    When the gate opens
    Then the dispatch ends with 20 completed and a peak of exactly 4

  Scenario: fail-fast cancels the pending leaves and terminates the running commands
    Given an action file "hang.toml" whose command fails on the marker and otherwise sleeps 60 s
    And the file "repo/d0/f0.txt" contains the marker
    When I run `plan run --project repo --action [tmp]/hang.toml --max-parallel 3 --failure-mode fail_fast`
    Then the exit code is 1
    And the plan's leaves are 1 failed and 5 cancelled
    And no process of the plan is left running
    And stdout contains "failed"

  Scenario: continue-on-error runs every leaf and reports every failure
    Given the file "repo/d1/f3.txt" contains the marker
    And the file "repo/d4/f0.txt" contains the marker
    When I run `plan run --project repo --action builtin:fail-on-marker --failure-mode continue_on_error`
    Then the exit code is 1
    And the plan's leaves are 4 completed and 2 failed
    And stdout contains "failed d1"
    And stdout contains "failed d4"
    And the plan's phase is "failed"

  Scenario: resuming runs only the leaves that did not complete
    Given the file "repo/d2/f5.txt" contains the marker
    And I ran `plan run --project repo --action builtin:fail-on-marker --failure-mode continue_on_error`
    When the marker is removed from "repo/d2/f5.txt"
    And I run `plan execute [plan]`
    Then the exit code is 0
    And stdout contains "5 of 6 leaves completed already; 1 to run"
    And stdout contains "[1/1] completed"
    And the plan's phase is "executed"
    And the last run started 1 leaf
    And the plan's leaves are 6 completed and 0 failed

  Scenario: a plan left executing by a dead process resumes from its running leaves
    Given a plan of project "repo" left executing by a dead process with 2 leaves running
    When I run `plan execute [plan]`
    Then the exit code is 0
    And the last run started 6 leaves
    And the plan's phase is "executed"

  Scenario: every transition is a stored event, in order
    When I run `plan run --project repo --action builtin:count-lines --json`
    Then the exit code is 0
    And every line of stdout is a JSON event with plan_id, subplan_id, at, kind and state
    And the plan has 12 subplan events and its phases went created, executing, executed

  Scenario: the command gets the plan's environment and its files, in a sandbox by default
    Given a "sandbox" action file "env.toml" whose command prints its environment and counts its files
    When I run `plan run --project repo --action [tmp]/env.toml`
    Then the exit code is 0
    And every leaf's output names the plan, the project root and 10 files, at the project's own path

  Scenario: an action in a workspace of its files only runs in a directory of its own
    Given a "files" action file "env.toml" whose command prints its environment and counts its files
    When I run `plan run --project repo --action [tmp]/env.toml`
    Then the exit code is 0
    And every leaf's output names the plan, the project root and 10 files, in a sandbox of its own

  Scenario: an in-place command runs in the project itself
    Given a "in-place" action file "env.toml" whose command prints its environment and counts its files
    When I run `plan run --project repo --action [tmp]/env.toml`
    Then the exit code is 0
    And every leaf's output names the plan, the project root and 10 files, in the project itself

  Scenario: a program that does not exist fails its subplans, not the run
    Given an action file "missing.toml" with command ["no-such-program-xyz", "{files}"]
    When I run `plan run --project repo --action [tmp]/missing.toml --failure-mode continue_on_error`
    Then the exit code is 1
    And every leaf failed with "cannot run 'no-such-program-xyz'"

  Scenario: a subplan past its timeout is stopped and failed
    Given an action file "slow.toml" with command ["sleep", "60"]
    When I run `plan run --project repo --action [tmp]/slow.toml --timeout 1 --max-parallel 6`
    Then the exit code is 1
    And a leaf failed with "timed out after 1 s"

  Scenario: a failing subplan is retried
    Given an action file "flaky.toml" whose command fails the first time for each leaf
    When I run `plan run --project repo --action [tmp]/flaky.toml --retries 1`
    Then the exit code is 0
    And every leaf completed on attempt 2

  Scenario: cancelling a running plan stops it and leaves it resumable
    Given a plan of project "repo" with the builtin sleep of 60 seconds
    When the plan executes in the background
    And its leaves are running
    And I run `plan cancel [plan]`
    Then the exit code is 0
    And the background execution ends with the plan "cancelled"
    When I run `plan status [plan] --json`
    Then the JSON document has "phase" equal to "cancelled"

  Scenario: a plan runs in a worker with --async
    Given I ran `plan create --project repo --action builtin:count-lines` and call the job "plan"
    When I run `plan execute [plan] --async` and call the job "job"
    And a worker runs the queued jobs
    Then the plan's phase is "executed"
    When I run `jobs show [job] --json`
    Then the JSON document has "status" equal to "succeeded"
    And the JSON document has "result.counts.completed" equal to 6
    When I run `plan watch [plan]`
    Then the exit code is 0
    And stdout contains "executed"

  Scenario Outline: a small project still runs in parallel: at least min(max_parallel, files / min_files_per_subplan) leaves
    Given a directory "small" with 34 files
    And I ran `project add [tmp]/small`
    When I run `plan create --project small --action builtin:count-lines --max-parallel <parallel> --json`
    Then the JSON document has "counts.pending" equal to <leaves>

    Examples:
      | parallel | leaves |
      | 1        | 1      |
      | 4        | 4      |
      | 32       | 6      |

  Scenario: status, show and list describe a plan
    Given I ran `plan create --project repo --action builtin:count-lines --max-parallel 7` and call the job "plan"
    When I run `plan status [plan] --json`
    Then the JSON document has the fields id, project, action, phase, profile, counts, subplans, job_id, created_at, started_at, finished_at, error_message
    And the JSON document has "profile.max_parallel" equal to {"value": 7, "source": "plan (command line)"}
    And the JSON document has "profile.failure_mode.source" equal to "default"
    And the JSON document has "counts.pending" equal to 12
    When I run `plan show [plan]`
    Then stdout contains "max_parallel"
    And stdout contains "plan (command line)"
    And stdout contains "d3"
    When I run `plan list --json`
    Then the JSON document has the fields id, project, action, phase, created_at
    When I run `plan list`
    Then stdout contains "[plan]"
    When I run `plan status [plan]`
    Then stdout contains "pending 12"

  Scenario: the global layer of the profile comes from the settings
    Given the environment variable AGENTS_PLANS__MAX_PARALLEL is "9"
    When I run `plan create --project repo --action builtin:noop --json`
    Then the JSON document has "profile.max_parallel" equal to {"value": 9, "source": "global (environment AGENTS_PLANS__MAX_PARALLEL)"}

  Scenario: a project with plans is removed only with --force
    Given I ran `plan create --project repo --action builtin:noop`
    When I run `project remove repo`
    Then the exit code is 3
    And stderr is one line containing "pass --force"
    When I run `project remove repo --force`
    Then the exit code is 0
    And stdout contains "and its 1 plan(s)"
    When I run `plan list --json`
    Then the JSON document is a list of 0

  Scenario Outline: bad input gets one clear line, the right exit code, and creates nothing
    When I run `<command>`
    Then the exit code is <code>
    And stderr is one line containing "<message>"
    When I run `plan list --json`
    Then the JSON document is a list of 0

    Examples:
      | command                                                                  | code | message                         |
      | plan create --project nope --action builtin:noop                         | 4    | no project named 'nope'         |
      | plan create --project repo --action [tmp]/absent.toml                    | 4    | no action                       |
      | plan create --project repo --action builtin:noop --max-parallel 0        | 2    | max_parallel = 0                |
      | plan create --project repo --action builtin:noop --max-parallel 33       | 2    | allowed: 1..32                  |
      | plan create --project repo --action builtin:noop --failure-mode sometimes | 2    | sometimes                       |
      | plan execute 01ARZ3NDEKTSV4RRFFQ69G5FAV                                   | 4    | no plan with id                 |
      | plan status nope                                                         | 4    | no plan with id 'nope'          |
      | plan status x:100:y                                                      | 4    | no plan with id 'x:100:y'       |

  Scenario: executing an executed plan again says so with exit 0; only an executing plan is cancelled
    Given I ran `plan run --project repo --action builtin:noop`
    When I run `plan execute [plan]`
    Then the exit code is 0
    And stdout contains "is executed already: every subplan completed; review it with `agents plan diff"
    When I run `plan execute [plan] --async --json`
    Then the exit code is 0
    And the JSON document has "already" equal to true
    When I run `plan cancel [plan]`
    Then the exit code is 3
    And stderr is one line containing "is not executing"

  Scenario: on a terminal, the run shows a live display, a summary table and the tree
    Given the environment variable TTY_COMPATIBLE is "1"
    When I run `plan run --project repo --action builtin:count-lines --max-parallel 2`
    Then the exit code is 0
    And stdout contains "completed"
    When I run `plan show [plan]`
    Then stdout contains "max_parallel"
    And stdout contains "d5"

  Scenario: execute --async --wait waits for the worker and reports the job
    Given a worker for plans runs in the background
    And I ran `plan create --project repo --action builtin:count-lines`
    When I run `plan execute [plan] --async --wait`
    Then the exit code is 0
    And stdout contains "succeeded"
    When I run `plan execute [plan] --async`
    Then the exit code is 0
    And stdout contains "is executed already"

  Scenario: execute --async --wait of a failing plan exits 1 with the job's error
    Given a worker for plans runs in the background
    And the file "repo/d3/f1.txt" contains the marker
    And I ran `plan create --project repo --action builtin:fail-on-marker`
    When I run `plan execute [plan] --async --wait --json`
    Then the exit code is 1
    And the JSON document has "status" equal to "failed"
    And the plan's phase is "failed"

  Scenario: cancelling a plan whose job is still queued cancels the job
    Given I ran `plan create --project repo --action builtin:noop`
    And I ran `plan execute [plan] --async`
    When I run `plan cancel [plan]`
    Then the exit code is 0
    And stdout contains "was cancelled"
    When I run `plan watch [plan]`
    Then the exit code is 3
    And stderr is one line containing "is not executing (phase created)"

  Scenario: cancelling a plan whose run died marks it cancelled, and it can be resumed
    Given a plan of project "repo" left executing by a dead process with 2 leaves running
    When I run `plan cancel [plan]`
    Then the exit code is 0
    And stdout contains "its run had stopped"
    And the plan's phase is "cancelled"
    And the plan's leaves are 0 running and 6 cancelled
    When I run `plan execute [plan] --json`
    Then the exit code is 0
    And the plan's phase is "executed"

  Scenario: a plan executing in a live process is not executed twice
    Given a plan of project "repo" with the builtin sleep of 60 seconds
    When the plan executes in the background
    And its leaves are running
    And I run `plan execute [plan]`
    Then the exit code is 3
    And stderr is one line containing "is locked by"
    And stderr contains "until"
    When I run `plan execute [plan] --async`
    Then the exit code is 3
    When I run `plan cancel [plan]`
    Then the background execution ends with the plan "cancelled"

  Scenario: watch follows a finished plan's outcome, and refuses a plan nobody runs
    Given I ran `plan create --project repo --action builtin:noop`
    When I run `plan watch [plan]`
    Then the exit code is 3
    And stderr is one line containing "is not executing"
    Given I ran `plan execute [plan]`
    When I run `plan watch [plan] --json`
    Then the exit code is 0
    When I run `plan show [plan] --json`
    Then the JSON document has "action_definition.builtin" equal to "noop"

  @sqlite
  Scenario: progress that cannot be recorded stops the run
    Given a journal for a plan of project "repo"
    When the table "plan_events" disappears
    And the journal is given a transition
    Then closing the journal fails with "no such table"
    And the journal asked the run to stop

  Scenario: a run that lost its plan to another run writes no more progress
    Given a journal of run "old" for a plan of project "repo" that run "new" took over
    When the journal is given a transition
    Then closing the journal fails with "is now run by new: this run lost it and writes nothing more"
    And the journal asked the run to stop
    And no progress of the journal was written

  Scenario: a run that breaks down does not leave the plan executing
    Given I ran `plan create --project repo --action builtin:noop`
    And the plan's stored action is damaged
    When I run `plan execute [plan]`
    Then the exit code is 2
    And stderr is one line containing "stored action is not valid"
    And the plan's phase is "failed"

  Scenario: resuming a killed run first ends the commands it left running
    Given a plan of project "repo" left executing by a dead process with 2 leaves running
    And a command of that plan is still running
    When I run `plan watch [plan]`
    Then the exit code is 1
    And stdout contains "is gone"
    When I run `plan execute [plan]`
    Then the exit code is 0
    And the command of that plan is gone
    And 2 leaves went back to pending because the plan "resumed"

  Scenario: a built-in past its timeout fails
    Given an action file "nap.toml" for the builtin sleep of 60 seconds
    When I run `plan run --project repo --action [tmp]/nap.toml --timeout 1 --max-parallel 6 --failure-mode continue_on_error`
    Then the exit code is 1
    And every leaf failed with "timed out after 1 s"

  Scenario: a token budget splits by the files' sizes
    Given an action file "budget.toml" with a token budget of 20 tokens per subplan
    When I run `plan create --project repo --action [tmp]/budget.toml --json`
    Then the exit code is 0
    And every leaf of the plan holds at most 3 files

  Scenario: a leaf function that raises fails its leaf, not the run
    Given a plan of project "repo" with 6 leaves at a gate, 2 at a time
    And the leaf function raises for "leaf3"
    When the gate opens
    And the dispatcher runs them to the end
    Then the dispatch failed with "internal error"

  Scenario: when the dispatcher's own bookkeeping breaks, it stops the running leaves first
    Given a plan of project "repo" with 6 leaves at a gate, 3 at a time
    And the tracker breaks on the first completion
    When the dispatcher runs them
    Then 3 leaves are inside the action at once and 3 are pending
    When the gate opens
    Then the dispatcher raised and no leaf is left inside the action

  Scenario: a worker shutdown stops the plan and its job is queued again; the next worker resumes it
    Given an action file "await.toml" whose command waits for the file "go"
    And a worker for plans runs in the background
    And I ran `plan create --project repo --action [tmp]/await.toml --max-parallel 2`
    And I ran `plan execute [plan] --async` and call the job "job"
    When its leaves are running
    And the worker for plans shuts down
    Then the plan's phase is "cancelled"
    And the plan's error says "worker shutdown"
    When I run `jobs show [job] --json`
    Then the JSON document has "status" equal to "queued"
    When the file "go" appears
    And a worker runs the queued jobs
    Then the plan's phase is "executed"

  Scenario: a plan job whose cancel was requested before it ran does not run the plan
    Given I ran `plan create --project repo --action builtin:noop`
    And I ran `plan execute [plan] --async` and call the job "job"
    And the job "job" has a cancel request
    When a worker runs the queued jobs
    Then the plan's phase is "created"
    When I run `jobs show [job] --json`
    Then the JSON document has "status" equal to "cancelled"

  Scenario: deadlines that were cancelled never fire, and a due one does
    When 2000 deadlines are set an hour ahead and cancelled, and one is due at once
    Then only the due one fires

  Scenario: status lists the leaves in text, failures first, and --state filters them
    Given the file "repo/d3/f1.txt" contains the marker
    And I ran `plan run --project repo --action builtin:fail-on-marker --failure-mode continue_on_error --max-parallel 2`
    When I run `plan status [plan]`
    Then the first leaf listed by plan status is "failed" with a label containing "d3"
    And stdout contains "    error: "
    And stdout contains "completed"
    When I run `plan status [plan] --state completed`
    Then the first leaf listed by plan status is "completed" with a label containing "d"
    And stdout does not contain "    error: "
    When I run `plan status [plan] --state failed --json`
    Then the JSON document has "subplans.0.state" equal to "failed"
    And the JSON document has "counts.failed" equal to 1

  Scenario: a plan queued for a worker is unserved until a live worker heartbeats
    Given I ran `plan create --project repo --action builtin:noop`
    And I ran `plan execute [plan] --async`
    Then the plan's job is unserved
    When a worker registers and heartbeats
    Then the plan's job is served
