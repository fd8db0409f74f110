Feature: Sandboxed subplans, reviewable changes and an atomic plan apply
  A sandboxed action works on copies of its files; the project changes only when
  `agents plan apply` writes every recorded change, or none of them.

  Background:
    Given the project "repo" holds the files
      | path          | text               |
      | a.txt         | one\ntwo\nthree\n  |
      | b.txt         | bee\n              |
      | run.sh        | echo hi\n          |
      | docs/keep.md  | keep\n             |
      | docs/more.md  | more  \n           |
    And the project "repo" holds the binary file "img.bin" with bytes 89 50 4e 47 00 01 02 03 ff fe
    And I ran `project add [tmp]/repo`

  Scenario: a subplan's creations, modifications, deletions, mode changes and binary edits are recorded, and the project is untouched
    Given a sandboxed action "edit.toml" running
      """
      printf 'one\nTWO\nthree\n' > a.txt; rm b.txt; mkdir -p new/deep; printf 'fresh\n' > new/deep/c.txt;
      chmod 755 run.sh; printf '\000\377' >> img.bin; touch docs/keep.md; cp docs/more.md x; cat x > docs/more.md; rm x
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    Then the exit code is 0
    And the project "repo" is byte for byte as it was
    And the plan's recorded changes are
      | path           | change   | mode |
      | a.txt          | modified | 644  |
      | b.txt          | deleted  |      |
      | img.bin        | modified | 644  |
      | new/deep/c.txt | created  | 644  |
      | run.sh         | modified | 755  |
    And each recorded change has the base hash of the project's file and the new content's hash
    And no sandbox of the plan is left in TMPDIR
    When I run `plan status [plan] --json`
    Then the JSON document has "changes.created" equal to 1
    And the JSON document has "changes.modified" equal to 3
    And the JSON document has "changes.deleted" equal to 1
    When I run `plan status [plan]`
    Then stdout contains "created 1  modified 3  deleted 1  (applied 0)"

  Scenario: the diff is accepted by git apply and gives what the subplan left
    Given a sandboxed action "edit.toml" running
      """
      printf 'one\nTWO\nthree\n' > a.txt; rm b.txt; mkdir -p new; printf 'fresh\n' > new/c.txt;
      chmod 755 run.sh; printf '\000\377' >> img.bin; printf 'no newline' > docs/keep.md
      """
    And the project "repo" is a git repository with everything committed
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And I run `plan diff [plan]`
    Then the exit code is 0
    And stdout contains "diff --git a/a.txt b/a.txt"
    And stdout contains "deleted file mode 100644"
    And stdout contains "new file mode 100644"
    And stdout contains "old mode 100644"
    And stdout contains "GIT binary patch"
    And stdout contains "\ No newline at end of file"
    And `git apply --check` accepts the diff in the project "repo"
    And after `git apply` of the diff a copy of the project "repo" holds what the plan recorded
    When I run `plan diff [plan] --stat`
    Then stdout contains " img.bin      | Bin modified, 12 bytes"
    And stdout contains " run.sh       | +0 -0 (mode 644 -> 755)"

  Scenario: --stat, --json and paths narrow and summarise the diff
    Given a sandboxed action "edit.toml" running
      """
      printf 'one\nTWO\nthree\nfour\n' > a.txt; rm b.txt; printf 'x\n' > docs/new.md
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And I run `plan diff [plan] --stat`
    Then stdout contains " a.txt       | +2 -1"
    And stdout contains " b.txt       | +0 -1 (deleted)"
    And stdout contains " docs/new.md | +1 -0 (created)"
    And stdout contains " 3 files changed, +3 -2"
    When I run `plan diff [plan] --json`
    Then the JSON document is a list of 3
    And the JSON document has the fields path, change, subplan_id, base_sha256, new_sha256, binary, added_lines, removed_lines
    And the JSON document has "0.path" equal to "a.txt"
    And the JSON document has "0.added_lines" equal to 2
    And the JSON document has "1.change" equal to "deleted"
    And the JSON document has "1.new_sha256" equal to null
    And the JSON document has "2.change" equal to "created"
    And the JSON document has "2.base_sha256" equal to null
    And the JSON document has "2.binary" equal to false
    When I run `plan diff [plan] -- docs/`
    Then stdout contains "docs/new.md"
    And stdout does not contain "a.txt"
    When I run `plan diff [plan] -- nothing/here`
    Then the exit code is 0
    And stderr is one line containing "has no changes under those paths"
    When I run `plan diff [plan] --stat -- nothing/here`
    Then stderr is one line containing "has no changes under those paths"
    When the recorded old content of "a.txt" is lost
    And I run `plan diff [plan] --stat`
    Then stdout contains " a.txt       | modified (lines unknown)"
    When I run `plan diff [plan] -- a.txt`
    Then stderr is one line containing "a.txt: its content before the run is not known; no diff shown"
    When I run `plan diff [plan] --json -- a.txt`
    Then the JSON document has "0.added_lines" equal to null

  Scenario: the workspace holds the leaf's files and nothing else of the project
    Given a sandboxed action "look.toml" running
      """
      find . -type f | sort; test -f "$AGENTS_PROJECT_ROOT/b.txt" && echo "project readable"
      """
    When I run `plan run --project repo --action [tmp]/look.toml`
    Then the exit code is 0
    And the leaf's output lists exactly its own files and "project readable"

  Scenario: a symlink left in the workspace is refused, not followed
    Given a sandboxed action "link.toml" running
      """
      ln -s /etc/hostname escape.txt
      """
    When I run `plan run --project repo --action [tmp]/link.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "sandbox: escape.txt: the subplan left a symlink; symlinks are refused"
    And the plan has no recorded changes

  Scenario: new files the project's .gitignore ignores are left out; a new file under .git is refused
    Given the project "repo" holds the files
      | path       | text              |
      | .gitignore | *.log\nbuild/\n   |
    And a sandboxed action "gen.toml" running
      """
      printf 'x\n' > out.log; mkdir -p build; printf 'y\n' > build/o.bin; printf 'z\n' > kept.txt
      """
    When I run `plan run --project repo --action [tmp]/gen.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path     | change  | mode |
      | kept.txt | created | 644  |
    Given a sandboxed action "git.toml" running
      """
      mkdir -p .git/hooks; printf 'x\n' > .git/hooks/pre-commit
      """
    When I run `plan run --project repo --action [tmp]/git.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "sandbox: .git/hooks/pre-commit: the subplan created a file that is inside .git"

  Scenario: apply writes every change, and the diff still shows what was applied
    Given a sandboxed action "edit.toml" running
      """
      printf 'one\nTWO\nthree\n' > a.txt; rm b.txt docs/keep.md docs/more.md; mkdir -p new; printf 'fresh\n' > new/c.txt; chmod 755 run.sh
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    Then stdout contains "6 files changed (created 1, modified 2, deleted 3): review with `agents plan diff"
    When I run `plan apply [plan]`
    Then the exit code is 0
    And stdout contains "applied: 6 files written (created 1, modified 2, deleted 3)"
    And the directory "repo/docs" is gone
    And the project "repo" holds what the plan recorded
    And the file "repo/run.sh" has mode 755
    And no temp file of an apply is left in the project "repo"
    And the plan's phase is "applied"
    When I run `plan diff [plan] --json`
    Then the JSON document has "0.applied" equal to true
    And the JSON document has "0.conflict" equal to null
    When I run `plan apply [plan]`
    Then the exit code is 0
    And stdout contains "is applied already: its changes are in the project"
    When I run `plan execute [plan]`
    Then the exit code is 0
    And stdout contains "is applied already"

  Scenario: a dry run lists what would be written and writes nothing
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt; rm b.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And I run `plan apply [plan] --dry-run`
    Then the exit code is 0
    And stdout contains "would write modified a.txt"
    And stdout contains "would write deleted  b.txt"
    And stdout contains "dry run: 2 files would be written (modified 1, deleted 1)"
    And the project "repo" is byte for byte as it was
    And the plan's phase is "executed"
    When I run `plan apply [plan] --dry-run --json`
    Then the JSON document has "dry_run" equal to true
    And the JSON document has "written" equal to 2
    And the JSON document has "paths.1.change" equal to "deleted"
    When I run `plan apply [plan] --json`
    Then the JSON document has "phase" equal to "applied"
    And the JSON document has "by_change.modified" equal to 1

  Scenario: a project changed since the plan ran is refused with every conflict listed, nothing written
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt; rm b.txt; printf 'x\n' > docs/keep.md; printf 'n\n' > n.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And the project's file "a.txt" is edited
    And the project's file "docs/keep.md" is deleted
    And the project's file "n.txt" is created
    And the project's file "b.txt" is replaced by a directory
    And I run `plan apply [plan]`
    Then the exit code is 3
    And stderr contains "conflict: a.txt: changed in the project since the plan ran"
    And stderr contains "conflict: docs/keep.md: was deleted in the project since the plan ran"
    And stderr contains "conflict: n.txt: exists in the project now (the plan would create it)"
    And stderr contains "conflict: b.txt: is not a regular file in the project (a directory, a pipe, a device)"
    And stderr contains "4 conflicting paths (a.txt, b.txt, docs/keep.md, n.txt); nothing was written"
    And the project "repo" is byte for byte as it was after the edits
    And the plan's phase is "executed"
    When I run `plan diff [plan] --json`
    Then the JSON document has "0.conflict" equal to "changed in the project since the plan ran"
    When I run `plan apply [plan] --json`
    Then the exit code is 3
    And the JSON document has "applied" equal to false

  Scenario: two subplans changing one path is a conflict that diff reports and apply refuses
    Given a sandboxed action "both.toml" running one leaf per file, each writing "shared.txt"
    When I run `plan run --project repo --action [tmp]/both.toml`
    Then the exit code is 0
    When I run `plan diff [plan] --stat`
    Then stderr contains "conflict: shared.txt: changed by 6 subplans"
    When I run `plan apply [plan]`
    Then the exit code is 3
    And stderr contains "conflict: shared.txt: changed by 6 subplans"
    And the project "repo" is byte for byte as it was

  Scenario Outline: a change whose path escapes the project is refused
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt
      """
    And the project "repo" has a symlink "out" to a directory outside it
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And a recorded change is rewritten to the path "<path>"
    And I run `plan apply [plan]`
    Then the exit code is 3
    And stderr contains "<reason>"
    And nothing was written outside the project "repo"
    And the project "repo" is byte for byte as it was

    Examples:
      | path            | reason                                                                  |
      | ../evil.txt     | conflict: ../evil.txt: the path escapes the project root               |
      | /tmp/evil.txt   | conflict: /tmp/evil.txt: the path is absolute                          |
      | out/evil.txt    | passes through out, which is a symlink in the project; refusing to write |
      | .git/config     | conflict: .git/config: the path is inside .git                         |
      | a/./b.txt       | the path is not a normalised relative path                             |
      | b.txt/evil.txt  | conflict: b.txt/evil.txt: b.txt is a file in the project, not a directory |

  Scenario: an apply that crashed between two files is completed by running it again
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt; printf 'BEE\n' > b.txt; printf 'KEEP\n' > docs/keep.md
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And an apply of the plan crashes after writing 1 file, leaving its temp file behind
    Then the plan's phase is "applying"
    And the project's file "a.txt" holds "ONE\n"
    And the project's file "b.txt" holds "bee\n"
    When I run `diagnostics --no-probe`
    Then stdout contains "1 plan(s) executing or applying with no live run"
    And stdout contains "agents plan apply [plan]"
    When I run `plan apply [plan]`
    Then the exit code is 0
    And stdout contains "applied: 2 files written (modified 2); 1 already applied"
    And the project "repo" holds what the plan recorded
    And no temp file of an apply is left in the project "repo"

  Scenario: a full disk mid-apply leaves every file as it was, and a re-run completes it
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt; printf 'BEE\n' > b.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And the disk is full from the second file written on
    And I run `plan apply [plan]`
    Then the exit code is 1
    And stderr is one line containing "apply stopped after 0 of 2 files: No space left on device"
    And the project "repo" is byte for byte as it was
    And no temp file of an apply is left in the project "repo"
    And the plan's phase is "applying"
    When the disk has room again
    And I run `plan apply [plan]`
    Then the exit code is 0
    And the project "repo" holds what the plan recorded

  Scenario: only an executed plan can be applied
    When I run `plan create --project repo --action builtin:replace`
    And I run `plan apply [plan]`
    Then the exit code is 2
    And stderr is one line containing "is created; only an executed plan can be applied (run `agents plan execute"
    When I run `plan apply 01ZZZZZZZZZZZZZZZZZZZZZZZZ`
    Then the exit code is 4

  Scenario: apply waits for nobody: a project locked by another live process is exit 3
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And another live process holds the lock of the project "repo"
    And I run `plan apply [plan]`
    Then the exit code is 3
    And stderr is one line containing "error: project repo ("
    And stderr contains "is locked by"
    And the project "repo" is byte for byte as it was

  Scenario: plan run --apply executes then applies; with --async it is refused before anything
    When I run `plan run --project repo --action builtin:replace --apply`
    Then the exit code is 0
    And stdout contains "applied: 1 file written (modified 1)"
    And the project's file "docs/more.md" holds "more\n"
    When I run `plan run --project repo --action builtin:replace --apply --json`
    Then the exit code is 0
    And every line of stdout is one JSON document, the last one with "phase" "applied"
    When I run `plan run --project repo --action builtin:replace --apply --async`
    Then the exit code is 2
    And stderr is one line containing "--apply runs here, after the execution"
    And the scenario has 2 plans

  Scenario: an in-place plan has nothing to apply
    When I run `plan run --project repo --action builtin:count-lines`
    And I run `plan diff [plan]`
    Then stderr is one line containing "ran in place (isolation in-place)"
    When I run `plan apply [plan]`
    Then the exit code is 0
    And stdout contains "applied: 0 files written (none)"

  Scenario: plan apply --async hands the apply to a worker
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And I run `plan apply [plan] --async`
    Then the exit code is 0
    When I run `worker run --burst`
    Then the plan's phase is "applied"
    And the project's file "a.txt" holds "ONE\n"
    And the plan's job "plan.apply" succeeded

  Scenario: a conflicting apply in a worker fails its job with every conflict in the result
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And the project's file "a.txt" is edited
    And I run `plan apply [plan] --async`
    And I run `worker run --burst`
    Then the plan's job "plan.apply" failed with the conflict "a.txt"
    And the plan's phase is "executed"

  Scenario: changes recorded by a leaf that did not complete are dropped when the plan resumes
    Given an action "edit.toml" in a workspace of its files only, running
      """
      printf 'ONE\n' > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And the plan's leaf is put back to running under a dead run
    And the project's file "b.txt" is replaced by a directory
    And the plan is executed again
    Then the plan's phase after that is "failed"
    And the plan's only leaf failed with "sandbox: b.txt: is not a regular file in the project any more"
    And the plan has no recorded changes

  Scenario: changes left on a leaf reset to pending by a run that died then are dropped on resume
    Given an action "edit.toml" in a workspace of its files only, running
      """
      printf 'ONE\n' > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And the plan's leaf is put back to pending under a dead run
    And the project's file "b.txt" is replaced by a directory
    And the plan is executed again
    Then the plan's phase after that is "failed"
    And the plan's only leaf failed with "sandbox: b.txt: is not a regular file in the project any more"
    And the plan has no recorded changes

  Scenario: an apply stopped by its token leaves the plan applying, and a re-run completes it
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And an apply of the plan runs with a token that is already cancelled
    Then the apply stopped with "apply stopped after 0 of 1 files: stopped (cancelled, or a lock was lost)"
    And the plan's phase is "applying"
    And the project "repo" is byte for byte as it was
    When I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file "a.txt" holds "ONE\n"

  Scenario: symlinked files: copied when they stay inside, refused when they lead out, never written through
    Given the project "repo" has a symlink "link.txt" to its file "a.txt"
    And an action "edit.toml" in a workspace of its files only, running
      """
      printf 'LINKED\n' > link.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    Then the exit code is 0
    And the plan's recorded changes are
      | path     | change   | mode |
      | link.txt | modified | 644  |
    When I run `plan apply [plan]`
    Then the exit code is 3
    And stderr contains "conflict: link.txt: is a symlink in the project; refusing to write through it"
    When I run `plan create --project repo --action [tmp]/edit.toml`
    And the project's symlink "link.txt" is pointed outside the project
    And I run `plan execute [plan]`
    Then the exit code is 1
    And the plan's only leaf failed with "sandbox: link.txt: is a symlink pointing outside the project"

  Scenario: a pipe left in the workspace is refused; a file gone from the project is not copied
    Given a sandboxed action "fifo.toml" running
      """
      mkfifo pipe
      """
    When I run `plan run --project repo --action [tmp]/fifo.toml`
    Then the exit code is 1
    And the plan's only leaf failed with "sandbox: pipe: the subplan left something that is not a file"
    Given a sandboxed action "list.toml" running
      """
      ls b.txt 2>&1 || true
      """
    When I run `plan create --project repo --action [tmp]/list.toml`
    And the project's file "b.txt" is deleted
    And I run `plan execute [plan]`
    Then the exit code is 0
    And the plan has no recorded changes

  Scenario: an apply that fails in a worker fails its job and can be run again
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt; printf 'BEE\n' > b.txt
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And the disk is full from the second file written on
    And I run `plan apply [plan] --async`
    And I run `worker run --burst`
    Then the plan's job "plan.apply" failed with "apply stopped after 0 of 2 files"
    When the disk has room again
    And I run `plan apply [plan]`
    Then the exit code is 0
    And the project "repo" holds what the plan recorded

  Scenario: builtin:replace in place rewrites text files atomically and skips binary ones; a bad pattern is refused
    Given the action file "tidy.toml" holds
      """
      [action]
      builtin = "replace"
      isolation = "in-place"
      [action.params]
      pattern = "e+"
      replacement = "E"
      """
    When I run `plan run --project repo --action [tmp]/tidy.toml`
    Then the exit code is 0
    And the project's file "b.txt" holds "bE\n"
    And the project's file "a.txt" holds "onE\ntwo\nthrE\n"
    And the plan's only leaf's output is "6 replacements in 5 of 6 files (1 not UTF-8 text or unreadable)"
    And the plan has no recorded changes
    Given the action file "bad.toml" holds
      """
      [action]
      builtin = "replace"
      [action.params]
      pattern = "("
      """
    When I run `plan run --project repo --action [tmp]/bad.toml`
    Then the exit code is 2
    And stderr is one line containing "action.params.pattern: Value error, not a valid regular expression"

  Scenario: a chmod made in the project since the run is kept; one that contradicts the plan's is a conflict
    Given a sandboxed action "edit.toml" running
      """
      printf 'ONE\n' > a.txt; chmod 755 run.sh
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    And the project's file "a.txt" gets mode 600
    And the project's file "run.sh" gets mode 700
    And I run `plan apply [plan]`
    Then the exit code is 3
    And stderr contains "conflict: run.sh: its mode was changed in the project since the plan ran"
    And stderr does not contain "a.txt"
    When the project's file "run.sh" gets mode 644
    And I run `plan apply [plan]`
    Then the exit code is 0
    And the project's file "a.txt" holds "ONE\n"
    And the file "repo/a.txt" has mode 600
    And the file "repo/run.sh" has mode 755

  Scenario: a sparse file stays sparse in the sandbox, and an untouched one is not recorded
    Given an action "look.toml" in a workspace of its files only, running
      """
      stat -c '%s %b %B' disk.img
      """
    And the project "repo" holds a sparse file "disk.img" of 256 MiB with "data" at 4096,100000000,268435452
    When I run `plan run --project repo --action [tmp]/look.toml`
    Then the exit code is 0
    And the plan's only leaf saw "disk.img" as 268435456 bytes in at most 64 KiB of disk
    And the plan has no recorded changes

  Scenario: a sparse file the subplan edits is recorded against the hash of its holes and data
    Given the project "repo" holds a sparse file "disk.img" of 8 MiB with "data" at 0,3000000
    And an action "edit.toml" in a workspace of its files only, running
      """
      printf 'EDIT' | dd of=disk.img bs=1 seek=5000000 conv=notrunc 2>/dev/null; stat -c '%s %b %B' disk.img
      """
    When I run `plan run --project repo --action [tmp]/edit.toml`
    Then the exit code is 0
    And the plan's only leaf saw "disk.img" as 8388608 bytes in at most 64 KiB of disk
    And the plan's recorded changes are
      | path     | change   | mode |
      | disk.img | modified | 644  |
    And each recorded change has the base hash of the project's file and the new content's hash
    And the project "repo" is byte for byte as it was
