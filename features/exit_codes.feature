Feature: An action's exit-code policy: which exit codes of its command mean success
  pyupgrade exits 1 whenever it rewrites a file; `ruff check --fix` exits 1 when unfixable
  problems remain. `success_exit_codes` (default [0]) says which codes complete a leaf.

  Background:
    Given the project "repo" holds the files
      | path     | text                              |
      | old.py   | class A(object):\n    pass\n      |
      | fine.py  | x = 1\n                           |
    And I ran `project add [tmp]/repo`

  Scenario: a real pyupgrade that rewrites a file exits 1 and fails its leaf by default
    Given the action file "up.toml" running the installed tool "pyupgrade" with "--py310-plus {files}"
    When I run `plan run --project repo --action [tmp]/up.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "exit code 1"

  Scenario: with success_exit_codes = [0, 1] the same run completes and applies what pyupgrade gives directly
    Given the action file "up.toml" running the installed tool "pyupgrade" with "--py310-plus {files}" and success_exit_codes = [0, 1]
    And a copy "direct" of the project "repo" on which "pyupgrade --py310-plus old.py fine.py" was run
    When I run `plan run --project repo --action [tmp]/up.toml --apply`
    Then the exit code is 0
    And the project "repo" is byte for byte the copy "direct"
    And the plan's only leaf exited 1

  Scenario Outline: a bad exit-code list is one clear line
    Given the action file "bad.toml" holding
      """
      [action]
      command = ["true"]
      success_exit_codes = <codes>
      """
    When I run `action show [tmp]/bad.toml`
    Then the exit code is 2
    And stderr contains "<message>"

    Examples:
      | codes    | message                                                   |
      | []       | action.success_exit_codes: List should have at least 1 item |
      | [0, 256] | action.success_exit_codes: an exit code is 0..255 (got 256) |
      | ["one"]  | action.success_exit_codes.0: Input should be a valid integer |
