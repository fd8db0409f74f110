Feature: Discovering a project's files
  A plan works on the project's files as its user expects them: what git would show (its ignore
  rules applied, nested .gitignore files included), never git's or the tool's own state, nothing
  reached through a symlinked directory, then narrowed by the action's include and exclude globs.

  Scenario: the root .gitignore drops files and directories, and negation keeps one back
    Given a project tree with the files
      | path               |
      | README.md          |
      | app.log            |
      | keep.log           |
      | logs/old.log       |
      | build/out.bin      |
      | src/main.py        |
      | src/build/gen.py   |
      | docs/build         |
      | tmp/scratch.txt    |
      | src/tmp/notes.txt  |
    And the project file ".gitignore" reads
      """
      # generated output
      *.log
      !keep.log
      build/
      /tmp
      """
    When discovering files
    Then the discovered files are
      | path              |
      | .gitignore        |
      | README.md         |
      | docs/build        |
      | keep.log          |
      | src/main.py       |
      | src/tmp/notes.txt |

  Scenario: a nested .gitignore applies to its own directory and below, anchored there
    Given a project tree with the files
      | path                     |
      | gen.py                   |
      | src/gen.py               |
      | src/pkg/gen.py           |
      | src/cache/a.txt          |
      | src/pkg/cache/b.txt      |
      | lib/cache/c.txt          |
      | src/pkg/report.md        |
      | src/pkg/keep/report.md   |
    And the project file ".gitignore" reads
      """
      *.md
      """
    And the project file "src/.gitignore" reads
      """
      /gen.py
      cache/
      """
    And the project file "src/pkg/keep/.gitignore" reads
      """
      !report.md
      """
    When discovering files
    Then the discovered files are
      | path                    |
      | .gitignore              |
      | gen.py                  |
      | lib/cache/c.txt         |
      | src/.gitignore          |
      | src/pkg/gen.py          |
      | src/pkg/keep/.gitignore |
      | src/pkg/keep/report.md  |

  Scenario: an ignored directory is not entered, but "dir/**" leaves room to re-include
    Given a project tree with the files
      | path                 |
      | vendor/lib.py        |
      | assets/logo.png      |
      | assets/keep/icon.png |
      | assets/readme.txt    |
    And the project file ".gitignore" reads
      """
      vendor/
      assets/**
      !assets/keep/
      !assets/keep/**
      !assets/readme.txt
      """
    And the project file "vendor/.gitignore" reads
      """
      !*
      """
    When discovering files
    Then the discovered files are
      | path                 |
      | .gitignore           |
      | assets/keep/icon.png |
      | assets/readme.txt    |

  Scenario: "dir/**/" means the directories inside; directory names are never read as globs
    Given a project tree with the files
      | path              |
      | cache/top.txt     |
      | cache/sub/x.txt   |
      | src/main.py       |
      | src/gen/out.py    |
      | [v1] #draft/a.tmp |
      | [v1] #draft/a.txt |
      | v #draft/b.tmp    |
    And the project file ".gitignore" reads
      """
      cache/**/
      """
    And the project file "src/.gitignore" reads
      """
      **/
      """
    And the project file "[v1] #draft/.gitignore" reads
      """
      *.tmp
      """
    When discovering files
    Then the discovered files are
      | path                   |
      | .gitignore             |
      | [v1] #draft/.gitignore |
      | [v1] #draft/a.txt      |
      | cache/top.txt          |
      | src/.gitignore         |
      | src/main.py            |
      | v #draft/b.tmp         |

  Scenario: .git/info/exclude is honoured; .git anywhere and the root's .agents are never listed
    Given a project tree with the files
      | path                 |
      | .git/HEAD            |
      | .git/objects/ab/cdef |
      | .agents/state.db     |
      | notes.txt            |
      | secrets.env          |
      | src/app.py           |
      | src/.agents/kept.txt |
      | vendor/sub/.git      |
      | vendor/sub/mod.py    |
    And the project file ".git/info/exclude" reads
      """
      *.env
      /notes.txt
      """
    When discovering files
    Then the discovered files are
      | path                 |
      | src/.agents/kept.txt |
      | src/app.py           |
      | vendor/sub/mod.py    |

  Scenario: symlinked directories are never followed; symlinked files count only inside the project
    Given a project tree with the files
      | path        |
      | src/main.py |
      | .git/config |
    And the files outside the project
      | path           |
      | shared/lib.py  |
      | secret.txt     |
    And the project link "outside" points to "[outside]/shared"
    And the project link "src/loop" points to ".."
    And the project link "self" points to "self"
    And the project link "alias.py" points to "src/main.py"
    And the project link "leak.txt" points to "[outside]/secret.txt"
    And the project link "gitconfig" points to ".git/config"
    And the project link "dangling.py" points to "src/missing.py"
    When discovering files
    Then the discovered files are
      | path        |
      | alias.py    |
      | src/main.py |

  Scenario: include and exclude globs select from what is left, relative to the root
    Given a project tree with the files
      | path                  |
      | setup.py              |
      | README.md             |
      | src/pkg/core.py       |
      | src/pkg/core.pyi      |
      | tests/test_core.py    |
      | src/generated/api.py  |
    When discovering files with the globs
      | include  | exclude          |
      | **/*.py  | tests/           |
      | *.md     | **/generated/**  |
    Then the discovered files are
      | path            |
      | README.md       |
      | setup.py        |
      | src/pkg/core.py |

  Scenario: a directory that cannot be listed is skipped, the rest is still found
    Given a project tree with the files
      | path             |
      | open/a.py        |
      | locked/b.py      |
      | z.py             |
    And the project directory "locked" cannot be read
    When discovering files as an unprivileged user
    Then the discovered files are
      | path      |
      | open/a.py |
      | z.py      |

  Scenario: the list is sorted by path and the same every time
    Given a project tree with the files
      | path    |
      | b/z.txt |
      | a/b     |
      | a.b     |
      | a-b     |
      | B.txt   |
      | a/a/a   |
    When discovering files
    Then the discovered files are
      | path    |
      | B.txt   |
      | a-b     |
      | a.b     |
      | a/a/a   |
      | a/b     |
      | b/z.txt |
    And discovering the files again gives the same list

  Scenario Outline: a bad root or a malformed glob is refused with one clear line
    Given a project tree with the files
      | path      |
      | plain.txt |
    When discovering files in "<root>" including "<include>"
    Then the discovery fails with "<message>"

    Examples:
      | root              | include | message                                   |
      | project/missing   | **/*    | project root [tmp]/project/missing does not exist |
      | project/plain.txt | **/*    | project root [tmp]/project/plain.txt is not a directory |
      | project           | [z-a]   | invalid include glob '[z-a]'              |
      | project           | !       | invalid include glob '!'                  |
