Feature: Settings
  defaults < config file < environment < command-line flags; every value validated, and an invalid
  one reported with the key, the value, the allowed range and where it came from.

  Scenario: defaults
    When settings are loaded
    Then setting async.max_workers is 4 from "default"
    And setting async.poll_interval is 1.0 from "default"
    And setting async.enabled is false from "default"
    And setting sqlite.synchronous is normal from "default"

  Scenario: each layer overrides the one before
    Given a config file containing
      """
      [async]
      max_workers = 6
      poll_interval = 0.5
      job_ttl = 3600

      [sqlite]
      synchronous = "full"
      """
    And the environment variable AGENTS_ASYNC__POLL_INTERVAL is "0.25"
    And the environment variable AGENTS_ASYNC__JOB_TTL is "7200"
    When settings are loaded with the flag async.job_ttl = 600
    Then setting async.max_workers is 6 from "config file"
    And setting async.poll_interval is 0.25 from "environment AGENTS_ASYNC__POLL_INTERVAL"
    And setting async.job_ttl is 600.0 from "command line"
    And setting sqlite.synchronous is full from "config file"

  Scenario: unrelated AGENTS_ variables are ignored
    Given the environment variable AGENTS_JOB_ID is "01ABC"
    When settings are loaded
    Then setting async.max_workers is 4 from "default"

  Scenario Outline: out-of-range values are refused with the key, value, range and source
    Given the environment variable <variable> is "<value>"
    When settings are loaded
    Then loading fails with "<message>"

    Examples:
      | variable                     | value | message                                                                                  |
      | AGENTS_ASYNC__MAX_WORKERS    | 0     | async.max_workers = '0' is not valid: must be 1..256 (from environment AGENTS_ASYNC__MAX_WORKERS) |
      | AGENTS_ASYNC__MAX_WORKERS    | many  | async.max_workers = 'many' is not valid: must be 1..256                                  |
      | AGENTS_ASYNC__POLL_INTERVAL  | -1    | async.poll_interval = '-1' is not valid: must be 0.01..3600                              |
      | AGENTS_SQLITE__SYNCHRONOUS   | off   | sqlite.synchronous = 'off' is not valid: must be one of normal, full                     |
      | AGENTS_ASYNC__ENABLED        | maybe | async.enabled = 'maybe' is not valid: must be true or false                              |

  Scenario: a bad value in the config file names the file
    Given a config file containing
      """
      [async]
      max_workers = 1000
      """
    When settings are loaded
    Then loading fails with "async.max_workers = 1000 is not valid: must be 1..256 (from config file [tmp]/config.toml)"

  Scenario: settings that contradict each other name both sources
    Given a config file containing
      """
      [async]
      heartbeat_interval = 10
      """
    And the environment variable AGENTS_ASYNC__STALE_AFTER is "5"
    When settings are loaded
    Then loading fails with "async.stale_after (5) must be greater than async.heartbeat_interval (10) (async.heartbeat_interval from config file [tmp]/config.toml; async.stale_after from environment AGENTS_ASYNC__STALE_AFTER)"

  Scenario: an unknown key in the config file is refused
    Given a config file containing
      """
      [async]
      max_wrokers = 3
      """
    When settings are loaded
    Then loading fails with "unknown setting 'async.max_wrokers' in config file [tmp]/config.toml"

  Scenario: a config file that is not TOML is refused
    Given a config file containing
      """
      [async
      """
    When settings are loaded
    Then loading fails with "config file [tmp]/config.toml is not valid TOML"

  Scenario: the default database lives in the user's data directory
    When settings are loaded
    Then the default database is in the data directory

  Scenario: config set writes a validated value; config get and show read it back
    When I run `config set async.max_workers 8`
    Then the exit code is 0
    And stdout contains "async.max_workers = 8"
    When I run `config get async.max_workers`
    Then stdout contains "8"
    When I run `config set sqlite.synchronous full`
    And I run `config show --json`
    Then the JSON document has "settings.2.value" equal to 8
    And the JSON document has "settings.2.source" equal to "config file [tmp]/config.toml"
    When I run `config show`
    Then stdout contains "async.max_workers"
    When I run `config get async.enabled`
    Then stdout contains "false"
    When I run `config get async.max_workers --json`
    Then the JSON document has "value" equal to 8
    And the JSON document has "source" equal to "config file [tmp]/config.toml"

  Scenario Outline: config set refuses bad values and leaves the file as it was
    Given a config file containing
      """
      [async]
      max_workers = 2
      """
    When I run `config set <key> <value>`
    Then the exit code is 2
    And stderr is one line containing "<message>"
    And the config file still contains
      """
      [async]
      max_workers = 2
      """

    Examples:
      | key               | value | message                                             |
      | async.max_workers | 999   | async.max_workers = '999' is not valid: must be 1..256 (from config set) |
      | async.nope        | 1     | unknown setting 'async.nope'                        |

  Scenario: config get of an unknown key
    When I run `config get nope`
    Then the exit code is 2
    And stderr is one line containing "unknown setting 'nope'"

  Scenario: a database URL with a password is never printed in clear
    Given the environment variable AGENTS_DATABASE_URL is "postgresql+psycopg://app:hunter22@db.example/agents"
    When I run `config get database_url`
    Then stdout contains "postgresql+psycopg://app:[REDACTED]@db.example/agents"
    And stdout does not contain "hunter22"

  Scenario: without AGENTS_CONFIG the config file is found in the XDG config directory
    Given the environment variable AGENTS_CONFIG is unset
    And the environment variable XDG_CONFIG_HOME is "[tmp]/xdg"
    When I run `config set async.max_workers 3`
    Then stdout contains "(written to [tmp]/xdg/agents/config.toml)"
    When I run `config get async.max_workers`
    Then stdout contains "3"

  Scenario: a config file that cannot be read is refused
    Given the config file is a directory
    When settings are loaded
    Then loading fails with "config file [tmp]/config.toml cannot be read"

  Scenario: the database URL can come from the config file, and be set there
    Given the environment variable AGENTS_DATABASE_URL is unset
    And a config file containing
      """
      database_url = "sqlite:///[tmp]/from-file.db"
      """
    When settings are loaded
    Then setting database_url is sqlite:///[tmp]/from-file.db from "config file"
    When I run `config set database_url sqlite:///[tmp]/other.db`
    Then stdout contains "database_url = sqlite:///[tmp]/other.db"
