*** Settings ***
Documentation       Every process a job or a leaf starts is bound to it: when the job or leaf ends
...                 (succeeds, is cancelled, times out, loses its worker) nothing it started is
...                 left running, `setsid` daemons included; a job of a dead or stalled worker runs
...                 again only once its first run is gone. Daemons run an argv no other process has
...                 (`Unique Sleep`), so scanning the process list finds this test's and no other.
...                 Which worker ends a dead worker's leftovers is not checked: any worker of this
...                 host does, whatever its database (another suite's, another checkout's), and
...                 may be first.
Resource            resources/agents.resource
Library             resources/BindingLibrary.py
Test Setup          Fresh Plan Database    ASYNC__HEARTBEAT_INTERVAL=0.5    ASYNC__STALE_AFTER=2
Test Teardown       Clean Up


*** Test Cases ***
Kill -9 Of A Worker: Its Command Is Gone Before The Job Runs Again
    ${hold}=    Unique Sleep    61
    ${argv}=    Write Recorded Command    job    @{hold}
    ${first}=    Start Worker    alias=first
    ${id}=    Enqueue    command    --    @{argv}
    Wait Until Worker Claims    ${first}    ${id}
    ${run pid}=    Wait Until Run Starts    job    run=1
    ${hold pid}=    Wait Until A Process Runs    @{hold}
    # Another worker of this host is up before the kill: its recovery passes do the work.
    ${second}=    Start Worker    alias=second
    Wait Until Worker Is Listed    ${second}
    ${killed}=    Terminate Process    ${first}    kill=True
    Should Be Equal As Integers    ${killed.rc}    -9
    ${job}=    Job Should Finish    ${id}    rc=0    timeout=60
    Fields Should Be    ${job}    status=succeeded    attempts=2
    Worker Id Should Belong To    ${job}[worker_id]    ${second}
    The First Run Was Ended Before The Second Started    job    ${run pid}    ${hold pid}
    No Process Should Run    @{hold}

A Worker Started After A Kill -9 Ends The Dead Worker's Command First
    ${hold}=    Unique Sleep    61
    ${argv}=    Write Recorded Command    job    @{hold}
    ${first}=    Start Worker    alias=first
    ${id}=    Enqueue    command    --    @{argv}
    Wait Until Worker Claims    ${first}    ${id}
    ${run pid}=    Wait Until Run Starts    job    run=1
    ${hold pid}=    Wait Until A Process Runs    @{hold}
    ${killed}=    Terminate Process    ${first}    kill=True
    Should Be Equal As Integers    ${killed.rc}    -9
    # The dead worker's command still runs, in a session of its own, until a worker ends it.
    ${second}=    Start Worker    alias=second
    ${job}=    Job Should Finish    ${id}    rc=0    timeout=60
    Fields Should Be    ${job}    status=succeeded    attempts=2
    The First Run Was Ended Before The Second Started    job    ${run pid}    ${hold pid}

A Stalled Worker's Command Is Ended Before Its Job Runs Again
    [Documentation]    A stopped (SIGSTOP) worker is alive but writes no heartbeat: another
    ...    worker recovers its job once it is stale, ending the stale claim's processes (by
    ...    job and attempt) first. Resumed, the stalled worker records nothing for the job.
    ${hold}=    Unique Sleep    61
    ${argv}=    Write Recorded Command    job    @{hold}
    ${first}=    Start Worker    alias=first
    ${id}=    Enqueue    command    --    @{argv}
    Wait Until Worker Claims    ${first}    ${id}
    ${run pid}=    Wait Until Run Starts    job    run=1
    ${hold pid}=    Wait Until A Process Runs    @{hold}
    ${second}=    Start Worker    alias=second
    Wait Until Worker Is Listed    ${second}
    Stall Worker Outside A Write    ${first}
    ${job}=    Job Should Finish    ${id}    rc=0    timeout=60
    Fields Should Be    ${job}    status=succeeded    attempts=2
    Worker Id Should Belong To    ${job}[worker_id]    ${second}
    The First Run Was Ended Before The Second Started    job    ${run pid}    ${hold pid}
    ${log}=    Get File    ${WORK DIR}/second.stderr
    Should Match Regexp    ${log}    ended \\d+ process\\(es\\) of job ${id} \\(attempt 1\\) before releasing it
    # Resumed, it finds its claim gone; its late outcome does not change the job.
    Send Signal To Process    SIGCONT    ${first}
    Wait Until File Logs    ${WORK DIR}/first.stderr
    ...    no longer this worker.s \\(recovered elsewhere\\); their outcome was not recorded
    Send Signal To Process    SIGTERM    ${first}
    Worker Should Exit    ${first}
    Job Should Have    ${id}    status=succeeded    attempts=2    worker_id=${job}[worker_id]

