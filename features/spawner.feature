Feature: Commands started by a spawner process
  A Spawner starts commands from small helper processes instead of forking the (big,
  multi-threaded) process that asks: each in a session of its own, its output on the descriptor
  given, optionally seeing the project through an overlay. Real processes throughout. The
  overlay scenarios take the way of the user running them (root, or a user namespace); as root,
  one more runs a spawner as another user.

  Scenario: Output reaches the descriptor given and the exit code comes back
    Given a spawner
    When the spawner runs "sh -c 'echo out; echo err >&2; exit 3'"
    Then the spawned command exited with 3
    And the spawned command's output is "out|err"

  Scenario: The command gets the environment and directory asked for, and nothing else
    Given a spawner
    When the spawner runs "sh -c 'echo $GREETING; pwd; echo ${HOME:-no home}'" in the scenario directory with GREETING="hello"
    Then the spawned command exited with 0
    And the spawned command's output is "hello|<scenario directory>|no home"

  Scenario: A command runs in a session of its own, reading /dev/null, holding no other descriptor
    Given a spawner
    When the spawner starts "sleep 60"
    Then the spawned command leads a session of its own
    And the spawned command's stdin is /dev/null and it holds descriptors 0, 1 and 2 only
    When the spawned command is killed with SIGKILL
    Then the spawned command exited with -9

  Scenario: Waiting with a timeout, and polling
    Given a spawner
    When the spawner starts "sleep 60"
    Then waiting 0.05 s for the spawned command times out
    And polling the spawned command gives nothing yet
    When the spawned command is killed with SIGTERM
    Then the spawned command exited with -15
    And polling the spawned command gives -15

  Scenario: A program that cannot be run is an OSError from spawn, as subprocess raises it
    Given a spawner
    And an executable file "not-executable.sh" that is not executable
    Then spawning "no-such-program-anywhere" fails with FileNotFoundError naming "no-such-program-anywhere"
    And spawning "./not-executable.sh" fails with PermissionError naming "./not-executable.sh"
    And spawning "true" in a directory that does not exist fails with FileNotFoundError naming the directory
    And spawning "true" with an environment variable named "A=B" fails with SubprocessError
    And spawning nothing fails with ValueError
    When the spawner runs "true"
    Then the spawned command exited with 0

  Scenario: A large environment reaches the command
    Given a spawner
    When the spawner runs "sh -c 'echo ${#BIG}'" in the scenario directory with BIG of 100000 characters
    Then the spawned command's output is "100000"

  Scenario: Many commands from many threads each get their own exit code and output
    Given a spawner
    When 8 threads start 200 commands through the spawner, command N printing N and exiting with N % 50
    Then every command exited with its own code and printed its own number

  Scenario: A command nobody waits for does not disturb the next ones
    Given a spawner
    When the spawner starts "true" and the caller drops it
    And the spawner runs "sh -c 'exit 4'"
    Then the spawned command exited with 4

  Scenario: Through an overlay the command sees the project at its own path and writes to the upper layer
    Given a spawner
    And a project directory with "a.txt" holding "original" and a .git directory, and an overlay of it
    When the spawner runs "sh -c 'cat a.txt; echo new > b.txt; echo changed > a.txt; pwd'" in the project through the overlay
    Then the spawned command exited with 0
    And the spawned command's output is "original|<project>"
    And the overlay's upper directory holds "a.txt" with "changed" and "b.txt" with "new"
    And the project still holds "a.txt" with "original" and no "b.txt"
    When the spawner runs "sh -c 'echo x > .git/HEAD'" in the project through the overlay
    Then the spawned command did not exit with 0
    And the spawned command's output mentions "Read-only file system"
    When the spawner runs "sh -c 'ls /proc/self/fd'" in the project through the overlay
    Then the spawned command's output is "0|1|2|3"

  Scenario: An overlay that cannot be mounted is reported as Overlay.enter_hook reports it
    Given a spawner
    And a project directory with "a.txt" holding "original" and a .git directory, and an overlay of it
    And the overlay's upper directory is gone
    When the spawner runs "true" in the project through the overlay
    Then the spawned command exited with the workspace setup failure code
    And the spawned command's output is what Overlay.enter_hook writes for the same overlay

  Scenario: Through an overlay, a program that cannot be run is still an OSError from spawn
    Given a spawner
    And a project directory with "a.txt" holding "original" and a .git directory, and an overlay of it
    Then spawning "no-such-program-anywhere" through the overlay fails with FileNotFoundError naming "no-such-program-anywhere"
    And spawning "true" through the overlay in a directory that does not exist fails with FileNotFoundError naming the directory

  Scenario: As another user than root, a command with an overlay runs in a user namespace and keeps its uid
    Given the scenario runs as root with setpriv available
    When a spawner owned by user 65534 runs a command through an overlay of a project of that user
    Then that command ran as uid 65534, saw the project's file and wrote to the upper layer only
    And that spawner reported a missing program as FileNotFoundError and a missing upper directory as the workspace setup failure
    And that spawner ran a command without an overlay outside any user namespace

  Scenario: Commands are shared among the helpers, taken in turn
    Given a spawner with 3 helpers
    When the spawner starts "sleep 60" 6 times
    Then each of the 3 helpers started 2 of them
    And a spawner with 0 helpers cannot be made

  Scenario: The helper killed while a command runs: waits end with an error, the next spawn works
    Given a spawner with one helper
    When the spawner starts "sleep 60"
    And another thread waits for the spawned command
    And the spawner's helper is killed with SIGKILL
    Then waiting for the spawned command fails with SpawnerDied
    And the other thread's wait failed with SpawnerDied
    And waiting for the spawned command again fails with SpawnerDied
    And the spawned command is still running
    When the spawner runs "sh -c 'exit 5'"
    Then the spawned command exited with 5
    And the spawner has a new helper

  Scenario: The helper killed between two commands: the next spawn starts a new one
    Given a spawner with one helper
    When the spawner runs "true"
    And the spawner's helper is killed with SIGKILL
    And the spawner runs "sh -c 'exit 6'"
    Then the spawned command exited with 6
    And the spawner has a new helper

  Scenario: The helper dying before it answers a spawn makes spawn fail with SpawnerDied
    Given a spawner with one helper
    When the spawner runs "true"
    And the spawner's helper is stopped
    And another thread spawns "true" and the request is queued for the stopped helper
    And the spawner's helper is killed with SIGKILL
    Then the other thread's spawn failed with SpawnerDied

  Scenario: Closing the spawner ends its helpers; closing twice is fine; a closed spawner refuses
    Given a spawner
    When the spawner runs "true"
    And the spawner is closed
    Then the spawner's old helpers are gone
    When the spawner is closed
    Then spawning "true" fails with RuntimeError

  Scenario: The owner killed with SIGKILL: the helper exits, the command it started runs on
    When a process that owns a spawner starts "sleep 60" through it and is killed with SIGKILL
    Then that spawner's helper exits
    And the command it started is still running
