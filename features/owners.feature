Feature: Owner ids name the process that holds a job, a lock or a plan run
  Workers and plan runs share one owner-id format, host:pid:ULID. Whether an owner still runs is
  judged only on its own host; another host's owner counts as alive until its lease expires.

  Scenario: an owner id names its host and pid, and is new at every start
    When an owner id is made for host "build-7" and pid 4242
    Then the owner id reads as host "build-7" and pid 4242
    And another owner id made for host "build-7" and pid 4242 differs from it
    And the owner id is described as "(host build-7, pid 4242)"

  Scenario: two hosts whose long names share a prefix are never taken for one another
    When an owner id is made for host "agents-worker-deployment-5d8f7b9c4f-x2k9p" and pid 9999999
    Then the owner id is at most 64 characters long
    And judged on host "agents-worker-deployment-5d8f7b9c4f-q8m3z" the owner is alive
    And judged on host "agents-worker-deployment-5d8f7b9c4f-x2k9p" the owner is gone

  Scenario: an id a person chose names no process and counts as alive
    Then the owner "someone-else" is alive
    And the owner "build-7:4242" is alive

  Scenario: an owner whose pid now belongs to a process started after it is gone (pid reused)
    Given a process of this host started an hour after an owner id naming its pid was made
    Then that owner is gone
    And an owner id made now for that pid is alive
