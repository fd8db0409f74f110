Feature: Redaction of secrets
  Tokens, passwords, keys, credentials in URLs and Authorization headers never reach the database,
  a log or the terminal in clear.

  Scenario: real-looking secrets are hidden, the text around them kept
    Then redacting each text hides the secret and keeps the rest
      | text                                                                        | secret                                        | kept                      |
      | cloning https://deploy:glpat-AbCdEfGhIjKlMnOpQrSt@gitlab.example/x.git failed | glpat-AbCdEfGhIjKlMnOpQrSt                  | gitlab.example/x.git      |
      | psycopg.OperationalError: postgresql://agents:Sup3rS3cret!@10.0.0.5/agents  | Sup3rS3cret!                                  | postgresql://agents:      |
      | Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc  | eyJhbGciOiJIUzI1NiJ9                          | Authorization:            |
      | curl -H 'authorization: token ghp_1234567890abcdefghijABCDEFGHIJ123456'     | ghp_1234567890abcdefghijABCDEFGHIJ123456      | curl -H                   |
      | export GITHUB_TOKEN=ghp_1234567890abcdefghijABCDEFGHIJ123456 && make        | ghp_1234567890abcdefghijABCDEFGHIJ123456      | && make                   |
      | using key AKIAIOSFODNN7EXAMPLE for upload                                    | AKIAIOSFODNN7EXAMPLE                          | for upload                |
      | OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz012345                     | sk-proj-abcdefghijklmnopqrstuvwxyz012345      | OPENAI_API_KEY=           |
      | anthropic key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789             | sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789 | anthropic key         |
      | slack xoxb-123456789012-abcdefghijklmnop posted                              | xoxb-123456789012-abcdefghijklmnop            | posted                    |
      | {"password": "correct horse battery"}                                        | correct                                       | "password"                |
      | db_password='pa55w0rd!' host=db                                              | pa55w0rd!                                     | host=db                   |
      | mysql --password hunter22 -h db                                              | hunter22                                      | -h db                     |
      | client_secret: 9f8e7d6c5b4a                                                  | 9f8e7d6c5b4a                                  | client_secret             |
      | -----BEGIN RSA PRIVATE KEY-----MIIEow==-----END RSA PRIVATE KEY----- tail   | MIIEow==                                      | tail                      |

  Scenario: ordinary output is left alone
    Then redacting each text changes nothing
      | text                                             |
      | 12 files changed, 3 insertions(+), 1 deletion(-) |
      | the tokens in this file were counted             |
      | https://example.com/path?page=2                  |
      | exit code 0 after 1.5 s                          |
      | mail bob@example.com, docs at https://example.com/x@y |
      |                                                  |

  Scenario: case-insensitive keys match what Python's re folds (long s, dotless i, Kelvin sign)
    Then redacting each text hides the secret and keeps the rest
      | text                                      | secret       | kept            |
      | paſſword=hunter22 ok                       | hunter22     | paſſword=       |
      | PRİVATE_KEY: abc123def                     | abc123def    | PRİVATE_KEY:    |
      | Proxy-Authorızation: Basic dXNlcjpwYXNz    | dXNlcjpwYXNz | Proxy-Author    |

  # The shapes that made the old patterns backtrack quadratically: 20,000 characters of them took
  # minutes to redact. They are redacted in linear time now (the speed is measured by the asv
  # benchmark benchmarks/benchmarks/redaction.py); here they must come back exactly as given, and
  # a secret after them must still be found.
  Scenario Outline: hostile input of 20,000 characters is redacted, and only the secret after it
    When I redact 20000 characters of <shape> followed by "<tail>"
    Then the result is those characters unchanged followed by "<redacted>"

    Examples:
      | shape              | tail                       | redacted                     |
      | hex                | \ndb_password=hunter22     | \ndb_password=[REDACTED]     |
      | dots               | \nmysql --password hunter22 | \nmysql --password [REDACTED] |
      | letters            | \nAuthorization: Bearer abc | \nAuthorization: [REDACTED]  |
      | "a=" repeated      | \ntoken: s3cr3t-value       | \ntoken: [REDACTED]          |
      | "password" repeated | \nAKIAIOSFODNN7EXAMPLE      | \n[REDACTED]                 |
      | random bytes       | \nhttps://u:pa55@db/x       | \nhttps://u:[REDACTED]@db/x  |
      | "--" repeated      | \nsk-abcdefghijklmnopqrstuvwxyz | \n[REDACTED]             |
      | "a: " repeated     | \npasswd = 'hunter22'      | \npasswd = '[REDACTED]'      |
      | control characters | \x01pwd=\x03x\x01 secret: abc | \x01pwd=[REDACTED] secret: [REDACTED] |

  Scenario: a text of several chunks without a single blank is redacted whole
    When I redact 300000 characters of hex followed by "db_password=hunter22 ok"
    Then the result is those characters unchanged followed by "db_password=[REDACTED] ok"

  # Big texts are redacted in chunks of redaction.CHUNK characters, each cut at a blank that no
  # secret can span. Here the nominal end of the first chunk falls inside the secret (at the
  # given offset into it), after 64 KiB of ordinary log lines.
  Scenario Outline: a secret across a chunk boundary is still redacted
    When I redact log lines with "<text>" placed so that the first chunk ends <offset> characters into it
    Then the result is the same log lines with "<redacted>" in its place

    Examples:
      | text                                        | offset | redacted                            |
      | password: hunter22                          | 9      | password: [REDACTED]                |
      | password:   hunter22                        | 11     | password:   [REDACTED]              |
      | Authorization: Bearer abcdef123456          | 21     | Authorization: [REDACTED]           |
      | Authorization:\n  Bearer abcdef123456       | 16     | Authorization:\n  [REDACTED]        |
      | mysql --api-key   hunter22 -h db             | 17     | mysql --api-key   [REDACTED] -h db  |
      | cloning https://deploy:s3cret@host/x.git    | 20     | cloning https://deploy:[REDACTED]@host/x.git |
      | export GITHUB_TOKEN=ghp_1234567890abcdefghijABCDEFGHIJ123456 | 30 | export GITHUB_TOKEN=[REDACTED] |
      | db_password = "pa55w0rd!"                   | 13     | db_password = "[REDACTED]"          |

  Scenario: a private key spanning several chunks is masked whole
    When I redact log lines with a private key longer than four chunks among them
    Then the result is the same log lines with "[REDACTED]" in place of the key
