"""Storage: models, column types, engine and migrations."""
