"""Practice mode: trainees rehearse objection handling against a simulated customer."""
