"""Storage: the only package that imports SQLAlchemy. Repositories speak domain types."""
