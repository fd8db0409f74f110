Feature: Any file name works
  A name that is not UTF-8 reaches a command as its own bytes, is recorded, shown, diffed and
  applied byte for byte; a name with a newline is listed NUL-separated when the action asks for
  it, and refused with one clear line when the list is one name per line.

  Background:
    Given the project "repo" holds a file named b"bad\xff.txt" with the bytes b"hello  \n"
    And the project "repo" holds a file named b"bad\\xff.txt" with the bytes b"literal  \n"
    And the project "repo" holds a file named b"good.txt" with the bytes b"ok  \n"
    And I ran `project add [tmp]/repo`

  Scenario: a command gets a name that is not UTF-8 as its bytes; diff, apply and --json round-trip it
    Given an action file "append.toml" that appends a line to each of its files
    And the project "repo" is a git repository with everything committed
    When I run `plan run --project repo --action [tmp]/append.toml`
    Then the exit code is 0
    And the command got the arguments b"bad\\xff.txt", b"bad\xff.txt", b"good.txt"
    And the files list the command got is b"bad\\xff.txt\nbad\xff.txt\ngood.txt\n"
    And the plan recorded changes to the files named b"bad\xff.txt", b"bad\\xff.txt", b"good.txt"
    And the project "repo" is byte for byte as it was
    When I run `plan diff [plan]`
    Then the exit code is 0
    And stdout contains "diff --git "a/bad\377.txt" "b/bad\377.txt""
    And stdout contains "diff --git "a/bad\\xff.txt" "b/bad\\xff.txt""
    And `git apply --check` accepts the diff in the project "repo"
    And after `git apply` of the diff a copy of the project "repo" holds what the plan recorded
    When I run `plan diff [plan] --stat`
    Then stdout contains " "bad\377.txt" | +1 -0"
    And stdout contains " bad\xff.txt   | +1 -0"
    When I run `plan diff [plan] --json`
    Then the JSON document has "0.path" equal to "//bad\\xff.txt"
    And the JSON document has "1.path" equal to "bad\\xff.txt"
    When I run `plan status [plan] --json`
    Then the JSON document has "subplans.0.files" equal to ["bad\\xff.txt", "//bad\\xff.txt", "good.txt"]
    When I run `plan apply [plan] --dry-run`
    Then stdout contains "would write modified "bad\377.txt""
    When I run `plan apply [plan] --json`
    Then the exit code is 0
    And the JSON document has "paths.0.path" equal to "//bad\\xff.txt"
    And the project's file named b"bad\xff.txt" in "repo" holds b"hello  \nadded\n"
    And the project's file named b"bad\\xff.txt" in "repo" holds b"literal  \nadded\n"
    And the project "repo" holds exactly the files named b".git", b"bad\xff.txt", b"bad\\xff.txt", b"good.txt"

  Scenario: a conflict on a name that is not UTF-8 is named in its quoted and its stored forms
    Given an action file "append.toml" that appends a line to each of its files
    When I run `plan run --project repo --action [tmp]/append.toml`
    And the project "repo" holds a file named b"bad\xff.txt" with the bytes b"changed meanwhile\n"
    And I run `plan apply [plan]`
    Then the exit code is 3
    And stderr contains "conflict: "bad\377.txt": "
    And stderr contains "1 conflicting path ("bad\377.txt"); nothing was written"
    When I run `plan apply [plan] --json`
    Then the exit code is 3
    And the JSON document has "conflicts.0.path" equal to "//bad\\xff.txt"

  Scenario: builtin:replace edits a file whose name is not UTF-8
    When I run `plan run --project repo --action builtin:replace`
    Then the exit code is 0
    And the plan recorded changes to the files named b"bad\xff.txt", b"bad\\xff.txt", b"good.txt"
    When I run `plan diff [plan]`
    Then stdout contains "+++ "b/bad\377.txt""
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file named b"bad\xff.txt" in "repo" holds b"hello\n"
    And the project's file named b"good.txt" in "repo" holds b"ok\n"

  Scenario: with files_separator "nul" a name holding a newline is listed and runs
    Given the project "repo" holds a file named b"two\nlines.txt" with the bytes b"two  \n"
    And an action file "append.toml" that appends a line to each of its files, listed NUL-separated
    When I run `plan run --project repo --action [tmp]/append.toml`
    Then the exit code is 0
    And the files list the command got is b"bad\\xff.txt\0bad\xff.txt\0good.txt\0two\nlines.txt\0"
    And the command got the arguments b"bad\\xff.txt", b"bad\xff.txt", b"good.txt", b"two\nlines.txt"
    When I run `plan diff [plan] --stat`
    Then stdout contains " "two\nlines.txt" | +1 -0"
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file named b"two\nlines.txt" in "repo" holds b"two  \nadded\n"

  Scenario: with the default separator a name holding a newline fails its leaf with one clear line
    Given the project "repo" holds a file named b"two\nlines.txt" with the bytes b"two\n"
    And an action file "append.toml" that appends a line to each of its files
    When I run `plan run --project repo --action [tmp]/append.toml`
    Then the exit code is 1
    And stdout contains "failed .: file name with a newline: "two\nlines.txt": $AGENTS_FILES_FILE lists one name per line; set files_separator = "nul" in the action to run such names"
    And the command never ran
    And the project "repo" is byte for byte as it was

  Scenario: files_separator is checked when the action is loaded
    Given the action file "tab.toml" holds
      """
      [action]
      command = ["true"]
      files_separator = "tab"
      """
    And the action file "builtin.toml" holds
      """
      [action]
      builtin = "count-lines"
      files_separator = "nul"
      """
    And the action file "nul.toml" holds
      """
      [action]
      command = ["true"]
      files_separator = "nul"
      """
    When I run `action show [tmp]/tab.toml`
    Then the exit code is 2
    And stderr is one line containing "tab.toml: action.files_separator: must be "newline" or "nul" (got 'tab')"
    When I run `action show [tmp]/builtin.toml`
    Then the exit code is 2
    And stderr is one line containing "action.files_separator: only command actions get a files list"
    When I run `action show [tmp]/nul.toml`
    Then the exit code is 0
    And stdout contains "files_separator "
    And stdout contains " nul"

  Scenario: a directory that is not UTF-8 labels its subplans; failures naming such files are kept and shown
    Given the project "tree" holds a file named b"d\xfe/f1\xff" with the bytes b"AGENTS-FAIL\n"
    And the project "tree" holds a file named b"d\xfe/f2\xff" with the bytes b"AGENTS-FAIL\n"
    And the project "tree" holds a file named b"ok/f3" with the bytes b"fine\n"
    And I ran `project add [tmp]/tree`
    And the action file "marker.toml" holds
      """
      [action]
      builtin = "fail-on-marker"
      [action.decompose]
      max_files_per_subplan = 1
      min_files_per_subplan = 1
      [action.profile]
      failure_mode = "continue_on_error"
      """
    When I run `plan run --project tree --action [tmp]/marker.toml --json`
    Then the exit code is 1
    And each line of stdout is JSON holding no lone surrogate
    When I run `plan status [plan]`
    Then stdout contains "error: exit code 1: marker 'AGENTS-FAIL' found in 1 files: d\xfe/f1\xff"
    And stdout contains "  failed    d\xfe (1/2)"
    When I run `plan show [plan]`
    Then stdout contains "d\xfe (2/2)  (1 file)  failed"
    When I run `plan status [plan] --json`
    Then the JSON document has "subplans.1.label" equal to "d\\xfe"
    And the JSON document has "subplans.2.files" equal to ["//d\\xfe/f1\\xff"]

  Scenario Outline: the path codec: stored text, display and prose of <name>
    When the file name <name> is stored, shown and written as prose
    Then its stored text is <stored>, read back as the same bytes
    And it is shown as <shown> and written as prose <prose>

    Examples: each value a Python literal
      | name            | stored              | shown               | prose             |
      | b"plain.txt"    | "plain.txt"         | "plain.txt"         | "plain.txt"       |
      | b"caf\xc3\xa9"  | "caf\u00e9"         | "caf\u00e9"         | "caf\u00e9"       |
      | b"bad\xff.txt"  | "//bad\\xff.txt"    | '"bad\\377.txt"'    | "bad\\xff.txt"    |
      | b"a\\b\xfe"     | "//a\\\\b\\xfe"     | '"a\\\\b\\376"'     | "a\\b\\xfe"       |
      | b"bad\\xff.txt" | "bad\\xff.txt"      | "bad\\xff.txt"      | "bad\\xff.txt"    |
      | b"tab\there"    | "tab\there"         | '"tab\\there"'      | "tab\there"       |
      | b"\x1b[31m"     | "\x1b[31m"          | '"\\033[31m"'       | "\x1b[31m"        |
      | b"\"quoted"     | "\"quoted"          | '"\\"quoted"'       | "\"quoted"        |
      | b"/abs\\x"      | "/abs\\x"           | "/abs\\x"           | "/abs\\x"         |
      | b"//dbl\\x"     | "////dbl\\\\x"      | "//dbl\\x"          | "//dbl\\x"        |
      | b"\xed\xa0\x80" | "//\\xed\\xa0\\x80" | '"\\355\\240\\200"' | "\\xed\\xa0\\x80" |
      | b"nl\xc2\x85"   | "nl\x85"            | '"nl\\302\\205"'    | "nl\x85"          |

  Scenario: a string with a surrogate that stands for no byte is no file name; escapes that spell UTF-8 are that text
    Then the string "lone\ud800" is no file name: prose "lone\\ud800", shown as '"lone\\355\\240\\200"'
    And the string "caf\udcc3\udca9" is stored as "caf\u00e9"

  Scenario Outline: a stored text no path gives is refused: <text>
    Then the stored text <text> is refused as a path

    Examples: each value a Python literal
      | text        |
      | "//a\\"     |
      | "//a\\x41"  |
      | "//\\q"     |
