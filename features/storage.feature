Feature: Storage stays bounded
  File contents are stored once per content hash, compressed, shared across leaves and plans.
  `agents plan delete` and `agents plan prune` remove plans and what only they referenced;
  `agents db vacuum` gives the space back; workers prune finished plans past plans.ttl.

  Background:
    Given a directory "repo" with 6 files
    And I ran `project add [tmp]/repo`
    And an action file "shout.toml" that upper-cases every file

  Scenario: two plans recording the same changes store each content once, and diff the same
    Given I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "A"
    And I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "B"
    Then the database holds 12 stored file contents
    When I run `plan diff [A]`
    Then stdout is the diff of every file upper-cased
    When I run `plan diff [B]`
    Then stdout is the diff of every file upper-cased

  Scenario: deleting a plan keeps what another plan still refers to; deleting the last frees it
    Given I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "A"
    And I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "B"
    When I run `plan delete [A]`
    Then the exit code is 0
    And stdout contains "deleted 1 plan (6 recorded changes, 0 stored file contents no longer used)"
    And the database holds 12 stored file contents
    When I run `plan diff [B]`
    Then stdout is the diff of every file upper-cased
    When I run `plan delete [B] --json`
    Then the exit code is 0
    And once the collection's grace has passed, the database holds 0 stored file contents
    When I run `plan list --json`
    Then the JSON document is a list of 0

  Scenario: a plan whose job is queued cannot be deleted, and nothing is
    Given I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "A"
    And I ran `plan create --project repo --action [tmp]/shout.toml` and call the plan "B"
    And I ran `plan execute [B] --async`
    When I run `plan delete [A] [B]`
    Then the exit code is 3
    And stderr is one line containing "plan [B] has a job that is queued: cancel it first"
    When I run `plan list --json`
    Then the JSON document is a list of 2
    When I run `plan delete nope`
    Then the exit code is 4
    Given plan "A" is in phase "executing"
    When I run `plan delete [A]`
    Then the exit code is 3
    And stderr is one line containing "plan [A] is executing: cancel it first"

  Scenario: prune removes the plans that finished long enough ago, in the phases asked
    Given I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "OLD"
    And I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "NEW"
    And I ran `plan apply [NEW]`
    And plan "OLD" finished 3 hours ago
    And plan "NEW" finished 3 hours ago
    When I run `plan prune --older-than 2h --phase applied --dry-run`
    Then stdout contains "would delete plan [NEW]"
    And stdout does not contain "[OLD]"
    When I run `plan prune --older-than 4h`
    Then stdout contains "deleted 0 plans"
    When I run `plan prune --older-than 2h --phase applied --json`
    Then the JSON document has "plans" equal to ["[NEW]"]
    When I run `plan list --json`
    Then the JSON document is a list of 1
    When I run `plan prune --older-than soon`
    Then the exit code is 2

  Scenario: vacuum gives the space of deleted plans back to the disk
    Given a directory "big" with 20 files of 200000 bytes
    And I ran `project add [tmp]/big`
    And I ran `plan run --project big --action [tmp]/shout.toml` and call the plan "A"
    And I ran `plan delete [A]`
    When I run `db vacuum --json`
    Then the exit code is 0
    And the database file shrank by more than 1000000 bytes

  Scenario: a worker prunes the finished plans past plans.ttl
    Given the environment variable AGENTS_PLANS__TTL is "3600"
    And I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "OLD"
    And I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "NEW"
    And plan "OLD" finished 2 hours ago
    When I run `worker run --burst`
    Then the exit code is 0
    When I run `plan list --json`
    Then the JSON document is a list of 1
    And the JSON document has "0.id" equal to "[NEW]"

  Scenario: contents recorded before revision 0013 move into the content store, diffs unchanged
    Given I ran `plan run --project repo --action [tmp]/shout.toml` and call the plan "A"
    And I ran `plan diff [A]`
    When the schema goes down to revision 0012 and up to head again
    Then the database holds 12 stored file contents
    When I run `plan diff [A]`
    Then stdout is the diff of every file upper-cased
