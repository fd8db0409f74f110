*** Settings ***
Documentation       A schedule run by real worker processes: every second for ten seconds, two
...                 workers checking it, each slot gets one job (10 +- 1 of them), and no job
...                 runs twice.
Resource            resources/agents.resource
Test Setup          Fresh Database    ASYNC__POLL_INTERVAL=0.2
Test Teardown       Stop Workers


*** Test Cases ***
Two Workers Run A Schedule Every Second, One Job Per Slot
    ${ticks}=    Set Variable    ${WORK DIR}/ticks
    ${schedule}=    Agents Json    schedule    add    tick    --every    1s    --json
    ...    command    --    sh    -c    echo "$AGENTS_JOB_ID" >> ${ticks}
    ${first}=    Start Worker    --max-workers    2    alias=first
    ${second}=    Start Worker    --max-workers    2    alias=second
    ${tenth}=    Evaluate
    ...    (datetime.datetime.fromisoformat($schedule["created_at"]) + datetime.timedelta(seconds=10)).isoformat()
    Wait Until Keyword Succeeds    60s    0.2s    Schedule Has Run Past    tick    ${tenth}
    Stop Agents Processes

    ${shown}=    Agents Json    schedule    show    tick    --runs    1000    --json
    # (a lambda's defaults, not a comprehension: Evaluate's names are not seen inside one)
    ${slots}=    Evaluate
    ...    [r["slot"] for r in filter(lambda r, p=datetime.datetime.fromisoformat, t=datetime.datetime.fromisoformat($tenth): p(r["slot"]) <= t, $shown["runs"])]
    ${count}=    Get Length    ${slots}
    Should Be True    9 <= ${count} <= 11    msg=${count} slots ran in ten seconds: ${slots}
    ${distinct}=    Evaluate    len(set($slots))
    Should Be Equal As Integers    ${distinct}    ${count}    msg=a slot ran twice
    @{ran}=    Lines Of File    ${ticks}
    ${unique}=    Evaluate    len(set($ran))
    Should Be Equal As Integers    ${unique}    ${{ len($ran) }}    msg=a job ran twice
    ${all}=    Evaluate    len($shown["runs"])
    Should Be True    ${{ len($ran) }} <= ${all}    msg=a job ran that no slot enqueued


*** Keywords ***
Schedule Has Run Past
    [Arguments]    ${name}    ${moment}
    ${shown}=    Agents Json    schedule    show    ${name}    --runs    1    --json
    Should Be True    $shown["last_run_at"] is not None
    Should Be True
    ...    datetime.datetime.fromisoformat($shown["last_run_at"]) > datetime.datetime.fromisoformat($moment)
