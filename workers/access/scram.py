"""SCRAM-SHA-256 password verifiers (RFC 7677, PostgreSQL's stored format), made on the
client, so a password given to `haodian roles apply` never reaches the server's logs."""

import base64
import hashlib
import hmac
import os

ITERATIONS = 4096  # PostgreSQL's scram_iterations default


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def scram_verifier(password: str, salt: bytes | None = None,
                   iterations: int = ITERATIONS) -> str:
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def matches(password: str, verifier: str | None) -> bool:
    """Whether a stored verifier is this password's (so applying again changes nothing)."""
    try:
        head, keys = (verifier or "").split("$", 2)[1:]
        iterations, salt = head.split(":")
        made = scram_verifier(password, base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(made.rsplit("$", 1)[1], keys)
