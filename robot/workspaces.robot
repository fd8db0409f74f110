*** Settings ***
Documentation       Whole-project workspaces with real `agents` processes: an overlay lives only
...                 in the mount namespace of a leaf's processes, so a `kill -9` of `agents`
...                 mid-leaf leaves no mount on the host, and the next run of the plan ends the
...                 leftover processes (and with them the last mount) and removes the upper
...                 directories, then records the leaf's change.
Resource            resources/agents.resource
Library             resources/WorkspaceLibrary.py
Test Setup          Fresh Plan Database
Test Teardown       Stop Plan Processes


*** Test Cases ***
Kill -9 Mid-Leaf Leaves No Mount Behind And The Next Run Removes The Upper Directories
    ${root}=    Generate Project    proj    files=6    dirs=1
    Add Project    ${root}    proj
    ${ran file}=    Set Variable    ${WORK DIR}/ran.txt
    ${gate}=    Close Gate
    @{gate argv}=    Gate Command    ${gate}
    ${hold}=    Evaluate    shlex.join($gate_argv)    modules=shlex
    # The first run of the leaf writes a file, says so, then holds on the gate; a later run
    # writes the file and ends.
    ${action}=    Write Command Action    held
    ...    printf 'new\\n' > created.txt; echo "$AGENTS_SUBPLAN_ID $$" >> ${ran file}; [ "$(wc -l < ${ran file})" -gt 1 ] || exec ${hold}
    ...    scope=project    max_files_per_subplan=10    min_files_per_subplan=1
    # One leaf (a project this small would otherwise be split to run in parallel).
    ${plan}=    Create Plan    --project    proj    --action    ${action}    --max-parallel    1
    VAR    ${PLAN}    ${plan}    scope=TEST
    ${first}=    Start Agents    plan    execute    ${plan}    alias=first
    @{ran}=    Wait Until File Has Lines    ${ran file}    1
    ${held pid}=    Evaluate    $ran[0].split()[1]
    # The leaf's namespace holds the overlay; the host's does not.
    ${inside}=    Overlay Mounts Seen By    ${held pid}
    Should Not Be Empty    ${inside}    msg=the held leaf runs without an overlay
    ${host}=    Overlay Mounts Seen By
    Should Not Contain    ${{ "".join($host) }}    agents-plan-${plan}-
    ${killed}=    Terminate Process    ${first}    kill=True
    Should Be Equal As Integers    ${killed.rc}    -9
    ${host}=    Overlay Mounts Seen By
    Should Not Contain    ${{ "".join($host) }}    agents-plan-${plan}-
    ${left}=    Workspaces Of Plan Left    ${plan}    ${WORK DIR}/tmp
    Should Not Be Empty    ${left}    msg=the killed run left no workspace to clean up

    ${result}=    Run Agents    plan    execute    ${plan}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stdout}${result.stderr}
    Should Contain    ${result.stderr}    leftover process
    ${holders}=    Overlay Mounts Of Plan Anywhere    ${plan}
    Should Be Empty    ${holders}    msg=processes still holding an overlay of the plan: ${holders}
    ${left}=    Workspaces Of Plan Left    ${plan}    ${WORK DIR}/tmp
    Should Be Empty    ${left}    msg=workspaces left: ${left}
    ${changes}=    Agents Should Succeed    plan    diff    ${plan}    --stat
    Should Contain    ${changes}    created.txt
    Should Not Exist    ${root}/created.txt
