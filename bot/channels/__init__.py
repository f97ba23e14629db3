"""Input channels of the assistant."""
