Feature: The docs match the tool
  docs/configuration.md is where a user looks a setting up: it must name every setting the
  settings model has (and no setting it does not have).

  Scenario: docs/configuration.md lists every setting, and only real ones
    When I read the settings table of docs/configuration.md
    Then it names every key of `agents config show`
    And every key it names is a setting
