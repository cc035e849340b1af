"""What the fixture generators share (imported by them; not run on its own)."""

import os


def drop_fingerprint(model_dir):
    """Removes a SavedModel's fingerprint.pb: it changes on every export, and bncheck does not need it."""
    path = os.path.join(model_dir, "fingerprint.pb")
    if os.path.exists(path):
        os.remove(path)
