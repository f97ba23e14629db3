"""Personal data deletion (PIPL): one customer's (or trainee's) data anonymised
everywhere it lives, and conversations anonymised after the retention period.

- `identifiers`: what is personal (name, phone, conversation ids) and how it is replaced;
- `tracker`: Rasa's tracker store (the `events` table), rewritten in bounded batches;
- `files`: exports and reports on disk;
- `customer`: forgetting one customer or trainee (the command and the console action);
- `retention`: the scheduled anonymisation of old conversations;
- `cli`: `python -m shop.erasure.cli forget|retention`.

Anonymised, not deleted: intents, actions, timestamps, ticket kinds and deadlines,
ratings and practice scores stay, so the reports' statistics do not change.
"""
