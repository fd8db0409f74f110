Feature: Projects
  A project is a named directory that plans run over. Registering one changes nothing in it.

  Background:
    Given a directory "repo" with 3 files

  Scenario: add, list, show and remove a project
    When I run `project add [tmp]/repo`
    Then the exit code is 0
    And stdout contains "added project repo ([tmp]/repo)"
    When I run `project list --json`
    Then the JSON document is a list of 1
    And the JSON document has "0.name" equal to "repo"
    And the JSON document has "0.root_path" equal to "[tmp]/repo"
    When I run `project show repo --json`
    Then the JSON document has the fields id, name, root_path, created_at
    When I run `project show repo`
    Then stdout contains "root_path"
    When I run `project list`
    Then stdout contains "[tmp]/repo"
    When I run `project remove repo`
    Then stdout contains "removed project repo (its files are untouched)"
    And the directory "repo" still has 3 files
    When I run `project list --json`
    Then the JSON document is a list of 0

  Scenario: a project can be named, and found by its id
    When I run `project add [tmp]/repo --name big-repo --json`
    Then the JSON document has "name" equal to "big-repo"
    When I run `project show big-repo --json`
    Then the JSON document has "root_path" equal to "[tmp]/repo"
    When I run `project remove big-repo --json`
    Then the JSON document has "name" equal to "big-repo"

  Scenario Outline: bad input gets one clear line, the right exit code, and changes nothing
    Given I ran `project add [tmp]/repo`
    And a file "plain.txt" containing "x"
    When I run `<command>`
    Then the exit code is <code>
    And stderr is one line containing "<message>"
    When I run `project list --json`
    Then the JSON document is a list of 1

    Examples:
      | command                                    | code | message                                             |
      | project add [tmp]/nope                     | 2    | project path [tmp]/nope does not exist              |
      | project add [tmp]/plain.txt                | 2    | is not a directory                                  |
      | project add [tmp]/repo --name "bad name"   | 2    | invalid project name 'bad name'                     |
      | project add [tmp]/repo --name other        | 3    | project 'repo' already uses the path [tmp]/repo     |
      | project add [tmp] --name repo              | 3    | project 'repo' already uses the name 'repo'         |
      | project show nope                          | 4    | no project named 'nope'                             |
      | project remove nope                        | 4    | no project named 'nope'                             |

  Scenario: --project takes a directory, registered on first use under its name, said once
    Given a directory "my repo" with 3 files
    And a directory "elsewhere" with 1 files
    And I ran `project add [tmp]/elsewhere --name my-repo`
    When I run `plan run --project "[tmp]/my repo" --action builtin:count-lines`
    Then the exit code is 0
    And stderr is one line containing "as project my-repo-2 (see `agents project list`)"
    When I run `plan run --project "[tmp]/my repo" --action builtin:count-lines`
    Then the exit code is 0
    And stderr does not contain "registered"
    When I run `plan list --project "[tmp]/my repo" --json`
    Then the JSON document is a list of 2
    When I run `action list --project "[tmp]/my repo"`
    Then the exit code is 0
    When I run `project list --json`
    Then the JSON document is a list of 2

  Scenario: a listing by a directory registers nothing
    Given a directory "sample" with 2 files
    When I run `plan list --project [tmp]/sample`
    Then the exit code is 4
    And stderr is one line containing "no project at [tmp]/sample (register it: `agents project add [tmp]/sample`)"
    When I run `plan list --project [tmp]/nowhere`
    Then the exit code is 4
    And stderr is one line containing "no project named '[tmp]/nowhere'"
    When I run `project list --json`
    Then the JSON document is a list of 0
