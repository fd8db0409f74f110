*** Settings ***
Documentation       `agents diagnostics` against real `agents` processes: with no worker the probe
...                 fails (exit 1) and leaves no job behind; with a worker running it passes and
...                 reports its latency and the worker that ran it (exit 0); after `kill -9` of a
...                 worker mid-job the stuck job is reported with its remedy, and running that
...                 remedy really fixes it; `--output` writes a well-formed JUnit file.
Resource            resources/agents.resource
Test Setup          Fresh Upgraded Database
Test Teardown       Stop Workers


*** Variables ***
@{CHECKS}
...                 database    schema    workers    queue    stuck_jobs    job_timeouts    locks
...                 plans    settings    job_kinds    sandbox


*** Test Cases ***
Without A Worker The Probe Fails And Leaves No Job Behind
    ${report}=    Run Diagnostics    --probe    --probe-timeout    1    rc=1
    Should Be Equal    ${report}[status]    fail
    ${probe}=    Diagnostics Check    ${report}    probe
    Should Be Equal    ${probe}[status]    fail    msg=${probe}
    Should Be Equal    ${probe}[remedy]    agents worker run    msg=${probe}
    Should Be Equal    ${probe}[message]    no worker ran the probe job within 1 s
    Should Not Contain    ${probe}[details]    latency_ms
    # The probe is the only failure: everything else is fine, the missing worker a warning.
    ${failed}=    Evaluate    [c["name"] for c in $report["checks"] if c["status"] == "fail"]
    Should Be Equal    ${failed}    ${{ ["probe"] }}
    ${workers}=    Diagnostics Check    ${report}    workers
    Should Be Equal    ${workers}[status]    warn    msg=${workers}
    Should Be Equal    ${workers}[remedy]    agents worker run    msg=${workers}
    No Probe Job Should Be Left

    # Without --probe and with no live worker, no probe runs at all: a warning, exit 0.
    ${report}=    Run Diagnostics    rc=0
    Should Be Equal    ${report}[status]    warn
    ${names}=    Evaluate    [c["name"] for c in $report["checks"]]
    Should Be Equal    ${names}    ${CHECKS}
    No Probe Job Should Be Left

With A Worker Running The Probe Passes And Names The Worker
    ${handle}=    Start Worker    alias=worker
    ${worker}=    Wait Until Worker Is Listed    ${handle}
    Worker Id Should Belong To    ${worker}[id]    ${handle}

    # A live worker is registered: the probe runs by default (given a minute: the deadline
    # only bounds a failure, a loaded machine may take seconds to run it).
    ${report}=    Run Diagnostics    --probe-timeout    60    rc=0
    Should Be Equal    ${report}[status]    ok    msg=${report}
    ${names}=    Evaluate    [c["name"] for c in $report["checks"]]
    Should Be Equal    ${names}    ${{ $CHECKS + ["probe"] }}
    ${probe}=    Diagnostics Check    ${report}    probe
    Should Be Equal    ${probe}[status]    ok    msg=${probe}
    Should Be Equal    ${probe}[remedy]    ${None}
    ${latency}=    Set Variable    ${probe}[details][latency_ms]
    Should Be True    isinstance($latency, (int, float)) and not isinstance($latency, bool)
    ...    msg=latency_ms is ${latency}, not a number
    Should Be True    0 <= $latency <= 60000    msg=latency ${latency} ms
    Should Match Regexp    ${probe}[message]    ^a worker ran the probe job in \\d+ ms$
    Should Be Equal    ${probe}[details][worker_id]    ${worker}[id]
    ${workers}=    Diagnostics Check    ${report}    workers
    Should Be Equal    ${workers}[status]    ok    msg=${workers}
    Should Be Equal    ${workers}[details][live]    ${{ [$worker["id"]] }}
    Should Be Equal As Integers    ${workers}[details][capacity]    ${worker}[max_workers]
    No Probe Job Should Be Left
    Process Should Be Running    ${handle}

