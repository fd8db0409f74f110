*** Settings ***
Documentation       Plan locks between real `agents` processes: of two `plan execute` started
...                 together exactly one runs and the other exits 3 naming the holder and the
...                 expiry; a holder killed with SIGKILL on this host is taken over at once, one
...                 on another host (which cannot be checked) only once its TTL has passed;
...                 `agents locks release` needs the owner or --force, and a run whose lock was
...                 force-released stops its commands instead of running on unprotected.
Resource            resources/agents.resource
Test Setup          Fresh Plan Database
Test Teardown       Stop Plan Processes


*** Variables ***
${FOREIGN OWNER}    otherhost:4242:n0nce
# Far longer than anything a test does while the lock must hold: its expiry is never waited
# for, a test that needs it expired sets it in the past (`Expire Lock Of`).
${FOREIGN TTL}      3600


*** Test Cases ***
Two Executions Started Together: One Runs, The Other Exits 3 Naming The Holder
    ${plan}=    Create Gated Plan
    ${first}=    Start Agents    plan    execute    ${plan}    alias=first
    ${second}=    Start Agents    plan    execute    ${plan}    alias=second
    ${loser}=    Wait For First Process To Exit    ${first}    ${second}
    ${winner}=    Set Variable If    $loser is $first    ${second}    ${first}
    ${refused}=    Wait For Process    ${loser}    timeout=${STOP TIMEOUT}    on_timeout=kill
    Log    stdout:\n${refused.stdout}\nstderr:\n${refused.stderr}
    Should Be Equal As Integers    ${refused.rc}    3    msg=the refused run exited ${refused.rc}
    Should Be One Error Line    ${refused}
    Process Should Be Running    ${winner}    msg=the other run stopped too

    # The message names the running one (owner id, host, pid) and the lock's expiry.
    ${status}=    Wait Until Plan Counts    ${plan}    running=${LEAVES}
    Should Be Equal    ${status}[phase]    executing
    ${lock}=    Plan Lock Should Be Held By    ${plan}    ${winner}
    ${until}=    Lock Expiry In Seconds    ${lock}
    Should Be Equal    ${refused.stderr}
    ...    error: plan ${plan} is locked by ${lock}[owner_id] (host ${lock}[host], pid ${lock}[pid]) until ${until}
    # It did nothing else: only the running one started commands, one per leaf.
    @{ran}=    Wait Until File Has Lines    ${RAN FILE}    ${LEAVES}
    ${running}=    Processes Of Plan    ${plan}
    Length Should Be    ${running}    ${LEAVES}    msg=expected ${LEAVES} commands, found ${running}

    Open Gate
    ${result}=    Wait For Process    ${winner}    timeout=${WAIT TIMEOUT}    on_timeout=kill
    Log    stdout:\n${result.stdout}\nstderr:\n${result.stderr}
    Should Be Equal As Integers    ${result.rc}    0    msg=the running one exited ${result.rc}
    Should Contain    ${result.stdout}    plan ${plan} executed
    Plan Should Have Executed    ${plan}    leaves=${LEAVES}
    Each Leaf Should Have Run Once    ${plan}
    No Locks Should Be Held

Holder Killed With SIGKILL On This Host Is Taken Over At Once
    ${plan}=    Create Gated Plan
    ${holder}=    Start Agents    plan    execute    ${plan}    alias=holder
    Wait Until Plan Counts    ${plan}    running=${LEAVES}
    ${lock}=    Plan Lock Should Be Held By    ${plan}    ${holder}
    @{ran}=    Wait Until File Has Lines    ${RAN FILE}    ${LEAVES}
    ${killed}=    Terminate Process    ${holder}    kill=True
    Should Be Equal As Integers    ${killed.rc}    -9
    # Its commands run in their own process groups and outlive it: end them too.
    ${pids}=    Evaluate    [line.split()[1] for line in $ran]
    Kill Processes Of Plan    ${plan}
    Kill Process Groups    @{pids}
    Process Groups Should Be Gone    ${pids}

    # The dead holder's lock is still there and has minutes to go (the default TTL) ...
    ${left}=    Lock Listed For    plan    ${plan}
    Should Be Equal    ${left}[owner_id]    ${lock}[owner_id]
    Should Be Equal    ${left}[stale]    ${False}
    # ... but its pid is gone from this host: the next run takes the lock over at once.
    Open Gate
    ${result}=    Run Agents    plan    execute    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Contain    ${result.stdout}    plan ${plan} executed
    Should Contain    ${result.stderr}    took over the lock of plan ${plan} from ${lock}[owner_id]
    ${now}=    Evaluate    datetime.datetime.now(datetime.timezone.utc)    modules=datetime
    Should Be True    $now < datetime.datetime.fromisoformat($left["expires_at"])
    ...    msg=the run finished only after the dead holder's lock expired (${left}[expires_at])
    Plan Should Have Executed    ${plan}    leaves=${LEAVES}
    No Locks Should Be Held

