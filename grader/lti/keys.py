"""The tool's RSA keys: made on first start, kept 0600 in `--data`, rotated by `grade lti rotate-key`.

`<data>/lti_keys.json` (mode 0600) lists the keys, newest last. The newest signs; a key
that was rotated out stays listed in `/lti/jwks` for `RETIRED_LISTED_S` after its
rotation, longer than any token it signed lives (client assertions 5 min, deep-linking
responses 10 min), and is dropped at the next read after that.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

RETIRED_LISTED_S = 3600.0
_lock = threading.Lock()


def _path(data: Path) -> Path:
    return data / "lti_keys.json"


def _new_key() -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"kid": secrets.token_hex(8), "pem": pem, "created_at": time.time(), "retired_at": None}


def _write(data: Path, keys: list[dict]) -> None:
    data.mkdir(parents=True, exist_ok=True)
    tmp = _path(data).with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(keys, f)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, _path(data))


def load(data: Path) -> list[dict]:
    """The keys, making the first one if there is none; retired keys past their listing time dropped."""
    with _lock:
        path = _path(data)
        keys = json.loads(path.read_text()) if path.is_file() else []
        now = time.time()
        kept = [k for k in keys if k["retired_at"] is None or now - k["retired_at"] < RETIRED_LISTED_S]
        if not any(k["retired_at"] is None for k in kept):
            kept.append(_new_key())
        if kept != keys:
            _write(data, kept)
        return kept


def rotate(data: Path) -> tuple[str, str | None]:
    """A new signing key; the old one is retired (still listed for a while). (new kid, old kid)."""
    keys = load(data)
    with _lock:
        old = next(k for k in reversed(keys) if k["retired_at"] is None)
        old["retired_at"] = time.time()
        new = _new_key()
        _write(data, [*keys, new])
    return new["kid"], old["kid"]


class ToolKeys:
    """The keys of one running service: sign with the current one, list every listed one."""

    def __init__(self, data: Path):
        self.data = data
        self._cache: tuple[float, list[dict]] | None = None
        self._loaded: dict[str, object] = {}  # kid -> private key object (loading a PEM checks the key: ~0.1 s)

    def _private(self, k: dict):
        if k["kid"] not in self._loaded:
            self._loaded[k["kid"]] = serialization.load_pem_private_key(k["pem"].encode(), None)
        return self._loaded[k["kid"]]

    def _keys(self) -> list[dict]:
        mtime = _path(self.data).stat().st_mtime if _path(self.data).is_file() else 0.0
        if self._cache is None or self._cache[0] != mtime or any(
                k["retired_at"] and time.time() - k["retired_at"] >= RETIRED_LISTED_S for k in self._cache[1]):
            keys = load(self.data)
            self._cache = (_path(self.data).stat().st_mtime, keys)
        return self._cache[1]

    def jwks(self) -> dict:
        out = []
        for k in self._keys():
            public = self._private(k).public_key()
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
            jwk.pop("key_ops", None)
            out.append({**jwk, "kid": k["kid"], "alg": "RS256", "use": "sig"})
        return {"keys": out}

    def sign(self, claims: dict) -> str:
        current = next(k for k in reversed(self._keys()) if k["retired_at"] is None)
        return jwt.encode(claims, self._private(current), algorithm="RS256", headers={"kid": current["kid"]})

    def verify(self, token: str, audience: str) -> dict:
        """The claims of a token this tool signed (any listed key); jwt.PyJWTError otherwise."""
        kid = jwt.get_unverified_header(token).get("kid")
        found = next((k for k in self._keys() if k["kid"] == kid), None)
        if found is None:
            raise jwt.InvalidKeyError("unknown key")
        public = self._private(found).public_key()
        return jwt.decode(token, public, algorithms=["RS256"], audience=audience)
