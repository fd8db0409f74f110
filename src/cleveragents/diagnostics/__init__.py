"""`agents diagnostics`: health checks and their report (text, JSON, JUnit XML)."""
