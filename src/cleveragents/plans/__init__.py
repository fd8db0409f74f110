"""Plans: actions, decomposition, the dispatcher, subprocess runner, sandbox and apply."""
