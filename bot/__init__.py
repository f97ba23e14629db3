"""Rasa-server side of the assistant: NLU components, channels, jieba dictionary."""