A Second SIGTERM Ends The Worker's Command And Its Daemon At Once
    Set Agents Environment    ASYNC__SHUTDOWN_GRACE=60
    ${daemon}=    Unique Sleep    777
    ${hold}=    Unique Sleep    62
    ${worker}=    Start Worker    alias=worker
    ${id}=    Enqueue    command    --    sh    -c    setsid ${daemon}[0] ${daemon}[1] & exec ${hold}[0] ${hold}[1]
    Wait Until Worker Claims    ${worker}    ${id}
    ${daemon pid}=    Wait Until A Process Runs    @{daemon}
    ${hold pid}=    Wait Until A Process Runs    @{hold}
    Send Signal To Process    SIGTERM    ${worker}
    Wait Until Process Logs    ${worker}    stopping: waiting up to 60 s for 1 running job\\(s\\)
    Send Signal To Process    SIGTERM    ${worker}
    Worker Should Exit    ${worker}    rc=130    timeout=10s
    # Gone by the time the worker exited: it ends them before it exits.
    Pids Should Not Run    ${daemon pid}    ${hold pid}
    No Process Should Run    @{daemon}
    ${log}=    Get File    ${WORK DIR}/worker.stderr
    Should Contain    ${log}    second signal: ending running jobs' processes and exiting now

A Job's Setsid Daemon Is Gone When The Job Succeeds
    ${daemon}=    Unique Sleep    777
    ${id}=    Enqueue    command    --    sh    -c    setsid ${daemon}[0] ${daemon}[1] & exit 0
    Run Burst Worker
    Job Should Have    ${id}    status=succeeded    attempts=1
    No Process Should Run    @{daemon}

A Job's Setsid Daemon Is Gone When The Job Is Cancelled
    ${daemon}=    Unique Sleep    777
    ${hold}=    Unique Sleep    63
    ${worker}=    Start Worker    alias=worker
    ${id}=    Enqueue    command    --    sh    -c    setsid ${daemon}[0] ${daemon}[1] & exec ${hold}[0] ${hold}[1]
    Wait Until Worker Claims    ${worker}    ${id}
    ${daemon pid}=    Wait Until A Process Runs    @{daemon}
    ${hold pid}=    Wait Until A Process Runs    @{hold}
    Agents Should Succeed    jobs    cancel    ${id}
    ${job}=    Job Should Finish    ${id}    rc=1
    Fields Should Be    ${job}    status=cancelled
    Pids Should Not Run    ${daemon pid}    ${hold pid}
    No Process Should Run    @{daemon}

A Job's Setsid Daemon Is Gone When The Job Times Out
    ${daemon}=    Unique Sleep    777
    ${hold}=    Unique Sleep    63
    ${script}=    Daemon Then Hold    ${daemon}    ${hold}
    ${id}=    Enqueue    command    --payload    {"timeout_s": 5}    --    sh    -c    ${script}
    Run Burst Worker
    ${job}=    Job Should Have    ${id}    status=failed
    Should Contain    ${job}[error_message]    timed out after 5 s
    Daemon Should Have Run And Be Gone    ${daemon}
    No Process Should Run    @{hold}

A Leaf's Setsid Daemon Is Gone When The Leaf Is Executed
    ${daemon}=    Unique Sleep    778
    ${root}=    Generate Project    proj    files=1    dirs=1
    Add Project    ${root}    proj
    ${action}=    Write Command Action    daemon    setsid ${daemon}[0] ${daemon}[1] & exit 0
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    Plan Should Have Executed    ${plan}    leaves=1
    No Process Should Run    @{daemon}

