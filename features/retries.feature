Feature: Retries with backoff: transient failures wait and run again, without holding a slot
  An action's exit policy says which failures are transient (`retry_exit_codes`, `retry_on_output`);
  `retries` gives a leaf that many more attempts, each after `backoff_s * 2**(attempt-1)` seconds
  with full jitter, capped by `max_backoff_s`, or after the delay the tool asks for
  (`retry_after_pattern`). A leaf waiting to retry does not hold a slot: other leaves run meanwhile.
  The dispatcher runs here on an injected clock: a leaf "taking" 40 s moves it 40 s on.

  Scenario: a rate-limited leaf waits what the tool asks while another leaf takes its slot
    Given a dispatcher with 1 slot and 2 retries on an injected clock, for an action with
      """
      retry_on_output = "429|rate limit"
      retry_after_pattern = 'Retry-After: (\d+)'
      """
    And leaf "a" answers "HTTP 429 Too Many Requests\nRetry-After: 30" and then succeeds
    And leaf "b" succeeds after 40 seconds
    When the dispatcher runs them on the injected clock
    Then the dispatch trace is
      | at | leaf | what       |
      | 0  | a    | attempt 1  |
      | 0  | a    | waits 30 s |
      | 0  | b    | attempt 1  |
      | 40 | b    | completed  |
      | 40 | a    | attempt 2  |
      | 40 | a    | completed  |
    And leaf "a" was recorded waiting with its next attempt at 30 s

  Scenario: with nothing else to run, the next attempt starts when its backoff ends
    Given a dispatcher with 2 slots and 3 retries on an injected clock, for an action with
      """
      retry_exit_codes = [75]
      backoff_s = 10
      max_backoff_s = 25
      """
    And leaf "a" exits 75 three times and then succeeds
    When the dispatcher runs them on the injected clock
    Then leaf "a" ran 4 attempts, waiting at most 10, 20 and 25 s before attempts 2, 3 and 4
    And each attempt of leaf "a" started exactly when its wait ended

  Scenario: a failure the policy does not call transient fails at once
    Given a dispatcher with 1 slot and 3 retries on an injected clock, for an action with
      """
      retry_exit_codes = [75]
      retry_on_output = "overloaded"
      """
    And leaf "a" exits 2 saying "SyntaxError: invalid syntax"
    When the dispatcher runs them on the injected clock
    Then the dispatch trace is
      | at | leaf | what      |
      | 0  | a    | attempt 1 |
      | 0  | a    | failed    |

  Scenario: an action without a retry policy retries any failure, as before
    Given a dispatcher with 1 slot and 1 retries on an injected clock, for an action with
      """
      backoff_s = 4
      """
    And leaf "a" exits 2 saying "flaky" and then succeeds
    When the dispatcher runs them on the injected clock
    Then leaf "a" ran 2 attempts, waiting at most 4 s before attempt 2

  Scenario: fail-fast stops a leaf waiting to retry, which is cancelled
    Given a dispatcher with 2 slots and 2 retries on an injected clock, for an action with
      """
      retry_exit_codes = [75]
      """
    And leaf "a" exits 75 three times and then succeeds
    And leaf "b" exits 2 saying "broken" once leaf "a" waits
    When the dispatcher runs them on the injected clock
    Then the dispatch failed with "subplan b failed"
    And leaf "a" ended "cancelled" with "not retried: failed"

  Scenario: full jitter spreads the waits over the whole range, and the cap holds
    Given the exit policy
      """
      backoff_s = 1
      max_backoff_s = 6
      """
    Then 2000 waits after attempt 3 with a seeded random lie in 0..4 and cover it
    And 2000 waits after attempt 9 with a seeded random lie in 0..6 and cover it

  Scenario Outline: the delay a tool asks for is honoured, up to max_backoff_s
    Given the exit policy
      """
      retry_after_pattern = 'Retry-After: (\d+)'
      max_backoff_s = <cap>
      """
    Then the wait after attempt 1 of output "<output>" is <wait> s

    Examples:
      | output                                 | cap | wait |
      | 429\nRetry-After: 7                    | 60  | 7    |
      | Retry-After: 1\nRetry-After: 12\ndone  | 60  | 12   |
      | 429\nRetry-After: 700                  | 60  | 60   |

  Scenario Outline: which failures are transient
    Given the exit policy
      """
      <policy>
      """
    Then a failure with exit code <code> and output "<output>" is <verdict>

    Examples:
      | policy                                   | code | output            | verdict       |
      | retry_exit_codes = [75]                  | 75   | busy              | transient     |
      | retry_exit_codes = [75]                  | 1    | busy              | not transient |
      | retry_on_output = "rate limit\|429"      | 1    | error: rate limit | transient     |
      | retry_on_output = "rate limit\|429"      | 1    | SyntaxError       | not transient |
      | retry_exit_codes = [75]                  | none | cannot run 'x'    | not transient |
      | backoff_s = 1                            | 1    | anything          | transient     |

  Scenario: a run through the command line waits and records each attempt
    Given the project "repo" holds the files
      | path  | text |
      | a.txt | a\n  |
    And I ran `project add [tmp]/repo`
    And an action file "busy.toml" whose command says "Retry-After: 1" and exits 75 the first time, with
      """
      retry_exit_codes = [75]
      retry_after_pattern = 'Retry-After: (\d+)'
      """
    When I run `plan run --project repo --action [tmp]/busy.toml --retries 2`
    Then the exit code is 0
    And the plan's events show leaf attempt 1 waiting 1 s and attempt 2 starting at least 1 s later
    When I run `plan status [plan] --json`
    Then the JSON document's only leaf has 2 attempts and no retry time

  Scenario Outline: a bad retry field is one clear line naming it
    Given the action file "bad.toml" holding
      """
      [action]
      command = ["true"]
      <field>
      """
    When I run `action show [tmp]/bad.toml`
    Then the exit code is 2
    And stderr contains "<message>"

    Examples:
      | field                               | message                                                                  |
      | retry_on_output = "rate (limit"     | action.retry_on_output: not a valid regular expression: missing ), unterminated subpattern |
      | retry_after_pattern = "Retry-After" | action.retry_after_pattern: needs a group that captures the seconds      |
      | retry_exit_codes = [300]            | action.retry_exit_codes: an exit code is 0..255 (got 300)                |
      | backoff_s = -1                      | action.backoff_s: Input should be greater than or equal to 0             |

  Scenario: plan status shows a leaf waiting to retry, and a cancel stops the wait
    Given the project "repo" holds the files
      | path  | text |
      | a.txt | a\n  |
    And I ran `project add [tmp]/repo`
    And an action file "busy.toml" whose command says "Retry-After: 30" and exits 75 the first time, with
      """
      retry_exit_codes = [75]
      retry_after_pattern = 'Retry-After: (\d+)'
      """
    And I ran `plan create --project repo --action [tmp]/busy.toml --retries 1` and call the job "plan"
    When the plan executes in the background
    Then `plan status [plan]` soon says ": attempt 1 failed (exit code 75: Retry-After: 30); next attempt at"
    And stdout contains "    waiting: attempt 1 failed"
    When I run `plan cancel [plan]`
    Then the background execution ends with the plan "cancelled"
    And every leaf ended "cancelled" with "not retried: cancelled"

  Scenario Outline: what the policy makes of a failure's output
    Given the exit policy
      """
      <policy>
      """
    Then a failure printing "<output>" is <verdict>

    Examples:
      | policy                                               | output                | verdict                      |
      | rate_limit_on_output = ""                            | HTTP 429              | not rate-limited             |
      | backoff_s = 1                                        | HTTP 429              | rate-limited                 |
      | retry_after_pattern = 'Retry-After: ([a-z]+)'        | Retry-After: soon     | asking for no particular wait |
      | retry_after_pattern = 'Retry-After: ([0-9]+)'        | no header here        | asking for no particular wait |
