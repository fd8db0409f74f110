Feature: Re-running a plan with a fixed action
  A plan keeps the action it was created with; after a run fails because of the action,
  `agents plan execute PLAN --action FILE` binds the plan to the fixed action for every subplan
  not completed, and runs only those. The decomposition is the plan's: an action that would
  select or split the files otherwise is refused.

  Background:
    Given the project "repo" holds the files
      | path  | text       |
      | a.txt | BROKEN\n   |
      | b.txt | bee\n      |
      | c.txt | sea\n      |
    And I ran `project add [tmp]/repo`
    And the action file "picky.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo $AGENTS_SUBPLAN_ID >> ../ran.log; if grep -q BROKEN \"$@\"; then exit 3; fi; for f; do echo ok >> \"$f\"; done", "sh", "{files}"]
      scope = "project"
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      [action.profile]
      failure_mode = "continue_on_error"
      """

  Scenario: the fixed action runs the failed subplan only, and the plan then applies
    Given the action file "fixed.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo $AGENTS_SUBPLAN_ID >> ../ran.log; for f; do echo ok >> \"$f\"; done", "sh", "{files}"]
      scope = "project"
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    When I run `plan run --project repo --action [tmp]/picky.toml`
    Then the exit code is 1
    When I run `plan execute [plan] --action [tmp]/fixed.toml`
    Then the exit code is 0
    And stdout contains "action fixed"
    And the file "ran.log" has 4 lines
    When I run `plan show [plan] --json`
    Then the JSON document's action has "name" equal to "fixed"
    And the JSON document says the action "fixed" was bound once, from "fixed.toml"
    When I run `plan show [plan]`
    Then stdout has a "bound" line with "fixed ("
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file "a.txt" holds "BROKEN\nok\n"
    And the project's file "b.txt" holds "bee\nok\n"

  Scenario: an action that selects the files otherwise is refused, and nothing changes
    Given the action file "wider.toml" holding
      """
      [action]
      command = ["true"]
      include = ["*.txt", "*.md"]
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    When I run `plan run --project repo --action [tmp]/picky.toml`
    And I run `plan execute [plan] --action [tmp]/wider.toml`
    Then the exit code is 2
    And stderr contains "differs from plan"
    And stderr contains "in include: it would select or split the files otherwise; create a new plan with it"
    And the file "ran.log" has 3 lines

  Scenario: an action file that does not parse is refused with its file and line
    Given the action file "broken.toml" holding
      """
      [action]
      command = ["true"
      """
    When I run `plan run --project repo --action [tmp]/picky.toml`
    And I run `plan execute [plan] --action [tmp]/broken.toml`
    Then the exit code is 2
    And stderr contains "broken.toml: line"
    And the file "ran.log" has 3 lines

  Scenario: a failed plan's completed subplans are applied, then the plan is resumed and the rest applied
    Given the action file "fixed.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo $AGENTS_SUBPLAN_ID >> ../ran.log; for f; do echo ok >> \"$f\"; done", "sh", "{files}"]
      scope = "project"
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    When I run `plan run --project repo --action [tmp]/picky.toml`
    Then the exit code is 1
    When I run `plan apply [plan] --completed`
    Then the exit code is 0
    And stdout contains "(failed): its completed subplans' changes applied: 2 files written"
    And the project's file "a.txt" holds "BROKEN\n"
    And the project's file "b.txt" holds "bee\nok\n"
    When I run `plan execute [plan] --action [tmp]/fixed.toml`
    Then the exit code is 0
    When I run `plan apply [plan]`
    Then the exit code is 0
    And stdout contains "2 already applied"
    And the project's file "a.txt" holds "BROKEN\nok\n"
    And the project's file "b.txt" holds "bee\nok\n"
    And the project's file "c.txt" holds "sea\nok\n"

  Scenario: --completed on a plan with no completed subplan, or on one that is executing, is refused
    Given the action file "none.toml" holding
      """
      [action]
      command = ["false"]
      """
    When I run `plan run --project repo --action [tmp]/none.toml`
    And I run `plan apply [plan] --completed`
    Then the exit code is 2
    And stderr contains "has no completed subplan to apply"
    When I run `plan apply [plan] --completed --async`
    Then the exit code is 2
    And stderr contains "--completed applies here"

  Scenario: plan status --json says which subplans' changes are applied
    When I run `plan run --project repo --action [tmp]/picky.toml`
    And I run `plan apply [plan] --completed`
    And I run `plan status [plan] --json`
    Then the JSON document's subplan of "b.txt" has "applied" equal to 1
    And the JSON document's subplan of "a.txt" has "applied" equal to 0

  Scenario: --rerun all runs every subplan again with a new action, dropping what the old one recorded
    Given the action file "first.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo $AGENTS_SUBPLAN_ID >> ../ran.log; for f; do echo one >> \"$f\"; done", "sh", "{files}"]
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    And the action file "second.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo $AGENTS_SUBPLAN_ID >> ../ran.log; for f; do echo two >> \"$f\"; done", "sh", "{files}"]
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    When I run `plan run --project repo --action [tmp]/first.toml`
    Then the exit code is 0
    When I run `plan execute [plan] --rerun all --action [tmp]/second.toml`
    Then the exit code is 0
    And stdout contains "3 completed subplan(s) will run again"
    And the file "ran.log" has 6 lines
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file "b.txt" holds "bee\ntwo\n"
    And the project's file "a.txt" holds "BROKEN\ntwo\n"

  Scenario: --rerun all keeps the subplans already applied; --rerun failed is a resume
    Given the action file "fixed.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo $AGENTS_SUBPLAN_ID >> ../ran.log; for f; do echo ok >> \"$f\"; done", "sh", "{files}"]
      scope = "project"
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    When I run `plan run --project repo --action [tmp]/picky.toml`
    And I run `plan execute [plan] --rerun failed`
    Then the exit code is 1
    And the file "ran.log" has 4 lines
    When I run `plan apply [plan] --completed`
    And I run `plan execute [plan] --rerun all --action [tmp]/fixed.toml`
    Then the exit code is 0
    And stdout does not contain "will run again"
    And the file "ran.log" has 5 lines
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file "a.txt" holds "BROKEN\nok\n"
    And the project's file "b.txt" holds "bee\nok\n"

  Scenario: a bad action with --rerun all changes nothing; an applied plan does not run again
    Given the action file "broken.toml" holding
      """
      [action]
      command = ["true"]
      include = ["*.md"]
      """
    And the action file "fine.toml" holding
      """
      [action]
      command = ["true"]
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    When I run `plan run --project repo --action [tmp]/fine.toml`
    And I run `plan execute [plan] --rerun all --action [tmp]/broken.toml`
    Then the exit code is 2
    When I run `plan status [plan] --json`
    Then the JSON document has "phase" equal to "executed"
    When I run `plan apply [plan]`
    And I run `plan execute [plan] --rerun all`
    Then the exit code is 3
    And stderr is one line containing "is applied; it cannot run again"
    When I run `plan execute [plan] --rerun sometimes`
    Then the exit code is 2
    And stderr contains "'sometimes' is not one of 'failed', 'all'"
