*** Settings ***
Documentation       Bad input gets one clear line on stderr, the documented exit code, no
...                 traceback, and changes nothing: the jobs (and the config file) stay as they were.
Resource            resources/agents.resource
Suite Setup         Database With Two Jobs
Test Teardown       Nothing Should Have Changed


*** Variables ***
${UNKNOWN ID}       01ZZZZZZZZZZZZZZZZZZZZZZZZ


*** Test Cases ***
Unknown Job Kind
    Agents Should Fail    2    unknown job kind 'no-such-kind'    jobs    enqueue    no-such-kind

Malformed Json Payload
    Agents Should Fail    2    --payload is not valid JSON
    ...    jobs    enqueue    sleep    --payload    {"seconds": 1

Payload Schema Version Not Supported
    Agents Should Fail    2    schema_version 99 is not supported
    ...    jobs    enqueue    sleep    --payload    {"schema_version": 99, "seconds": 1}

Payload Of The Wrong Shape
    Agents Should Fail    2    invalid payload for job kind 'sleep': seconds
    ...    jobs    enqueue    sleep    --payload    {"secs": 1}
    Agents Should Fail    2    must be a JSON object
    ...    jobs    enqueue    sleep    --payload    [1, 2]

Negative Priority
    Agents Should Fail    2    priority must be 0 or more    jobs    enqueue    noop    --priority    -1

Negative Sleep Seconds
    Agents Should Fail    2    invalid payload for job kind 'sleep': seconds
    ...    jobs    enqueue    sleep    --payload    {"seconds": -1}

Command Timeout Of Minus One
    Agents Should Fail    2    invalid payload for job kind 'command': timeout_s
    ...    jobs    enqueue    command    --payload    {"timeout_s": -1}    --    true

Unknown Job Id
    FOR    ${command}    IN    show    cancel    wait
        Agents Should Fail    4    no job with id ${UNKNOWN ID}    jobs    ${command}    ${UNKNOWN ID}
    END

Config Value Out Of Range In The Environment
    ${env}=    Create Dictionary    AGENTS_ASYNC__MAX_WORKERS=0
    ${result}=    Agents Should Fail With Environment    ${env}    2    async\\.max_workers
    ...    jobs    enqueue    noop
    # The key, the value, the allowed range and where the value came from.
    Should Contain    ${result.stderr}    async.max_workers
    Should Contain    ${result.stderr}    '0'
    Should Contain    ${result.stderr}    1..256
    Should Contain    ${result.stderr}    environment AGENTS_ASYNC__MAX_WORKERS

Config Set Out Of Range
    ${result}=    Agents Should Fail    2    async\\.max_workers = '999' is not valid: must be 1\\.\\.256
    ...    config    set    async.max_workers    999

Database Url That Cannot Be Opened
    Agents Should Fail    2    cannot open database    --db    sqlite:////proc/nope/agents.db    jobs    list
    Should Not Exist    /proc/nope

Database File That Is Not A Database
    ${garbage}=    Write Garbage File    garbage.db
    ${before}=    File Bytes    ${garbage}
    Agents Should Fail    2    is not an SQLite database    --db    sqlite:///${garbage}    jobs    list
    ${after}=    File Bytes    ${garbage}
    Should Be Equal    ${after}    ${before}    msg=the garbage file was changed
    Should Not Exist    ${garbage}-wal


*** Keywords ***
Database With Two Jobs
    Fresh Database
    VAR    ${SUITE DIR}    ${WORK DIR}    scope=SUITE
    Agents Should Succeed    config    set    async.max_workers    2
    Enqueue    noop
    Enqueue Sleep    5
    ${jobs}=    List Jobs
    Length Should Be    ${jobs}    2
    VAR    ${JOBS BEFORE}    ${jobs}    scope=SUITE
    ${config}=    File Bytes    ${SUITE DIR}/config.toml
    VAR    ${CONFIG BEFORE}    ${config}    scope=SUITE

Nothing Should Have Changed
    ${jobs}=    List Jobs
    Should Be Equal    ${jobs}    ${JOBS BEFORE}    msg=the jobs changed
    ${config}=    File Bytes    ${SUITE DIR}/config.toml
    Should Be Equal    ${config}    ${CONFIG BEFORE}    msg=the config file changed
