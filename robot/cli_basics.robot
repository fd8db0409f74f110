*** Settings ***
Documentation       The command line itself: version, help, JSON output, the schema, settings,
...                 workers, pruning, and how `command` jobs record failures and hide secrets.
Resource            resources/agents.resource
Test Setup          Fresh Database
Test Teardown       Stop Workers


*** Variables ***
@{JOB FIELDS}       id    kind    status    priority    attempts    max_attempts    payload
...                 worker_id    created_at    started_at    finished_at    last_heartbeat
...                 cancel_requested    error_message    result


*** Test Cases ***
Version Is Printed
    ${out}=    Agents Should Succeed    --version
    Should Match Regexp    ${out}    ^agents \\d+\\.\\d+\\.\\d+\\S*\\n$

Python Module Runs The Same CLI
    ${result}=    Run Python Module    --help
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stderr}
    Should Contain    ${result.stdout}    Usage:
    FOR    ${group}    IN    jobs    worker    config    db
        Should Contain    ${result.stdout}    ${group}
    END

Jobs List Json Is One Document
    ${first}=    Enqueue    noop
    ${second}=    Enqueue Sleep    5
    ${out}=    Agents Should Succeed    jobs    list    --json
    ${jobs}=    Parse Json    ${out}
    Length Should Be    ${jobs}    2
    ${ids}=    Evaluate    [job["id"] for job in $jobs]
    Should Be Equal    ${ids}    ${{ [$second, $first] }}    msg=newest first

Jobs Show Json Has Every Field
    ${id}=    Enqueue    noop    --priority    7    --max-attempts    5
    ${job}=    Get Job    ${id}
    FOR    ${field}    IN    @{JOB FIELDS}
        Dictionary Should Contain Key    ${job}    ${field}
    END
    Should Be Equal    ${job}[id]    ${id}
    Should Be Equal    ${job}[kind]    noop
    Should Be Equal    ${job}[status]    queued
    Should Be Equal As Integers    ${job}[priority]    7
    Should Be Equal As Integers    ${job}[attempts]    0
    Should Be Equal As Integers    ${job}[max_attempts]    5
    Should Be Equal    ${job}[payload]    ${{ {"schema_version": 1} }}
    Should Be Equal    ${job}[worker_id]    ${None}
    Should Be Equal    ${job}[started_at]    ${None}
    Should Be Equal    ${job}[finished_at]    ${None}
    Should Be Equal    ${job}[cancel_requested]    ${False}
    Should Be Equal    ${job}[error_message]    ${None}
    Should Be Equal    ${job}[result]    ${None}

Database Is At Head After First Use
    # Any command creates and migrates the database on first use.
    Agents Should Succeed    jobs    list
    ${doc}=    Agents Json    db    current    --json
    Should Be True    ${doc}[at_head]    msg=${doc}
    Should Be Equal    ${doc}[current]    ${doc}[head]
    Should Not Be Equal    ${doc}[head]    ${None}
    Should Contain    ${doc}[url]    agents.db

Config Set Then Get Round Trips
    ${out}=    Agents Should Succeed    config    set    async.max_workers    8
    Should Contain    ${out}    async.max_workers = 8
    ${value}=    Agents Should Succeed    config    get    async.max_workers
    Should Be Equal    ${value}    8\n
    ${file}=    Get File    ${WORK DIR}/config.toml
    Should Match Regexp    ${file}    (?m)^\\[async\\]$
    Should Match Regexp    ${file}    (?m)^max_workers = 8$

Worker List Shows Running And Stopped Workers
    ${worker}=    Start Worker    --max-workers    2
    ${running}=    Wait Until Keyword Succeeds    ${WAIT TIMEOUT}    0.1s
    ...    One Worker Should Be Listed    running
    Worker Id Should Belong To    ${running}[id]    ${worker}
    Should Be Equal As Integers    ${running}[max_workers]    2
    Send Signal To Process    SIGTERM    ${worker}
    Worker Should Exit    ${worker}
    ${workers}=    Agents Json    worker    list    --json
    Should Be Empty    ${workers}    msg=a stopped worker is only listed with --all
    ${workers}=    Agents Json    worker    list    --all    --json
    Length Should Be    ${workers}    1
    Should Be Equal    ${workers}[0][id]    ${running}[id]
    Should Be Equal    ${workers}[0][status]    stopped
    Should Be Equal    ${workers}[0][liveness]    stopped

Prune Deletes Finished Jobs Only
    Agents Should Succeed    jobs    enqueue    noop    --count    2
    Run Burst Worker
    ${queued}=    Enqueue Sleep    5
    ${doc}=    Agents Json    jobs    prune    --older-than    0s    --json
    Should Be Equal    ${doc}    ${{ {"deleted": 2} }}
    ${jobs}=    List Jobs
    Length Should Be    ${jobs}    1
    Should Be Equal    ${jobs}[0][id]    ${queued}
    Should Be Equal    ${jobs}[0][status]    queued

Failing Command Job Is Failed With Its Output
    ${id}=    Enqueue    command    --    sh    -c    echo boom; echo to-stderr >&2; exit 3
    Run Burst Worker
    ${job}=    Job Should Finish    ${id}    rc=1
    Fields Should Be    ${job}    status=failed    attempts=1
    Should Contain    ${job}[error_message]    exited with code 3
    Should Be Equal As Integers    ${job}[result][exit_code]    3
    Should Contain    ${job}[result][output_tail]    boom
    Should Contain    ${job}[result][output_tail]    to-stderr

Secrets In Command Output Are Redacted
    # The secret is assembled by the command: a payload holding it is refused at enqueue.
    ${id}=    Enqueue    command    --    printf    %s\=%s\\n    password    hunter2
    Run Burst Worker
    ${job}=    Job Should Finish    ${id}    rc=0
    Fields Should Be    ${job}    status=succeeded
    Should Contain    ${job}[result][output_tail]    password=[REDACTED]
    Should Not Contain    ${job}[result][output_tail]    hunter2


*** Keywords ***
One Worker Should Be Listed
    [Arguments]    ${liveness}
    ${workers}=    Agents Json    worker    list    --json
    Length Should Be    ${workers}    1
    Should Be Equal    ${workers}[0][liveness]    ${liveness}
    RETURN    ${workers}[0]
