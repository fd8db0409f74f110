Feature: Git-style patches
  A changed file renders as the patch `git diff --binary` would print for it, so the real git can
  apply it. Each scenario describes a base tree and a target tree with exact bytes and modes,
  renders one patch per changed file, and has `git apply --check` and `git apply` turn the base
  into the target byte for byte (and `git apply -R` turn it back). Step texts escape bytes as
  \n, \r, \t, \\ and \xNN.

  Scenario: a patch of far-apart edits has one hunk per edit and applies both ways
    Given a patch base file "notes.txt" with 60 numbered lines
    And the patch target file "notes.txt" has lines 3,30 rewritten
    And the patch target file "notes.txt" has lines 45 removed
    And the patch target file "notes.txt" has lines 55 followed by a new line
    When the patches are rendered
    Then the patch has 4 hunks
    And the patch has the line "@@ -1,6 +1,6 @@"
    And the patch has the line "@@ -42,7 +42,6 @@"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats of "notes.txt" are +3 -3

  Scenario: a patch joins nearby edits into one hunk unless the context is narrow
    Given a patch base file "notes.txt" with 20 numbered lines
    And the patch target file "notes.txt" has lines 10,14 rewritten
    When the patches are rendered
    Then the patch has 1 hunks
    And the patch is byte for byte what git diff prints
    When the patches are rendered with 1 lines of context
    Then the patch has 2 hunks
    And the patch has the line "@@ -9,3 +9,3 @@"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly

  Scenario: a patch creates a text file with "-0,0" as its old range
    Given a patch base file "keep.txt" with the text "kept\n"
    And the patch target file "docs/new.txt" has the text "hello\nworld\n"
    When the patches are rendered
    Then the patch has the line "new file mode 100644"
    And the patch has the line "--- /dev/null"
    And the patch has the line "+++ b/docs/new.txt"
    And the patch has the line "@@ -0,0 +1,2 @@"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints

  Scenario: a patch creates an executable script
    Given the patch target file "bin/run.sh" has the text "#!/bin/sh\necho hi\n"
    And the patch target file "bin/run.sh" is made executable
    When the patches are rendered
    Then the patch has the line "new file mode 100755"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch is byte for byte what git diff prints

  Scenario: a patch deletes a text file and an executable one
    Given a patch base file "old.txt" with the text "one\ntwo\n"
    And a patch base file "tools/old.sh" with the text "#!/bin/sh\n"
    And the patch base file "tools/old.sh" is executable
    And the patch target file "old.txt" is deleted
    And the patch target file "tools/old.sh" is deleted
    When the patches are rendered
    Then the patch has the line "deleted file mode 100644"
    And the patch has the line "deleted file mode 100755"
    And the patch has the line "+++ /dev/null"
    And the patch has the line "@@ -1,2 +0,0 @@"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats of "old.txt" are +0 -2

  Scenario: a patch creates and deletes empty files with no hunk, as git does
    Given a patch base file "gone.txt" with the text ""
    And the patch target file "gone.txt" is deleted
    And the patch target file "pkg/__init__.py" has the text ""
    When the patches are rendered
    Then the patch has the line "index 0000000..e69de29"
    And the patch has the line "index e69de29..0000000"
    And the patch has 0 hunks
    And the patch does not contain "---"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints

  Scenario Outline: a patch marks a last line without a newline (<case>)
    Given a patch base file "t.txt" with the text "<old>"
    And the patch target file "t.txt" has the text "<new>"
    When the patches are rendered
    Then the patch has the line "<marker>"
    And the patch has the line "<range>"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats match git diff --numstat

    Examples:
      | case                     | old          | new           | marker                       | range           |
      | old side only            | a\nb         | a\nb\n        | \\ No newline at end of file | @@ -1,2 +1,2 @@ |
      | new side only            | a\nb\n       | a\nc          | \\ No newline at end of file | @@ -1,2 +1,2 @@ |
      | both sides               | a\nb         | a\nc          | \\ No newline at end of file | @@ -1,2 +1,2 @@ |
      | unchanged last line      | x\ny\nz\nw   | X\ny\nz\nw    | \\ No newline at end of file | @@ -1,4 +1,4 @@ |
      | one line each            | only         | other         | \\ No newline at end of file | @@ -1 +1 @@     |

  Scenario: a patch empties a file and fills an empty one
    Given a patch base file "full.txt" with the text "a\nb\nc\n"
    And a patch base file "empty.txt" with the text ""
    And the patch target file "full.txt" has the text ""
    And the patch target file "empty.txt" has the text "a\n"
    When the patches are rendered
    Then the patch has the line "@@ -1,3 +0,0 @@"
    And the patch has the line "@@ -0,0 +1 @@"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats match git diff --numstat

  Scenario: a patch keeps CRLF line endings byte for byte
    Given a patch base file "win.txt" with the text "one\r\ntwo\r\nthree\r\nfour\r\n"
    And the patch target file "win.txt" has the text "one\r\n2\r\nthree\nfour\r\nfive\r"
    When the patches are rendered
    Then the patch has the line "-two\r"
    And the patch has the line "+five\r"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats match git diff --numstat

  Scenario: a patch of a mode change alone has mode lines and no hunk
    Given a patch base file "run.sh" with the text "#!/bin/sh\n"
    And a patch base file "was-exec.sh" with the text "#!/bin/sh\n"
    And the patch base file "was-exec.sh" is executable
    And the patch target file "run.sh" is made executable
    And the patch target file "was-exec.sh" is made not executable
    When the patches are rendered
    Then the patch has the line "old mode 100644"
    And the patch has the line "new mode 100755"
    And the patch has 0 hunks
    And the patch does not contain "index"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats match git diff --numstat

  Scenario: a patch of a content and mode change has both
    Given a patch base file "run.sh" with the text "#!/bin/sh\necho one\n"
    And the patch target file "run.sh" has the text "#!/bin/sh\necho two\n"
    And the patch target file "run.sh" is made executable
    When the patches are rendered
    Then the patch has the line "new mode 100755"
    And the patch has 1 hunks
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints

  Scenario: a patch of a binary file carries literal hunks both ways
    Given a patch base file "data/blob.bin" with 1001 random bytes from seed 1
    And a patch base file "tiny.bin" with the text "\x00\x01\x02"
    And the patch target file "data/blob.bin" has 777 random bytes from seed 2
    And the patch target file "tiny.bin" has the text "\x00\x01\x02\x03\x04"
    When the patches are rendered
    Then the patch has the line "GIT binary patch"
    And the patch has the line "literal 777"
    And the patch has the line "literal 1001"
    And the patch has the line "literal 5"
    And the patch has 0 hunks
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff --binary prints
    And the patch line stats match git diff --numstat
    And the patch line stats of "tiny.bin" are +0 -0

  Scenario: a patch creates and deletes binary files
    Given a patch base file "old.bin" with 130 random bytes from seed 3
    And the patch target file "old.bin" is deleted
    And the patch target file "new/new.bin" has 57 random bytes from seed 4
    And the patch target file "new/new.bin" is made executable
    When the patches are rendered
    Then the patch has the line "literal 0"
    And the patch has the line "HcmV?d00001"
    And the patch has the line "new file mode 100755"
    And the patch has the line "deleted file mode 100644"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch line stats match git diff --numstat
    And the patch is byte for byte what git diff --binary prints

  Scenario: a patch of a binary file that only changes mode has no binary hunk
    Given a patch base file "tool.bin" with 300 random bytes from seed 5
    And the patch target file "tool.bin" is made executable
    When the patches are rendered
    Then the patch does not contain "GIT binary patch"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch is byte for byte what git diff prints

  Scenario: a patch treats bytes that are not UTF-8 as binary
    Given a patch base file "latin1.txt" with the text "caf\xe9\n"
    And a patch base file "turns-latin1.txt" with the text "plain text\n"
    And the patch target file "latin1.txt" has the text "caf\xe9s\n"
    And the patch target file "turns-latin1.txt" has the text "plain t\xe9xt\n"
    When the patches are rendered
    Then the patch has the line "GIT binary patch"
    And the patch has 0 hunks
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch line stats of "latin1.txt" are +0 -0

  Scenario: a patch of text with a NUL past the first 8000 bytes is a text patch
    Given a patch base file "late-nul.txt" with 8000 bytes of "a" then the text "\x00\nsecond\n"
    And the patch target file "late-nul.txt" has 8000 bytes of "a" then the text "\x00\nsecond line\n"
    When the patches are rendered
    Then the patch does not contain "GIT binary patch"
    And the patch has 1 hunks
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints

  Scenario: a patch of a path with spaces leaves it unquoted
    Given a patch base file "my notes/to do.txt" with the text "buy milk\n"
    And the patch target file "my notes/to do.txt" has the text "buy milk\nbuy eggs\n"
    When the patches are rendered
    Then the patch has the line "diff --git a/my notes/to do.txt b/my notes/to do.txt"
    And the patch has the line "--- a/my notes/to do.txt\t"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints

  Scenario: a patch quotes a non-ASCII path with octal escapes
    Given a patch base file "café.txt" with the text "crème\n"
    And the patch target file "café.txt" has the text "crème brûlée\n"
    And the patch target file "résumé/é.txt" has the text "new\n"
    When the patches are rendered
    Then the patch has the line "diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt""
    And the patch has the line "+++ "b/r\\303\\251sum\\303\\251/\\303\\251.txt""
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats match git diff --numstat

  Scenario: a patch quotes tabs, double quotes and backslashes in a path
    Given a patch base file "odd\tname \x22q\x22 \x5c.txt" with the text "x\n"
    And a patch base file "bell\x07.txt" with the text "ring\n"
    And the patch target file "odd\tname \x22q\x22 \x5c.txt" has the text "y\n"
    And the patch target file "bell\x07.txt" is deleted
    When the patches are rendered
    Then the patch has the line "diff --git "a/odd\\tname \\"q\\" \\\\.txt" "b/odd\\tname \\"q\\" \\\\.txt""
    And the patch has the line "--- "a/bell\\a.txt""
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints

  Scenario: a patch reaches into nested directories and empties one
    Given a patch base file "src/pkg/deep/module.txt" with 12 numbered lines
    And a patch base file "src/pkg/other/last.txt" with the text "last\n"
    And the patch target file "src/pkg/deep/module.txt" has lines 6 rewritten
    And the patch target file "src/pkg/other/last.txt" is deleted
    And the patch target file "src/pkg/new/deeper/still/file.txt" has the text "deep\n"
    When the patches are rendered
    Then the patch has the line "diff --git a/src/pkg/deep/module.txt b/src/pkg/deep/module.txt"
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats match git diff --numstat

  Scenario: a patch of an unchanged file is empty
    Given a patch base file "same.txt" with the text "same\n"
    And the patch target file "same.txt" has the text "same\n"
    When the patches are rendered
    Then the patch is empty
    And the patch of a file absent on both sides is empty

  Scenario: a patch's line stats agree with git diff --numstat across kinds of change
    Given a patch base file "edit.txt" with 40 numbered lines
    And a patch base file "drop.txt" with the text "a\nb\nc\n"
    And a patch base file "crlf.txt" with the text "a\r\nb\r\n"
    And a patch base file "mode.sh" with the text "#!/bin/sh\n"
    And a patch base file "blob.bin" with 200 random bytes from seed 6
    And the patch target file "edit.txt" has lines 2,20 rewritten
    And the patch target file "edit.txt" has lines 30,31,32 removed
    And the patch target file "edit.txt" has lines 10 followed by a new line
    And the patch target file "drop.txt" is deleted
    And the patch target file "crlf.txt" has the text "a\r\nB\r\nc"
    And the patch target file "mode.sh" is made executable
    And the patch target file "blob.bin" has 90 random bytes from seed 7
    And the patch target file "add.txt" has the text "1\n2\n3\n4\n"
    When the patches are rendered
    Then the patch line stats match git diff --numstat
    And the patch line stats of "edit.txt" are +3 -5
    And the patch line stats of "crlf.txt" are +2 -1
    And the patch line stats of "blob.bin" are +0 -0
    And the patch passes git apply --check and git apply turns the base into the target exactly

  Scenario Outline: a patch sniffs binary content the way git does (<case>)
    Then the patch sniffer calls <count> bytes of "<fill>" then "<text>" <verdict>

    Examples:
      | case                            | count | fill | text                 | verdict |
      | plain text                      | 0     | a    | hello\n              | text    |
      | a lone NUL                      | 0     | a    | \x00                 | binary  |
      | NUL as the 8000th byte          | 7999  | a    | \x00                 | binary  |
      | NUL as the 8001st byte          | 8000  | a    | \x00                 | text    |
      | invalid UTF-8 past the window   | 8000  | a    | \xff                 | binary  |
      | valid UTF-8                     | 0     | a    | caf\xc3\xa9          | text    |
      | Latin-1                         | 0     | a    | caf\xe9              | binary  |
      | UTF-8 with a byte order mark    | 0     | a    | \xef\xbb\xbfbom      | text    |
      | truncated UTF-8 sequence        | 0     | a    | ok\xc3               | binary  |
      | UTF-16 with its NULs            | 0     | a    | \xff\xfeh\x00i\x00   | binary  |
      | an encoded surrogate            | 0     | a    | \xed\xa0\x80         | binary  |
      | control characters and CRLF     | 100   | \r\n | \x01\x1b[0m\x7f      | text    |

  Scenario: a patch sniffer looks as far as git does, and names blobs and modes like git
    Then the patch sniffer looks at the first 8000 bytes
    And the patch blob name of "" is what git hash-object prints
    And the patch blob name of "hello\n" is what git hash-object prints
    And the patch blob name of "\x00\xff\r\n" is what git hash-object prints
    And the patch mode of None is "100644"
    And the patch mode of 644 is "100644"
    And the patch mode of 755 is "100755"
    And the patch mode of 100 is "100755"
    And the patch mode of 100664 is "100644"
    And the patch mode of 100754 is "100755"

  Scenario: a repetitive file diffs as git diff --no-index does, whichever copy changed
    Given a patch base file "same.txt" with 5000 copies of the line "the same line, again and again"
    And a patch base file "shifted.txt" with 5000 copies of the line "x = 1"
    And the patch target file "same.txt" has line 2500 changed to "the one line that differs"
    And the patch target file "shifted.txt" has lines 1000 removed
    And the patch target file "shifted.txt" has lines 3000,4000 rewritten
    And the patch target file "shifted.txt" has lines 10 followed by a new line
    When the patches are rendered
    Then the patch has the line "@@ -2497,7 +2497,7 @@"
    And the patch hunks of "same.txt" are what git diff --no-index prints
    And the patch line stats of "same.txt" are what git diff --no-index --numstat prints
    And the patch line stats of "same.txt" are +1 -1
    And the patch hunks of "shifted.txt" are what git diff --no-index prints
    And the patch line stats of "shifted.txt" are what git diff --no-index --numstat prints
    And the patch line stats of "shifted.txt" are +3 -3
    And the patch passes git apply --check and git apply turns the base into the target exactly
    And the patch reversed with git apply -R turns the target back into the base exactly
    And the patch is byte for byte what git diff prints
    And the patch line stats match git diff --numstat

  Scenario: a patch shows an insertion among repeated lines where git shows it
    Given a patch base file "braces.c" with the text "}\n\nfoo\n}\n"
    And the patch target file "braces.c" has the text "}\n\nbar\n}\n\nfoo\n}\n"
    When the patches are rendered
    Then the patch has the line "@@ -1,4 +1,7 @@"
    And the patch hunks of "braces.c" are what git diff --no-index prints
    And the patch is byte for byte what git diff prints
    And the patch line stats match git diff --numstat

  Scenario: a patch of two unrelated files of repeated lines stops searching early, as git does
    Given a patch base file "noise.txt" with 3000 lines of 4 kinds from seed 1
    And a patch base file "sparse.txt" with 3000 lines of 200000 kinds from seed 3
    And the patch target file "noise.txt" has 3000 lines of 4 kinds from seed 2
    And the patch target file "sparse.txt" has 2500 lines of 200000 kinds from seed 4
    When the patches are rendered
    Then the patch hunks of "noise.txt" are what git diff --no-index prints
    And the patch line stats of "noise.txt" are what git diff --no-index --numstat prints
    And the patch hunks of "sparse.txt" are what git diff --no-index prints
    And the patch line stats of "sparse.txt" are what git diff --no-index --numstat prints
    And the patch passes git apply --check and git apply turns the base into the target exactly

  Scenario Outline: a patch places changes in code where git does (seed <seed>)
    Given a patch base file "code.py" with 400 code-like lines from seed <seed>
    And the patch target file "code.py" has 40 code-like edits from seed <seed>
    When the patches are rendered
    Then the patch hunks of "code.py" are what git diff --no-index prints
    And the patch line stats of "code.py" are what git diff --no-index --numstat prints

    Examples:
      | seed |
      | 1    |
      | 2    |
      | 3    |
      | 4    |
