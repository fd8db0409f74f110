*** Settings ***
Documentation       AI coding agents as actions, with the fake agent of the behave features
...                 (features/fixtures/fake_agent.py, run by this interpreter) in real `agents`
...                 processes: a plan of 60 leaves against an agent that answers 429 past 3
...                 instances at once completes every leaf, slows itself down, and costs exactly
...                 what the instances that worked reported; a run killed with SIGKILL mid-way
...                 (its agents killed with it, or left to finish unrecorded) is resumed without
...                 running completed leaves again or counting any cost twice.
...                 Each instance of the fake agent appends a line to a ledger
...                 (FAKE_AGENT_LEDGER: its pid, leaf, files, the count of instances it saw
...                 running, whether it worked or answered 429, its cost), written once its result
...                 is out; the tests hold that ledger against `agents plan status --json`.
Resource            resources/agents.resource
Library             resources/FakeAgentLibrary.py
Test Setup          Fresh Plan Database
Test Teardown       Stop Plan Processes


*** Test Cases ***
Sixty Leaves Against A Rate-Limited Agent All Complete At Its Pace And Cost What It Reported
    [Documentation]    60 leaves of one file each (in 6 directories), `--max-parallel 12
    ...    --retries 10`, against the fake agent limited to 3 instances at once (more answer 429
    ...    with `Retry-After: 1`, taken by `retry_after_pattern`). Every leaf completes and the
    ...    plan's effective concurrency ended below 12. In the ledger, the instances that
    ...    worked never saw more than 3 running nor overlapped more than 3 deep, and some
    ...    answered 429; each leaf worked exactly once, and its attempts are its instances.
    ...    The plan's total cost is the sum the instances that worked reported (to 1e-9).
    ${root}=    Generate Project    proj    files=60    dirs=6
    ${files}=    Project Files    ${root}
    Add Project    ${root}    proj
    ${ledger}=    Set Variable    ${WORK DIR}/ledger.jsonl
    Set Process Environment    FAKE_AGENT_LIMIT=3    FAKE_AGENT_DIR=${WORK DIR}/running
    ...    FAKE_AGENT_DELAY=0.2    FAKE_AGENT_LEDGER=${ledger}
    ${action}=    Write Fake Agent Action    agent    retry_after_pattern=Retry-After: (\\d+)
    ${plan}=    Create Plan    --project    proj    --action    ${action}
    ...    --max-parallel    12    --retries    10
    VAR    ${PLAN}    ${plan}    scope=TEST

    ${result}=    Run Agents    plan    execute    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Not Contain    ${result.stderr}    Traceback
    Should Contain    ${result.stdout}    plan ${plan} executed: completed 60, failed 0
    ${status}=    Plan Should Have Executed    ${plan}    leaves=60
    ${leaves}=    Leaves Should Cover Files Once    ${status}    ${files}
    # The rate limits slowed the plan down, and it had not climbed back to max_parallel.
    Should Not Be Equal    ${status}[concurrency]    ${None}    msg=no rate limit was seen
    Should Be True    ${status}[concurrency] < 12    msg=concurrency ${status}[concurrency]
    Log    effective concurrency at the end: ${status}[concurrency] of 12

    # Each instance counted itself in once (concurrency log) and wrote its ledger line.
    ${entries}=    Ledger Entries    ${ledger}
    Concurrency Log Should Match Ledger    ${WORK DIR}/concurrency.log    ${entries}
    Working Instances Should Stay Within    ${entries}    3
    Each Leaf Should Have Worked Once    ${leaves}    ${entries}
    ${reported}=    Ledger Cost    ${entries}
    Costs Should Be Equal    ${status}[totals][cost_usd]    ${reported}    what=the plan's total
    Costs Should Be Equal    ${reported}    ${0.6}    what=60 leaves at $0.01

Killed Agent Run Resumes Without Running Completed Leaves Again Or Counting A Cost Twice
    [Documentation]    30 leaves of one file each, the fake agent taking 0.5 s each,
    ...    `--max-parallel 4`, run by `agents plan execute` in the background and killed with
    ...    SIGKILL (with the agents it started, in their own process groups) once at least 6
    ...    leaves completed. A second `agents plan execute` exits 0 and runs exactly the leaves
    ...    not recorded completed, each once.
    ...
    ...    "Not counted twice" means: the plan's total cost is the sum, over its leaves, of
    ...    the cost of the leaf's final attempt, the one the plan recorded. The leaves
    ...    completed before the kill worked once in all and their cost counts once. A leaf
    ...    running at the kill may have worked twice: its first instance may have finished
    ...    its work (and written its result and ledger line) while the run was being killed,
    ...    before the run recorded it; that attempt's completion was never recorded, so its
    ...    cost is not in the plan's total, and only the resumed attempt's is. An instance
    ...    killed before its result was out has no ledger line and no cost. So: plan total =
    ...    the ledger's sum minus the cost of the instances whose completion was never
    ...    recorded (those of leaves not completed at the kill) = the sum of the final attempts.
    Kill An Agent Plan Mid-Run And Resume It    kill_agents=${True}

