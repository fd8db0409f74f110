Feature: How a leaf attempt's output is captured: chunks at line ends, held back keys, the cap
  The capture reads a command's output file while it runs (`plans/capture.py`) and passes on
  redacted chunks; these scenarios drive one attempt's log directly.

  Scenario: a line without an end is passed on once it outgrows the hold
    Given an attempt log with a cap of 8 MiB
    When the command writes 1100000 characters without a newline and the log is polled
    Then 1 chunk of 1100000 characters was passed on

  Scenario: an unfinished line waits for its end while the command runs
    Given an attempt log with a cap of 8 MiB
    When the command writes "one\ntw" and the log is polled
    Then the chunks passed on are "one\n"
    When the command writes "o\n" and the command ends
    Then the chunks passed on are "one\n", "two\n"

  Scenario: a private key split across two reads is masked whole
    Given an attempt log with a cap of 8 MiB
    When the command writes "key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\n" and the log is polled
    And the command writes "MIIEvQIBADAN\n-----END PRIVATE KEY-----\ndone\n" and the command ends
    Then the chunks passed on do not contain "MIIEvQ"
    And the chunks passed on joined are "key:\n[REDACTED]\ndone\n"

  Scenario: a built-in's output past the cap is cut, with the marker
    Given an attempt log with a cap of 1024 bytes
    When a built-in's output of 3000 characters is written and the attempt ends
    Then the chunks passed on joined are 1024 characters then "\n[agents: output cut at 1024 bytes; 1976 more bytes not kept]\n"

  Scenario: a plan's logs read back in order, page after page
    Given a stored plan with one leaf whose attempt 1 has 700 chunks and attempt 2 has 300
    Then reading its logs gives the 300 chunks of attempt 2 in order
    And reading attempt 1 gives its 700 chunks in order
    And the plan's latest output is 300 characters
