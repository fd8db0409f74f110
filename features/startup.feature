Feature: A command loads only what it needs
  `agents --version` and `agents --help` answer without loading any command, the database layer
  or the plan machinery; a command loads its own module and what it uses, nothing else. The
  root's listing comes from a table, so it must agree with each command's own help.

  Scenario: the root's help lists every command with the first line of that command's own help
    When I run `--help`
    Then the exit code is 0
    And every top-level command is listed with the first line of its own help

  Scenario Outline: a real agents process imports nothing it does not need
    Given a directory "repo" with 3 files
    And I ran `project add [tmp]/repo`
    And I ran `plan create --project repo --action builtin:count-lines`
    When I run the agents process `<command>` recording what it imports
    Then the process exited 0
    And it imported all of <needed>
    And it imported none of <not needed>

    Examples:
      | command            | needed                                   | not needed                                                                                  |
      | --version          | cleveragents.cli.app                     | sqlalchemy, pydantic, rich, cleveragents.cli.jobs, cleveragents.settings                    |
      | --help             | rich                                     | sqlalchemy, cleveragents.cli.jobs, cleveragents.cli.plans, cleveragents.store.engine        |
      | jobs enqueue noop  | sqlalchemy, cleveragents.cli.jobs        | rich, alembic, cleveragents.cli.plans, cleveragents.plans.executor, cleveragents.plans.actions |
      | plan status [plan] | cleveragents.cli.plans, cleveragents.store.plans | alembic, cleveragents.plans.executor, cleveragents.plans.lifecycle, cleveragents.plans.actions, rich.progress |
      | plan list          | cleveragents.cli.plans                   | cleveragents.cli.jobs, cleveragents.plans.runner, rich.syntax                               |
