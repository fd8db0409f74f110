*** Settings ***
Documentation       Controlling what a plan writes, with real tools in real `agents` processes:
...                 `pyupgrade` (which exits 1 when it rewrites) completes with
...                 `success_exit_codes = [0, 1]` and applies byte for byte what it gives run
...                 directly; a `ruff format` run with one leaf on invalid Python fails, its
...                 completed leaves are applied with `plan apply --completed`, the plan is resumed
...                 with a fixed action (`plan execute --action`) and the rest applied, and the
...                 project ends byte for byte as `ruff format` run directly leaves it; bad input
...                 to those commands gets one line and its documented exit code.
Resource            resources/agents.resource
Library             resources/ControlLibrary.py
Test Setup          Fresh Plan Database
Test Teardown       Stop Plan Processes


*** Variables ***
${UNKNOWN ID}       01ZZZZZZZZZZZZZZZZZZZZZZZZ
# The files pyupgrade --py311-plus rewrites in the old-style project (all its *.py but clean.py).
@{REWRITTEN}        app/core/models.py    app/core/store.py    app/web/views.py
...                 app/web/handlers.py    tools/release.py    tools/bump.py    tests/test_models.py


*** Test Cases ***
Pyupgrade Over Several Leaves Applies Byte For Byte What Pyupgrade Gives Directly
    ${root}=    Write Old Style Project    proj
    ${original}=    Copy Project    ${root}    original
    ${direct}=    Copy Project    ${root}    direct
    # pyupgrade itself exits 1 when it rewrites a file: the reason for success_exit_codes.
    Run Tool Directly    ${direct}    pyupgrade    --py311-plus    expected_rc=1
    Files Should Differ From    ${direct}    ${original}    ${REWRITTEN}
    Files Should Be As In    ${direct}    ${original}    ${{ ["app/web/clean.py", "README.md"] }}

    Add Project    ${root}    proj
    ${action}=    Write Tool Action    upgrade    pyupgrade    --py311-plus    {files}
    ...    success_exit_codes=0, 1    max_files_per_subplan=2    min_files_per_subplan=1
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}    --apply
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Not Contain    ${result.stderr}    Traceback
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    ${count}=    Get Length    ${REWRITTEN}
    Should Contain    ${result.stdout}    plan ${plan} applied: ${count} files written (modified ${count})

    # Several leaves, each completed with 0 or 1, and pyupgrade's 1 among them.
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    applied    msg=${status}
    ${leaves}=    Leaves Should Cover Files Once    ${status}
    ...    ${{ $REWRITTEN + ["app/web/clean.py"] }}
    ${leaf count}=    Get Length    ${leaves}
    Should Be True    ${leaf count} >= 4    msg=only ${leaf count} leaves
    FOR    ${leaf}    IN    @{leaves}
        Should Be Equal    ${leaf}[state]    completed    msg=${leaf}
        Should Contain    ${{ [0, 1] }}    ${leaf}[exit_code]    msg=${leaf}
        ${dirs}=    Evaluate    {path.rsplit("/", 1)[0] for path in $leaf["files"]}
        Length Should Be    ${dirs}    1    msg=leaf ${leaf}[label] spans ${dirs}
    END
    ${exit codes}=    Evaluate    {leaf["exit_code"] for leaf in $leaves}
    Should Contain    ${exit codes}    ${1}    msg=no leaf exited 1: success_exit_codes untested

    # Every file of the project, Python or not, holds exactly what pyupgrade gave directly.
    Trees Should Be Byte Identical    ${root}    ${direct}
    Scratch Should Be Clean

