*** Settings ***
Documentation       A worker killed with SIGKILL loses nothing: once its heartbeat is stale, another
...                 worker recovers the job, runs it again and records the dead worker as lost.
Resource            resources/agents.resource
# async.stale_after 5 s: 25 heartbeats, so that a live worker whose heartbeat comes late on a
# loaded machine never has its job taken (or fences itself).
Test Setup          Fresh Database    ASYNC__HEARTBEAT_INTERVAL=0.2    ASYNC__STALE_AFTER=5
Test Teardown       Stop Workers


*** Test Cases ***
Job Of A Killed Worker Is Recovered By Another Worker
    # The job holds on a closed gate: whatever the machine's speed, it is still running when its
    # worker is killed (a timed job could end first: its `jobs enqueue` alone once took 15 s to
    # exit on a loaded machine, while the worker claimed and ran the job).
    ${gate}=    Close Gate
    @{gate argv}=    Gate Command    ${gate}
    ${first}=    Start Worker    alias=first
    ${id}=    Enqueue    command    --    @{gate argv}
    Wait Until Worker Claims    ${first}    ${id}
    ${killed}=    Terminate Process    ${first}    kill=True
    Should Be Equal As Integers    ${killed.rc}    -9
    # Nobody is left to finish it: it still looks running, held by the dead worker.
    ${job}=    Job Should Have    ${id}    status=running    attempts=1
    ${first id}=    Set Variable    ${job}[worker_id]
    Worker Id Should Belong To    ${first id}    ${first}

    Open Gate
    ${second}=    Start Worker    alias=second
    ${job}=    Job Should Finish    ${id}    rc=0
    Fields Should Be    ${job}    status=succeeded    attempts=2
    Should Not Be Equal    ${job}[worker_id]    ${first id}
    Worker Id Should Belong To    ${job}[worker_id]    ${second}
    # One log line says what the recovery did.
    ${log}=    Get File    ${WORK DIR}/second.stderr
    Should Match Regexp    ${log}    recovered: requeued ${id}; failed none; workers lost .*${first id}

    ${workers}=    Agents Json    worker    list    --json
    ${by id}=    Evaluate    {w["id"]: w for w in $workers}
    Dictionary Should Contain Key    ${by id}    ${first id}
    Should Be Equal    ${by id}[${first id}][status]    lost
    Should Be Equal    ${by id}[${first id}][liveness]    lost
    Should Be Equal    ${by id}[${job}[worker_id]][liveness]    running
