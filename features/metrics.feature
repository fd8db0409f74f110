Feature: Worker metrics for Prometheus
  `agents worker run --metrics-port P` serves the worker's metrics on 127.0.0.1:P/metrics with the
  official client: the worker is up, jobs by queue and state, claims, runs by outcome, retries,
  recoveries and a histogram of durations.

  Background:
    Given a job queue in a temporary database

  Scenario: what a worker did is scraped and parsed back
    Given a "noop" job "N1" with payload '{}'
    And a "noop" job "N2" in queue "mail"
    And a "boom" job "B" with 1 retries and a backoff of 100 s
    And worker "A" with 4 threads serving "default,mail"
    And worker "A" serves its metrics on a free port
    When worker "A" runs one pass
    And worker "A" runs one pass after the jobs finish
    And the metrics are scraped
    Then the metric agents_worker_up is 1
    And the metric agents_job_claims_total with "queue=default" is 2
    And the metric agents_job_claims_total with "queue=mail" is 1
    And the metric agents_job_runs_total with "kind=noop,outcome=succeeded" is 2
    And the metric agents_job_runs_total with "kind=boom,outcome=failed" is 1
    And the metric agents_job_retries_total with "kind=boom" is 1
    And the metric agents_job_duration_seconds_count with "kind=noop" is 2
    And the metric agents_jobs with "queue=default,state=succeeded" is 1
    And the metric agents_jobs with "queue=default,state=queued" is 1
    And the metric agents_jobs with "queue=mail,state=succeeded" is 1

  Scenario: recoveries of a lost worker's jobs are counted
    Given a "gate" job "J" with payload '{"name": "J"}'
    And worker "A" with 1 threads and stale_after=30
    And worker "A" runs one pass
    And gate "J" has started
    And worker "B" with 1 threads and stale_after=30
    And worker "B" serves its metrics on a free port
    When 31 seconds pass
    And worker "B" does its housekeeping
    And the metrics are scraped
    Then the metric agents_job_recoveries_total with "action=requeued" is 1

  Scenario: a port that cannot be served is one clear line, exit 2
    Given another program listens on a port
    When I run `worker run --burst --metrics-port [port]`
    Then the exit code is 2
    And stderr is one line containing "cannot serve metrics on 127.0.0.1:[port]"