A Failed Ruff Format Run Applies Its Completed Leaves, Then Resumes With A Fixed Action
    ${root}=    Write Unformatted Project    proj
    ${original}=    Copy Project    ${root}    original
    ${direct}=    Copy Project    ${root}    direct
    ${bad file}=    Broken File
    # ruff format itself exits 2 on the invalid file; on the fixed copy it formats everything.
    Run Tool Directly    ${original}    ruff    format    --no-cache    --check    expected_rc=2
    Fix Broken File    ${direct}
    Run Tool Directly    ${direct}    ruff    format    --no-cache    expected_rc=0

    Add Project    ${root}    proj
    ${action}=    Write Tool Action    format    ruff    format    {files}
    ...    failure_mode=continue_on_error    max_files_per_subplan=2    min_files_per_subplan=1
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}
    Should Be Equal As Integers    ${result.rc}    1    msg=${result.stdout}${result.stderr}
    Should Not Contain    ${result.stderr}    Traceback
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    Should Contain    ${result.stdout}    plan ${plan} failed: completed 2, failed 1, cancelled 0, pending 0
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    failed    msg=${status}
    @{failed}=    Leaves By State    ${status}    failed
    @{completed}=    Leaves By State    ${status}    completed
    Length Should Be    ${failed}    1
    Length Should Be    ${completed}    2
    Should Contain    ${failed}[0][files]    ${bad file}
    Should Be Equal    ${failed}[0][exit_code]    ${2}    msg=${failed}[0]
    Should Start With    ${failed}[0][error_message]    exit code 2:
    ${bad leaf files}=    Files Of Leaves    ${failed}
    ${good leaf files}=    Files Of Leaves    ${completed}
    Length Should Be    ${bad leaf files}    2
    Length Should Be    ${good leaf files}    4
    # Nothing is written before an apply, and a plain apply refuses a failed plan.
    Agents Should Fail    2    plan ${plan} is failed; only an executed plan can be applied
    ...    plan    apply    ${plan}
    Trees Should Be Byte Identical    ${root}    ${original}

    # The completed leaves only: their files as ruff formats them, the failed leaf's untouched.
    ${out}=    Agents Should Succeed    plan    apply    ${plan}    --completed
    Should Contain    ${out}
    ...    plan ${plan} (failed): its completed subplans' changes applied: 4 files written (modified 4)
    Files Should Differ From    ${root}    ${original}    ${good leaf files}
    Files Should Be As In    ${root}    ${direct}    ${good leaf files}
    Files Should Be As In    ${root}    ${original}    ${bad leaf files}
    Files Should Be As In    ${root}    ${original}    ${{ ["pyproject.toml", "NOTES.txt"] }}
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    failed    msg=the plan keeps its phase: ${status}
    # What is written can no longer be rejected.
    Agents Should Fail    2    subplan ${completed}[0][id] of plan ${plan} is applied already
    ...    plan    reject    ${plan}    ${completed}[0][id]
    FOR    ${leaf}    IN    @{{ [n for n in $status["subplans"] if n["files"]] }}
        ${written}=    Set Variable If    "${leaf}[state]" == "completed"    ${2}    ${0}
        Should Be Equal    ${leaf}[changes]    ${written}    msg=${leaf}
        Should Be Equal    ${leaf}[applied]    ${written}    msg=${leaf}
    END

    # The file fixed in the project, the action fixed (it now checks its output too): the
    # failed leaf runs again, the completed ones do not, and the rest applies.
    Fix Broken File    ${root}
    ${fixed}=    Write Tool Action    format-checked    ruff    format    {files}
    ...    failure_mode=continue_on_error    verify=ruff format --check --no-cache {files}
    ...    max_files_per_subplan=2    min_files_per_subplan=1
    ${result}=    Run Agents    plan    execute    ${plan}    --action    ${fixed}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Contain    ${result.stdout}    plan ${plan}: action format-checked
    Should Contain    ${result.stdout}    plan ${plan} executed: completed 3, failed 0, cancelled 0, pending 0
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    executed    msg=${status}
    ${by id}=    Evaluate    {node["id"]: node for node in $status["subplans"]}
    FOR    ${leaf}    IN    @{completed}
        Should Be Equal    ${by id}[${leaf}[id]][finished_at]    ${leaf}[finished_at]
        ...    msg=the completed leaf ${leaf}[label] ran again
        Should Be Equal    ${by id}[${leaf}[id]][verification]    ${None}
    END
    ${resumed}=    Set Variable    ${by id}[${failed}[0][id]]
    Should Be Equal    ${resumed}[state]    completed    msg=${resumed}
    Should Be Equal    ${resumed}[exit_code]    ${0}    msg=${resumed}
    Should Be Equal    ${resumed}[verification]    passed    msg=the fixed action's check: ${resumed}
    ${shown}=    Agents Json    plan    show    ${plan}    --json
    Should Be Equal    ${shown}[action]    format-checked
    Should Be Equal    ${shown}[action_definition][source]    ${fixed}
    ${out}=    Agents Should Succeed    plan    apply    ${plan}
    Should Contain    ${out}    plan ${plan} applied: 2 files written (modified 2); 4 already applied

    Trees Should Be Byte Identical    ${root}    ${direct}
    Scratch Should Be Clean

