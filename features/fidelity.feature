Feature: A tool run through agents gives what it gives run directly
  `agents plan run --apply` of an action running a real tool on `{files}` must leave the project
  byte for byte as running the same tool directly in the project leaves it, including tools that
  read the project's configuration (pyproject.toml) or its other modules. The generated project
  (features/steps/fidelity_project.py) configures ruff (line length 120, single quotes, Python
  3.10, an excluded module with a syntax error), black (line length 100, the same exclusion)
  and isort (the black profile), and its modules give every tool work to do. Each scenario runs
  the tool directly in the copy "direct" and through agents in the copy "agents", and compares
  them, tool caches (.ruff_cache, __pycache__) aside. The plans run in place as well: there the
  command runs in the project directory itself, so those rows check the comparison itself.

  Scenario Outline: <direct>, through agents with isolation <isolation>, <variant>
    Given a generated Python project <variant>, copied to "direct", "agents" and "fresh"
    And I ran `project add [tmp]/agents --name agents`
    And an action file "tool.toml" running `<action>` with isolation "<isolation>"
    When the user runs `<direct>` in the copy "direct"
    And I run `plan run --project agents --action [tmp]/tool.toml --apply`
    Then the plan ran every subplan to completion and was applied
    And the copy "agents" is byte for byte the copy "direct", tool caches aside
    And no change the plan recorded is in a tool's cache
    And the plan's diff passes `git apply --check` in the copy "fresh" and, applied there, gives the copy "direct"

    Examples: in a sandbox
      | direct                                                               | action                                                           | isolation | variant              |
      | ruff format .                                                        | ruff format {files}                                              | sandbox   | with a .gitignore    |
      | ruff format .                                                        | ruff format {files}                                              | sandbox   | without a .gitignore |
      | ruff check --fix --select UP .                                       | ruff check --fix --select UP {files}                             | sandbox   | with a .gitignore    |
      | ruff check --fix --select UP .                                       | ruff check --fix --select UP {files}                             | sandbox   | without a .gitignore |
      | black .                                                              | black {files}                                                    | sandbox   | with a .gitignore    |
      | black .                                                              | black {files}                                                    | sandbox   | without a .gitignore |
      | isort .                                                              | isort {files}                                                    | sandbox   | with a .gitignore    |
      | isort .                                                              | isort {files}                                                    | sandbox   | without a .gitignore |
      | pyupgrade --py310-plus --exit-zero-even-if-changed [python files]    | pyupgrade --py310-plus --exit-zero-even-if-changed {files}       | sandbox   | with a .gitignore    |
      | pyupgrade --py310-plus --exit-zero-even-if-changed [python files]    | pyupgrade --py310-plus --exit-zero-even-if-changed {files}       | sandbox   | without a .gitignore |

    Examples: in place, which checks the comparison
      | direct                                                               | action                                                           | isolation | variant              |
      | ruff format .                                                        | ruff format {files}                                              | in-place  | with a .gitignore    |
      | ruff format .                                                        | ruff format {files}                                              | in-place  | without a .gitignore |
      | ruff check --fix --select UP .                                       | ruff check --fix --select UP {files}                             | in-place  | with a .gitignore    |
      | ruff check --fix --select UP .                                       | ruff check --fix --select UP {files}                             | in-place  | without a .gitignore |
      | black .                                                              | black {files}                                                    | in-place  | with a .gitignore    |
      | black .                                                              | black {files}                                                    | in-place  | without a .gitignore |
      | isort .                                                              | isort {files}                                                    | in-place  | with a .gitignore    |
      | isort .                                                              | isort {files}                                                    | in-place  | without a .gitignore |
      | pyupgrade --py310-plus --exit-zero-even-if-changed [python files]    | pyupgrade --py310-plus --exit-zero-even-if-changed {files}       | in-place  | with a .gitignore    |
      | pyupgrade --py310-plus --exit-zero-even-if-changed [python files]    | pyupgrade --py310-plus --exit-zero-even-if-changed {files}       | in-place  | without a .gitignore |

  Scenario Outline: a codemod that reads another module of the project, with isolation <isolation>, <variant>
    The codemod (rename_calls.py, outside the project) imports shop/names.py from the directory
    it runs in, as a user runs it from the project's root, and renames calls to names.OLD into
    calls to names.NEW in the files it is given.

    Given a generated Python project <variant>, copied to "direct", "agents" and "fresh"
    And I ran `project add [tmp]/agents --name agents`
    And an action file "rename.toml" running `python [codemod] {files}` with isolation "<isolation>"
    When the user runs `python [codemod] [python files]` in the copy "direct"
    And I run `plan run --project agents --action [tmp]/rename.toml --apply`
    Then the plan ran every subplan to completion and was applied
    And the copy "agents" is byte for byte the copy "direct", tool caches aside
    And no change the plan recorded is in a tool's cache
    And the plan's diff passes `git apply --check` in the copy "fresh" and, applied there, gives the copy "direct"

    Examples:
      | isolation | variant              |
      | sandbox   | with a .gitignore    |
      | sandbox   | without a .gitignore |
      | in-place  | with a .gitignore    |
      | in-place  | without a .gitignore |
