"""``raccord import-addresses FILE.csv``: the spelling the documentation uses.

Django names a command after its module, and a module name cannot hold a hyphen in an import
statement, yet ``importlib`` loads it; this alias keeps one implementation in
``import_addresses.py``."""

from raccord.eligibility.management.commands.import_addresses import Command

__all__ = ["Command"]
