"""Input channels of the assistant.

Rasa imports this package when it reads credentials.yml, before it loads the
model: the place to install the measured speed-ups of bot/speedups.py.
"""

from bot import speedups

speedups.install()
