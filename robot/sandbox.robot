*** Settings ***
Documentation       Sandboxed plans end to end with real `agents` processes and a real external
...                 command (GNU `sed -i` stripping trailing whitespace): the run leaves the project
...                 untouched, `plan diff` shows exactly what changed and `git apply` accepts it,
...                 `plan apply` writes the content computed here independently, refuses a project
...                 edited since the run without writing anything, and of two applies racing on
...                 one project exactly one writes; `plan run --apply`; files created and deleted.
Resource            resources/agents.resource
Library             resources/SandboxLibrary.py
Test Setup          Fresh Plan Database
Test Teardown       Stop Plan Processes


*** Variables ***
${RACE FILES}       3000
${RACE TIMEOUT}     90s


*** Test Cases ***
Sandboxed Sed Over 300 Files Leaves The Project Untouched Until Apply Writes Exactly The Stripped Files
    ${root}=    Generate Whitespace Project    ${WORK DIR}/proj    files=300    dirs=10
    ${base commit}=    Init Git Repository    ${root}
    ${before}=    Snapshot Files    ${root}
    ${modes}=    Snapshot Modes    ${root}
    ${expected}=    Strip Trailing Whitespace    ${before}
    ${dirty}=    Changed Paths    ${before}    ${expected}
    # The project is what the test needs: some text files to strip (a few executable), most
    # not, and two files the action does not select (both with trailing whitespace).
    ${count}=    Get Length    ${dirty}
    ${executable}=    Evaluate    set($dirty) & {p for p, m in $modes.items() if m == "755"}
    Should Not Be Empty    ${executable}
    Should Be True    50 < ${count} < 200    msg=${count} files with trailing whitespace
    List Should Not Contain Value    ${dirty}    assets/blob.bin
    List Should Not Contain Value    ${dirty}    README.md
    Add Project    ${root}    proj

    ${action}=    Write Strip Action    strip    **/*.txt
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}
    ...    --max-parallel    4
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    ${status}=    Plan Should Have Executed    ${plan}
    Should Be Equal As Integers    ${status}[profile][max_parallel][value]    4
    ${leaves}=    Leaf Subplans    ${status}
    ${leaf count}=    Get Length    ${leaves}
    Should Be True    ${leaf count} >= 10    msg=only ${leaf count} leaves for 10 directories
    # Sandboxed: sed rewrote copies; the project itself is byte for byte as it was.
    Files Should Be    ${root}    ${before}    msg=the project changed during the sandboxed run
    Scratch Should Be Clean

    # --stat lists exactly the files that had trailing whitespace, with the right line counts.
    ${stat}=    Run Agents    plan    diff    ${plan}    --stat
    Should Be Equal As Integers    ${stat.rc}    0    msg=${stat.stderr}
    Should Be Empty    ${stat.stderr}    msg=no conflict expected: ${stat.stderr}
    ${parsed}=    Parse Diff Stat    ${stat.stdout}
    ${listed}=    Evaluate    sorted($parsed["paths"])
    Should Be Equal    ${listed}    ${dirty}
    ${lines}=    Expected Line Counts    ${before}    ${expected}
    Should Be Equal As Integers    ${parsed}[added]    ${lines}[added]
    Should Be Equal As Integers    ${parsed}[removed]    ${lines}[removed]
    ${changes}=    Agents Json    plan    diff    ${plan}    --json
    Changes Should Be    ${changes}    ${before}    ${expected}    applied=${False}

    # The plain diff is a patch git accepts against the base commit; applied for real to a copy
    # it gives the expected files.
    Pipe Plan Diff Into Git    ${plan}    ${root}    apply    --check
    Copy Directory    ${root}    ${WORK DIR}/copy
    Pipe Plan Diff Into Git    ${plan}    ${WORK DIR}/copy    apply
    Files Should Be    ${WORK DIR}/copy    ${expected}    msg=git apply of the plan's diff
    Files Should Be    ${root}    ${before}    msg=git apply --check changed the project

    ${result}=    Run Agents    plan    apply    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Be Equal    ${result.stdout}
    ...    plan ${plan} applied: ${count} files written (modified ${count})\n
    Files Should Be    ${root}    ${expected}    msg=after plan apply
    ${modes after}=    Snapshot Modes    ${root}
    Should Be Equal    ${modes after}    ${modes}    msg=file modes changed
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    applied
    ${changes}=    Agents Json    plan    diff    ${plan}    --json
    Changes Should Be    ${changes}    ${before}    ${expected}    applied=${True}
    # Applying it again changes nothing, and says so (exit 0).
    ${again}=    Agents Should Succeed    plan    apply    ${plan}
    Should Be Equal    ${again}    plan ${plan} is applied already: its changes are in the project\n
    # git sees the same: exactly the dirty files modified since the base commit.
    ${git changed}=    Git    ${root}    -c    core.quotePath=false    diff    --name-only
    ...    ${base commit}
    ${git changed}=    Split To Lines    ${git changed}
    Should Be Equal    ${git changed}    ${dirty}
    Apply Should Have Left Nothing Behind    ${root}

Apply Refuses A Project Edited Since The Run And Writes Nothing
    ${root}=    Generate Whitespace Project    ${WORK DIR}/proj    files=60    dirs=4
    ${before}=    Snapshot Files    ${root}
    ${expected}=    Strip Trailing Whitespace    ${before}
    ${dirty}=    Changed Paths    ${before}    ${expected}
    Add Project    ${root}    proj
    ${plan}=    Run Strip Plan    proj    **/*.txt
    # Edit one changed file by hand and delete another.
    ${edited}=    Set Variable    ${dirty}[0]
    ${deleted}=    Set Variable    ${dirty}[1]
    Append To File    ${root}/${edited}    edited by hand\n
    Remove File    ${root}/${deleted}
    ${edited state}=    Snapshot Files    ${root}

    ${diff}=    Run Agents    plan    diff    ${plan}    --stat
    Should Be Equal As Integers    ${diff.rc}    0    msg=${diff.stderr}
    ${named}=    Conflict Lines    ${diff.stderr}
    Should Be Equal    ${{ sorted($named) }}    ${{ sorted([$edited, $deleted]) }}

    # A dry run finds the same conflicts.
    ${dry}=    Run Agents    plan    apply    ${plan}    --dry-run
    Should Be Equal As Integers    ${dry.rc}    3    msg=${dry.stdout}${dry.stderr}
    ${named}=    Conflict Lines    ${dry.stderr}
    Should Be Equal    ${{ sorted($named) }}    ${{ sorted([$edited, $deleted]) }}

    ${result}=    Run Agents    plan    apply    ${plan}
    Should Be Equal As Integers    ${result.rc}    3    msg=${result.stdout}${result.stderr}
    Should Be Empty    ${result.stdout}
    Should Not Contain    ${result.stderr}    Traceback
    ${conflicts}=    Conflict Lines    ${result.stderr}
    Should Be Equal    ${{ sorted($conflicts) }}    ${{ sorted([$edited, $deleted]) }}
    Should Be Equal    ${conflicts}[${edited}]    changed in the project since the plan ran
    Should Be Equal    ${conflicts}[${deleted}]    was deleted in the project since the plan ran
    Should Match Regexp    ${result.stderr}
    ...    (?m)^error: plan ${plan} cannot be applied: 2 conflicting paths \\(.+\\); nothing was written$
    Files Should Be    ${root}    ${edited state}    msg=a refused apply changed the project
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    executed
    ${changes}=    Agents Json    plan    diff    ${plan}    --json
    ${applied}=    Evaluate    [c["path"] for c in $changes if c["applied"]]
    Should Be Empty    ${applied}    msg=marked applied by a refused apply: ${applied}
    No Locks Should Be Held
    ${left}=    Temp Files Left    ${root}
    Should Be Empty    ${left}

    # Put the two files back as the run saw them: the same plan now applies.
    Write Files    ${root}    ${before}    ${edited}    ${deleted}
    ${result}=    Run Agents    plan    apply    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Contain    ${result.stdout}    plan ${plan} applied:
    Files Should Be    ${root}    ${expected}    msg=after the second apply
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    applied
    Apply Should Have Left Nothing Behind    ${root}

