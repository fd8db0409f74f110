Feature: Prompts: an action's instructions rendered per leaf for an agent's command line
  An action may carry `prompt` (inline) or `prompt_file` (next to the action file), rendered per
  leaf with `{files}`, `{label}`, `{dir}`, `{project}` and `{params.NAME}`, and handed to the
  command as the argument `{prompt}` and as the file `$AGENTS_PROMPT_FILE`. The fake agent the
  tests ship edits the files as the prompt says.

  Background:
    Given the project "repo" holds the files
      | path        | text   |
      | src/a.py    | a = 1\n |
      | src/b.py    | b = 2\n |
      | docs/c.md   | c\n     |
    And I ran `project add [tmp]/repo`

  Scenario: the prompt file is rendered per leaf and the agent edits as it says
    Given the prompt file "port.md" holding
      """
      Port {label} of {project} ({dir}) to {params.target}.
      APPEND: # ported to {params.target}
      Files:
      {files}
      """
    And the action file "port.toml" holding
      """
      [action]
      command = ["python", "[fixtures]/fake_agent.py"]
      prompt_file = "port.md"
      include = ["src/**/*.py"]
      [action.params]
      target = "Python 3.12"
      """
    When I run `plan run --project repo --action [tmp]/port.toml --apply`
    Then the exit code is 0
    And the project's file "src/a.py" holds "a = 1\n# ported to Python 3.12\n"
    And the project's file "src/b.py" holds "b = 2\n# ported to Python 3.12\n"
    And the project's file "docs/c.md" holds "c\n"
    When I run `plan show [plan] --subplan [leaf .]`
    Then stdout contains "Port . of repo (src) to Python 3.12."
    And stdout contains "APPEND: # ported to Python 3.12"

  Scenario: an inline prompt goes to the command as the {prompt} argument; braces can be literal
    Given the action file "say.toml" holding
      """
      [action]
      command = ["python", "[fixtures]/fake_agent.py", "--prompt", "{prompt}", "{files}"]
      prompt = "APPEND: x = {{'key': 1}} in {label}\n"
      include = ["src/**/*.py"]
      """
    When I run `plan run --project repo --action [tmp]/say.toml --apply`
    Then the exit code is 0
    And the project's file "src/a.py" holds "a = 1\nx = {'key': 1} in .\n"
    When I run `plan show [plan] --subplan [leaf .] --json`
    Then the JSON document has "prompt" equal to "APPEND: x = {'key': 1} in .\n"

  Scenario Outline: a prompt that cannot be rendered is refused at plan create, and nothing is created
    Given the prompt file "p.md" holding
      """
      Fix {files}
      then {<name>}
      """
    And the action file "bad.toml" holding
      """
      [action]
      command = ["true", "{prompt}"]
      <field>
      """
    When I run `plan create --project repo --action [tmp]/bad.toml`
    Then the exit code is 2
    And stderr is one line containing "<message>"
    When I run `plan list --json`
    Then the JSON document is a list of 0

    Examples:
      | name          | field                      | message                                                            |
      | nope          | prompt_file = "p.md"       | action.prompt_file: [tmp]/p.md: line 2: unknown placeholder {nope} |
      | params.target | prompt = "go {params.x}"   | action.prompt: line 1: unknown placeholder {params.x}              |
      | label         | prompt_file = "missing.md" | action.prompt_file: [tmp]/missing.md: No such file or directory    |
      | label         | description = "none"       | action.command: uses {prompt} but the action has no prompt         |

  Scenario: {prompt} must be a whole argument, and prompt and prompt_file do not go together
    Given the action file "half.toml" holding
      """
      [action]
      command = ["agent", "--message={prompt}"]
      prompt = "hi"
      """
    When I run `action show [tmp]/half.toml`
    Then the exit code is 2
    And stderr contains "{prompt} must be a whole argument"
    Given the action file "both.toml" holding
      """
      [action]
      command = ["agent", "{prompt}"]
      prompt = "hi"
      prompt_file = "p.md"
      """
    When I run `action show [tmp]/both.toml`
    Then the exit code is 2
    And stderr contains "set prompt or prompt_file, not both"

  Scenario Outline: the agent recipes shipped in examples/actions load, with their prompt
    When I run `action show [repository]/examples/actions/<recipe>.toml --json`
    Then the exit code is 0
    And the JSON document has "prompt_file" ending with "examples/actions/port.md"

    Examples:
      | recipe |
      | claude |
      | codex  |
      | aider  |
