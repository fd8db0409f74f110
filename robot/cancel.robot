*** Settings ***
Documentation       `agents jobs cancel` and `agents jobs wait`: a running job is stopped by its
...                 worker, a queued one is cancelled at once, a finished one cannot be cancelled,
...                 and waiting gives up with exit 124.
Resource            resources/agents.resource
Test Setup          Fresh Database
Test Teardown       Stop Workers


*** Test Cases ***
Cancelling A Running Job Stops It
    # Far longer than the wait below: only the cancel can end it in time.
    ${worker}=    Start Worker
    ${id}=    Enqueue Sleep    600
    ${running}=    Wait Until Job Status Is    ${id}    running
    Worker Id Should Belong To    ${running}[worker_id]    ${worker}
    ${out}=    Agents Should Succeed    jobs    cancel    ${id}
    Should Contain    ${out}    cancel requested for ${id}
    ${result}=    Wait For Job    ${id}
    Should Be Equal As Integers    ${result.rc}    1    msg=${result.stdout}${result.stderr}
    Should Be Equal    ${result.stdout}    ${id} cancelled: cancelled on request\n
    ${job}=    Job Should Have    ${id}    status=cancelled    attempts=1    cancel_requested=True
    Should Be Equal    ${job}[worker_id]    ${running}[worker_id]
    Should Not Be Equal    ${job}[finished_at]    ${None}
    # The worker carries on: it still runs the next job.
    ${next}=    Enqueue    noop
    Job Should Finish    ${next}    rc=0

Cancelling A Queued Job Cancels It At Once
    ${id}=    Enqueue Sleep    60
    ${out}=    Agents Should Succeed    jobs    cancel    ${id}
    Should Be Equal    ${out}    cancelled ${id}\n
    ${job}=    Job Should Have    ${id}    status=cancelled    attempts=0    worker_id=None
    Should Not Be Equal    ${job}[finished_at]    ${None}
    # Nothing is left for a worker to run.
    Run Burst Worker
    Job Should Have    ${id}    status=cancelled    attempts=0

Cancelling A Finished Job Is A Conflict
    ${id}=    Enqueue    noop
    Run Burst Worker
    Agents Should Fail    3    cannot be cancelled: it has already succeeded    jobs    cancel    ${id}
    Job Should Have    ${id}    status=succeeded    cancel_requested=False

Waiting For A Job Nobody Runs Times Out
    ${id}=    Enqueue Sleep    1
    ${result}=    Wait For Job    ${id}    timeout=0.5
    Should Be Equal As Integers    ${result.rc}    124    msg=${result.stdout}${result.stderr}
    Should Contain    ${result.stdout}    ${id} queued
    Job Should Have    ${id}    status=queued    attempts=0