Two Applies Of One Plan Started Together: Exactly One Writes
    ${root}=    Set Variable    ${WORK DIR}/proj
    Generate Flat Project    ${root}    files=${RACE FILES}    dirs=30
    ${before}=    Snapshot Files    ${root}
    ${expected}=    Strip Trailing Whitespace    ${before}
    Add Project    ${root}    proj
    ${plan}=    Run Strip Plan    proj    **/*.txt
    ${stat}=    Agents Should Succeed    plan    diff    ${plan}    --stat
    Should Contain    ${stat}    3,000 files changed

    ${first}=    Start Agents    plan    apply    ${plan}    alias=first
    ${second}=    Start Agents    plan    apply    ${plan}    alias=second
    ${winner}    ${loser}=    Exactly One Apply Should Win    ${first}    ${second}
    Should Be Equal    ${winner.stdout}
    ...    plan ${plan} applied: 3,000 files written (modified 3,000)
    # The other one was refused before it wrote anything: locked out while the winner wrote,
    # or (had it come after) told the plan is applied already: exit 0 if it read the plan
    # after the winner's apply, exit 2 if it read it just before.
    IF    ${loser.rc} == 3
        Should Match Regexp    ${loser.stderr}
        ...    ^error: (project \\S+ \\(\\S+\\)|plan \\S+) is locked by \\S+ \\(host \\S+, pid ${WINNER PID}\\)
    ELSE IF    ${loser.rc} == 0
        Should Be Equal    ${loser.stdout}
        ...    plan ${plan} is applied already: its changes are in the project\n
    ELSE
        Should Be Equal As Integers    ${loser.rc}    2    msg=the loser exited ${loser.rc}
        Should Match Regexp    ${loser.stderr}
        ...    ^error: plan ${plan} is applied; only an executed plan can be applied
    END
    Files Should Be    ${root}    ${expected}    msg=after the race
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    applied
    ${changes}=    Agents Json    plan    diff    ${plan}    --json
    Changes Should Be    ${changes}    ${before}    ${expected}    applied=${True}
    Apply Should Have Left Nothing Behind    ${root}

Two Applies Of Two Plans Of One Project: The One That Comes While The Other Writes Waits Its Turn
    [Documentation]    The second apply starts while the first provably holds the project's
    ...    lock: the first is stopped (SIGSTOP) holding it and let go on once the second has
    ...    been refused. Started together instead, the second could come only after the first
    ...    had finished on a loaded machine, and both would rightly succeed.
    ${root}=    Set Variable    ${WORK DIR}/proj
    ${a files}=    Generate Flat Project    ${root}    files=${RACE FILES}    dirs=30    prefix=a
    ${b files}=    Generate Flat Project    ${root}    files=${RACE FILES}    dirs=30    prefix=b
    ${before}=    Snapshot Files    ${root}
    ${expected}=    Strip Trailing Whitespace    ${before}
    Add Project    ${root}    proj
    ${plan a}=    Run Strip Plan    proj    a*/**    name=strip-a
    ${plan b}=    Run Strip Plan    proj    b*/**    name=strip-b
    ${a changes}=    Agents Json    plan    diff    ${plan a}    --json
    ${b changes}=    Agents Json    plan    diff    ${plan b}    --json
    Should Be Equal    ${{ [c["path"] for c in $a_changes] }}    ${a files}
    Should Be Equal    ${{ [c["path"] for c in $b_changes] }}    ${b files}

    ${first}=    Start Agents    plan    apply    ${plan a}    alias=apply-a
    ${project id}=    Pause Process Holding Lock    ${first}    project
    ${second}=    Start Agents    plan    apply    ${plan b}    alias=apply-b
    ${loser}=    Wait For Process    ${second}    timeout=${RACE TIMEOUT}    on_timeout=kill
    Resume Process    ${first}
    ${winner}=    Wait For Process    ${first}    timeout=${RACE TIMEOUT}    on_timeout=kill
    Log    first exited ${winner.rc}\nstdout:\n${winner.stdout}\nstderr:\n${winner.stderr}
    Log    second exited ${loser.rc}\nstdout:\n${loser.stdout}\nstderr:\n${loser.stderr}
    ${won}=    Set Variable    ${plan a}
    ${lost}=    Set Variable    ${plan b}
    ${won files}=    Set Variable    ${a files}
    Should Be Equal As Integers    ${winner.rc}    0    msg=the first apply exited ${winner.rc}
    Should Not Contain    ${winner.stderr}    Traceback
    Should Be Equal    ${winner.stdout}
    ...    plan ${won} applied: 3,000 files written (modified 3,000)
    # The other plan's apply found the project locked by the one writing, and wrote nothing.
    Should Be Equal As Integers    ${loser.rc}    3
    ...    msg=the second apply exited ${loser.rc}; expected 3 (the project is locked)
    Should Be One Error Line    ${loser}
    ${first pid}=    Get Process Id    ${first}
    Should Match Regexp    ${loser.stderr}
    ...    ^error: project \\S+ \\(${project id}\\) is locked by \\S+ \\(host \\S+, pid ${first pid}\\)
    ${only winner}=    Take Files    ${before}    ${expected}    ${won files}
    Files Should Be    ${root}    ${only winner}    msg=after the race
    ${status}=    Plan Status    ${lost}
    Should Be Equal    ${status}[phase]    executed
    ${status}=    Plan Status    ${won}
    Should Be Equal    ${status}[phase]    applied
    No Locks Should Be Held

    # Its turn now: the project lock is free and its files have not moved.
    ${result}=    Run Agents    plan    apply    ${lost}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Be Equal    ${result.stdout}    plan ${lost} applied: 3,000 files written (modified 3,000)\n
    Files Should Be    ${root}    ${expected}    msg=after both applies
    Apply Should Have Left Nothing Behind    ${root}

Plan Run With --apply Writes The New Content At Once
    ${root}=    Generate Whitespace Project    ${WORK DIR}/proj    files=40    dirs=4
    ${before}=    Snapshot Files    ${root}
    ${expected}=    Strip Trailing Whitespace    ${before}
    ${dirty}=    Changed Paths    ${before}    ${expected}
    ${count}=    Get Length    ${dirty}
    Add Project    ${root}    proj
    ${action}=    Write Strip Action    strip    **/*.txt
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}    --apply
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    Should Contain    ${result.stdout}    plan ${plan} executed
    Should Contain    ${result.stdout}
    ...    plan ${plan} applied: ${count} files written (modified ${count})\n
    Files Should Be    ${root}    ${expected}    msg=after plan run --apply
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    applied
    ${changes}=    Agents Json    plan    diff    ${plan}    --json
    Changes Should Be    ${changes}    ${before}    ${expected}    applied=${True}
    Apply Should Have Left Nothing Behind    ${root}