Agents Finishing After Their Run Was Killed Are Run Again And Counted Once
    [Documentation]    As above, but only the `agents` process is killed: the agents it
    ...    started, in their own process groups, outlive it and finish their work (each writes
    ...    its result and its ledger line) with nobody left to record it. Each leaf whose agent
    ...    was running at the kill has thus worked once unrecorded: the resumed run runs it
    ...    again (it has worked twice), and the plan's total counts only the resumed attempt's
    ...    cost (the sum of the final attempts). The test above meets that case only when its
    ...    kill happens to land between an agent's end and its record; here it is certain
    ...    (four agents run at almost any moment of the run, none at none).
    ${unrecorded}    ${running}=    Kill An Agent Plan Mid-Run And Resume It    kill_agents=${False}
    ${count}=    Get Length    ${unrecorded}
    Should Be True    ${count} >= 1
    ...    msg=no agent finished unrecorded (${running} leaves recorded running at the kill)
    Log    ${count} agents finished unrecorded; ${running} leaves were recorded running


*** Keywords ***
Kill An Agent Plan Mid-Run And Resume It
    [Documentation]    A plan of 30 one-file leaves of the fake agent (0.5 s each, 4 at once),
    ...    run by `agents plan execute` in the background and killed with SIGKILL once at
    ...    least 6 leaves completed (with the agents it started, when kill_agents; else
    ...    they finish by themselves); then resumed with `agents plan execute`, which must run
    ...    exactly the leaves not recorded completed, once each, and count each leaf's cost
    ...    once. Returns the ledger lines of the instances that worked but were never recorded,
    ...    and how many leaves the plan recorded running at the kill.
    [Arguments]    ${kill_agents}
    ${root}=    Generate Project    proj    files=30    dirs=5
    ${files}=    Project Files    ${root}
    Add Project    ${root}    proj
    ${ledger}=    Set Variable    ${WORK DIR}/ledger.jsonl
    Set Process Environment    FAKE_AGENT_DELAY=0.5    FAKE_AGENT_LEDGER=${ledger}
    ${action}=    Write Fake Agent Action    agent
    ${plan}=    Create Plan    --project    proj    --action    ${action}    --max-parallel    4
    VAR    ${PLAN}    ${plan}    scope=TEST

    ${first}=    Start Agents    plan    execute    ${plan}    alias=first
    Wait Until Plan Counts    ${plan}    completed=6
    ${killed}=    Terminate Process    ${first}    kill=True
    Should Be Equal As Integers    ${killed.rc}    -9
    # Its agents run in their own process groups and outlive it: end them too (or let them
    # finish), and wait until none is left, so that nothing writes to the ledger any more.
    IF    $kill_agents    Kill Processes Of Plan    ${plan}
    Wait Until Plan Has No Processes    ${plan}

    # Nobody is left to finish the run: it still says executing, mid-way.
    ${before}=    Plan Status    ${plan}
    Should Be Equal    ${before}[phase]    executing
    ${leaves before}=    Leaves Should Cover Files Once    ${before}    ${files}
    ${done before}=    Evaluate    [n["id"] for n in $leaves_before if n["state"] == "completed"]
    ${done count}=    Get Length    ${done before}
    Should Be True    6 <= ${done count} < 30    msg=${done count} leaves completed at the kill
    Should Be True    ${before}[counts][running] >= 1
    ...    msg=no leaf running at the kill: ${before}[counts]
    ${entries before}=    Ledger Entries    ${ledger}
    ${unrecorded}=    Ledger Should Agree With Killed Run    ${leaves before}    ${entries before}
    ${recorded before}=    Ledger Cost    ${entries before}
    ${unrecorded cost}=    Ledger Cost    ${unrecorded}
    ${recorded}=    Evaluate    $recorded_before - $unrecorded_cost
    Costs Should Be Equal    ${before}[totals][cost_usd]    ${recorded}
    ...    what=the plan's total at the kill

    ${result}=    Run Agents    plan    execute    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Not Contain    ${result.stderr}    Traceback
    Should Contain    ${result.stdout}    plan ${plan} executed
    ${after}=    Plan Should Have Executed    ${plan}    leaves=30
    ${leaves after}=    Leaves Should Cover Files Once    ${after}    ${files}

    # The completed leaves did not run again; the rest ran once each.
    ${entries after}=    Ledger Entries    ${ledger}
    Resumed Run Should Have Run The Rest Once
    ...    ${leaves after}    ${entries before}    ${entries after}    ${done before}
    # In all: once each, but twice a leaf whose first instance worked unrecorded.
    Leaves Should Have Worked Once Besides The Unrecorded    ${leaves after}    ${entries after}
    ...    ${unrecorded}

    # Its cost counts once: the ledger's sum minus the attempts never recorded, which is the
    # sum of the leaves' final attempts.
    ${ledger cost}=    Ledger Cost    ${entries after}
    ${final cost}=    Final Attempts Cost    ${entries after}
    ${counted}=    Evaluate    $ledger_cost - $unrecorded_cost
    Costs Should Be Equal    ${after}[totals][cost_usd]    ${counted}
    ...    what=the plan's total (the ledger's less the unrecorded attempts)
    Costs Should Be Equal    ${after}[totals][cost_usd]    ${final cost}
    ...    what=the plan's total (the final attempts')
    Costs Should Be Equal    ${final cost}    ${0.3}    what=30 leaves at $0.01

    # What an unrecorded attempt changed was dropped: applied, each file got the line once.
    Agents Should Succeed    plan    apply    ${plan}
    FOR    ${path}    IN    @{files}
        ${text}=    Get File    ${root}/${path}
        ${count}=    Evaluate    $text.splitlines().count("# done")
        Should Be Equal As Integers    ${count}    1    msg=${path} got "# done" ${count} times
    END
    RETURN    ${unrecorded}    ${before}[counts][running]
