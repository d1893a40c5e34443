"""The back-office owns no tables: its roles are auth groups.

This module exists because Django sends ``post_migrate`` only to apps that have a models module,
and the back-office listens to it to keep the role groups in step (see ``apps.py``)."""
