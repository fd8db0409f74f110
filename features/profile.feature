Feature: The automation profile
  How a plan's leaves run: max_parallel (1..32, default: the cores, up to 32), failure_mode (fail_fast |
  continue_on_error, default fail_fast), timeout_s (1..86400, default 1800) and retries (0..10,
  default 0). Each value comes from the highest layer that sets it: plan > action > global (the
  [plans] section of the config file, or AGENTS_PLANS__* in the environment) > default, and
  remembers where it came from.

  Scenario: the defaults
    When the profile is resolved
    Then the profile is
      | field        | value     | source  |
      | max_parallel | [cores]   | default |
      | failure_mode | fail_fast | default |
      | timeout_s    | 1800      | default |
      | retries      | 0         | default |

  Scenario: global values come from the settings, with their provenance
    Given a config file containing
      """
      [plans]
      max_parallel = 6
      failure_mode = "continue_on_error"
      timeout_s = 120
      """
    And the environment variable AGENTS_PLANS__MAX_PARALLEL is "7"
    When the profile is resolved
    Then the profile is
      | field        | value             | source                                 |
      | max_parallel | 7                 | environment AGENTS_PLANS__MAX_PARALLEL |
      | failure_mode | continue_on_error | config file [tmp]/config.toml          |
      | timeout_s    | 120               | config file [tmp]/config.toml          |
      | retries      | 0                 | default                                |

  Scenario: plan > action > global > default
    Given a config file containing
      """
      [plans]
      max_parallel = 6
      failure_mode = "continue_on_error"
      timeout_s = 120
      """
    And the action "lint" sets the profile {"max_parallel": 8, "failure_mode": "fail_fast"}
    And the action "lint" sets timeout_s to 300
    And the plan sets the profile {"max_parallel": 12}
    When the profile is resolved
    Then the profile is
      | field        | value     | source                        |
      | max_parallel | 12        | plan (command line)           |
      | failure_mode | fail_fast | action lint ([tmp]/lint.toml) |
      | timeout_s    | 300       | action lint ([tmp]/lint.toml) |
      | retries      | 0         | default                       |

  Scenario: a plan layer that leaves a value unset lets the next layer decide
    Given the action "lint" sets the profile {"retries": 3}
    And the plan sets the profile {"max_parallel": null, "retries": 1}
    When the profile is resolved
    Then the profile has max_parallel = [cores] from "default"
    And the profile has retries = 1 from "plan (command line)"

  Scenario: the resolved profile says how the dispatcher runs
    Given the plan sets the profile {"max_parallel": 2, "failure_mode": "continue_on_error", "retries": 2}
    When the profile is resolved
    Then the resolved profile runs 2 at once, continue_on_error, 1800.0 s per leaf and 3 attempts

  Scenario Outline: out-of-range values are refused naming field, value, range and source
    Given the profile value <field> = <value> comes from the <layer>
    When the profile is resolved
    Then resolving the profile fails with "<message>"

    Examples:
      | field        | value       | layer        | message                                                                                                                                  |
      | max_parallel | 0           | plan         | max_parallel = 0 is not allowed (allowed: 1..32); it came from plan (command line)                                                       |
      | max_parallel | 33          | plan         | max_parallel = 33 is not allowed (allowed: 1..32); it came from plan (command line)                                                      |
      | max_parallel | 0           | action       | max_parallel = 0 is not allowed (allowed: 1..32); it came from action lint (lint.toml)                                                   |
      | max_parallel | 33          | action       | max_parallel = 33 is not allowed (allowed: 1..32); it came from action lint (lint.toml)                                                  |
      | max_parallel | 0           | global layer | max_parallel = 0 is not allowed (allowed: 1..32); it came from config file elsewhere.toml                                                |
      | max_parallel | 33          | global layer | max_parallel = 33 is not allowed (allowed: 1..32); it came from config file elsewhere.toml                                               |
      | max_parallel | 0           | environment  | plans.max_parallel = '0' is not valid: must be 1..32 (from environment AGENTS_PLANS__MAX_PARALLEL)                                       |
      | max_parallel | 33          | environment  | plans.max_parallel = '33' is not valid: must be 1..32 (from environment AGENTS_PLANS__MAX_PARALLEL)                                      |
      | max_parallel | 0           | config file  | plans.max_parallel = 0 is not valid: must be 1..32 (from config file [tmp]/config.toml)                                                  |
      | max_parallel | 33          | config file  | plans.max_parallel = 33 is not valid: must be 1..32 (from config file [tmp]/config.toml)                                                 |
      | max_parallel | true        | plan         | max_parallel = True is not allowed (allowed: 1..32); it came from plan (command line)                                                    |
      | max_parallel | "8"         | plan         | max_parallel = '8' is not allowed (allowed: 1..32)                                                                                       |
      | timeout_s    | 0           | action       | timeout_s = 0 is not allowed (allowed: 1..86400); it came from action lint (lint.toml)                                                   |
      | retries      | 11          | plan         | retries = 11 is not allowed (allowed: 0..10); it came from plan (command line)                                                           |
      | retries      | -1          | config file  | plans.retries = -1 is not valid: must be 0..10 (from config file [tmp]/config.toml)                                                      |
      | failure_mode | "sometimes" | plan         | failure_mode = 'sometimes' is not allowed (allowed: fail_fast \| continue_on_error); it came from plan (command line)                    |
      | failure_mode | "sometimes" | global layer | failure_mode = 'sometimes' is not allowed (allowed: fail_fast \| continue_on_error); it came from config file elsewhere.toml             |
      | failure_mode | sometimes   | environment  | plans.failure_mode = 'sometimes' is not valid: must be one of fail_fast, continue_on_error (from environment AGENTS_PLANS__FAILURE_MODE) |

  Scenario: an unknown profile field in an action is refused, naming the action
    Given the layer "action lint (lint.toml)" sets the profile {"max_paralel": 8}
    When the profile is resolved
    Then resolving the profile fails with "unknown profile field 'max_paralel' from action lint (lint.toml) (known: max_parallel, failure_mode, timeout_s, retries, max_cost_usd, max_leaf_cost_usd)"

  Scenario: an action file with an unknown profile field is refused when it is loaded
    Given the action file "lint.toml" holds
      """
      [action]
      command = ["x"]

      [action.profile]
      parallelism = 8
      """
    When I load the action file "lint.toml"
    Then loading the action fails with "[tmp]/lint.toml: action.profile.parallelism: unknown profile field"

  Scenario: the global layer is an ordinary setting for agents config
    Given the environment variable AGENTS_PLANS__MAX_PARALLEL is "12"
    When I run `config get plans.max_parallel`
    Then the exit code is 0
    And stdout contains "12"
    When I run `config get plans.max_parallel --json`
    Then the JSON document has "source" equal to "environment AGENTS_PLANS__MAX_PARALLEL"
    When I run `config set plans.failure_mode continue_on_error`
    Then the exit code is 0
    When I run `config get plans.failure_mode --json`
    Then the JSON document has "value" equal to "continue_on_error"
    And the JSON document has "source" equal to "config file [tmp]/config.toml"
    When I run `config set plans.max_parallel 33`
    Then the exit code is 2
    And stderr is one line containing "plans.max_parallel = '33' is not valid: must be 1..32"
