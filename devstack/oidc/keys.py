"""The provider's signing keys, kept in a file so tokens survive a restart and a rotation made
by another process (``shopgraph devstack rotate-key``) reaches the running provider."""

import json
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey

from devstack.tokens import generate_key

# A rotated-out key stays published this many rotations, so tokens it signed keep verifying
# until they expire.
KEYS_KEPT = 2
KEY_FILE_NAME = "oidc-keys.json"


class KeyRing:
    """The newest key signs; every key in the file is published in the JWKS."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime_ns = -1
        self._keys: list[RSAKey] = []
        if not path.exists():
            self.rotate()

    @property
    def signing_key(self) -> RSAKey:
        return self._current()[0]

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet(list(self._current())).as_dict(private=False))

    def rotate(self) -> RSAKey:
        """Adds a new signing key and drops keys older than ``KEYS_KEPT`` rotations."""
        keys = [generate_key(), *(self._current() if self.path.exists() else [])][:KEYS_KEPT]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staged = self.path.with_suffix(".tmp")
        staged.write_text(json.dumps([key.as_dict(private=True) for key in keys]))
        staged.chmod(0o600)
        staged.replace(self.path)
        return keys[0]

    def _current(self) -> list[RSAKey]:
        mtime_ns = self.path.stat().st_mtime_ns
        if mtime_ns != self._mtime_ns:
            self._keys = [RSAKey.import_key(data) for data in json.loads(self.path.read_text())]
            self._mtime_ns = mtime_ns
        return self._keys
