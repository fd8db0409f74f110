*** Settings ***
Documentation       A running plan stopped from outside: `agents plan cancel` stops its running
...                 commands (whole process groups) and the run exits 1; a run killed with SIGKILL
...                 is resumed by `agents plan execute`, which does not run completed subplans again.
Resource            resources/agents.resource
Test Setup          Fresh Plan Database
Test Teardown       Stop Plan Processes


*** Test Cases ***
Cancelling A Running Plan Stops Its Commands
    ${root}=    Generate Project    proj    files=30    dirs=6
    Add Project    ${root}    proj
    # Each command records its pid (its process group: commands run in their own) and becomes
    # a `sleep 600` that only a cancel can end in time.
    ${pids file}=    Set Variable    ${WORK DIR}/pids.txt
    ${action}=    Write Command Action    sleeper    echo $$ >> ${pids file}; exec sleep 600
    ...    max_files_per_subplan=5    min_files_per_subplan=1
    ${plan}=    Create Plan    --project    proj    --action    ${action}    --max-parallel    3
    VAR    ${PLAN}    ${plan}    scope=TEST
    ${run}=    Start Agents    plan    execute    ${plan}    alias=execute
    ${status}=    Wait Until Plan Counts    ${plan}    running=3
    Should Be Equal    ${status}[phase]    executing
    Should Be Equal As Integers    ${status}[counts][completed]    0
    ${leaves}=    Get Length    ${{ [n for n in $status["subplans"] if n["files"]] }}
    Should Be Equal As Integers    ${leaves}    6
    @{pids}=    Wait Until File Has Lines    ${pids file}    3
    ${running}=    Processes Of Plan    ${plan}
    Length Should Be    ${running}    3    msg=expected the 3 running commands, found ${running}

    ${out}=    Agents Should Succeed    plan    cancel    ${plan}
    Should Contain    ${out}    plan ${plan}: cancel requested
    # Well before the sleeps would have ended by themselves.
    ${result}=    Wait For Process    ${run}    timeout=${WAIT TIMEOUT}    on_timeout=kill
    Log    stdout:\n${result.stdout}\nstderr:\n${result.stderr}
    Should Be Equal As Integers    ${result.rc}    1    msg=plan execute exited ${result.rc}
    Should Contain    ${result.stdout}    plan ${plan} cancelled

    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    cancelled
    Should Be Equal As Integers    ${status}[counts][running]    0
    Should Be Equal As Integers    ${status}[counts][completed]    0
    # The 3 that ran were cancelled; the rest were not started (cancelled or left pending).
    ${stopped}=    Evaluate    [n for n in $status["subplans"] if n["started_at"]]
    Length Should Be    ${stopped}    3
    FOR    ${leaf}    IN    @{stopped}
        Should Be Equal    ${leaf}[state]    cancelled    msg=${leaf}
    END
    ${not run}=    Evaluate    $status["counts"]["cancelled"] + $status["counts"]["pending"]
    Should Be Equal As Integers    ${not run}    6
    # No command of the plan is left: neither the recorded groups nor anything else that
    # carries the plan's id; and no command started after the cancel.
    Process Groups Should Be Gone    ${pids}
    ${left}=    Processes Of Plan    ${plan}
    Should Be Empty    ${left}    msg=processes of the plan still running: ${left}
    ${started}=    Lines Of File    ${pids file}
    Length Should Be    ${started}    3

Killed Plan Run Is Resumed Without Running Completed Subplans Again
    ${root}=    Generate Project    proj    files=30    dirs=10
    Add Project    ${root}    proj
    # Each command logs its subplan id and pid. The first three to start finish at once; the
    # later ones hold on a gate, so the run stalls with some leaves completed and two running.
    ${ran file}=    Set Variable    ${WORK DIR}/ran.txt
    ${gate}=    Close Gate
    @{gate argv}=    Gate Command    ${gate}
    ${hold}=    Evaluate    shlex.join($gate_argv)    modules=shlex
    ${action}=    Write Command Action    held
    ...    echo "$AGENTS_SUBPLAN_ID $$" >> ${ran file}; [ "$(wc -l < ${ran file})" -le 3 ] || exec ${hold}
    ...    max_files_per_subplan=3    min_files_per_subplan=1
    ${plan}=    Create Plan    --project    proj    --action    ${action}    --max-parallel    2
    VAR    ${PLAN}    ${plan}    scope=TEST
    ${first}=    Start Agents    plan    execute    ${plan}    alias=first
    Wait Until Plan Counts    ${plan}    completed=2    running=2
    ${killed}=    Terminate Process    ${first}    kill=True
    Should Be Equal As Integers    ${killed.rc}    -9
    # Its commands live in their own process groups and outlive it: end them too.
    Kill Processes Of Plan    ${plan}
    @{ran lines}=    Lines Of File    ${ran file}
    ${pids}=    Evaluate    [line.split()[1] for line in $ran_lines]
    Kill Process Groups    @{pids}
    Process Groups Should Be Gone    ${pids}

    # Nobody is left to finish the run: it still says executing.
    ${before}=    Plan Status    ${plan}
    Should Be Equal    ${before}[phase]    executing
    ${done before}=    Evaluate
    ...    [n["id"] for n in $before["subplans"] if n["files"] and n["state"] == "completed"]
    ${done count}=    Get Length    ${done before}
    Should Be True    2 <= ${done count} <= 3    msg=${done count} leaves completed before the kill
    ${ran before}=    Lines Of File    ${ran file}

    Open Gate
    ${result}=    Run Agents    plan    execute    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Contain    ${result.stdout}    plan ${plan} executed
    ${after}=    Plan Should Have Executed    ${plan}    leaves=10

    # The leaves completed before the kill ran exactly once in all; the resumed run ran
    # exactly the others, each once.
    @{ran lines}=    Lines Of File    ${ran file}
    ${ran ids}=    Evaluate    [line.split()[0] for line in $ran_lines]
    FOR    ${id}    IN    @{done before}
        ${times}=    Evaluate    $ran_ids.count($id)
        Should Be Equal As Integers    ${times}    1    msg=completed leaf ${id} ran ${times} times
    END
    ${resumed}=    Evaluate    sorted(line.split()[0] for line in $ran_lines[len($ran_before):])
    ${leaf ids}=    Evaluate    {n["id"] for n in $after["subplans"] if n["files"]}
    ${expected}=    Evaluate    sorted($leaf_ids - set($done_before))
    Should Be Equal    ${resumed}    ${expected}
