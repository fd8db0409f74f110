Feature: Results: what each attempt reports about itself (cost, tokens, a summary), summed per plan
  A command writes a JSON object to `$AGENTS_RESULT_FILE`, or prints it as its last JSON line
  with `result_from = "stdout-json"`. Known fields (cost_usd, input_tokens, output_tokens) are
  summed per leaf over its attempts and per plan; `plan status` shows them, the events carry them.

  Background:
    Given the project "repo" holds the files
      | path     | text    |
      | a/1.py   | x = 1\n |
      | a/2.py   | x = 2\n |
      | b/3.py   | x = 3\n |
      | b/4.py   | x = 4\n |
    And I ran `project add [tmp]/repo`

  Scenario: the agent's result files are summed per leaf and per plan, and progress shows the cost
    Given the action file "agent.toml" holding
      """
      [action]
      command = ["python", "[fixtures]/fake_agent.py", "{files}"]
      prompt = "APPEND: # done"
      [action.decompose]
      max_files_per_subplan = 2
      min_files_per_subplan = 1
      """
    When I run `plan run --project repo --action [tmp]/agent.toml`
    Then the exit code is 0
    And stdout contains "$0.0200 (total $0."
    When I run `plan status [plan] --json`
    Then the JSON document's totals are {"cost_usd": 0.04, "input_tokens": 28, "output_tokens": 40}
    And the JSON document's subplan of "a/1.py" has "cost_usd" equal to 0.02
    And the JSON document's subplan of "a/1.py" has a result whose summary is "edited 2 files"
    When I run `plan status [plan]`
    Then stdout contains "reported  cost $0.0400  tokens in 28 out 40"

  Scenario: a result printed as the last JSON line is taken with result_from = "stdout-json"
    Given the environment variable FAKE_AGENT_STDOUT_JSON is "1"
    And the action file "agent.toml" holding
      """
      [action]
      command = ["python", "[fixtures]/fake_agent.py", "{files}"]
      prompt = "APPEND: # done"
      result_from = "stdout-json"
      """
    When I run `plan run --project repo --action [tmp]/agent.toml`
    Then the exit code is 0
    When I run `plan status [plan] --json`
    Then the JSON document's totals are {"cost_usd": 0.04, "input_tokens": 14, "output_tokens": 40}

  Scenario: every attempt's cost counts, a failed one's too
    Given the action file "costly.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo '{\"cost_usd\": 0.5, \"api_key\": \"sk-live-abcdefghijklmnopqrstuvwxyz\"}' > \"$AGENTS_RESULT_FILE\"; if [ -e ../once ]; then exit 0; fi; touch ../once; exit 75"]
      retry_exit_codes = [75]
      backoff_s = 0
      """
    When I run `plan run --project repo --action [tmp]/costly.toml --retries 1`
    Then the exit code is 0
    When I run `plan status [plan] --json`
    Then the JSON document's totals are {"cost_usd": 1.0}
    And the JSON document's only leaf has the result {"cost_usd": 0.5, "api_key": "[REDACTED]"}
    And the plan's events show a result of cost 0.5 for attempts 1 and 2

  Scenario Outline: a result that is not a JSON object is recorded as invalid; the leaf completes
    Given the environment variable FAKE_AGENT_RESULT is "<result>"
    And the action file "agent.toml" holding
      """
      [action]
      command = ["python", "[fixtures]/fake_agent.py", "{files}"]
      prompt = "APPEND: # done"
      """
    When I run `plan run --project repo --action [tmp]/agent.toml`
    Then the exit code is 0
    When I run `plan status [plan]`
    Then stdout contains "invalid result of .: <reason>"
    And stdout does not contain "reported"

    Examples:
      | result                | reason                                                    |
      | [1, 2]                | the result file is not a JSON object (got list)           |
      | {"cost_usd": "lots"}  | the result file: cost_usd is not a number >= 0 (got 'lots') |
      | not json              | the result file is not JSON                               |

  Scenario: result_fields finds the known fields where the tool puts them (claude -p's JSON)
    Given the action file "claude.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo thinking; echo '{\"type\": \"result\", \"total_cost_usd\": 0.25, \"usage\": {\"input_tokens\": 1200, \"output_tokens\": 80}}'"]
      result_from = "stdout-json"
      result_fields = { cost_usd = "total_cost_usd", input_tokens = "usage.input_tokens", output_tokens = "usage.output_tokens" }
      """
    When I run `plan run --project repo --action [tmp]/claude.toml`
    Then the exit code is 0
    When I run `plan status [plan] --json`
    Then the JSON document's totals are {"cost_usd": 0.25, "input_tokens": 1200, "output_tokens": 80}

  Scenario: result_fields names only fields that are summed
    Given the action file "bad.toml" holding
      """
      [action]
      command = ["true"]
      result_fields = { dollars = "total_cost_usd" }
      """
    When I run `action show [tmp]/bad.toml`
    Then the exit code is 2
    And stderr contains "action.result_fields: 'dollars' is not a field that is summed (known: cost_usd, input_tokens, output_tokens)"

  Scenario Outline: what counts as a printed result
    Then the output "<output>" gives <verdict>

    Examples:
      | output                                                    | verdict                               |
      | working\n{"cost_usd": 1}\ndone                            | a result costing 1                    |
      | {"cost_usd": 1}\n{not json}                               | a result costing 1                    |
      | {"usage": 5, "cost_usd": 2}                               | a result costing 2                    |
      | nothing printed                                           | no result                             |
      | {"cost_usd": true}                                        | an invalid result                     |
      | {"api_key": ["sk-live-abcdefghijklmnopqrstuvwxyz"], "n": 1} | a result whose list value is redacted |

  Scenario: a result too big keeps its known fields only; one that cannot be read is invalid
    Then a result of 70000 bytes with cost 3 keeps {"cost_usd": 3, "truncated": true}
    And a result file that is a directory gives "the result file cannot be read"
