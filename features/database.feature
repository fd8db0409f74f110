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

  # Damaged files, empty files, a full disk: one line, the right exit code, never a traceback,
  # and never a new database silently made over what was there.

  Scenario Outline: a damaged database is one line and exit 1 for every command
    Given the CLI database holds 3 queued jobs
    And the <pages> of the CLI database are overwritten with junk
    When I run `<command>`
    Then the exit code is 1
    And the last line of stderr says "is damaged (database disk image is malformed)" without a traceback
    And stderr contains ".recover"
    And stderr does not contain "heartbeat thread died"

    Examples:
      | pages                | command                          |
      | jobs table's pages   | jobs list                        |
      | jobs table's pages   | jobs enqueue command -- echo hi  |
      | jobs table's pages   | worker run --burst               |
      | bytes 100 to 4096    | jobs list                        |
      | bytes 100 to 4096    | jobs enqueue command -- echo hi  |
      | bytes 100 to 4096    | worker run --burst               |

  Scenario Outline: diagnostics fails the database check of a damaged database, with the remedy
    Given the CLI database holds 3 queued jobs
    And the <pages> of the CLI database are overwritten with junk
    When I run `diagnostics --no-probe`
    Then the exit code is 1
    And stdout contains "fail  database"
    And stdout contains "is damaged (database disk image is malformed)"
    And stdout contains "remedy: restore it from a backup, or recover what is readable with `sqlite3"
    And stderr does not contain "Traceback"

    Examples:
      | pages              |
      | jobs table's pages |
      | bytes 100 to 4096  |

  Scenario Outline: a database file of 0 bytes is refused, never taken for a new database
    Given an empty file "empty.db"
    When I run `--db sqlite:///[tmp]/empty.db <command>`
    Then the exit code is 1
    And the last line of stderr says "the file is empty (0 bytes)" without a traceback
    And the file "empty.db" is still empty and nothing was made beside it

    Examples:
      | command                         |
      | jobs list                       |
      | jobs enqueue command -- echo hi |
      | worker run --burst              |
      | db upgrade                      |

  Scenario: diagnostics fails the database check of a file of 0 bytes
    Given an empty file "empty.db"
    When I run `--db sqlite:///[tmp]/empty.db diagnostics`
    Then the exit code is 1
    And stdout contains "fail  database"
    And stdout contains "the file is empty (0 bytes)"
    And stdout contains "remedy: restore it from a backup, or remove"
    And the file "empty.db" is still empty and nothing was made beside it

  Scenario: a database agents creates is never seen empty, and leaves nothing else behind
    When I run `--db sqlite:///[tmp]/new/agents.db jobs list`
    Then the exit code is 0
    And the directory "new" holds only the database "agents.db"

  Scenario: a database full of pages it may not grow beyond says the disk is full
    Given a database that may not grow
    When jobs are enqueued until it is full
    Then the error says "the disk is full (database or disk is full"
    And the error's exit code is 1

  @root
  Scenario: a database on a full disk says the disk is full, in one line
    Given the CLI database lives on a small file system
    And the CLI database holds 3 queued jobs
    And that file system is full
    When I run `jobs enqueue command -- echo hi`
    Then the exit code is 1
    And stderr is one line containing "the disk is full"
    And stderr contains "free some space on it"
    When I run `diagnostics --no-probe`
    Then the exit code is 1
    And stdout contains "fail  database"
    And stdout contains "the disk is full"

  Scenario: a change detector whose connection is lost reports a change, reconnects, and goes on
    Given a change detector listening on the database
    When the detector's connection is lost
    Then the detector reports a change without raising
    And the detector is connected again
    And the detector has seen nothing
    When another connection enqueues a job
    Then the detector sees a change within the deadline

  Scenario: a change detector on a database it cannot reach tries again with a growing back-off
    Given a change detector on a database that cannot be reached yet
    Then the detector reports nothing until 0.05 seconds pass, then a change
    And the detector reports nothing until 0.1 seconds pass, then a change
    And the detector reports nothing until 0.2 seconds pass, then a change
    When the database can be reached
    Then the detector reports nothing until 0.4 seconds pass, then a change
    And the detector is connected again