Lock Of A Holder On Another Host Holds Until Its TTL Passes
    [Documentation]    Whether a process of another host still runs cannot be checked from
    ...    here: its lock is respected until it expires, then taken over. The lock is taken
    ...    right before the refused run with an hour to go, and made to expire explicitly
    ...    afterwards: no step depends on how long a process start takes.
    ${plan}=    Create Plan Of Quick Leaves
    ${taken}=    Acquire Lock As    plan    ${plan}    ${FOREIGN OWNER}    ${FOREIGN TTL}
    ${until}=    Lock Expiry In Seconds    ${taken}
    ${until}=    Regexp Escape    ${until}
    ${listed}=    Lock Listed For    plan    ${plan}
    Should Be Equal    ${listed}[owner_id]    ${FOREIGN OWNER}
    Should Be Equal    ${listed}[host]    otherhost
    Should Be Equal As Integers    ${listed}[pid]    4242
    Should Be Equal    ${listed}[stale]    ${False}    msg=${listed}
    Agents Should Fail    3
    ...    ^error: plan ${plan} is locked by ${FOREIGN OWNER} \\(host otherhost, pid 4242\\) until ${until}$
    ...    plan    execute    ${plan}
    # Refused before anything ran.
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    created
    Should Be Equal As Integers    ${status}[counts][pending]    ${LEAVES}
    ${ran}=    Lines Of File    ${RAN FILE}
    Should Be Empty    ${ran}

    # Still held after the refusal; then its TTL passes (set explicitly: the expiry is now in
    # the past) and the next run takes it over.
    ${held}=    Lock Listed For    plan    ${plan}
    Should Be Equal    ${held}[expires_at]    ${taken}[expires_at]
    Should Be Equal    ${held}[stale]    ${False}    msg=${held}
    Expire Lock Of    plan    ${plan}    ${FOREIGN OWNER}
    ${stale}=    Lock Listed For    plan    ${plan}
    Should Be Equal    ${stale}[owner_id]    ${FOREIGN OWNER}
    Should Be Equal    ${stale}[stale]    ${True}    msg=${stale}
    ${result}=    Run Agents    plan    execute    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Contain    ${result.stdout}    plan ${plan} executed
    Plan Should Have Executed    ${plan}    leaves=${LEAVES}
    Each Leaf Should Have Run Once    ${plan}
    No Locks Should Be Held

Releasing A Live Lock Needs Its Owner Or --force, And The Run Then Stops
    # A short TTL: the run renews every 5 s (a third of it), so it notices the lost lock within
    # seconds; and a renewal can come 10 s late on a loaded machine before the lock lapses.
    Set Agents Environment    LOCKS__PLAN_TTL=15
    ${plan}=    Create Gated Plan
    ${run}=    Start Agents    plan    execute    ${plan}    alias=holder
    Wait Until Plan Counts    ${plan}    running=${LEAVES}
    ${lock}=    Plan Lock Should Be Held By    ${plan}    ${run}
    ${holder}=    Regexp Escape    ${lock}[owner_id] (host ${lock}[host], pid ${lock}[pid])
    Agents Should Fail    3
    ...    ^error: plan ${plan} is locked by ${holder}; pass --owner with your own owner id, or --force
    ...    locks    release    plan    ${plan}
    Agents Should Fail    3    ^error: plan ${plan} is locked by ${holder};
    ...    locks    release    plan    ${plan}    --owner    someone-else
    ${still}=    Plan Lock Should Be Held By    ${plan}    ${run}
    Should Be Equal    ${still}[owner_id]    ${lock}[owner_id]

    ${result}=    Run Agents    locks    release    plan    ${plan}    --force
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Be Equal    ${result.stdout}    released the lock on plan ${plan}\n
    ${warnings}=    Split To Lines    ${result.stderr}
    Length Should Be    ${warnings}    1    msg=expected one warning line:\n${result.stderr}
    Should Match Regexp    ${result.stderr}
    ...    ^warning: released a live lock held by ${holder}; that run is no longer protected
    ${gone}=    Lock Listed For    plan    ${plan}
    Should Be Equal    ${gone}    ${None}

    # The run's next renewal fails: it stops its commands and fails with a clear message.
    ${stopped}=    Wait For Process    ${run}    timeout=${WAIT TIMEOUT}    on_timeout=kill
    Log    stdout:\n${stopped.stdout}\nstderr:\n${stopped.stderr}
    Should Be Equal As Integers    ${stopped.rc}    1    msg=the run exited ${stopped.rc}
    Should Contain    ${stopped.stdout}    the lock on plan ${plan} was lost
    ${status}=    Plan Status    ${plan}
    Should Be Equal    ${status}[phase]    failed
    Should Be Equal As Integers    ${status}[counts][running]    0
    Should Be Equal As Integers    ${status}[counts][cancelled]    ${LEAVES}
    ${left}=    Processes Of Plan    ${plan}
    Should Be Empty    ${left}    msg=commands of the plan still running: ${left}
    No Locks Should Be Held
    Agents Should Fail    4    ^error: no lock on plan ${plan}$    locks    release    plan    ${plan}

