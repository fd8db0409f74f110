Feature: Job status transitions
  A job moves queued -> running -> succeeded | failed | cancelled; a queued job can be cancelled;
  a running job goes back to queued only through recovery or a graceful shutdown. Nothing else.

  Scenario Outline: allowed transitions
    Then a job may go from <current> to <target>

    Examples:
      | current | target    |
      | queued  | running   |
      | queued  | cancelled |
      | running | succeeded |
      | running | failed    |
      | running | cancelled |
      | running | queued    |

  Scenario Outline: refused transitions
    Then a job may not go from <current> to <target>

    Examples:
      | current   | target    |
      | queued    | succeeded |
      | queued    | failed    |
      | queued    | queued    |
      | running   | running   |
      | succeeded | queued    |
      | succeeded | running   |
      | succeeded | failed    |
      | failed    | queued    |
      | failed    | running   |
      | failed    | succeeded |
      | cancelled | queued    |
      | cancelled | running   |
      | cancelled | succeeded |