A Leaf's Setsid Daemon Is Gone When The Leaf Times Out
    ${daemon}=    Unique Sleep    778
    ${hold}=    Unique Sleep    64
    ${root}=    Generate Project    proj    files=1    dirs=1
    Add Project    ${root}    proj
    ${script}=    Daemon Then Hold    ${daemon}    ${hold}
    ${action}=    Write Command Action    daemon    ${script}
    ${result}=    Run Agents    plan    run    --project    proj    --action    ${action}
    ...    --timeout    5
    Should Be Equal As Integers    ${result.rc}    1    msg=${result.stdout}${result.stderr}
    ${plan}=    Plan Id From Run Output    ${result.stdout}
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    failed    msg=${status}
    ${leaves}=    Leaf Subplans    ${status}
    Should Be Equal    ${leaves}[0][state]    failed    msg=${leaves}
    Should Contain    ${leaves}[0][error_message]    timed out
    Daemon Should Have Run And Be Gone    ${daemon}
    No Process Should Run    @{hold}

A Leaf's Setsid Daemon Is Gone When Its Plan Is Cancelled
    ${daemon}=    Unique Sleep    778
    ${hold}=    Unique Sleep    64
    ${root}=    Generate Project    proj    files=1    dirs=1
    Add Project    ${root}    proj
    ${action}=    Write Command Action    daemon
    ...    setsid ${daemon}[0] ${daemon}[1] & exec ${hold}[0] ${hold}[1]
    ${plan}=    Create Plan    --project    proj    --action    ${action}
    VAR    ${PLAN}    ${plan}    scope=TEST
    ${run}=    Start Agents    plan    execute    ${plan}    alias=execute
    ${daemon pid}=    Wait Until A Process Runs    @{daemon}
    ${hold pid}=    Wait Until A Process Runs    @{hold}
    Agents Should Succeed    plan    cancel    ${plan}
    ${result}=    Wait For Process    ${run}    timeout=${WAIT TIMEOUT}    on_timeout=kill
    Should Be Equal As Integers    ${result.rc}    1    msg=${result.stdout}${result.stderr}
    Should Contain    ${result.stdout}    plan ${plan} cancelled
    Pids Should Not Run    ${daemon pid}    ${hold pid}
    No Process Should Run    @{daemon}
    ${left}=    Processes Of Plan    ${plan}
    Should Be Empty    ${left}    msg=processes of the plan still running: ${left}


*** Keywords ***
Clean Up
    [Documentation]    Teardown: end the daemons a failed test left, then what `Stop Plan
    ...    Processes` ends (the plan's commands, the workers).
    Kill Unique Sleeps
    Stop Plan Processes

The First Run Was Ended Before The Second Started
    [Documentation]    The recorded command of ${name} ran twice: the first run (pid ${run pid},
    ...    holding with ${hold pid}) never finished, and neither was running any more when the
    ...    second run started; the second ran to its end.
    [Arguments]    ${name}    ${run pid}    ${hold pid}
    ${runs}=    Recorded Runs    ${name}
    Length Should Be    ${runs}    2    msg=${runs}
    Should Be Equal As Integers    ${runs}[0][pid]    ${run pid}
    Should Be Equal    ${runs}[0][ended]    ${False}    msg=the first run finished: ${runs}
    Should Be Empty    ${runs}[1][alive]    msg=the second run started while the first ran: ${runs}
    Should Be Equal    ${runs}[1][ended]    ${True}    msg=${runs}
    Pids Should Not Run    ${run pid}    ${hold pid}

Daemon Then Hold
    [Documentation]    A shell script that starts ${daemon} with `setsid` (it writes its pid to
    ...    daemon.pid in the work dir first), waits until it has, then becomes ${hold}.
    [Arguments]    ${daemon}    ${hold}
    ${pid file}=    Set Variable    ${WORK DIR}/daemon.pid
    ${script}=    Catenate
    ...    setsid sh -c 'echo $$ > ${pid file}; exec ${daemon}[0] ${daemon}[1]' &
    ...    while [ ! -s ${pid file} ]; do sleep 0.05; done;
    ...    exec ${hold}[0] ${hold}[1]
    RETURN    ${script}

Daemon Should Have Run And Be Gone
    [Documentation]    The daemon `Daemon Then Hold` started wrote its pid, and runs no more.
    [Arguments]    ${daemon}
    ${pid}=    Pid In File    ${WORK DIR}/daemon.pid    timeout=1s
    Pids Should Not Run    ${pid}
    No Process Should Run    @{daemon}

Plan Id From Run Output
    [Documentation]    `agents plan run` prints "plan ID" first; returns the id.
    [Arguments]    ${stdout}
    ${match}=    Should Match Regexp    ${stdout}    ^plan ([0-9A-Z]{26})\\n
    VAR    ${PLAN}    ${match}[1]    scope=TEST
    RETURN    ${match}[1]
