"""The one data layer: SQLAlchemy models, the engine and the query functions."""
