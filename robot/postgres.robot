*** Settings ***
Documentation       The real `agents` command and real worker processes against a real PostgreSQL
...                 server: one throwaway cluster for the suite (tools/pgcluster.py, 127.0.0.1
...                 only), a database of its own per test. Four workers drain 2,000 jobs with
...                 `FOR UPDATE SKIP LOCKED` claims, each job exactly once; with one of them
...                 killed (SIGKILL) midway, the others recover its claims and everything still
...                 finishes, only its claims running twice; diagnostics report the server.
Resource            resources/agents.resource
Library             resources/PostgresLibrary.py
Library             resources/PgFaultLibrary.py
Suite Setup         Start PostgreSQL Cluster
Suite Teardown      Stop PostgreSQL Cluster
Test Teardown       Stop Workers


*** Variables ***
${JOB COUNT}            2000
${WORKER COUNT}         4
${THREADS}              4
${DRAIN TIMEOUT}        180s


*** Test Cases ***
Four Workers On PostgreSQL Drain 2,000 Jobs, Each Exactly Once
    [Setup]    Fresh PostgreSQL Database
    ${ids file}=    Set Variable    ${WORK DIR}/ids.txt
    ${out}=    Agents Should Succeed    jobs    enqueue    command    --count    ${JOB COUNT}
    ...    --priority    1    --    sh    -c    echo "$AGENTS_JOB_ID" >> ${ids file}
    @{enqueued}=    Split To Lines    ${out}
    Length Should Be    ${enqueued}    ${JOB COUNT}

    # A burst worker exits once the queue looks empty, and the first one up could drain much of
    # the queue before the last has started. So that all four really race, gate jobs (claimed
    # first: lower priority value) hold every thread of every worker until all are up.
    ${gate}=    Close Gate
    @{gate argv}=    Gate Command    ${gate}
    ${gate count}=    Evaluate    ${WORKER COUNT} * ${THREADS}
    Agents Should Succeed    jobs    enqueue    command    --count    ${gate count}
    ...    --priority    0    --    @{gate argv}

    @{handles}=    Start Workers    --burst
    Wait Until Keyword Succeeds    ${WAIT TIMEOUT}    0.2s
    ...    Jobs In Status Should Be    running    ${gate count}
    Open Gate
    FOR    ${handle}    IN    @{handles}
        Worker Should Exit    ${handle}    timeout=${DRAIN TIMEOUT}
    END

    # Each job's command ran exactly once: 2,000 distinct ids, none twice, none foreign.
    ${counts}=    Count Lines    ${ids file}
    ${twice}=    Evaluate    sorted(i for i, n in $counts.items() if n != 1)
    Should Be Empty    ${twice}    msg=these jobs ran more than once: ${twice}
    ${ran}=    Evaluate    sorted($counts)
    Lists Should Be Equal    ${ran}    ${enqueued}    ignore_order=True

    # ... and succeeded on its first attempt, recorded once.
    ${all jobs}=    List Jobs
    Length Should Be    ${all jobs}    ${{ ${JOB COUNT} + ${gate count} }}
    Jobs Should All Have    ${all jobs}    status=succeeded    attempts=1    result.exit_code=0
    ${jobs}=    Select Jobs    ${all jobs}    id    ${enqueued}
    Length Should Be    ${jobs}    ${JOB COUNT}

    # All four workers (host-pid-ulid, one per process) took part and stopped cleanly.
    ${workers}=    Agents Json    worker    list    --all    --json
    Length Should Be    ${workers}    ${WORKER COUNT}
    ${succeeded}=    Evaluate    sum(w["jobs_succeeded"] for w in $workers)
    Should Be Equal As Integers    ${succeeded}    ${{ ${JOB COUNT} + ${gate count} }}
    FOR    ${handle}    IN    @{handles}
        ${worker}=    Worker Of Process    ${workers}    ${handle}
        Should Be Equal    ${worker}[status]    stopped    msg=${worker}
        Should Be Equal As Integers    ${worker}[jobs_failed]    0    msg=${worker}
        ${owner}=    Set Variable    ${worker}[id]
        ${own}=    Evaluate    [job["worker_id"] for job in $jobs].count($owner)
        Should Be True    ${own} > 0    msg=worker ${owner} ran none of the ${JOB COUNT} jobs
    END
    ${owners}=    Evaluate    {job["worker_id"] for job in $all_jobs}
    ${registered}=    Evaluate    {w["id"] for w in $workers}
    Should Be Equal    ${owners}    ${registered}

