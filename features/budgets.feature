Feature: Budgets: a plan stops starting leaves when what they cost reaches its budget
  Profile fields max_cost_usd (the plan) and max_leaf_cost_usd (one leaf), from the command line,
  the action or the configuration. Costs are what the leaves' results report (results.feature).

  Background:
    Given the project "repo" holds the files
      | path   | text    |
      | a/1.py | x = 1\n |
      | b/2.py | x = 2\n |
      | c/3.py | x = 3\n |
      | d/4.py | x = 4\n |
      | d/5.py | x = 5\n |
    And I ran `project add [tmp]/repo`
    And the action file "agent.toml" holding
      """
      [action]
      command = ["python", "[fixtures]/fake_agent.py", "{files}"]
      prompt = "APPEND: # done"
      [action.decompose]
      max_files_per_subplan = 2
      min_files_per_subplan = 1
      """

  Scenario: no leaf starts once the budget is reached; a higher budget resumes the rest
    When I run `plan run --project repo --action [tmp]/agent.toml --max-parallel 1 --max-cost-usd 0.03`
    Then the exit code is 1
    And stdout contains "budget of $0.03 reached after 2 leaves (spent $0.0300); 2 not run"
    When I run `plan status [plan] --json`
    Then the JSON document's totals are {"cost_usd": 0.03, "input_tokens": 28, "output_tokens": 30}
    And the JSON document has "counts" equal to {"pending": 0, "running": 0, "completed": 2, "failed": 0, "cancelled": 2}
    When I run `plan execute [plan] --max-cost-usd 1`
    Then the exit code is 0
    And stdout contains "budget $1"
    When I run `plan status [plan] --json`
    Then the JSON document's totals are {"cost_usd": 0.05, "input_tokens": 56, "output_tokens": 50}
    When I run `plan show [plan]`
    Then stdout has a "max_cost_usd" line with "1.0  (from plan execute (command line))"

  Scenario: a leaf costing more than its budget fails, its changes kept for review
    When I run `plan run --project repo --action [tmp]/agent.toml --max-leaf-cost-usd 0.015 --failure-mode continue_on_error`
    Then the exit code is 1
    When I run `plan status [plan]`
    Then stdout contains "error: cost $0.0200, over the leaf budget of $0.015"
    When I run `plan diff [plan] --subplan [leaf d] --stat`
    Then stdout contains "d/4.py"

  Scenario Outline: a budget that is not allowed is one line, exit 2, and nothing is created
    When I run `plan create --project repo --action [tmp]/agent.toml <flag>`
    Then the exit code is 2
    And stderr is one line containing "<message>"
    When I run `plan list --json`
    Then the JSON document is a list of 0

    Examples:
      | flag                        | message                                              |
      | --max-cost-usd -1           | Invalid value for '--max-cost-usd'                   |
      | --max-leaf-cost-usd 2000000 | max_leaf_cost_usd = 2000000.0 is not allowed (allowed: 0..1000000 (USD), or unset) |

  Scenario: ten leaves of $0.01 reach a budget of $0.1 exactly: the eleventh does not start
    Given the project "cents" holds 20 files in 20 directories
    And I ran `project add [tmp]/cents`
    And the action file "cent.toml" holding
      """
      [action]
      command = ["python", "[fixtures]/fake_agent.py", "{files}"]
      prompt = "APPEND: # done"
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    When I run `plan run --project cents --action [tmp]/cent.toml --max-parallel 1 --max-cost-usd 0.1`
    Then the exit code is 1
    And stdout contains "budget of $0.1 reached after 10 leaves (spent $0.1000); 10 not run"
    When I run `plan status [plan] --json`
    Then the JSON document's totals are {"cost_usd": 0.1, "input_tokens": 140, "output_tokens": 100}
