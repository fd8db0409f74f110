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
