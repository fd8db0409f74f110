"""Domain models, enums and rules. No I/O."""
