"""The lifecycle fixtures of the contracts app (``subscribe``, ``agent``) serve here too."""

from raccord.contracts.tests.conftest import agent, subscribe

__all__ = ["agent", "subscribe"]