Apply --completed With No Completed Leaf Is Exit 2 In One Line
    ${root}=    Write Unformatted Project    proj    broken=${False}
    ${original}=    Copy Project    ${root}    original
    Add Project    ${root}    proj
    ${action}=    Write Command Action    failing    exit 3
    ...    max_files_per_subplan=2    min_files_per_subplan=1
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}
    Should Be Equal As Integers    ${result.rc}    1    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    ${before}=    Plan Status    ${plan}
    Should Be Equal As Integers    ${before}[counts][completed]    0    msg=${before}
    Agents Should Fail    2    ^error: plan ${plan} has no completed subplan to apply$
    ...    plan    apply    ${plan}    --completed
    ${after}=    Plan Status    ${plan}
    Should Be Equal    ${after}[phase]    failed
    Should Be Equal    ${after}[counts]    ${before}[counts]
    Trees Should Be Byte Identical    ${root}    ${original}

Reject Of A Subplan That Is Not A Leaf Of The Plan Is Exit 4 And Rejects Nothing
    ${root}=    Write Unformatted Project    proj    broken=${False}
    Add Project    ${root}    proj
    ${action}=    Write Tool Action    format    ruff    format    {files}
    ...    max_files_per_subplan=2    min_files_per_subplan=1
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    ${before}=    Plan Status    ${plan}
    ${leaves}=    Leaf Subplans    ${before}
    ${leaf}=    Set Variable    ${leaves}[0][id]
    ${root node}=    Evaluate    next(n["id"] for n in $before["subplans"] if n["parent_id"] is None)
    Should Not Be Equal    ${root node}    ${leaf}
    Agents Should Fail    4    ^error: plan ${plan} has no subplan ${UNKNOWN ID} \\(see `agents plan status`\\)$
    ...    plan    reject    ${plan}    ${UNKNOWN ID}
    # An inner subplan is not a leaf either; and one bad id among good ones rejects none.
    Agents Should Fail    4    has no leaf subplan ${root node}
    ...    plan    reject    ${plan}    ${root node}
    Agents Should Fail    4    has no subplan ${UNKNOWN ID}
    ...    plan    reject    ${plan}    ${leaf}    ${UNKNOWN ID}    --reason    mixed
    ${after}=    Plan Status    ${plan}
    Should Be Equal    ${after}[changes]    ${before}[changes]
    FOR    ${node}    IN    @{after}[subplans]
        Should Be Equal    ${node}[rejection]    ${None}    msg=${node}
    END
    ${out}=    Agents Should Succeed    plan    apply    ${plan}
    Should Contain    ${out}    plan ${plan} applied: 6 files written (modified 6)

