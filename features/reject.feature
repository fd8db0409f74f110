Feature: Rejecting a subplan's changes before apply
  `agents plan reject PLAN SUBPLAN... --reason TEXT` drops what those subplans changed; the rest
  of the plan applies. `plan status` and `plan diff` show them rejected, with the reason.

  Background:
    Given the project "repo" holds the files
      | path  | text     |
      | a.txt | one\n    |
      | b.txt | two\n    |
    And I ran `project add [tmp]/repo`
    And the action file "upper.toml" holding
      """
      [action]
      command = ["sh", "-c", "for f; do tr a-z A-Z < $f > $f.new && mv $f.new $f; done", "sh", "{files}"]
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    And I ran `plan run --project repo --action [tmp]/upper.toml`
    And the leaf of "a.txt" is known as [leaf]

  Scenario: a rejected subplan's changes are dropped, shown as rejected, and the rest applies
    When I run `plan reject [plan] [leaf] --reason "wrong casing for a.txt"`
    Then the exit code is 0
    And stdout contains "rejected 1 subplan(s), 1 change(s) dropped"
    When I run `plan diff [plan] --stat`
    Then stdout contains "b.txt"
    And stdout does not contain "a.txt"
    And stderr contains "rejected: "
    And stderr contains "wrong casing for a.txt"
    When I run `plan status [plan] --json`
    Then the JSON document's subplan of "a.txt" has "rejection" equal to "wrong casing for a.txt"
    When I run `plan status [plan]`
    Then stdout contains "rejected"
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file "a.txt" holds "one\n"
    And the project's file "b.txt" holds "TWO\n"

  Scenario: an applied plan's subplan cannot be rejected; an unknown one is exit 4
    When I run `plan apply [plan]`
    And I run `plan reject [plan] [leaf]`
    Then the exit code is 2
    And stderr contains "is applied: only the changes of a plan that ran"
    When I run `plan reject [plan] 01NOSUCHSUBPLAN0000000000`
    Then the exit code is 4
    And stderr is one line containing "has no subplan 01NOSUCHSUBPLAN0000000000"
