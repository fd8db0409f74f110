*** Settings ***
Documentation       SIGTERM and SIGINT (Ctrl-C) stop a worker gracefully: it stops claiming, gives
...                 running jobs `async.shutdown_grace` seconds to finish, puts the rest back in
...                 the queue with their attempt refunded, and exits 0.
Resource            resources/agents.resource
Test Teardown       Stop Workers


*** Test Cases ***
SIGTERM Puts An Unfinished Job Back In The Queue
    Fresh Database    ASYNC__SHUTDOWN_GRACE=0.2
    ${id}=    Stop Worker While A Job Runs    SIGTERM
    # Queued as if never claimed, so the next worker runs it as its first attempt.
    Run Burst Worker
    Job Should Have    ${id}    status=succeeded    attempts=1

SIGINT Puts An Unfinished Job Back In The Queue
    Fresh Database    ASYNC__SHUTDOWN_GRACE=0.2
    Stop Worker While A Job Runs    SIGINT

A Job That Finishes Within The Grace Period Succeeds
    # A grace far longer than the 2 s job: it only bounds a failure. The job is queued before
    # the worker starts, so that the signal follows its claim at once (see below).
    Fresh Database    ASYNC__SHUTDOWN_GRACE=60
    ${id}=    Enqueue Sleep    2
    ${worker}=    Start Worker    alias=worker
    Wait Until Worker Claims    ${worker}    ${id}
    Send Signal To Process    SIGTERM    ${worker}
    Worker Should Exit    ${worker}    timeout=${WAIT TIMEOUT}
    ${log}=    Get File    ${WORK DIR}/worker.stderr
    Should Contain    ${log}    stopping: waiting up to 60 s for 1 running job(s)
    Should Not Contain    ${log}    stopping: asked
    ${job}=    Job Should Have    ${id}    status=succeeded    attempts=1
    Should Be Equal As Numbers    ${job}[result][slept_s]    2
    Worker Should Have Stopped    succeeded=1    requeued=0

A Second Signal Exits At Once And The Job Is Recovered Later
    # async.stale_after 5 s: 25 heartbeats of slack while the worker lives.
    Fresh Database    ASYNC__SHUTDOWN_GRACE=60    ASYNC__HEARTBEAT_INTERVAL=0.2
    ...    ASYNC__STALE_AFTER=5
    ${id}=    Enqueue Sleep    3
    ${worker}=    Start Worker    alias=worker
    Wait Until Worker Claims    ${worker}    ${id}
    Send Signal To Process    SIGTERM    ${worker}
    Wait Until Process Logs    ${worker}    stopping: waiting up to 60 s for 1 running job\\(s\\)
    Send Signal To Process    SIGTERM    ${worker}
    Worker Should Exit    ${worker}    rc=130    timeout=${WAIT TIMEOUT}
    ${log}=    Get File    ${WORK DIR}/worker.stderr
    Should Contain    ${log}    second signal: ending running jobs' processes and exiting now
    Job Should Have    ${id}    status=running    attempts=1
    # Nothing heartbeats the job any more: once it is stale, recovery puts it back.
    Wait Until Keyword Succeeds    ${WAIT TIMEOUT}    0.2s    Recovery Requeues    ${id}
    Run Burst Worker
    Job Should Have    ${id}    status=succeeded    attempts=2


*** Keywords ***
Recovery Requeues
    [Arguments]    ${job_id}
    ${report}=    Agents Json    jobs    recover    --json
    Should Contain    ${report}[requeued]    ${job_id}

Stop Worker While A Job Runs
    [Documentation]    Start a worker, let it claim a 3 s `sleep` job, send ${signal}: the worker
    ...    exits 0 without waiting for the job, and the job is queued again as if it had never
    ...    been claimed. Returns the job's id.
    ...    The job is queued before the worker starts, and the signal is sent the moment the
    ...    worker logs its claim: queued while the worker runs, the job could be claimed and
    ...    half done before `jobs enqueue` has even exited (it took 15 s on a loaded machine).
    [Arguments]    ${signal}
    ${id}=    Enqueue Sleep    3
    ${worker}=    Start Worker    alias=worker
    Wait Until Worker Claims    ${worker}    ${id}
    Send Signal To Process    ${signal}    ${worker}
    Worker Should Exit    ${worker}    timeout=${WAIT TIMEOUT}
    ${log}=    Get File    ${WORK DIR}/worker.stderr
    Should Contain    ${log}    received ${signal}
    Should Contain    ${log}    stopping: asked 1 job(s) to stop; they go back to the queue
    ${job}=    Job Should Have    ${id}    status=queued    attempts=0    worker_id=None
    Should Be Equal    ${job}[started_at]    ${None}
    Should Be Equal    ${job}[finished_at]    ${None}
    Worker Should Have Stopped    succeeded=0    requeued=1
    RETURN    ${id}

Worker Should Have Stopped
    [Documentation]    The only worker is recorded as stopped, with these counters.
    [Arguments]    ${succeeded}    ${requeued}
    ${workers}=    Agents Json    worker    list    --all    --json
    Length Should Be    ${workers}    1
    Should Be Equal    ${workers}[0][status]    stopped
    Should Be Equal As Integers    ${workers}[0][jobs_running]    0
    Should Be Equal As Integers    ${workers}[0][jobs_succeeded]    ${succeeded}
    Should Be Equal As Integers    ${workers}[0][jobs_requeued]    ${requeued}
