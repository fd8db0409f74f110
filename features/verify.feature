Feature: Verification in the workspace: a check after the action decides whether its change is kept
  `[action.verify] command` runs where the action ran, on what it changed. A failure fails the
  leaf ("verification failed") and records nothing; with `baseline = true` a failure the
  untouched project had too is reported, not blamed on the change.

  Background:
    Given the project "repo" holds the files
      | path       | text                      |
      | good.py    | x = 1\n                   |
      | other.py   | y = 2\n                   |
      | tests.sh   | exit 0\n                  |
    And I ran `project add [tmp]/repo`

  Scenario: a codemod that breaks the syntax of a file is caught by a compileall verify
    Given the action file "breaks.toml" holding
      """
      [action]
      command = ["sh", "-c", "printf 'def broken(:\\n' >> good.py; printf 'z = 3\\n' >> other.py"]
      [action.verify]
      command = ["python3", "-m", "compileall", "-q", "{files}"]
      """
    When I run `plan run --project repo --action [tmp]/breaks.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "verification failed: exit code 1"
    And the plan's only leaf has verification "failed"
    And the plan has no recorded changes
    When I run `plan status [plan] --json`
    Then the JSON document's subplan has "verification" equal to "failed"

  Scenario: a change that keeps the project sound passes its verify and is recorded
    Given the action file "fine.toml" holding
      """
      [action]
      command = ["sh", "-c", "printf 'z = 3\\n' >> other.py"]
      [action.verify]
      command = ["python3", "-m", "compileall", "-q", "{files}"]
      """
    When I run `plan run --project repo --action [tmp]/fine.toml`
    Then the exit code is 0
    And the plan's only leaf has verification "passed"
    And the plan's recorded changes are
      | path     | change   | mode |
      | other.py | modified | 644  |
    When I run `plan status [plan]`
    Then stdout contains "verification: passed 1"

  Scenario: with a baseline, a test that already failed on the base is reported, not blamed
    Given the file "tests.sh" of the project "repo" holds "exit 1\n"
    And the action file "base.toml" holding
      """
      [action]
      command = ["sh", "-c", "printf 'z = 3\\n' >> other.py"]
      [action.verify]
      command = ["sh", "tests.sh"]
      baseline = true
      """
    When I run `plan run --project repo --action [tmp]/base.toml`
    Then the exit code is 0
    And the plan's only leaf has verification "failed on the base too"
    And the plan's recorded changes are
      | path     | change   | mode |
      | other.py | modified | 644  |

  Scenario: with a baseline, a test the change breaks fails the leaf
    Given the action file "breaks-tests.toml" holding
      """
      [action]
      command = ["sh", "-c", "printf 'exit 1\\n' > tests.sh"]
      [action.verify]
      command = ["sh", "tests.sh"]
      baseline = true
      """
    When I run `plan run --project repo --action [tmp]/breaks-tests.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "verification failed"
    And the plan's only leaf has verification "failed"
    And the plan has no recorded changes

  Scenario: a baseline per leaf runs on each leaf's untouched files
    Given the action file "per-leaf.toml" holding
      """
      [action]
      command = ["sh", "-c", "printf 'z = 3\\n' >> other.py"]
      [action.verify]
      command = ["python3", "-m", "compileall", "-q", "{files}"]
      baseline = true
      """
    When I run `plan run --project repo --action [tmp]/per-leaf.toml`
    Then the exit code is 0
    And the plan's only leaf has verification "passed"

  Scenario: a verification that runs out of the leaf's time is a timeout, not a failed check
    Given the action file "slow.toml" holding
      """
      [action]
      command = ["sh", "-c", "printf 'z = 3\\n' >> other.py"]
      timeout_s = 1
      [action.verify]
      command = ["sleep", "30"]
      """
    When I run `plan run --project repo --action [tmp]/slow.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "timed out after 1 s"
    And the plan has no recorded changes

  Scenario Outline: a bad verify table is one clear line
    Given the action file "bad.toml" holding
      """
      [action]
      command = ["true"]
      verify = <table>
      """
    When I run `action show [tmp]/bad.toml`
    Then the exit code is 2
    And stderr contains "<message>"

    Examples:
      | table                                    | message                                                          |
      | { command = "ruff check" }               | action.verify.command: must be an argv list                      |
      | { command = ["ruff", "x{files}"] }       | action.verify.command: {files} must be a whole argument          |
      | { command = ["x"], retries = 2 }         | action.verify.retries: unknown field (known: command, baseline)  |
      | { command = [] }                         | action.verify.command: must name a program to run                |
      | { baseline = true }                      | action.verify.command: Field required                            |