Execute --action With An Action File That Does Not Parse Is Exit 2 Naming The File And Line
    ${root}=    Write Unformatted Project    proj
    Add Project    ${root}    proj
    ${action}=    Write Tool Action    format    ruff    format    {files}
    ...    failure_mode=continue_on_error    max_files_per_subplan=2    min_files_per_subplan=1
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}
    Should Be Equal As Integers    ${result.rc}    1    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    ${before}=    Plan Status    ${plan}
    # A value that is not TOML mid-file, and an array left open at the end of the file.
    ${broken}=    Set Variable    ${WORK DIR}/broken.toml
    Create File    ${broken}    [action]\nname = format\ncommand = ["true"]\n
    Agents Should Fail    2    ^error: \\S*/broken\\.toml: line 2, column 8: invalid TOML
    ...    plan    execute    ${plan}    --action    ${broken}
    ${unclosed}=    Set Variable    ${WORK DIR}/unclosed.toml
    Create File    ${unclosed}    [action]\nname = "format"\ncommand = ["ruff", "format", "{files}"\n
    Agents Should Fail    2    ^error: \\S*/unclosed\\.toml: line 3\\b.*invalid TOML
    ...    plan    execute    ${plan}    --action    ${unclosed}
    # Nothing ran and nothing changed: the plan is bound to its action still, as it was.
    ${after}=    Plan Status    ${plan}
    Should Be Equal    ${after}[phase]    failed
    Should Be Equal    ${after}[subplans]    ${before}[subplans]
    ${shown}=    Agents Json    plan    show    ${plan}    --json
    Should Be Equal    ${shown}[action]    format
    Should Be Equal    ${shown}[action_definition][source]    ${action}

Plan Logs Follows A Running Leaf From Another Terminal
    [Documentation]    `agents plan logs PLAN --follow`, started while the plan runs in another
    ...    process, prints what each leaf prints as it prints it (before the leaf ends), then
    ...    the rest, and exits 0 when the run ends; each line once, prefixed with its leaf.
    ${root}=    Generate Project    chatty    files=4    dirs=2
    Add Project    ${root}    chatty
    ${gate}=    Close Gate
    @{gate argv}=    Gate Command    ${gate}
    ${wait}=    Evaluate    shlex.join($gate_argv)    modules=shlex
    ${action}=    Write Command Action    chatty
    ...    echo "started $#"; ${wait}; echo "finished $#"
    ...    max_files_per_subplan=2    min_files_per_subplan=1
    ${plan}=    Create Plan    --project    chatty    --action    ${action}    --max-parallel    2
    VAR    ${PLAN}    ${plan}    scope=TEST
    ${run}=    Start Agents    plan    execute    ${plan}    alias=run
    Wait Until Plan Counts    ${plan}    running=2
    ${follow}=    Start Agents    plan    logs    ${plan}    --follow    alias=follow
    ${line}=    Wait Until Process Prints    follow    \\| started 2$
    Process Should Be Running    ${follow}    msg=logs --follow ended while the plan runs
    Open Gate
    ${result}=    Wait For Process    ${follow}    timeout=${WAIT TIMEOUT}    on_timeout=kill
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${ran}=    Wait For Process    ${run}    timeout=${WAIT TIMEOUT}    on_timeout=kill
    Should Be Equal As Integers    ${ran.rc}    0    msg=${ran.stdout}${ran.stderr}
    ${started}=    Get Regexp Matches    ${result.stdout}    (?m)^\\S+ \\| started 2$
    ${finished}=    Get Regexp Matches    ${result.stdout}    (?m)^\\S+ \\| finished 2$
    Length Should Be    ${started}    2    msg=${result.stdout}
    Length Should Be    ${finished}    2    msg=${result.stdout}
    # The same as `plan logs` prints once the plan has ended.
    ${after}=    Agents Should Succeed    plan    logs    ${plan}
    ${sorted follow}=    Evaluate    sorted($result.stdout.splitlines())
    ${sorted after}=    Evaluate    sorted($after.splitlines())
    Lists Should Be Equal    ${sorted follow}    ${sorted after}


*** Keywords ***
Plan Id From Run Output
    [Documentation]    `agents plan run` prints "plan ID" first; returns the id (and sets ${PLAN}
    ...    for the teardown).
    [Arguments]    ${stdout}
    ${match}=    Should Match Regexp    ${stdout}    ^plan ([0-9A-Z]{26})\\n
    VAR    ${PLAN}    ${match}[1]    scope=TEST
    RETURN    ${match}[1]