A Sandboxed Action That Creates And Deletes Files: Diff Shows Both, Apply Makes Both
    ${root}=    Set Variable    ${WORK DIR}/proj
    Create File    ${root}/old.txt    old content\n
    Create File    ${root}/keep.txt    kept${SPACE}${SPACE}\n
    Create File    ${root}/sub/other.txt    other\n
    ${base commit}=    Init Git Repository    ${root}
    ${before}=    Snapshot Files    ${root}
    Add Project    ${root}    proj
    # The script also checks what it runs in: the workspace (its cwd) is the whole project, seen
    # at the project's own path, its other files and its git repository included.
    ${script}=    Set Variable    ${WORK DIR}/make-and-remove.sh
    ${text}=    Catenate    SEPARATOR=\n    set -eu
    ...    [ "$(pwd -P)" = "$(cd "$AGENTS_WORKSPACE" && pwd -P)" ]
    ...    [ "$(pwd -P)" = "$(cd "$AGENTS_PROJECT_ROOT" && pwd -P)" ]
    ...    [ -f keep.txt ] && [ -f sub/other.txt ] && git rev-parse -q --verify HEAD
    ...    rm -f old.txt; mkdir -p made/deep; echo new > made/deep/created.txt
    Create File    ${script}    ${text}\n
    ${action}=    Write Action File    make-and-remove    ["sh", "${script}"]    ["old.txt"]    scope=project
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    Plan Should Have Executed    ${plan}    leaves=1
    Files Should Be    ${root}    ${before}    msg=the project changed during the sandboxed run

    ${changes}=    Agents Json    plan    diff    ${plan}    --json
    ${kinds}=    Evaluate    {c["path"]: c["change"] for c in $changes}
    Should Be Equal    ${kinds}    ${{ {"made/deep/created.txt": "created", "old.txt": "deleted"} }}
    ${diff}=    Agents Should Succeed    plan    diff    ${plan}
    Should Contain    ${diff}    diff --git a/made/deep/created.txt b/made/deep/created.txt\nnew file mode 100644\n
    Should Contain    ${diff}    --- /dev/null\n+++ b/made/deep/created.txt\n@@ -0,0 +1 @@\n+new\n
    Should Contain    ${diff}    diff --git a/old.txt b/old.txt\ndeleted file mode 100644\n
    Should Contain    ${diff}    --- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-old content\n
    ${stat}=    Agents Should Succeed    plan    diff    ${plan}    --stat
    ${parsed}=    Parse Diff Stat    ${stat}
    Should Be Equal    ${parsed}[paths]
    ...    ${{ {"made/deep/created.txt": "+1 -0 (created) (outside its leaf's files)", "old.txt": "+0 -1 (deleted)"} }}
    Pipe Plan Diff Into Git    ${plan}    ${root}    apply    --check

    ${result}=    Run Agents    plan    apply    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Be Equal    ${result.stdout}    plan ${plan} applied: 2 files written (created 1, deleted 1)\n
    ${after}=    Copy Dictionary    ${before}
    Remove From Dictionary    ${after}    old.txt
    ${new}=    Convert To Bytes    new\n
    Set To Dictionary    ${after}    made/deep/created.txt=${new}
    Files Should Be    ${root}    ${after}    msg=after plan apply
    ${mode}=    File Mode    ${root}/made/deep/created.txt
    Should Be Equal    ${mode}    644
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    applied
    # git agrees: one file added, one deleted, nothing else.
    ${git status}=    Git    ${root}    status    --porcelain    --untracked-files=all
    Should Be Equal    ${git status}    \ D old.txt\n?? made/deep/created.txt\n
    Apply Should Have Left Nothing Behind    ${root}