Kill -9 Of One Of Four Workers Midway: Everything Still Finishes
    # A heartbeat may come seconds late on a loaded machine: 10 s (50 heartbeats) before a live
    # worker's jobs could be taken from it; the dead one's are taken back 10 s after its death.
    [Setup]    Fresh PostgreSQL Database    ASYNC__HEARTBEAT_INTERVAL=0.2    ASYNC__STALE_AFTER=10
    ${ids file}=    Set Variable    ${WORK DIR}/ids.txt
    ${out}=    Agents Should Succeed    jobs    enqueue    command    --count    ${JOB COUNT}
    ...    --    sh    -c    echo "$AGENTS_JOB_ID" >> ${ids file}; sleep 0.05
    @{enqueued}=    Split To Lines    ${out}
    Length Should Be    ${enqueued}    ${JOB COUNT}

    @{handles}=    Start Workers
    FOR    ${index}    IN RANGE    1    ${WORKER COUNT} + 1
        Wait Until Log Matches    ${WORK DIR}/w${index}.stderr    claimed command
    END
    ${victim}    @{survivors}=    Set Variable    @{handles}
    ${victim log}=    Set Variable    ${WORK DIR}/w1.stderr
    @{survivor logs}=    Evaluate
    ...    [f"${WORK DIR}/w{i}.stderr" for i in range(2, ${WORKER COUNT} + 1)]
    ${victim id}=    Worker Id In Log    ${victim log}
    Worker Id Should Belong To    ${victim id}    ${victim}

    # A quarter of the jobs are done: kill one worker in the middle of its work, at a moment it
    # provably holds running jobs (seen in the database, their rows locked until it is dead so
    # that it cannot finish them first).
    Wait Until File Has Lines    ${ids file}    ${{ ${JOB COUNT} // 4 }}    timeout=${DRAIN TIMEOUT}
    @{locked}=    Kill Worker Holding Jobs    ${victim}    ${victim id}

    Wait Until File Has Lines    ${ids file}    ${JOB COUNT}    timeout=${DRAIN TIMEOUT}
    Wait Until Keyword Succeeds    ${DRAIN TIMEOUT}    0.5s
    ...    Jobs In Status Should Be    succeeded    ${JOB COUNT}
    FOR    ${handle}    IN    @{survivors}
        Send Signal To Process    SIGTERM    ${handle}
    END
    FOR    ${handle}    IN    @{survivors}
        Worker Should Exit    ${handle}    timeout=${STOP TIMEOUT}
    END

    # What it held when it died (at most one job per thread): what the recovery put back, read
    # after the fact rather than raced against async.stale_after. It held at least the jobs
    # seen at the kill, and only jobs it had claimed.
    ${recovered}=    Jobs Recovered In Logs    @{survivor logs}
    Should Be Empty    ${recovered}[failed]
    ${held ids}=    Evaluate    sorted($recovered["requeued"])
    ${held count}=    Get Length    ${held ids}
    Should Be True    1 <= ${held count} <= ${THREADS}
    ...    msg=the killed worker held ${held count} running jobs: ${held ids}
    ${not requeued}=    Evaluate    sorted(set($locked) - set($held_ids))
    Should Be Empty    ${not requeued}    msg=held at the kill but never requeued
    ${claimed by victim}=    Jobs Lost By    ${victim id}    @{held ids}
    ${not its own}=    Evaluate    sorted(set($held_ids) - set($claimed_by_victim))
    Should Be Empty    ${not its own}    msg=requeued though the killed worker never claimed them

    # Every job succeeded; only the jobs the killed worker held ran again, on another worker.
    ${jobs}=    List Jobs
    Length Should Be    ${jobs}    ${JOB COUNT}
    Jobs Should All Have    ${jobs}    status=succeeded    result.exit_code=0
    ${retried}=    Evaluate    sorted(job["id"] for job in $jobs if job["attempts"] != 1)
    Should Be Equal    ${retried}    ${held ids}    msg=jobs on a second attempt
    ${held jobs}=    Select Jobs    ${jobs}    id    ${held ids}
    Jobs Should All Have    ${held jobs}    attempts=2
    FOR    ${job}    IN    @{held jobs}
        Should Not Be Equal    ${job}[worker_id]    ${victim id}    msg=${job}
    END

    # At least once: every id in the file; twice only for a held job whose command the killed
    # worker had started (it logs each claim before running it); never three times.
    ${counts}=    Count Lines    ${ids file}
    ${ran}=    Evaluate    sorted($counts)
    Lists Should Be Equal    ${ran}    ${enqueued}    ignore_order=True
    ${twice}=    Evaluate    sorted(i for i, n in $counts.items() if n > 1)
    ${too often}=    Evaluate    sorted(i for i, n in $counts.items() if n > 2)
    Should Be Empty    ${too often}    msg=ran three times or more: ${too often}
    ${outside held}=    Evaluate    sorted(set($twice) - set($held_ids))
    Should Be Empty    ${outside held}    msg=ran twice though not held at the kill
    ${not claimed}=    Evaluate    sorted(set($twice) - set($claimed_by_victim))
    Should Be Empty    ${not claimed}    msg=ran twice though the killed worker never claimed
    # One running claim at a time: no surviving worker finished a job that had meanwhile been
    # taken from it (it would log that its outcome was not recorded).
    FOR    ${log}    IN    @{survivor logs}
        ${text}=    Get File    ${log}
        Should Not Contain    ${text}    no longer this worker's
        Should Not Contain    ${text}    Traceback
    END

    # The killed worker is recorded as lost; the others stopped cleanly, and every outcome was
    # recorded once: by the worker that last ran it.
    ${workers}=    Agents Json    worker    list    --all    --json
    Length Should Be    ${workers}    ${WORKER COUNT}
    ${by id}=    Evaluate    {w["id"]: w for w in $workers}
    Should Be Equal    ${by id}[${victim id}][status]    lost
    Should Be Equal    ${by id}[${victim id}][liveness]    lost
    # Without --all, only the lost one is left to see: the others stopped.
    ${listed}=    Agents Json    worker    list    --json
    Should Be Equal    ${{ [(w["id"], w["liveness"]) for w in $listed] }}
    ...    ${{ [($victim_id, "lost")] }}
    ${recorded by victim}=    Evaluate    [j["worker_id"] for j in $jobs].count($victim_id)
    ${recorded by others}=    Set Variable    ${0}
    FOR    ${handle}    IN    @{survivors}
        ${worker}=    Worker Of Process    ${workers}    ${handle}
        Should Be Equal    ${worker}[status]    stopped    msg=${worker}
        Should Be Equal As Integers    ${worker}[jobs_failed]    0    msg=${worker}
        Should Be Equal As Integers    ${worker}[jobs_running]    0    msg=${worker}
        ${owner}=    Set Variable    ${worker}[id]
        ${own}=    Evaluate    [job["worker_id"] for job in $jobs].count($owner)
        Should Be Equal As Integers    ${worker}[jobs_succeeded]    ${own}    msg=${worker}
        ${recorded by others}=    Evaluate    ${recorded by others} + ${own}
    END
    Should Be Equal As Integers    ${{ ${recorded by victim} + ${recorded by others} }}
    ...    ${JOB COUNT}

Every Backend Terminated Under Idle Workers: They Reconnect And Drain The Next Job
    [Documentation]    A server restart, a failover or a network blip ends every connection of
    ...    the database: each idle worker's LISTEN connection (its change feed) and its pool.
    ...    The workers reconnect, keep running, and take the job enqueued after.
    [Setup]    Fresh PostgreSQL Database
    Agents Should Succeed    db    upgrade
    @{handles}=    Start Workers
    Wait Until Listening    ${WORKER COUNT}
    ${terminated}=    Terminate Database Backends
    Should Be True    ${terminated} >= ${WORKER COUNT}    msg=terminated ${terminated} backends
    FOR    ${index}    IN RANGE    1    ${WORKER COUNT} + 1
        Wait Until Log Matches    ${WORK DIR}/w${index}.stderr    change feed: reconnected
    END
    Wait Until Listening    ${WORKER COUNT}
    ${ids}=    Create List
    FOR    ${index}    IN RANGE    ${WORKER COUNT}
        ${id}=    Enqueue    noop
        Append To List    ${ids}    ${id}
    END
    FOR    ${id}    IN    @{ids}
        Job Should Finish    ${id}
    END
    FOR    ${handle}    IN    @{handles}
        Process Should Be Running    ${handle}
        Send Signal To Process    SIGTERM    ${handle}
    END
    FOR    ${handle}    IN    @{handles}
        ${result}=    Worker Should Exit    ${handle}
        Should Not Contain    ${result.stderr}    Traceback
    END

Diagnostics Against PostgreSQL
    [Setup]    Fresh PostgreSQL Database
    ${major}=    PostgreSQL Major Version
    ${server line}=    Catenate    SEPARATOR=
    ...    (?m)^ok +database +PostgreSQL ${major}\\.\\d+\\b.*,
    ...    ${SPACE}database ${DATABASE} as agents, \\d+ of 200 connections in use$

    # A database nobody has used yet: reachable, but without tables, so the schema check (and
    # every check that reads a table) fails: exit 1.
    ${result}=    Run Agents    diagnostics    --no-probe
    Should Be Equal As Integers    ${result.rc}    1    msg=${result}
    Should Match Regexp    ${result.stdout}    ${server line}
    Should Match Regexp    ${result.stdout}    (?m)^fail +schema +at nothing \\(empty database\\)
    Should Match Regexp    ${result.stdout}    (?m)^status: fail
    ${report}=    Run Diagnostics    --no-probe    rc=1
    ${database}=    Diagnostics Check    ${report}    database
    Database Check Should Describe The Server    ${database}    ${major}

    # At the schema head and without a worker: only the missing worker warns, exit 0.
    Agents Should Succeed    db    upgrade
    ${result}=    Run Agents    diagnostics    --no-probe
    Should Be Equal As Integers    ${result.rc}    0    msg=${result}
    Should Match Regexp    ${result.stdout}    ${server line}
    Should Match Regexp    ${result.stdout}    (?m)^ok +schema +at head
    Should Match Regexp    ${result.stdout}    (?m)^warn +workers +no live worker
    Should Match Regexp    ${result.stdout}    (?m)^status: warn
    ${report}=    Run Diagnostics    --no-probe    rc=0
    Should Be Equal    ${report}[status]    warn
    ${database}=    Diagnostics Check    ${report}    database
    Database Check Should Describe The Server    ${database}    ${major}
    ${warned}=    Evaluate    [c["name"] for c in $report["checks"] if c["status"] != "ok"]
    Should Be Equal    ${warned}    ${{ ["workers"] }}
    # --strict turns that warning into a failure.
    Run Diagnostics    --no-probe    --strict    rc=1


*** Keywords ***
Fresh PostgreSQL Database
    [Documentation]    `Fresh Database` (a work dir and config file for this test), with
    ...    AGENTS_DATABASE_URL pointing at a new database of the suite's cluster instead of
    ...    SQLite. Named arguments add settings (ASYNC__STALE_AFTER=3). Sets ${DATABASE}
    ...    (its name) for the test.
    [Arguments]    &{settings}
    Fresh Database    &{settings}
    ${url}=    Create PostgreSQL Database
    Set Process Environment    AGENTS_DATABASE_URL=${url}
    VAR    ${DATABASE}    ${url.rsplit("/", 1)[1]}    scope=TEST

Start Workers
    [Documentation]    ${WORKER COUNT} `agents -v worker run --max-workers ${THREADS} ARGS`
    ...    processes at once, aliased w1, w2, ...; returns their handles (their logs are
    ...    ${WORK DIR}/wN.stderr).
    [Arguments]    @{args}
    @{handles}=    Create List
    FOR    ${index}    IN RANGE    1    ${WORKER COUNT} + 1
        ${handle}=    Start Worker    --max-workers    ${THREADS}    @{args}    alias=w${index}
        Append To List    ${handles}    ${handle}
    END
    RETURN    ${handles}

Worker Of Process
    [Documentation]    The entry of `agents worker list --json` whose id names the process
    ...    ${handle} (host-PID-ULID).
    [Arguments]    ${workers}    ${handle}
    ${pid}=    Get Process Id    ${handle}
    ${found}=    Evaluate    [w for w in $workers if w["pid"] == ${pid}]
    Length Should Be    ${found}    1    msg=no single worker with pid ${pid} in ${workers}
    Worker Id Should Belong To    ${found}[0][id]    ${handle}
    RETURN    ${found}[0]

Jobs In Status Should Be
    [Arguments]    ${status}    ${count}
    ${jobs}=    List Jobs    --status    ${status}
    Length Should Be    ${jobs}    ${count}

Database Check Should Describe The Server
    [Documentation]    The `database` check of a JSON report names the PostgreSQL server of the
    ...    suite (its major version), this test's database and the connections in use.
    [Arguments]    ${check}    ${major}
    Should Be Equal    ${check}[status]    ok    msg=${check}
    Should Be Equal    ${check}[details][dialect]    postgresql
    Should Match Regexp    ${check}[details][server_version]    ^${major}\\.\\d+
    Should Be Equal    ${check}[details][database]    ${DATABASE}
    Should Be Equal    ${check}[details][user]    agents
    Should Be Equal As Integers    ${check}[details][max_connections]    200
    Should Be True    1 <= ${check}[details][connections] <= 200    msg=${check}
    Should Contain    ${check}[message]    connections in use
