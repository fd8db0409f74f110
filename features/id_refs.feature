Feature: Ids by a unique prefix, or @last
  Any id argument (plan, job, subplan) takes the whole id, a unique prefix of it (6 characters or
  more, any case) or @last for the newest. A prefix two ids start is exit 2 naming them; --json
  output keeps full ids.

  Background:
    Given a directory "repo" with 3 files
    And I ran `project add [tmp]/repo`

  Scenario: a plan by a prefix of its id, in lower case too, and by @last
    Given I ran `plan create --project repo --action builtin:count-lines` and call the job "P"
    And "p8" is the first 8 characters of [P] in lower case
    When I run `plan status [p8] --json`
    Then the exit code is 0
    And the JSON document has "id" equal to "[P]"
    When I run `plan create --project repo --action builtin:noop` and call the job "Q"
    And I run `plan show @last --json`
    Then the JSON document has "id" equal to "[Q]"
    When I run `plan execute @last`
    Then the exit code is 0
    When I run `plan status [Q] --json`
    Then the JSON document has "phase" equal to "executed"

  Scenario: a job by a prefix of its id and by @last
    Given I ran `jobs enqueue noop` and call the job "A"
    And I ran `jobs enqueue sleep --payload '{"seconds": 1}'` and call the job "B"
    And "a10" is the first 10 characters of [A]
    When I run `jobs show [a10] --json`
    Then the JSON document has "id" equal to "[A]"
    When I run `jobs cancel @last`
    Then the exit code is 0
    When I run `jobs show [B] --json`
    Then the JSON document has "status" equal to "cancelled"

  Scenario: a prefix two ids start is refused, naming both; a short or unknown one is not found
    Given I ran `jobs enqueue noop --count 2 --json` and call the first two jobs "A" and "B"
    And "ab" is the longest prefix [A] and [B] share
    When I run `jobs show [ab]`
    Then the exit code is 2
    And stderr is one line containing "job id prefix '[ab]' is ambiguous: [A], [B]; give more characters"
    When I run `jobs show 01ab`
    Then the exit code is 4
    And stderr is one line containing "no job with id 01ab"
    When I run `plan status @last`
    Then the exit code is 4
    And stderr is one line containing "no plan with id '@last'"

  Scenario: a subplan by a prefix of its id within its plan
    Given I ran `plan run --project repo --action builtin:count-lines`
    And "leaf" is the first 24 characters of the id of the newest plan's first leaf
    When I run `plan show [plan] --subplan [leaf] --json`
    Then the exit code is 0
    And stdout contains "[leaf]"
    When I run `plan logs [plan] 0000000000`
    Then the exit code is 4
    And stderr is one line containing "has no subplan 0000000000"
