Feature: Shell completion
  `agents --show-completion SHELL` prints the script for bash, zsh or fish and
  `agents --install-completion SHELL` installs it. The shell then asks `agents` for completions:
  commands, options, plan and job ids (newest first), project and action names.

  Scenario Outline: the completion script of each shell
    When I run `--show-completion <shell>`
    Then the exit code is 0
    And stdout contains "<hook>"

    Examples:
      | shell | hook                                            |
      | bash  | complete -o default -F _agents_completion agents |
      | zsh   | compdef _agents_completion agents                |
      | fish  | complete --command agents                        |

  Scenario: commands, options, ids and names are completed
    Given a directory "repo" with 3 files
    And I ran `project add [tmp]/repo --name sample`
    And I ran `plan create --project sample --action builtin:noop` and call the job "P"
    And I ran `jobs enqueue noop` and call the job "J"
    When bash asks to complete `agents pl`
    Then the completions are "plan"
    When bash asks to complete `agents plan st`
    Then the completions are "status"
    When bash asks to complete `agents plan status --j`
    Then the completions are "--json"
    When bash asks to complete `agents plan status 01`
    Then the completions are "[P]"
    When bash asks to complete `agents jobs show `
    Then the completions are "[J]"
    When bash asks to complete `agents plan run --project sa`
    Then the completions are "sample"
    When bash asks to complete `agents plan run --project sample --action builtin:c`
    Then the completions are "builtin:count-lines"

  Scenario: --install-completion writes the script where the shell reads it; an unknown shell is exit 2
    Given the environment variable HOME is "[tmp]/home"
    When I run `--install-completion bash`
    Then the exit code is 0
    And stdout contains "bash completion installed in [tmp]/home/.bash_completions/agents.sh"
    When I run `--show-completion tcsh`
    Then the exit code is 2
    And stderr is one line containing "no completion for shell 'tcsh': name one of bash, zsh, fish"

  Scenario: a completion that cannot reach the database completes nothing, silently
    Given the environment variable AGENTS_DATABASE_URL is "postgresql+psycopg://nobody@127.0.0.1:9/none"
    When bash asks to complete `agents plan status 01`
    Then there are no completions
    And stderr is empty