*** Keywords ***
Plan Id From Run Output
    [Documentation]    `agents plan run` prints "plan ID" first; returns the id (and sets ${PLAN}
    ...    so that the teardown can stop the plan's commands).
    [Arguments]    ${stdout}
    ${match}=    Should Match Regexp    ${stdout}    ^plan ([0-9A-Z]{26})\\n
    VAR    ${PLAN}    ${match}[1]    scope=TEST
    RETURN    ${match}[1]

Write Action File
    [Documentation]    ${WORK DIR}/NAME.toml: an action running ${command} (a TOML array) on the
    ...    files ${include} (a TOML array) selects, sandboxed by default. Returns its path.
    [Arguments]    ${name}    ${command}    ${include}    ${scope}=files
    ${path}=    Set Variable    ${WORK DIR}/${name}.toml
    Create File    ${path}    [action]\nname = "${name}"\ncommand = ${command}\ninclude = ${include}\nscope = "${scope}"\n
    ${text}=    Get File    ${path}
    Log    ${text}
    RETURN    ${path}

Write Strip Action
    [Documentation]    An action running GNU `sed -i` to strip trailing whitespace from the files
    ...    ${glob} selects. Returns its path.
    [Arguments]    ${name}    ${glob}
    ${path}=    Write Action File    ${name}
    ...    ["sed", "-i", "-e", "s/[[:space:]]*$//", "{files}"]    ["${glob}"]
    RETURN    ${path}

Run Strip Plan
    [Documentation]    `agents plan run` of a strip action over ${glob} in ${project} at
    ...    --max-parallel 8; it must execute. Returns the plan's id.
    [Arguments]    ${project}    ${glob}    ${name}=strip
    ${action}=    Write Strip Action    ${name}    ${glob}
    ${result}=    Run Agents    plan    run    --project    ${project}    --action    ${action}
    ...    --max-parallel    8
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    Plan Should Have Executed    ${plan}
    RETURN    ${plan}

Exactly One Apply Should Win
    [Documentation]    Wait for both apply processes (started together), then check that exactly
    ...    one wrote the plan (exit 0) and the other was refused with one error line and printed
    ...    nothing on stdout, or came after it and said the plan is applied already (exit 0).
    ...    Returns the results (winner, loser); sets ${WINNER PID}.
    [Arguments]    ${first}    ${second}
    ${first pid}=    Get Process Id    ${first}
    ${second pid}=    Get Process Id    ${second}
    ${a}=    Wait For Process    ${first}    timeout=${RACE TIMEOUT}    on_timeout=kill
    ${b}=    Wait For Process    ${second}    timeout=${RACE TIMEOUT}    on_timeout=kill
    Log    first (pid ${first pid}) exited ${a.rc}\nstdout:\n${a.stdout}\nstderr:\n${a.stderr}
    Log    second (pid ${second pid}) exited ${b.rc}\nstdout:\n${b.stdout}\nstderr:\n${b.stderr}
    ${a wrote}=    Evaluate    $a.rc == 0 and "is applied already" not in $a.stdout
    ${b wrote}=    Evaluate    $b.rc == 0 and "is applied already" not in $b.stdout
    Should Be True    ${a wrote} != ${b wrote}
    ...    msg=expected exactly one apply to write, got exit codes ${a.rc} and ${b.rc}
    IF    ${a wrote}
        VAR    ${winner}    ${a}
        VAR    ${loser}    ${b}
        VAR    ${WINNER PID}    ${first pid}    scope=TEST
    ELSE
        VAR    ${winner}    ${b}
        VAR    ${loser}    ${a}
        VAR    ${WINNER PID}    ${second pid}    scope=TEST
    END
    Should Not Contain    ${winner.stderr}    Traceback
    IF    ${loser.rc} != 0
        Should Be One Error Line    ${loser}
    ELSE
        Should Contain    ${loser.stdout}    is applied already: its changes are in the project
    END
    RETURN    ${winner}    ${loser}

Apply Should Have Left Nothing Behind
    [Documentation]    No apply temp file in the project, nothing in TMPDIR, no lock held.
    [Arguments]    ${root}
    ${left}=    Temp Files Left    ${root}
    Should Be Empty    ${left}    msg=temp files left in the project: ${left}
    Scratch Should Be Clean
    No Locks Should Be Held
