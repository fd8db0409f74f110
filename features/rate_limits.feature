Feature: Rate limits slow a plan down instead of failing it (AIMD)
  A failed attempt whose output matches the action's rate_limit_on_output (by default 429, 529,
  "rate limit", "overloaded", "too many requests") waits (backoff with jitter, or the Retry-After
  the tool printed) and halves the plan's effective concurrency, once per window; each run of
  successes raises it by one, never above max_parallel. A leaf rate-limited more than `retries`
  times fails with that reason.

  Scenario: the limit halves once per window, recovers by one per run of successes, within bounds
    Given an adaptive limit of 12
    When 5 attempts start and the first 3 of them are rate-limited
    Then the limit is 6
    When 2 attempts start and both are rate-limited
    Then the limit is 3
    When 3 attempts start and all succeed
    Then the limit is 4
    When 70 attempts start and all succeed
    Then the limit is 12
    When 9 attempts start and each is rate-limited after the last decrease
    Then the limit is 1

  Scenario: the fake agent rate-limits past 3 at once; every leaf completes, the plan slows down
    Given the project "many" holds 24 files in 24 directories
    And I ran `project add [tmp]/many`
    And the environment variable FAKE_AGENT_LIMIT is "3"
    And the environment variable FAKE_AGENT_DIR is "[tmp]/running"
    And the environment variable FAKE_AGENT_DELAY is "0.2"
    And the action file "agent.toml" holding
      """
      [action]
      command = ["python", "[fixtures]/fake_agent.py", "{files}"]
      prompt = "APPEND: # done"
      retry_after_pattern = 'Retry-After: (\d+)'
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      """
    When I run `plan run --project many --action [tmp]/agent.toml --max-parallel 12 --retries 10`
    Then the exit code is 0
    When I run `plan status [plan] --json`
    Then the JSON document's totals are {"cost_usd": 0.24, "input_tokens": 336, "output_tokens": 240}
    And the plan's concurrency is lower than 12
    And the plan's events show the concurrency halved from 12 at the first rate limit

  Scenario: a leaf rate-limited more than `retries` times fails with that reason
    Given the project "one" holds the files
      | path | text |
      | a.py | a\n  |
    And I ran `project add [tmp]/one`
    And the action file "busy.toml" holding
      """
      [action]
      command = ["sh", "-c", "echo 'HTTP 529 overloaded'; exit 1"]
      backoff_s = 0
      """
    When I run `plan run --project one --action [tmp]/busy.toml --retries 2`
    Then the exit code is 1
    And stdout contains "rate limited 3 time(s): exit code 1: HTTP 529 overloaded"

  Scenario: rate_limit_on_output = "" turns it off; a bad pattern is refused
    Given the action file "off.toml" holding
      """
      [action]
      command = ["true"]
      rate_limit_on_output = "("
      """
    When I run `action show [tmp]/off.toml`
    Then the exit code is 2
    And stderr contains "action.rate_limit_on_output: not a valid regular expression"
