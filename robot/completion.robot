*** Settings ***
Documentation       Shell completion in a real bash: the script `agents --install-completion`
...                 writes is sourced, bash registers it, and completing asks the real `agents`
...                 command for commands and plan ids.
Resource            resources/agents.resource
Test Setup          Fresh Database


*** Test Cases ***
Bash Completes Commands And Plan Ids After Sourcing The Installed Script
    ${home}=    Set Variable    ${WORK DIR}/home
    Create Directory    ${home}
    ${project}=    Set Variable    ${WORK DIR}/repo
    Create File    ${project}/a.txt    one\n
    Agents Should Succeed    project    add    ${project}
    ${plan}=    Agents Should Succeed    plan    create    --project    repo    --action    builtin:noop
    ${plan}=    Strip String    ${plan}
    ${result}=    Run In Bash    agents --install-completion bash    ${home}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stderr}
    Should Contain    ${result.stdout}    ${home}/.bash_completions/agents.sh
    ${script}=    Catenate    SEPARATOR=\n
    ...    source "$HOME/.bash_completions/agents.sh"
    ...    complete -p agents
    ...    COMP_WORDS=(agents pl); COMP_CWORD=1; _agents_completion agents
    ...    echo "commands: \${COMPREPLY[*]}"
    ...    COMP_WORDS=(agents plan status 01); COMP_CWORD=3; _agents_completion agents
    ...    echo "plans: \${COMPREPLY[*]}"
    ${result}=    Run In Bash    ${script}    ${home}
    Should Be Equal As Integers    ${result.rc}    0    msg=${result.stderr}
    Should Contain    ${result.stdout}    complete -o default -F _agents_completion agents
    Should Contain    ${result.stdout}    commands: plan\n
    Should Contain    ${result.stdout}    plans: ${plan}\n
