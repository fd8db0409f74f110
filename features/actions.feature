Feature: Actions
  An action is what a plan runs on each leaf subplan: a TOML file with one [action] table, or a
  built-in written in Python (builtin:NAME). A broken file gets one line naming the file, the line
  where TOML gives one, and the field.

  Scenario: a file with every field loads, and its snapshot reads back the same
    Given the action file "lint.toml" holds
      """
      [action]
      name = "lint-fix"
      description = "fix what ruff can"
      command = ["ruff", "check", "--fix", "{files}"]
      include = ["**/*.py"]
      exclude = ["build/**"]
      isolation = "in-place"
      scope = "project"
      timeout_s = 600

      [action.decompose]
      strategy = "extension"
      max_files_per_subplan = 20
      min_files_per_subplan = 2
      max_depth = 3
      max_tokens_per_subplan = 5000

      [action.profile]
      max_parallel = 8
      failure_mode = "continue_on_error"
      retries = 2
      """
    When I load the action file "lint.toml"
    Then the action has "name" equal to "lint-fix"
    And the action has "description" equal to "fix what ruff can"
    And the action has "command" equal to ["ruff", "check", "--fix", "{files}"]
    And the action has "builtin" equal to null
    And the action has "include" equal to ["**/*.py"]
    And the action has "exclude" equal to ["build/**"]
    And the action has "isolation" equal to "in-place"
    And the action has "scope" equal to "project"
    And the action has "timeout_s" equal to 600
    And the action has "decompose.strategy" equal to "extension"
    And the action has "decompose.max_files_per_subplan" equal to 20
    And the action has "decompose.min_files_per_subplan" equal to 2
    And the action has "decompose.max_depth" equal to 3
    And the action has "decompose.max_tokens_per_subplan" equal to 5000
    And the action has "source" equal to "[tmp]/lint.toml"
    And the action's profile layer is "action lint-fix ([tmp]/lint.toml)" with {"max_parallel": 8, "failure_mode": "continue_on_error", "retries": 2, "timeout_s": 600}
    And the action's snapshot reads back as the same action

  Scenario: the defaults, and the name taken from the file
    Given the action file "tidy.toml" holds
      """
      [action]
      command = ["tidy", "{file}"]
      """
    When I load the action file "tidy.toml"
    Then the action has "name" equal to "tidy"
    And the action has "include" equal to ["**/*"]
    And the action has "exclude" equal to []
    And the action has "isolation" equal to "sandbox"
    And the action has "scope" equal to "files"
    And the action has "timeout_s" equal to null
    And the action has "decompose.max_files_per_subplan" equal to 50
    And the action has "profile" equal to {}
    And the action's profile layer is "action tidy ([tmp]/tidy.toml)" with {}

  Scenario: a file can name a built-in and its params
    Given the action file "markers.toml" holds
      """
      [action]
      builtin = "fail-on-marker"
      include = ["**/*.txt"]

      [action.params]
      marker = "TODO"
      """
    When I load the action file "markers.toml"
    Then the action has "builtin" equal to "fail-on-marker"
    And the action has "isolation" equal to "in-place"
    And the action has "command" equal to null
    And the action has "params" equal to {"marker": "TODO"}

  Scenario: built-ins are found as builtin:NAME, with their params' defaults
    When I resolve the action "builtin:count-lines" with no project
    Then the action has "name" equal to "count-lines"
    And the action has "builtin" equal to "count-lines"
    And the action has "source" equal to "builtin"
    And the action's profile layer is "action count-lines (builtin)" with {}
    When I resolve the action "builtin:fail-on-marker" with no project
    Then the action has "params" equal to {"marker": "AGENTS-FAIL"}
    And the action's snapshot reads back as the same action
    When I resolve the action "builtin:sleep" with no project
    Then the action has "params" equal to {"seconds": 1.0}

  Scenario: a bare name is looked up in the project's .agents/actions
    Given the action file "repo/.agents/actions/fmt.toml" holds
      """
      [action]
      command = ["fmt", "{files}"]
      """
    When I resolve the action "fmt" in the project "repo"
    Then the action has "name" equal to "fmt"
    And the action has "source" equal to "[tmp]/repo/.agents/actions/fmt.toml"
    When I resolve the action "[tmp]/repo/.agents/actions/fmt.toml" with no project
    Then the action has "name" equal to "fmt"

  Scenario Outline: an action that cannot be found is exit 4 with what was tried
    Given a directory "repo" with 1 files
    When I resolve the action "<ref>" in the project "repo"
    Then resolving the action fails with exit 4 and "<message>"

    Examples:
      | ref             | message                                                                                                     |
      | builtin:nope    | no built-in action 'nope' (known: builtin:count-lines, builtin:fail-on-marker, builtin:noop, builtin:replace, builtin:sleep) |
      | nope            | no action 'nope': not a file, not a built-in (builtin:NAME), not in [tmp]/repo/.agents/actions              |
      | count-lines     | (did you mean builtin:count-lines?)                                                                         |
      | [tmp]/none.toml | no action '[tmp]/none.toml': not a file                                                                     |

  Scenario: without a project only files and built-ins are searched
    When I resolve the action "nope" with no project
    Then resolving the action fails with exit 4 and "no action 'nope': not a file, not a built-in (builtin:NAME)"

  Scenario Outline: a malformed file names the file and the line
    Given the action file "lint.toml" holds
      """
      [action]
      name = "lint"
      <line>
      """
    When I load the action file "lint.toml"
    Then loading the action fails with "[tmp]/lint.toml: <message>"

    Examples:
      | line                            | message                                                      |
      | command = ruff                  | line 3, column 11: invalid TOML: Invalid value               |
      | name = "again"                  | line 3 (end of file): invalid TOML: Cannot overwrite a value |
      | name = "again"\ncommand = ["x"] | line 3, column 15: invalid TOML: Cannot overwrite a value    |
      | command = ["x",                 | line 3 (end of file): invalid TOML: Invalid value            |

  Scenario Outline: a bad field is named with what is wrong
    Given the action file "lint.toml" holds
      """
      [action]
      <body>
      """
    When I load the action file "lint.toml"
    Then loading the action fails with "[tmp]/lint.toml: <message>"

    Examples:
      | body                                                              | message                                                                                                   |
      | command = ["x"]\n[action.decompose]\nmax_depth = 99               | action.decompose.max_depth: Input should be less than or equal to 32 (got 99)                             |
      | command = ["x"]\n[action.decompose]\nsplit = 2                    | action.decompose.split: unknown field (known: strategy, max_files_per_subplan,                            |
      | command = ["x"]\ncomand = ["y"]                                   | action.comand: unknown field (known: name, description, command, builtin, params,                         |
      | command = []                                                      | action.command: must name a program to run (got an empty command)                                         |
      | command = "ruff check ."                                          | action.command: must be an argv list such as                                                              |
      | command = ["x", "--paths={files}"]                                | action.command: {files} must be a whole argument (got '--paths={files}')                                  |
      | command = ["x", "{files}", "{file}"]                              | action.command: use either {files} (one run) or {file} (a run per file), not both                         |
      | command = ["{file}"]                                              | action.command: the program cannot be a placeholder                                                       |
      | command = ["x"]\nbuiltin = "noop"                                 | action: set exactly one of command (a program to run) or builtin (a built-in's name)                      |
      | description = "nothing to run"                                    | action: set exactly one of command (a program to run) or builtin (a built-in's name)                      |
      | builtin = "nope"                                                  | action.builtin: unknown built-in 'nope' (known: count-lines, fail-on-marker, noop, replace, sleep)        |
      | builtin = "sleep"\nparams = { seconds = -1 }                      | action.params.seconds: Input should be greater than or equal to 0 (got -1)                                |
      | builtin = "sleep"\nparams = { second = 1 }                        | action.params.second: unknown parameter of builtin:sleep (known: seconds)                                 |
      | builtin = "fail-on-marker"\nparams = { marker = 3 }               | action.params.marker: Input should be a valid string (got 3)                                              |
      | command = ["x"]\nparams = { seconds = 1 }                         | action.params: only built-ins and actions with a prompt take params; pass arguments in command                               |
      | command = ["x"]\ninclude = []                                     | action.include: must list at least one glob                                                               |
      | command = ["x"]\nexclude = ["ok/**", "[z-a]"]                     | action.exclude.1: invalid glob '[z-a]'                                                                    |
      | command = ["x"]\nisolation = "docker"                             | action.isolation: must be "sandbox", "files" or "in-place" (got 'docker')                                          |
      | command = ["x"]\nscope = "x"                                      | action.scope: must be "files" or "project" (got 'x')                                                      |
      | command = ["x"]\nscope = ["a.txt"]                                | action.scope: Input should be a valid string (got ['a.txt'])                                              |
      | command = ["x"]\ntimeout_s = 0                                    | action.timeout_s: Input should be greater than or equal to 1 (got 0)                                      |
      | command = ["x"]\ntimeout_s = 60\n[action.profile]\ntimeout_s = 90 | action.profile.timeout_s: timeout_s is set both in [action] and in [action.profile]; keep one             |
      | command = ["x"]\n[action.profile]\nmax_paralel = 8                | action.profile.max_paralel: unknown profile field (known: max_parallel, failure_mode, timeout_s, retries, max_cost_usd, max_leaf_cost_usd) |
      | command = ["x"]\n[action.profile]\nmax_parallel = 33              | action.profile.max_parallel: 33 is not allowed (allowed: 1..32)                                           |
      | command = ["x"]\n[action.profile]\nfailure_mode = "never"         | action.profile.failure_mode: 'never' is not allowed (allowed: fail_fast \| continue_on_error)             |
      | command = ["x"]\nsource = "elsewhere"                             | action.source: set by agents, not in the file                                                             |
      | command = ["x"]\nname = "two words"                               | action.name: 'two words' is not a valid name                                                              |
      | name = 7\ncommand = []                                            | action.name: Input should be a valid string (got 7) (and 1 more problem)                                  |

  Scenario Outline: a file that is not an action file
    Given the action file "odd.toml" holds <content>
    When I load the action file "odd.toml"
    Then loading the action fails with "[tmp]/odd.toml: <message>"

    Examples:
      | content                           | message                                                               |
      | the text "[tool]\nx = 1"          | unknown top-level key 'tool': an action file holds one [action] table |
      | the text "# nothing"              | no [action] table (with a name and a command or builtin)              |
      | the text "[[action]]\nname = 'x'" | action must be one [action] table                                     |
      | the bytes ff fe 00                | not UTF-8 text (bad byte at offset 0)                                 |

  Scenario: a file that cannot be read
    Given a directory "dir.toml" with 1 files
    When I load the action file "dir.toml"
    Then loading the action fails with "[tmp]/dir.toml: cannot be read: Is a directory"

  Scenario: a spec built without validation still refuses timeout_s twice
    Then an unvalidated action with timeout_s set twice has no profile layer

  Scenario: the listing puts the built-ins first and lists a broken file with its error
    Given the action file "repo/.agents/actions/fmt.toml" holds
      """
      [action]
      description = "format"
      command = ["fmt", "{files}"]
      """
    And the action file "repo/.agents/actions/broken.toml" holds
      """
      [action]
      command = ["x"]
      [action.decompose]
      max_depth = 99
      """
    When I list the actions of the project "repo"
    Then the action listing is
      | name                   | source                                 | error                                                                         |
      | builtin:count-lines    | builtin                                |                                                                               |
      | builtin:fail-on-marker | builtin                                |                                                                               |
      | builtin:noop           | builtin                                |                                                                               |
      | builtin:replace        | builtin                                |                                                                               |
      | builtin:sleep          | builtin                                |                                                                               |
      | broken                 | [tmp]/repo/.agents/actions/broken.toml | action.decompose.max_depth: Input should be less than or equal to 32 (got 99) |
      | fmt                    | [tmp]/repo/.agents/actions/fmt.toml    |                                                                               |

  Scenario: a project without action files lists only the built-ins
    Given a directory "repo" with 2 files
    When I list the actions of the project "repo"
    Then the action listing has 5 entries

  Scenario: count-lines counts the lines of its files, binary and vanished ones too
    Given the project "repo" holds the files
      | path         | text            |
      | a.txt        | one\ntwo\nthree |
      | src/b.py     | x = 1\n         |
      | src/empty.md |                 |
    And the project "repo" holds the binary file "data.bin" with bytes 00 ff 0a 00 0a 01
    When the built-in "count-lines" runs on "a.txt, src/b.py, src/empty.md, data.bin" of "repo"
    Then the outcome is exit 0 with output "7 lines in 4 files"
    When the built-in "count-lines" runs on "a.txt, gone.txt" of "repo"
    Then the outcome is exit 0 with output "3 lines in 2 files (1 unreadable)"

  Scenario: fail-on-marker fails naming the files with the marker, and passes without
    Given the project "repo" holds the files
      | path      | text                  |
      | clean.txt | nothing to see        |
      | a.txt     | one\nAGENTS-FAIL here |
      | sub/b.txt | AGENTS-FAIL           |
      | todo.txt  | TODO: later           |
    And the project "repo" holds the binary file "c.bin" with bytes 00 ff 41 47 45 4e 54 53 2d 46 41 49 4c
    When the built-in "fail-on-marker" runs on "clean.txt, a.txt, sub/b.txt, c.bin, gone.txt" of "repo"
    Then the outcome is exit 1 with output "marker 'AGENTS-FAIL' found in 3 files: a.txt, sub/b.txt, c.bin"
    When the built-in "fail-on-marker" runs on "clean.txt, todo.txt, gone.txt" of "repo"
    Then the outcome is exit 0 with output "no marker in 3 files (1 unreadable)"
    When the built-in "fail-on-marker" runs on "clean.txt, todo.txt" of "repo" with params {"marker": "TODO"}
    Then the outcome is exit 1 with output "marker 'TODO' found in 1 files: todo.txt"

  Scenario: fail-on-marker names a few files, then how many more
    Given the project "repo" holds 8 files containing "AGENTS-FAIL"
    When the built-in "fail-on-marker" runs on every file of "repo"
    Then the outcome is exit 1 with output "found in 8 files: f0.txt, f1.txt, f2.txt, f3.txt, f4.txt and 3 more"

  Scenario: a marker split across two reads is still found
    Given built-in actions read files 4 bytes at a time
    And the project "repo" holds the files
      | path  | text                  |
      | a.txt | 12AGENTS-FAIL34567890 |
    When the built-in "fail-on-marker" runs on "a.txt" of "repo"
    Then the outcome is exit 1 with output "found in 1 files: a.txt"
    When the built-in "count-lines" runs on "a.txt" of "repo"
    Then the outcome is exit 0 with output "1 lines in 1 files"

  Scenario: noop does nothing and succeeds
    Given a directory "repo" with 3 files
    When the built-in "noop" runs on every file of "repo"
    Then the outcome is exit 0 with no output

  Scenario: sleep returns at once when its token is already cancelled
    Given a directory "repo" with 1 files
    And the built-in's token is already cancelled
    When the built-in "sleep" runs on every file of "repo" with params {"seconds": 3600}
    Then the outcome is exit 0 with output "woken early: cancelled"
    And the built-in's token is cancelled

  Scenario: sleep with nothing to wait for
    Given a directory "repo" with 1 files
    When the built-in "sleep" runs on every file of "repo" with params {"seconds": 0}
    Then the outcome is exit 0 with output "slept 0 s"
    And the built-in's token is not cancelled

  Scenario Outline: the reading built-ins stop at a cancelled token
    Given a directory "repo" with 3 files
    And the built-in's token is already cancelled
    When the built-in "<name>" runs on every file of "repo" with params {}
    Then the outcome is exit 1 with output "cancelled after 0 of 3 files"

    Examples:
      | name           |
      | count-lines    |
      | fail-on-marker |

  Scenario: agents action list, with and without a project
    Given the action file "repo/.agents/actions/fmt.toml" holds
      """
      [action]
      description = "format the code"
      command = ["fmt", "{files}"]
      """
    And the action file "repo/.agents/actions/broken.toml" holds
      """
      [action]
      command = "fmt"
      """
    And I ran `project add [tmp]/repo`
    When I run `action list`
    Then the exit code is 0
    And stdout contains "builtin:count-lines"
    And stdout does not contain "fmt"
    When I run `action list --project repo`
    Then the exit code is 0
    And stdout contains "format the code"
    And stdout contains "error: action.command: must be an argv list"
    When I run `action list --project repo --json`
    Then the JSON document is a list of 7
    And the JSON document has the fields name, source, description, error
    And the JSON document has "0.name" equal to "builtin:count-lines"
    And the JSON document has "5.name" equal to "broken"
    And the JSON document has "6.name" equal to "fmt"
    And the JSON document has "6.source" equal to "[tmp]/repo/.agents/actions/fmt.toml"
    And the JSON document has "6.error" equal to null
    When I run `action list --json`
    Then the JSON document is a list of 5

  Scenario: agents action show, readable and as JSON
    Given the action file "repo/.agents/actions/fmt.toml" holds
      """
      [action]
      command = ["fmt", "{files}"]
      timeout_s = 30

      [action.profile]
      max_parallel = 2
      """
    And I ran `project add [tmp]/repo`
    When I run `action show fmt --project repo`
    Then the exit code is 0
    And stdout contains "command"
    And stdout contains "["fmt", "{files}"]"
    And stdout contains "decompose.max_depth"
    And stdout contains "scope"
    And stdout contains "profile.max_parallel"
    And stdout contains "[tmp]/repo/.agents/actions/fmt.toml"
    When I run `action show fmt --project repo --json`
    Then the JSON document has the fields name, command, builtin, params, include, exclude, isolation, scope, timeout_s, decompose, profile, source
    And the JSON document has "profile.max_parallel" equal to 2
    And the JSON document has "source" equal to "[tmp]/repo/.agents/actions/fmt.toml"
    When I run `action show [tmp]/repo/.agents/actions/fmt.toml --json`
    Then the JSON document has "timeout_s" equal to 30
    When I run `action show builtin:fail-on-marker`
    Then the exit code is 0
    And stdout contains "params"
    And stdout contains "AGENTS-FAIL"
    And stdout contains "profile"
    When I run `action show builtin:noop --json`
    Then the JSON document has "builtin" equal to "noop"
    And the JSON document has "source" equal to "builtin"

  Scenario Outline: agents action with bad input: one line and the right exit code
    Given the action file "bad.toml" holds
      """
      [action]
      command = ["x"]
      isolation = "docker"
      """
    When I run `<command>`
    Then the exit code is <code>
    And stderr is one line containing "<message>"

    Examples:
      | command                        | code | message                                                              |
      | action show [tmp]/missing.toml | 4    | no action '[tmp]/missing.toml': not a file                           |
      | action show builtin:nope       | 4    | no built-in action 'nope'                                            |
      | action show fmt --project nope | 4    | no project named 'nope'                                              |
      | action list --project nope     | 4    | no project named 'nope'                                              |
      | action show [tmp]/bad.toml     | 2    | [tmp]/bad.toml: action.isolation: must be "sandbox", "files" or "in-place"   |
