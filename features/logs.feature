Feature: Every leaf's output, kept whole (up to a cap), redacted, and shown by `agents plan logs`
  Each attempt's stdout and stderr are kept in the database in compressed chunks while it runs,
  redacted, up to logs.max_bytes per attempt (a marker says how much was cut). `plan logs`
  prints them: raw for one leaf, each line prefixed by its leaf's label for several.

  Background:
    Given the project "repo" holds the files
      | path    | text |
      | a/1.txt | a\n  |
      | a/2.txt | a\n  |
      | b/1.txt | b\n  |
      | b/2.txt | b\n  |
    And I ran `project add [tmp]/repo`

  Scenario: one leaf's output is printed whole and as written; several leaves' lines are labelled
    Given an action file "talk.toml" whose command prints 300 numbered lines naming its files, in two leaves
    When I run `plan run --project repo --action [tmp]/talk.toml`
    Then the exit code is 0
    When I run `plan logs [plan] [leaf a]`
    Then the exit code is 0
    And stdout is exactly the 300 numbered lines naming "a/1.txt a/2.txt"
    When I run `plan logs [plan]`
    Then every line of stdout starts with "a | " or "b | " and there are 600
    When I run `plan logs [plan] --json`
    Then stdout is JSON Lines whose texts joined per leaf are the 300 numbered lines of each

  Scenario: a command printing 50 MB keeps the cap and a marker, and memory stays flat
    Given the environment variable AGENTS_LOGS__MAX_BYTES is "65536"
    And an action file "flood.toml" whose command prints 50000000 bytes in lines of 100
    When I run `plan run --project repo --action [tmp]/flood.toml --max-parallel 1` measuring its memory
    Then the exit code is 0
    When I run `plan logs [plan] [leaf a]`
    Then stdout holds 65536 bytes of the command's output, then "[agents: output cut at 65536 bytes; 49934464 more bytes not kept]"
    And the run's peak memory was within 40 MB of a run printing nothing

  Scenario: secrets are redacted in logs, a private key split across reads included
    Given an action file "leak.toml" whose command prints a password, a token and a private key, pausing inside the key
    When I run `plan run --project repo --action [tmp]/leak.toml --max-parallel 1`
    And I run `plan logs [plan]`
    Then stdout contains "password=[REDACTED]"
    And stdout contains "[REDACTED]"
    And stdout does not contain "hunter2"
    And stdout does not contain "ghp_"
    And stdout does not contain "MIIEvQIBADANBg"

  Scenario: each attempt has its own output; --attempt chooses, the latest is the default
    Given an action file "flaky.toml" whose command prints its attempt and fails the first time
    When I run `plan run --project repo --action [tmp]/flaky.toml --retries 1`
    Then the exit code is 0
    When I run `plan logs [plan] [leaf a] --attempt 1`
    Then stdout is "attempt 1 of a\nfailing\n"
    When I run `plan logs [plan] [leaf a]`
    Then stdout is "attempt 2 of a\n"

  Scenario: --failed shows only the leaves that failed, and status shows their last 20 lines
    Given an action file "half.toml" whose command prints 30 lines and fails in leaf "b"
    When I run `plan run --project repo --action [tmp]/half.toml --failure-mode continue_on_error`
    Then the exit code is 1
    When I run `plan logs [plan] --failed`
    Then every line of stdout starts with "b | " and there are 61
    When I run `plan status [plan]`
    Then stdout contains "error: exit code 3: b fails"
    And stdout contains "    | line 12 of b"
    And stdout does not contain "| line 11 of b"
    And stdout does not contain "| line 5 of a"

  Scenario: --follow prints a running leaf's output as it comes, and ends when the run ends
    Given an action file "slowtalk.toml" whose command prints "started", waits for the file "go", then prints "finished"
    And I ran `plan create --project repo --action [tmp]/slowtalk.toml --max-parallel 2` and call the job "plan"
    When the plan executes in the background
    And I start `plan logs [plan] --follow` in another process
    Then that process soon prints "a | started"
    When the file "go" is created
    Then that process ends with exit code 0, having printed "a | finished" and "b | finished"

  Scenario: an action with output = "show" has its output printed by plan run
    When I run `plan run --project repo --action builtin:count-lines`
    Then the exit code is 0
    And stdout contains ". | 4 lines in 4 files"

  Scenario Outline: bad input to plan logs is one line and the right exit code
    Given I ran `plan run --project repo --action builtin:count-lines`
    When I run `plan logs [plan] <args>`
    Then the exit code is <code>
    And stderr is one line containing "<message>"

    Examples:
      | args               | code | message                                     |
      | 01NOSUCHLEAF       | 4    | has no subplan 01NOSUCHLEAF                  |
      | --attempt 0        | 2    | Input should be greater than or equal to 1   |
      | --follow --failed  | 2    | --failed shows leaves that have failed       |

  Scenario: a plan whose leaves printed nothing says so; a shown output too big is pointed at
    Given an action file "quiet.toml" whose command prints 0 bytes and shows its output
    When I run `plan run --project repo --action [tmp]/quiet.toml`
    And I run `plan logs [plan]`
    Then the exit code is 0
    And stderr contains "no output recorded for its leaves"
    Given an action file "loud.toml" whose command prints 70000 bytes and shows its output
    When I run `plan run --project repo --action [tmp]/loud.toml`
    Then stdout contains "output: see `agents plan logs "
