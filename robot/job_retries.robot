*** Settings ***
Documentation       Retries of failed jobs with a real worker process: a failing command is
...                 retried after its backoff and fails once its retries are spent, every run
...                 kept; after the cause is fixed, `jobs retry --status failed` queues them all
...                 again and the same worker runs them to success.
Resource            resources/agents.resource
Test Setup          Fresh Database    ASYNC__POLL_INTERVAL=0.1
Test Teardown       Stop Workers


*** Variables ***
${JOBS}     3


*** Test Cases ***
Failed Jobs Retry With Backoff, Then Succeed After The Cause Is Fixed And They Are Retried
    ${marker}=    Set Variable    ${WORK DIR}/fixed
    @{ids}=    Create List
    FOR    ${i}    IN RANGE    ${JOBS}
        ${id}=    Enqueue    command    --retries    2    --backoff    0.2s
        ...    --    sh    -c    test -e ${marker}
        Append To List    ${ids}    ${id}
    END
    ${worker}=    Start Worker    --max-workers    2

    FOR    ${id}    IN    @{ids}
        ${job}=    Job Should Finish    ${id}    rc=1
        Fields Should Be    ${job}    status=failed    attempts=3    failures=3
        ${shown}=    Get Job    ${id}
        ${history}=    Set Variable    ${shown}[history]
        Length Should Be    ${history}    3    msg=every failed run is kept
        Should Be Equal    ${history}[0][error_message]    command exited with code 1
        Should Not Be Equal    ${history}[0][retry_at]    ${None}
        Should Be Equal    ${history}[2][retry_at]    ${None}    msg=the last run is final
        # Each retry waited for its time: it started no earlier than the time it was given.
        Should Be True    $history[1]["started_at"] >= $history[0]["retry_at"]
        Should Be True    $history[2]["started_at"] >= $history[1]["retry_at"]
    END

    Create File    ${marker}
    ${dry}=    Agents Json    jobs    retry    --status    failed    --dry-run    --json
    Should Be Equal As Integers    ${dry}[count]    ${JOBS}
    ${still}=    List Jobs    --status    failed
    Length Should Be    ${still}    ${JOBS}    msg=a dry run changes nothing
    ${done}=    Agents Json    jobs    retry    --status    failed    --json
    Should Be Equal As Integers    ${done}[count]    ${JOBS}

    FOR    ${id}    IN    @{ids}
        ${job}=    Job Should Finish    ${id}    rc=0
        Fields Should Be    ${job}    status=succeeded    attempts=4    failures=0
        ${shown}=    Get Job    ${id}
        Length Should Be    ${shown}[history]    3    msg=the earlier runs stay in the history
    END
