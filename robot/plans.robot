*** Settings ***
Documentation       `agents plan` over a generated project of 2,000 files in 30 directories: a
...                 built-in action and a real external command whose parallelism is measured by
...                 the commands themselves; scratch files cleaned up; a plan run by a worker and
...                 followed with `plan watch`; bad input.
Resource            resources/agents.resource
Test Setup          Fresh Plan Database
Test Teardown       Stop Plan Processes


*** Variables ***
${FILE COUNT}       2000
${DIR COUNT}        30
${CAP}              10
${UNKNOWN ID}       01ZZZZZZZZZZZZZZZZZZZZZZZZ


*** Test Cases ***
Built-In Action Over 2,000 Files In 30 Directories
    ${root}=    Generate Project    big    files=${FILE COUNT}    dirs=${DIR COUNT}
    Add Project    ${root}    big
    ${result}=    Run Agents    plan    run    --project    big    --action    builtin:count-lines
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    Should Contain    ${result.stdout}    plan ${plan} executed
    Should Not Contain    ${result.stderr}    Traceback

    ${files}=    Project Files    ${root}
    Length Should Be    ${files}    ${FILE COUNT}
    ${status}=    Plan Should Have Executed    ${plan}
    ${leaves}=    Leaves Should Cover Files Once    ${status}    ${files}
    # Decomposed per directory at least: no leaf mixes two directories.
    ${count}=    Get Length    ${leaves}
    Should Be True    ${count} >= ${DIR COUNT}    msg=only ${count} leaves for ${DIR COUNT} directories
    FOR    ${leaf}    IN    @{leaves}
        ${dirs}=    Evaluate    {path.split("/")[0] for path in $leaf["files"]}
        Length Should Be    ${dirs}    1    msg=leaf ${leaf}[label] spans ${dirs}
    END
    # The plain progress log names every leaf once, then the summary.
    ${progress}=    Get Regexp Matches    ${result.stdout}    (?m)^\\[\\s*\\d+/${count}\\] completed
    Length Should Be    ${progress}    ${count}
    Should Contain    ${result.stdout}    completed ${count}, failed 0, cancelled 0, pending 0

External Command At Max Parallel 10 Reaches The Cap And Never Exceeds It
    ${root}=    Generate Project    big    files=${FILE COUNT}    dirs=${DIR COUNT}
    Add Project    ${root}    big
    # Each run logs its start and end (wall clock, pid, how many files it got, its subplan) and
    # counts the lines of its files for real. Then it holds until ${CAP} runs have started (or a
    # minute has passed): the first ${CAP} overlap however slowly the machine starts processes,
    # and the later ones go straight on. A run that exceeded the cap would not be held.
    ${log}=    Set Variable    ${WORK DIR}/commands.log
    ${script}=    Catenate
    ...    echo "start $(date +%s.%N) $$ $# $AGENTS_SUBPLAN_ID" >> ${log};
    ...    wc -l "$@" > /dev/null || exit 9;
    ...    i=0; while [ "$(grep -c ^start ${log})" -lt ${CAP} ] && [ $i -lt 1200 ];
    ...    do sleep 0.05; i=$((i + 1)); done;
    ...    echo "end $(date +%s.%N) $$ $# $AGENTS_SUBPLAN_ID" >> ${log}
    ${action}=    Write Command Action    wc-lines    ${script}    max_files_per_subplan=100
    ${result}=    Run Agents    plan    run    --project    big    --action    ${action}
    ...    --max-parallel    ${CAP}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}

    ${status}=    Plan Should Have Executed    ${plan}
    Should Be Equal As Integers    ${status}[profile][max_parallel][value]    ${CAP}
    ${files}=    Project Files    ${root}
    ${leaves}=    Leaves Should Cover Files Once    ${status}    ${files}
    ${count}=    Get Length    ${leaves}
    Should Be True    ${count} >= 15    msg=only ${count} leaf subplans

    # Every leaf ran its command once, with its own files: together, all 2,000.
    ${lines}=    Get File    ${log}
    @{starts}=    Get Regexp Matches    ${lines}    (?m)^start .*$
    Length Should Be    ${starts}    ${count}
    ${ran}=    Evaluate    sorted(line.split()[4] for line in $starts)
    ${leaf ids}=    Evaluate    sorted(leaf["id"] for leaf in $leaves)
    Should Be Equal    ${ran}    ${leaf ids}
    ${given}=    Evaluate    sum(int(line.split()[3]) for line in $starts)
    Should Be Equal As Integers    ${given}    ${FILE COUNT}
    # What the processes themselves saw: never more than the cap at once, and the cap reached.
    ${peak}=    Max Overlap In Log    ${log}
    Should Be True    ${peak} <= ${CAP}    msg=${peak} commands ran at once; the cap is ${CAP}
    Should Be Equal As Integers    ${peak}    ${CAP}    msg=the cap of ${CAP} was never reached

