"""Custom actions of the assistant (rasa-sdk), one small module per feature."""
