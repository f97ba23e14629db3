"""The review loop of "nothing missed" (四个不漏): every customer message the bot did
not understand lands in a queue with its context, staff label it in the console, the
labels become NLU training data, and a re-check shows which misses a model now gets.

- `scan`: reads Rasa's tracker store incrementally (the last event id is kept in
  `scan_cursors`) and queues `nlu_fallback` predictions, low-confidence messages and
  messages after which the customer asked for a human; practice sessions, messages to
  staff (paused conversation) and values taken by a form are left out.
- `labels`: the intents staff can pick (the domain's, FAQ as `faq/<key>`, or 新话题).
- `export`: labelled messages → `data/nlu/*.yml` (appended to the file that already
  holds the intent), new topics → a Markdown list; held-out test texts and texts
  already in the training data are skipped and reported.
- `recheck`: parses labelled messages with a model and reports which it now gets right.

`python -m bot.nlu.review_cli scan|export|recheck` (make review-scan|export|recheck).
"""
