Feature: Whole-project workspaces: a leaf sees the project as it is, and only what git would show is recorded
  With isolation = "sandbox" each leaf runs where it sees every file of the project at the
  project's own path (an overlay), or in a full copy of it (the fallback); nothing it does
  reaches the project before `plan apply`. What is recorded is what `git status` would show.

  Background:
    Given the project "repo" holds the files
      | path          | text               |
      | a.txt         | one\ntwo\nthree\n  |
      | b.txt         | bee\n              |
      | docs/keep.md  | keep\n             |
      | docs/more.md  | more\n             |
      | .gitignore    | *.log\n.state/\n   |
      | .state/cache  | old\n              |
    And I ran `project add [tmp]/repo`

  Scenario: a leaf reads files that are not its own, and the project is untouched until apply
    Given the action "cat.toml" for the files "docs/**" running
      """
      cat b.txt >> docs/keep.md
      """
    When I run `plan run --project repo --action [tmp]/cat.toml`
    Then the exit code is 0
    And the project "repo" is byte for byte as it was
    And the plan's recorded changes are
      | path         | change   | mode |
      | docs/keep.md | modified | 644  |
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file "docs/keep.md" holds "keep\nbee\n"

  Scenario: the same action in a workspace of its files only does not see the others
    Given the action "cat.toml" for the files "docs/**" running
      """
      cat b.txt >> docs/keep.md
      """
    And the action "cat.toml" has isolation "files"
    When I run `plan run --project repo --action [tmp]/cat.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "b.txt"

  Scenario: a directory removed, and one removed and made again, are deletions of every file it held
    Given a sandboxed action "rm.toml" running
      """
      rm -r docs; mkdir docs; printf 'new\n' > docs/new.md; rm b.txt; mkdir b.txt; printf 'in\n' > b.txt/inner
      """
    When I run `plan run --project repo --action [tmp]/rm.toml`
    Then the exit code is 0
    And the project "repo" is byte for byte as it was
    And the plan's recorded changes are
      | path         | change   | mode |
      | b.txt        | deleted  |      |
      | b.txt/inner  | created  | 644  |
      | docs/keep.md | deleted  |      |
      | docs/more.md | deleted  |      |
      | docs/new.md  | created  | 644  |

  Scenario: caches, bytecode and ignored files are not recorded, whoever ignores them
    Given a sandboxed action "cache.toml" running
      """
      mkdir -p .tool_cache/v1 __pycache__ docs/__pycache__; printf '*\n' > .tool_cache/.gitignore;
      printf 'c\n' > .tool_cache/v1/data; printf 'pyc' > __pycache__/m.pyc; printf 'pyc' > docs/__pycache__/d.pyc;
      printf 'log\n' > run.log; printf 'new\n' > .state/cache; printf 'TWO\n' > a.txt; cat a.txt > b.txt
      """
    When I run `plan run --project repo --action [tmp]/cache.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path  | change   | mode |
      | a.txt | modified | 644  |
      | b.txt | modified | 644  |

  Scenario: a file rewritten with the same content, or only opened for writing, is no change
    Given a sandboxed action "touch.toml" running
      """
      cat a.txt > x; cat x > a.txt; rm x; touch b.txt; : >> docs/keep.md
      """
    When I run `plan run --project repo --action [tmp]/touch.toml`
    Then the exit code is 0
    And the plan has no recorded changes

  @overlay
  Scenario: the leaf runs at the project's own path and .git is read-only there
    Given the project "repo" is a git repository with everything committed
    And a sandboxed action "git.toml" running
      """
      test "$(pwd)" = "$AGENTS_PROJECT_ROOT" || exit 9; git status --porcelain > status.txt;
      if echo x > .git/evil 2>/dev/null; then exit 8; fi; printf 'done\n' > done.txt
      """
    When I run `plan run --project repo --action [tmp]/git.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path       | change  | mode |
      | done.txt   | created | 644  |
      | status.txt | created | 644  |
    And the plan's recorded file "status.txt" holds "?? status.txt\n"
    And the project "repo" has no file ".git/evil"

  @overlay
  Scenario: writing through a symlink inside the project changes its target, as it would in place
    Given the project "repo" has a symlink "link.txt" to its file "a.txt"
    And a sandboxed action "link.toml" running
      """
      printf 'LINKED\n' > link.txt
      """
    When I run `plan run --project repo --action [tmp]/link.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path  | change   | mode |
      | a.txt | modified | 644  |

  Scenario: where no overlay can be mounted, auto falls back to copies and says why
    Given overlays are refused here with "test: no overlays"
    And the setting "sandbox.backend" is "auto"
    And a sandboxed action "edit.toml" running
      """
      cat b.txt > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    Then the exit code is 0
    And stderr contains "workspaces: a full copy of the project per leaf (no overlay: test: no overlays)"
    And the plan's recorded changes are
      | path  | change   | mode |
      | a.txt | modified | 644  |

  Scenario: a forced overlay that cannot be mounted fails the leaves with the reason and the remedy
    Given overlays are refused here with "test: no overlays"
    And the setting "sandbox.backend" is "overlay"
    And a sandboxed action "edit.toml" running
      """
      cat b.txt > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "test: no overlays (set sandbox.backend = "copy" or "auto")"
    And the plan has no recorded changes

  Scenario Outline: diagnostics says which backend makes the workspaces
    Given <refused>
    And the setting "sandbox.backend" is "<backend>"
    When I run `diagnostics --format json`
    Then the check "sandbox" is "<status>"

    Examples:
      | refused                                             | backend | status |
      | overlays are refused here with "test: no overlays"  | auto    | warn   |
      | overlays are refused here with "test: no overlays"  | overlay | fail   |
      | overlays are refused here with "test: no overlays"  | copy    | ok     |
      | overlays are as this machine has them               | auto    | ok     |

  Scenario: a leaf's own file changed in the project while the leaf ran fails the leaf, recording nothing
    Given the project's file "a.txt" has a hard link "alias.txt" outside the project
    And a sandboxed action "race.toml" that edits "a.txt" and then the project's copy through "alias.txt"
    When I run `plan run --project repo --action [tmp]/race.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "sandbox: a.txt: changed in the project while the leaf ran; run it again"
    And the plan has no recorded changes

  Scenario: a directory removed outright is the deletion of every file it held
    Given a sandboxed action "rmdir.toml" running
      """
      rm -r docs
      """
    When I run `plan run --project repo --action [tmp]/rmdir.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path         | change  | mode |
      | docs/keep.md | deleted |      |
      | docs/more.md | deleted |      |

  Scenario: a directory replaced by a file is the deletion of its files and the file's creation
    Given a sandboxed action "flat.toml" running
      """
      rm -r docs; printf 'flat\n' > docs
      """
    When I run `plan run --project repo --action [tmp]/flat.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path         | change  | mode |
      | docs         | created | 644  |
      | docs/keep.md | deleted |      |
      | docs/more.md | deleted |      |

  @overlay
  Scenario: removing a symlink the project holds is refused, as writing one is
    Given the project "repo" has a symlink "link.txt" to its file "a.txt"
    And a sandboxed action "unlink.toml" running
      """
      rm link.txt
      """
    When I run `plan run --project repo --action [tmp]/unlink.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "sandbox: link.txt: the subplan removed a symlink or special file; refused"

  Scenario: a directory removed and made again with a subdirectory of the same name deletes what that held
    Given the project "repo" holds the files
      | path           | text   |
      | gen/top.md     | top\n  |
      | gen/sub/old.md | old\n  |
    And a sandboxed action "regen.toml" running
      """
      rm -r gen && mkdir -p gen/sub && printf 'new\n' > gen/sub/new.md
      """
    When I run `plan run --project repo --action [tmp]/regen.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path           | change  | mode |
      | gen/sub/new.md | created | 644  |
      | gen/sub/old.md | deleted |      |
      | gen/top.md     | deleted |      |

  Scenario: ignored trees are neither recorded nor refused, whatever they hold
    Given a sandboxed action "venv.toml" running
      """
      rm -r .state; mkdir -p .state/bin; ln -s /bin/sh .state/bin/sh; ln -s a.txt debug.log; printf 'TWO\n' > a.txt
      """
    When I run `plan run --project repo --action [tmp]/venv.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path  | change   | mode |
      | a.txt | modified | 644  |

  Scenario: a file outside the leaf's own changed in the project while the leaf ran fails the leaf
    Given the project's file "b.txt" has a hard link "alias.txt" outside the project
    And an action "race.toml" for the files "a.txt" that edits "b.txt" and then the project's copy through "alias.txt"
    When I run `plan run --project repo --action [tmp]/race.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "sandbox: b.txt: changed in the project while the leaf ran; run it again"
    And the plan has no recorded changes

  @overlay
  Scenario: a change to a file inside .agents is refused, as a new one is
    Given the project "repo" holds the files
      | path              | text    |
      | .agents/notes.txt | note\n  |
    And a sandboxed action "notes.toml" running
      """
      printf 'more\n' >> .agents/notes.txt
      """
    When I run `plan run --project repo --action [tmp]/notes.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "sandbox: .agents/notes.txt: the subplan changed a file that is inside .agents"

  @overlay
  Scenario: a git worktree's repository is read-only to a leaf, and git still works there
    Given the project "repo" is a git repository with everything committed
    And a git worktree "wt" of the project "repo" on the branch "wt", added as a project
    And a sandboxed action "commit.toml" running
      """
      printf 'y\n' >> a.txt; git status --porcelain > status.txt; if git commit -qam leaf 2>/dev/null; then exit 7; fi;
      if echo x > "$(git rev-parse --git-common-dir)/evil" 2>/dev/null; then exit 8; fi;
      if echo x > "$(git rev-parse --git-dir)/evil" 2>/dev/null; then exit 9; fi
      """
    When I run `plan run --project wt --action [tmp]/commit.toml`
    Then the exit code is 0
    And the branch "wt" of the project "repo" still points at its first commit
    And the project "repo" has no file ".git/evil"
    And the project "repo" has no file ".git/worktrees/wt/evil"
    And the plan's recorded file "status.txt" holds " M a.txt\n?? status.txt\n"

  @overlay
  Scenario: a project inside a repository sees that repository, read-only, as it would in place
    Given the project "repo" is a git repository with everything committed
    And the directory "docs" of the project "repo" is added as the project "docs"
    And a sandboxed action "top.toml" running
      """
      git rev-parse --show-prefix > prefix.txt; if echo x > "$(git rev-parse --git-dir)/evil" 2>/dev/null; then exit 7; fi
      """
    When I run `plan run --project docs --action [tmp]/top.toml`
    Then the exit code is 0
    And the plan's recorded file "prefix.txt" holds "docs/\n"

  @overlay
  Scenario: a project with a filesystem mounted inside it gets copies, and says why
    Given a directory is mounted on "vendor" inside the project "repo"
    And a sandboxed action "edit.toml" running
      """
      cat b.txt > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    Then the exit code is 0
    And stderr contains "something is mounted inside the project"

  @overlay
  Scenario: as a user other than root, a plan runs in overlays of a project of theirs and applies
    Given the scenario runs as root with setpriv available
    When user 65534 runs a plan that appends a line to each file of a project of theirs, with --apply
    Then that run used overlays, exited 0, and each file of their project has the line appended

  Scenario: a copy of a project on another filesystem than TMPDIR is made by reading (no kernel copy across)
    Given a project "shm" on a tmpfs holding "x.txt" and "y.txt", added
    And the setting "sandbox.backend" is "copy"
    And a sandboxed action "edit.toml" running
      """
      cat y.txt >> x.txt
      """
    When I run `plan run --project shm --action [tmp]/edit.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path  | change   | mode |
      | x.txt | modified | 644  |