Releasing One's Own Lock Or A Stale One Gives No Warning
    ${taken}=    Acquire Lock As    project    some-project    ${FOREIGN OWNER}    ${FOREIGN TTL}
    ${result}=    Run Agents    locks    release    project    some-project
    ...    --owner    ${FOREIGN OWNER}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Be Equal    ${result.stdout}    released the lock on project some-project\n
    Should Be Empty    ${result.stderr}
    No Locks Should Be Held

    Acquire Lock As    plan    some-plan    ${FOREIGN OWNER}    ${FOREIGN TTL}
    Expire Lock Of    plan    some-plan    ${FOREIGN OWNER}
    ${stale}=    Lock Listed For    plan    some-plan
    Should Be Equal    ${stale}[stale]    ${True}    msg=${stale}
    ${result}=    Run Agents    locks    release    plan    some-plan    --force
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Be Equal    ${result.stdout}    released the lock on plan some-plan\n
    Should Be Empty    ${result.stderr}    msg=no warning expected for a stale lock
    No Locks Should Be Held


*** Keywords ***
Create Gated Plan
    [Documentation]    A plan over a small project whose leaves record "SUBPLAN PID" in
    ...    ${RAN FILE} and then hold on a closed gate until `Open Gate`: a run keeps the
    ...    plan's lock for as long as the test needs. Sets ${PLAN}, ${RAN FILE} and ${LEAVES}.
    ${gate}=    Close Gate
    @{gate argv}=    Gate Command    ${gate}
    ${hold}=    Evaluate    shlex.join($gate_argv)    modules=shlex
    ${plan}=    Create Plan Running    gated
    ...    echo "$AGENTS_SUBPLAN_ID $$" >> ${WORK DIR}/ran.txt; exec ${hold}
    RETURN    ${plan}

Create Plan Of Quick Leaves
    [Documentation]    Like `Create Gated Plan`, but each leaf records itself and exits 0.
    ${plan}=    Create Plan Running    quick    echo "$AGENTS_SUBPLAN_ID $$" >> ${WORK DIR}/ran.txt
    RETURN    ${plan}

Create Plan Running
    [Arguments]    ${name}    ${script}
    ${root}=    Generate Project    proj    files=6    dirs=3
    Add Project    ${root}    proj
    ${action}=    Write Command Action    ${name}    ${script}
    ...    max_files_per_subplan=2    min_files_per_subplan=1
    ${plan}=    Create Plan    --project    proj    --action    ${action}    --max-parallel    8
    VAR    ${PLAN}    ${plan}    scope=TEST
    VAR    ${RAN FILE}    ${WORK DIR}/ran.txt    scope=TEST
    ${status}=    Plan Status    ${plan}
    ${leaves}=    Get Length    ${{ [n for n in $status["subplans"] if n["files"]] }}
    Should Be True    1 < ${leaves} <= 8    msg=${leaves} leaves
    VAR    ${LEAVES}    ${leaves}    scope=TEST
    RETURN    ${plan}

Each Leaf Should Have Run Once
    [Documentation]    ${RAN FILE} names every leaf of the plan exactly once.
    [Arguments]    ${plan}
    ${status}=    Plan Status    ${plan}
    @{ran}=    Lines Of File    ${RAN FILE}
    ${ran ids}=    Evaluate    sorted(line.split()[0] for line in $ran)
    ${leaf ids}=    Evaluate    sorted(n["id"] for n in $status["subplans"] if n["files"])
    Should Be Equal    ${ran ids}    ${leaf ids}
