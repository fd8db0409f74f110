Feature: The database
  One SQLite file, created and migrated on first use; clear errors for anything that is not one.

  Background:
    Given a job queue in a temporary database

  Scenario: a file that is not a database is refused with one clear line
    Given a file "garbage.db" containing "this is not a database, just text that is long enough to fill a header page"
    When I open the database "sqlite:///[tmp]/garbage.db"
    Then opening fails with "cannot open database sqlite:///[tmp]/garbage.db: the file is not an SQLite database"

  Scenario: a database whose directory cannot be created is refused
    Given a file "plain-file" containing "x"
    When I open the database "sqlite:///[tmp]/plain-file/sub/agents.db"
    Then opening fails with "cannot create [tmp]/plain-file/sub"

  Scenario: a URL that is not a database URL is refused
    When I open the database "not a url"
    Then opening fails with "'not a url' is not a database URL"

  Scenario: a database type that is not installed is refused
    When I open the database "nosuchdb://host/db"
    Then opening fails with "cannot open database nosuchdb://host/db"

  Scenario: an in-memory database is refused, since workers could not share it
    When I open the database "sqlite://"
    Then opening fails with "an in-memory SQLite database cannot be shared by workers"

  Scenario: a server that cannot be reached is refused with its password hidden
    When I open the database "sqlite:////proc/agents-nope/x.db"
    Then opening fails with "cannot open database sqlite:////proc/agents-nope/x.db"

  Scenario: several processes starting on a fresh database at once all succeed
    When 6 processes' worth of connections migrate a fresh database at once
    Then every migration succeeded and the schema is at head

  Scenario: the schema can be downgraded and upgraded again
    When the schema is downgraded to base and opened again
    Then every migration succeeded and the schema is at head

  Scenario: durations people type
    Then durations parse as
      | text | seconds |
      | 90   | 90      |
      | 90s  | 90      |
      | 15m  | 900     |
      | 12h  | 43200   |
      | 7d   | 604800  |
      | 2w   | 1209600 |
      | 1.5h | 5400    |

  Scenario: a directory given as the database file is refused
    When I open the database "sqlite:///[tmp]"
    Then opening fails with "cannot open database sqlite:///[tmp]: unable to open database file"

  Scenario Outline: a database URL agents cannot use is refused in one line, its password hidden
    When I open the database "<url>"
    Then opening fails with "<message>"

    Examples:
      | url                                                  | message                                                                                                                    |
      | mysql://app:hunter22@db.example/agents               | cannot open database mysql://app:[REDACTED]@db.example/agents: agents supports SQLite (sqlite:///PATH) or PostgreSQL        |
      | postgresql+psycopg2://app:hunter22@db.example/agents | postgresql+psycopg2://app:[REDACTED]@db.example/agents: PostgreSQL is reached through psycopg 3: use a postgresql+psycopg:// URL |
      | postgresql+psycopg://app:hunter22@127.0.0.1:1/agents | cannot open database postgresql+psycopg://app:[REDACTED]@127.0.0.1:1/agents: connection failed                            |

  Scenario: a database that loses its tables mid-run gives a clear error
    When the table "async_jobs" disappears
    Then reading a job fails with "database error: no such table: async_jobs"

  Scenario: small contracts of the building blocks
    Then registering a second job kind called "noop" is refused
    And a token cancelled twice keeps its first reason and calls late callbacks at once
    And storing a naive timestamp is refused
    And enqueueing no jobs in bulk writes nothing

  Scenario: a database migrated by a newer version of agents is refused, not damaged
    Given the database schema is at revision "9999_from_the_future"
    When I run `jobs list`
    Then the exit code is 2
    And stderr is one line containing "its schema is at revision '9999_from_the_future', which this version of agents does not know"

  Scenario: opening a database another process is busy with waits for the lock
    Given another process is writing to a new database file for a moment
    When agents opens and migrates that database
    Then it waited for the lock instead of failing
