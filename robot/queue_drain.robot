*** Settings ***
Documentation       Two worker processes racing on one database drain a queue of 200 `command`
...                 jobs: every job runs exactly once, and succeeds on its first attempt.
Resource            resources/agents.resource
Test Setup          Fresh Database
Test Teardown       Stop Workers


*** Variables ***
${JOB COUNT}        200
${THREADS}          4


*** Test Cases ***
Two Burst Workers Run Every Job Exactly Once
    ${ids file}=    Set Variable    ${WORK DIR}/ids.txt
    ${out}=    Agents Should Succeed    jobs    enqueue    command    --count    ${JOB COUNT}
    ...    --priority    1    --    sh    -c    echo "$AGENTS_JOB_ID" >> ${ids file}
    @{enqueued}=    Split To Lines    ${out}
    Length Should Be    ${enqueued}    ${JOB COUNT}

    # A burst worker exits once the queue looks empty, and one worker alone drains 200 quick
    # jobs before a second one has started. So that the two really race, gate jobs (claimed
    # first: lower priority value) hold every thread of both workers until both are up.
    ${gate}=    Close Gate
    @{gate argv}=    Gate Command    ${gate}
    ${gate count}=    Evaluate    2 * ${THREADS}
    Agents Should Succeed    jobs    enqueue    command    --count    ${gate count}
    ...    --priority    0    --    @{gate argv}

    ${first}=    Start Worker    --burst    --max-workers    ${THREADS}
    ${second}=    Start Worker    --burst    --max-workers    ${THREADS}
    Wait Until Keyword Succeeds    ${WAIT TIMEOUT}    0.1s
    ...    Jobs In Status Should Be    running    ${gate count}
    Open Gate
    Worker Should Exit    ${first}    timeout=120s
    Worker Should Exit    ${second}    timeout=120s

    @{ran}=    Lines Of File    ${ids file}
    Length Should Be    ${ran}    ${JOB COUNT}    msg=each job must append its id exactly once
    ${distinct}=    Evaluate    sorted(set($ran))
    Length Should Be    ${distinct}    ${JOB COUNT}    msg=some job ran twice
    Lists Should Be Equal    ${distinct}    ${enqueued}    ignore_order=True

    ${all jobs}=    List Jobs
    ${jobs}=    Select Jobs    ${all jobs}    id    ${enqueued}
    Length Should Be    ${jobs}    ${JOB COUNT}
    Jobs Should All Have    ${all jobs}    status=succeeded    attempts=1    result.exit_code=0

    # Both workers took part, registered and stopped cleanly; every job was run by one of them.
    ${workers}=    Agents Json    worker    list    --all    --json
    Length Should Be    ${workers}    2
    ${succeeded}=    Evaluate    sum(w["jobs_succeeded"] for w in $workers)
    Should Be Equal As Integers    ${succeeded}    ${{ ${JOB COUNT} + ${gate count} }}
    FOR    ${worker}    IN    @{workers}
        Should Be Equal    ${worker}[status]    stopped
        Should Be Equal As Integers    ${worker}[jobs_failed]    0
        ${owner}=    Set Variable    ${worker}[id]
        ${own}=    Evaluate    [job["worker_id"] for job in $jobs].count($owner)
        Should Be True    ${own} > 0    msg=worker ${worker}[id] ran none of the ${JOB COUNT} jobs
    END
    ${owners}=    Evaluate    {job["worker_id"] for job in $all_jobs}
    ${registered}=    Evaluate    {w["id"] for w in $workers}
    Should Be Equal    ${owners}    ${registered}


*** Keywords ***
Jobs In Status Should Be
    [Arguments]    ${status}    ${count}
    ${jobs}=    List Jobs    --status    ${status}
    Length Should Be    ${jobs}    ${count}
