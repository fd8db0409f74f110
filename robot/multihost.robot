*** Settings ***
Documentation       Workers on several hosts share one PostgreSQL queue and survive a host dying
...                 or cut off. Each host is a network namespace with a hostname of its own
...                 (tools/multihost.py), joined to the server's namespace by a bridge; nothing
...                 is routed outside them. Four hosts run four real `agents worker run`
...                 processes each; the jobs log their own runs (MultiHostLibrary.py), so a job
...                 running twice at once, a job lost, or a result written by a stale claim is
...                 seen. A host killed, a host cut off, the server restarted, a plan's lock
...                 held on a cut-off host. Needs root: elsewhere the suite is skipped, saying
...                 why.
Resource            resources/agents.resource
Library             resources/MultiHostLibrary.py
Test Setup          Hosts Up
Test Teardown       Stop Hosts


*** Variables ***
@{HOSTS}            h1    h2    h3    h4
${WORKERS}          4
${JOBS}             400
${TICKS}            10


*** Test Cases ***
A Killed Host's Jobs Are Recovered By The Others, Nothing Lost Or Run Twice At Once
    Start Workers On Every Host
    @{ids}=    Enqueue Tick Jobs    ${JOBS}    ${TICKS}
    Wait Until Host Runs Jobs    h1    count=20
    ${killed}=    Kill Host    h1
    Should Be True    ${killed} >= ${WORKERS}    msg=only ${killed} processes on h1
    ${stopped}=    Wait Until Other Hosts Rerun Jobs Of    h1
    Log    ${stopped} jobs stopped with h1 ran again elsewhere
    Wait Until Jobs Finish    ${JOBS}
    Every Job Should Have Succeeded By Its Last Claim    ${ids}
    No Job Should Have Run Twice At Once

A Cut-Off Host Stops Its Jobs, The Others Recover Them, And Its Late Results Are Refused
    Start Workers On Every Host
    # 5 s jobs: longer than the 3.5 s after which a cut-off worker stops what it runs.
    @{ids}=    Enqueue Tick Jobs    160    50
    Wait Until Host Runs Jobs    h2    count=20
    Cut Host    h2
    ${stopped}=    Wait Until Other Hosts Rerun Jobs Of    h2
    Log    ${stopped} jobs cut off with h2 ran again elsewhere
    Host Workers Should Have Logged    h2    no heartbeat written for
    Heal Host    h2
    Wait Until Jobs Finish    160
    Every Job Should Have Succeeded By Its Last Claim    ${ids}
    No Job Should Have Run Twice At Once

The Database Restarts: Every Worker Reconnects By Itself And The Queue Drains
    Start Workers On Every Host
    @{ids}=    Enqueue Tick Jobs    ${JOBS}    ${TICKS}
    Wait Until Host Runs Jobs    h1    count=20
    Restart Database
    Wait Until Jobs Finish    ${JOBS}
    Every Host Worker Should Still Run
    Every Job Should Have Succeeded By Its Last Claim    ${ids}
    No Job Should Have Run Twice At Once

A Plan Lock Held On A Cut-Off Host Is Taken Over After Its TTL, And Its Old Run Writes Nothing
    # A 6 s lock, renewed every 2 s: cut off, the run stops itself after 5 s without a
    # renewal, before the lock can lapse and another host take the plan over.
    Set Agents Environment    LOCKS__PLAN_TTL=6
    ${plan}=    Create Tick Plan    40
    Start Plan On Host    h2    ${plan}
    Wait Until Host Runs Jobs    h2    count=10
    Cut Host    h2
    Wait Until Host Logs    h2    was not renewed for
    # Refused (exit 3, the plan is locked) until the lock has lapsed, then run to the end.
    ${status}=    Wait Until Keyword Succeeds    60s    1s
    ...    Plan On Host Should Complete    h3    ${plan}
    Heal Host    h2
    # The old run ends with an error (its progress could not be recorded, or was refused).
    ${codes}=    Wait Until Host Processes Exit    h2
    Should Be Equal As Integers    ${codes}[0]    1
    # What h3's run recorded stands: the old run wrote nothing over it.
    ${after}=    Run On Host    db    plan    status    ${plan}    --json
    ${after}=    Evaluate    json.loads($after)    modules=json
    Should Be Equal    ${after}[phase]    executed    msg=${after}
    Should Be Equal    ${after}[counts]    ${status}[counts]
    Should Be Equal    ${after}[counts][completed]    ${{ len([n for n in $after["subplans"] if n["files"]]) }}
    No Job Should Have Run Twice At Once


*** Keywords ***
Hosts Up
    Start Hosts    ${{ len($HOSTS) }}
    # A heartbeat every 0.5 s; a worker that wrote none for 3.5 s stops its jobs, and after 4 s
    # the others may take them.
    Set Agents Environment    ASYNC__HEARTBEAT_INTERVAL=0.5    ASYNC__STALE_AFTER=4
    Run On Host    db    db    upgrade

Start Workers On Every Host
    FOR    ${host}    IN    @{HOSTS}
        Start Host Workers    ${host}    ${WORKERS}    --max-workers    2
    END
    # Every one of them is up before the jobs come, so that every host runs its share, and
    # before any fault: a worker that cannot reach the database when it starts exits with one
    # line, which is not what these tests are about.
    Wait Until Workers Run    ${{ len($HOSTS) * ${WORKERS} }}