Plan Run By A Worker Is Followed By Plan Watch
    ${root}=    Generate Project    small    files=48    dirs=12
    Add Project    ${root}    small
    # The leaves hold until the test opens the gate: the plan is provably running in the
    # worker while `plan watch` follows it.
    ${gate}=    Close Gate
    @{gate argv}=    Gate Command    ${gate}
    ${script}=    Evaluate    "exec " + shlex.join($gate_argv)    modules=shlex
    ${action}=    Write Command Action    gated    ${script}
    ...    max_files_per_subplan=4    min_files_per_subplan=1
    ${plan}=    Create Plan    --project    small    --action    ${action}    --max-parallel    4
    VAR    ${PLAN}    ${plan}    scope=TEST
    ${out}=    Agents Should Succeed    plan    execute    ${plan}    --async
    ${job}=    Strip String    ${out}
    Should Match Regexp    ${job}    ^[0-9A-Z]{26}$
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[job_id]    ${job}
    Should Be Equal    ${status}[phase]    created    msg=nothing runs it before a worker does
    ${leaves}=    Get Length    ${{ [n for n in $status["subplans"] if n["files"]] }}
    Should Be Equal As Integers    ${leaves}    12

    ${watch}=    Start Agents    plan    watch    ${plan}    alias=watch
    # No worker yet: watch says so at once, and keeps waiting.
    Wait Until Process Logs    ${watch}    its job ${job} is queued and no worker is running
    Process Should Be Running    ${watch}    msg=watch gave up on a queued plan
    ${worker}=    Start Worker    alias=worker
    Wait Until Plan Counts    ${plan}    running=4
    Wait Until Worker Claims    ${worker}    ${job}
    Process Should Be Running    ${watch}    msg=watch stopped while the plan runs
    Open Gate
    ${result}=    Wait For Process    ${watch}    timeout=${WAIT TIMEOUT}    on_timeout=kill
    Log    stdout:\n${result.stdout}\nstderr:\n${result.stderr}
    Should Be Equal As Integers    ${result.rc}    0    msg=watch exited ${result.rc}
    Should Contain    ${result.stdout}    plan ${plan} executed
    Should Contain    ${result.stdout}    completed ${leaves}, failed 0, cancelled 0, pending 0
    # It followed the run as it happened: one line per leaf finishing.
    ${progress}=    Get Regexp Matches    ${result.stdout}    (?m)^\\[\\s*\\d+/${leaves}\\] completed
    Length Should Be    ${progress}    ${leaves}

    Plan Should Have Executed    ${plan}    leaves=${leaves}
    Job Should Finish    ${job}    rc=0
    Send Signal To Process    SIGTERM    ${worker}
    Worker Should Exit    ${worker}

A Plan Run Leaves Nothing Behind In TMPDIR
    [Documentation]    Each run keeps its subplans' file lists in one scratch directory and
    ...    removes it at the end, however many leaves start at once.
    ${root}=    Generate Project    big    files=${FILE COUNT}    dirs=${DIR COUNT}
    Add Project    ${root}    big
    ${action}=    Write Command Action    quick    true    max_files_per_subplan=100
    ${result}=    Run Agents    plan    run    --project    big    --action    ${action}
    ...    --max-parallel    32
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Plan Id From Run Output    ${result.stdout}
    Scratch Should Be Clean

Bad Input Gets One Line, The Right Exit Code And Creates Nothing
    ${root}=    Generate Project    small    files=10    dirs=2
    Add Project    ${root}    small
    Agents Should Fail    4    no project named 'nope'
    ...    plan    run    --project    nope    --action    builtin:noop
    Agents Should Fail    4    no action '.*missing\\.toml': not a file
    ...    plan    create    --project    small    --action    ${WORK DIR}/missing.toml
    Agents Should Fail    2    max_parallel = 33 is not allowed \\(allowed: 1\\.\\.32\\)
    ...    plan    run    --project    small    --action    builtin:noop    --max-parallel    33
    FOR    ${command}    IN    status    execute    watch
        Agents Should Fail    4    no plan with id '${UNKNOWN ID}'    plan    ${command}    ${UNKNOWN ID}
    END
    ${plans}=    Agents Json    plan    list    --json
    Should Be Empty    ${plans}    msg=a plan was half-created: ${plans}


*** Keywords ***
Plan Id From Run Output
    [Documentation]    `agents plan run` prints "plan ID" first; returns the id.
    [Arguments]    ${stdout}
    ${match}=    Should Match Regexp    ${stdout}    ^plan ([0-9A-Z]{26})\\n
    VAR    ${PLAN}    ${match}[1]    scope=TEST
    RETURN    ${match}[1]
