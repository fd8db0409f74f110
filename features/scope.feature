Feature: An action's scope, changes outside a leaf's files, and conflicts named once per path
  A sandboxed leaf may change files other than its own. Every recorded change says whether it is
  one of the leaf's own files. With scope = "files" (the default) a change anywhere else fails
  the leaf with one line naming the paths; with scope = "project" it is kept, and `plan diff`
  shows it as outside its leaf. Several subplans changing one path is one conflict, named once.

  Background:
    Given the project "repo" holds the files
      | path           | text                      |
      | a.txt          | one\ntwo\n                |
      | b.txt          | bee\n                     |
      | c.txt          | sea\n                     |
      | d.txt          | dee\n                     |
      | e.txt          | ee\n                      |
      | docs/guide.md  | read me\n                 |
      | shared/util.py | def f():\n    return 1\n |
    And I ran `project add [tmp]/repo`

  Scenario: with scope "files" a change outside the leaf's files fails, naming the paths in one line
    When the scope "files" is checked for a leaf of "a.txt, b.txt" that changed "a.txt, shared/util.py, c.cfg"
    Then the scope check fails with the one line
      """
      changed files outside the leaf's own (scope = "files"): c.cfg, shared/util.py (set scope = "project" in the action to keep such changes)
      """
    And the scope error lists the paths "c.cfg, shared/util.py" and exits with 1

  Scenario: the scope error names ten paths and counts the rest
    When the scope "files" is checked for a leaf of "a.txt" that changed "a.txt" and 12 files under "gen/"
    Then the scope check fails with the one line
      """
      changed files outside the leaf's own (scope = "files"): gen/f01.txt, gen/f02.txt, gen/f03.txt, gen/f04.txt, gen/f05.txt, gen/f06.txt, gen/f07.txt, gen/f08.txt, gen/f09.txt, gen/f10.txt and 2 more (set scope = "project" in the action to keep such changes)
      """
    And the scope error lists 12 paths

  Scenario: a leaf that changed only its own files passes either scope, every change in scope
    When the scope "files" is checked for a leaf of "a.txt, b.txt" that changed "b.txt, a.txt"
    Then the checked changes are
      | path  | in_scope |
      | b.txt | true     |
      | a.txt | true     |

  Scenario: with scope "project" changes outside the leaf are kept, marked out of scope
    When the scope "project" is checked for a leaf of "a.txt, b.txt" that changed "a.txt, shared/util.py, c.cfg"
    Then the checked changes are
      | path           | in_scope |
      | a.txt          | true     |
      | shared/util.py | false    |
      | c.cfg          | false    |

  Scenario: a scope that is neither "files" nor "project" is refused
    When the scope "everything" is checked for a leaf of "a.txt" that changed "a.txt"
    Then the scope check is refused as a programming error naming "everything"

  Scenario: changes kept by scope "project" are stored out of scope, shown by plan diff, and applied
    Given an action file "tidy.toml" for "*.txt" with scope "project" that changes nothing itself
    And I ran `plan run --project repo --action [tmp]/tidy.toml`
    And the project "repo" is a git repository with everything committed
    When the plan's only leaf records changes to "a.txt, shared/util.py" through its action's scope
    Then the plan's stored changes are
      | path           | in_scope |
      | a.txt          | true     |
      | shared/util.py | false    |
    When I run `plan diff [plan] --json`
    Then the exit code is 0
    And the JSON document has "0.path" equal to "a.txt"
    And the JSON document has "0.in_scope" equal to true
    And the JSON document has "1.path" equal to "shared/util.py"
    And the JSON document has "1.in_scope" equal to false
    When I run `plan diff [plan] --stat`
    Then stdout has the line " a.txt          | +1 -0"
    And stdout has the line " shared/util.py | +1 -0 (outside its leaf's files)"
    When I run `plan diff [plan]`
    Then stdout does not contain "outside"
    And `git apply --check` accepts the diff in the project "repo"
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project "repo" holds what the plan recorded

  Scenario: the in_scope column: a downgrade drops it and keeps the changes, an upgrade marks them in scope
    Given an action file "tidy.toml" for "*.txt" with scope "project" that changes nothing itself
    And I ran `plan run --project repo --action [tmp]/tidy.toml`
    And the plan's only leaf records changes to "a.txt, shared/util.py" through its action's scope
    When the schema is downgraded to revision "0006"
    Then the table "changes" has no column "in_scope" and 2 rows
    When the schema is upgraded to head
    Then the plan's stored changes are
      | path           | in_scope |
      | a.txt          | true     |
      | shared/util.py | true     |

  Scenario: several subplans changing one path are one conflict line in plan diff and plan apply
    Given a sandboxed action "both.toml" running one leaf per file, each writing "shared.txt"
    When I run `plan run --project repo --action [tmp]/both.toml`
    Then the exit code is 0
    And the plan has 7 leaves that each changed "shared.txt"
    When I run `plan diff [plan]`
    Then stderr has exactly 1 line containing "conflict: shared.txt:"
    And that line names the first 5 of the 7 leaves with their labels, then "and 2 more"
    When I run `plan diff [plan] --stat`
    Then stderr has exactly 1 line containing "conflict: shared.txt:"
    And stdout has 7 lines starting with " shared.txt"
    When I run `plan apply [plan]`
    Then the exit code is 3
    And stderr has exactly 1 line containing "conflict: shared.txt:"
    And that line names the first 5 of the 7 leaves with their labels, then "and 2 more"
    And stderr contains "1 conflicting path (shared.txt); nothing was written"
    And the project "repo" is byte for byte as it was
    And the plan's phase is "executed"
    When I run `plan apply [plan] --json`
    Then the exit code is 3
    And the JSON document lists the conflict of "shared.txt" once, with the ids of all 7 leaves
    And the project "repo" is byte for byte as it was

  Scenario: five subplans on one path and a file edited in the project: one line per conflicting path
    Given a sandboxed action "five.toml" on "*.txt", one leaf per file, each writing "shared.txt" and appending to its own file
    When I run `plan run --project repo --action [tmp]/five.toml`
    Then the exit code is 0
    When the project's file "a.txt" is edited
    And I run `plan apply [plan]`
    Then the exit code is 3
    And stderr has exactly 1 line containing "conflict: shared.txt: changed by 5 subplans"
    And stderr has exactly 1 line containing "conflict: a.txt: changed in the project since the plan ran"
    And stderr contains "2 conflicting paths (a.txt, shared.txt); nothing was written"
    And the project "repo" is byte for byte as it was after the edits
    When I run `plan diff [plan]`
    Then stderr has exactly 1 line containing "conflict: shared.txt: changed by 5 subplans"
    And stderr has exactly 1 line containing "conflict: a.txt: changed in the project since the plan ran"

  Scenario: a leaf of a scope = "files" action that changes another file fails naming it, and records nothing
    Given the action file "strict.toml" holding
      """
      [action]
      command = ["sh", "-c", "printf 'ONE\n' > a.txt; printf 'BEE\n' > b.txt; printf 'n\n' > made.txt"]
      include = ["a.txt"]
      """
    When I run `plan run --project repo --action [tmp]/strict.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "changed files outside the leaf's own (scope = "files"): b.txt, made.txt (set scope = "project""
    And the plan has no recorded changes

  Scenario: a scope = "project" action's change outside its leaf is kept, shown as such, and applied
    Given the action file "wide.toml" holding
      """
      [action]
      command = ["sh", "-c", "printf 'ONE\n' > a.txt; printf 'BEE\n' > b.txt"]
      include = ["a.txt"]
      scope = "project"
      """
    When I run `plan run --project repo --action [tmp]/wide.toml --apply`
    Then the exit code is 0
    And the project's file "b.txt" holds "BEE\n"
    When I run `plan diff [plan] --stat`
    Then stdout contains "b.txt | +1 -1 (outside its leaf's files)"

  Scenario: plan diff --subplan shows one leaf's changes; an unknown subplan is exit 4
    Given a sandboxed action "five.toml" on "*.txt", one leaf per file, each writing "shared.txt" and appending to its own file
    When I run `plan run --project repo --action [tmp]/five.toml`
    And the leaf of "a.txt" is known as [leaf]
    And I run `plan diff [plan] --json --subplan [leaf]`
    Then the exit code is 0
    And the JSON list holds exactly the paths "a.txt, shared.txt"
    When I run `plan diff [plan] --subplan 01NOSUCHSUBPLAN0000000000`
    Then the exit code is 4
    And stderr contains "has no subplan 01NOSUCHSUBPLAN0000000000"