Stuck Job Of A Killed Worker Is Reported, And The Named Remedy Fixes It
    # async.stale_after 5 s: 10 heartbeats of slack while the worker lives.
    [Setup]    Fresh Upgraded Database    ASYNC__HEARTBEAT_INTERVAL=0.5    ASYNC__STALE_AFTER=5
    ${id}=    Enqueue Sleep    60
    ${handle}=    Start Worker    alias=killed
    Wait Until Worker Claims    ${handle}    ${id}
    ${job}=    Job Should Have    ${id}    status=running    attempts=1
    Worker Id Should Belong To    ${job}[worker_id]    ${handle}
    ${killed}=    Terminate Process    ${handle}    kill=True
    Should Be Equal As Integers    ${killed.rc}    -9

    # Once its heartbeat is older than async.stale_after the job is reported stuck.
    ${report}=    Wait Until Diagnostics Check Is    stuck_jobs    fail    --no-probe
    ${stuck}=    Diagnostics Check    ${report}    stuck_jobs
    Should Be Equal    ${stuck}[remedy]    agents jobs recover    msg=${stuck}
    Should Be Equal    ${stuck}[details]    ${{ {"count": 1, "jobs": [$id]} }}
    Should Be Equal    ${stuck}[message]    1 running job(s) without a heartbeat for 5 s
    ${report}=    Run Diagnostics    --no-probe    rc=1
    ${stuck}=    Diagnostics Check    ${report}    stuck_jobs
    Should Be Equal    ${stuck}[status]    fail    msg=${stuck}
    ${workers}=    Diagnostics Check    ${report}    workers
    Should Be Equal    ${workers}[status]    warn    msg=${workers}
    Should Be Equal    ${workers}[details][dead]    ${{ [$job["worker_id"]] }}
    # Diagnostics changed nothing: the job is still running, held by the dead worker.
    Job Should Have    ${id}    status=running    worker_id=${job}[worker_id]

    # The remedy it names, run as it is written, fixes it.
    ${remedy}=    Split String    ${stuck}[remedy]
    Should Be Equal    ${remedy}[0]    agents
    ${out}=    Agents Should Succeed    @{remedy}[1:]
    Should Match Regexp    ${out}    (?m)^requeued\\s+${id}$
    Should Match Regexp    ${out}    (?m)^workers lost\\s+${job}[worker_id]$
    Job Should Have    ${id}    status=queued    worker_id=None
    ${report}=    Run Diagnostics    --no-probe    rc=0
    ${stuck}=    Diagnostics Check    ${report}    stuck_jobs
    Should Be Equal    ${stuck}[status]    ok    msg=${stuck}
    Should Be Equal    ${stuck}[details]    ${{ {"count": 0, "jobs": []} }}
    ${queue}=    Diagnostics Check    ${report}    queue
    Should Be Equal As Integers    ${queue}[details][counts][queued]    1
    Should Be Equal As Integers    ${queue}[details][counts][running]    0

JUnit Report Written With --output Holds One Testcase Per Check
    ${file}=    Set Variable    ${WORK DIR}/diag.xml
    ${result}=    Run Agents    diagnostics    --no-probe    --format    junit    --output    ${file}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Text Summary Should Say    ${result}    warn
    ${junit}=    Parse JUnit Report    ${file}
    ${report}=    Run Diagnostics    --no-probe    rc=0
    ${count}=    Get Length    ${report}[checks]
    Should Be Equal As Integers    ${junit}[tests]    ${count}
    Should Be Equal As Integers    ${junit}[failures]    0
    JUnit Report Should Match    ${junit}    ${report}
    # The missing worker is a warning: a passed testcase with its message in system-out.
    ${warned}=    Evaluate    [c for c in $junit["cases"] if c["status"] == "warn"]
    Length Should Be    ${warned}    1
    Should Be Equal    ${warned}[0][name]    workers
    Should Be Equal    ${warned}[0][text]    warn: no live worker\nremedy: agents worker run

    # A failed check (the probe, with no worker) is a <failure>, counted in both elements.
    ${result}=    Run Agents    diagnostics    --probe    --probe-timeout    0.5
    ...    --format    junit    --output    ${file}
    Should Be Equal As Integers    ${result.rc}    1    msg=${result.stdout}${result.stderr}
    Text Summary Should Say    ${result}    fail
    Should Contain    ${result.stdout}    remedy: agents worker run
    ${junit}=    Parse JUnit Report    ${file}
    Should Be Equal As Integers    ${junit}[tests]    ${{ ${count} + 1 }}
    Should Be Equal As Integers    ${junit}[failures]    1
    Should Be Equal    ${junit}[cases][-1][name]    probe
    Should Be Equal    ${junit}[cases][-1][status]    fail
    Should Be Equal    ${junit}[cases][-1][text]
    ...    no worker ran the probe job within 0.5 s\nremedy: agents worker run
    No Probe Job Should Be Left


*** Keywords ***
Fresh Upgraded Database
    [Documentation]    `Fresh Database` at the schema head (`agents db upgrade`): diagnostics
    ...    itself never migrates, and on an empty database it reports the schema and skips
    ...    the probe.
    [Arguments]    &{settings}
    Fresh Database    &{settings}
    Agents Should Succeed    db    upgrade

No Probe Job Should Be Left
    [Documentation]    The probe job was removed: `agents jobs list --json` shows none.
    ${jobs}=    List Jobs    --kind    diagnostics.probe
    Should Be Empty    ${jobs}    msg=probe jobs left: ${jobs}

Text Summary Should Say
    [Documentation]    With --output, stdout holds the plain text summary (not a TTY): one line
    ...    per check and a last line "status: STATUS (N ms)"; the report went to the file.
    [Arguments]    ${result}    ${status}
    Should Not Contain    ${result.stdout}    <?xml
    ${lines}=    Split To Lines    ${result.stdout}
    Should Match Regexp    ${lines}[-1]    ^status: ${status} \\(\\d+ ms\\)$
    Should Match Regexp    ${result.stdout}    (?m)^ok\\s+database\\s+SQLite
    Should Be Empty    ${result.stderr}
