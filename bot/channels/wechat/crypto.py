"""Tencent's callback message encryption (the WXBizMsgCrypt scheme).

Used by the Official Account in "safe mode" and by every WeCom callback:

* signature = sha1 of the sorted, concatenated strings (token, timestamp, nonce
  and, for encrypted messages, the ciphertext);
* key = base64(EncodingAESKey + "="), 32 bytes; AES-256-CBC with IV = key[:16];
* plaintext = 16 random bytes + 4-byte big-endian length + message + receive id
  (app id or corp id), PKCS#7-padded to 32-byte blocks (not AES's 16).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from typing import Callable, Mapping

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_SIZE = 32


class CryptoError(ValueError):
    """A message that does not decrypt, or decrypts for someone else."""


def signature(*parts: str) -> str:
    """sha1 over the lexicographically sorted parts, hex (the platform's signature)."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, *parts: str) -> bool:
    """Constant-time check of a signature received with a request."""
    return hmac.compare_digest(
        signature(*parts).encode(), (expected or "").lower().encode("utf-8")
    )


def _pad(data: bytes) -> bytes:
    amount = BLOCK_SIZE - len(data) % BLOCK_SIZE
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    if not data:
        raise CryptoError("empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= BLOCK_SIZE or data[-amount:] != bytes([amount]) * amount:
        raise CryptoError("bad padding")
    return data[:-amount]


class MessageCrypto:
    """Encrypts and decrypts callback messages of one app (or corp)."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        receive_id: str,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError) as error:
            raise CryptoError("EncodingAESKey is not base64") from error
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise CryptoError("EncodingAESKey must be 43 characters")
        self.token = token
        self.receive_id = receive_id
        self._key = key
        self._random = random_bytes

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, message: str) -> str:
        """The base64 ciphertext of `message` for this receive id."""
        body = message.encode("utf-8")
        plain = (
            self._random(16) + struct.pack(">I", len(body)) + body
            + self.receive_id.encode("utf-8")
        )
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The message inside `encrypted`; CryptoError unless it is for our receive id."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as error:
            raise CryptoError("ciphertext is not base64") from error
        if not data or len(data) % 16:
            raise CryptoError("ciphertext length is not a multiple of the block size")
        decryptor = self._cipher().decryptor()
        plain = _unpad(decryptor.update(data) + decryptor.finalize())
        if len(plain) < 20:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CryptoError("bad message length")
        receive_id = plain[20 + length:]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            shown = receive_id.decode("utf-8", errors="replace")
            raise CryptoError(f"message is for receive id {shown!r}")
        try:
            return plain[20:20 + length].decode("utf-8")
        except UnicodeDecodeError as error:
            raise CryptoError("message is not UTF-8") from error

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """msg_signature of an encrypted message."""
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> bool:
        """Whether `msg_signature` signs this encrypted message with our token."""
        return signature_matches(msg_signature, self.token, timestamp, nonce, encrypted)

    def open_callback(self, query: Mapping[str, str], encrypted: str) -> str:
        """The callback step both channels share: checks the request's msg_signature
        (query: msg_signature, timestamp, nonce) over `encrypted`, then decrypts it.
        Raises CryptoError when either fails."""
        if not self.verify(query.get("msg_signature", ""), query.get("timestamp", ""),
                           query.get("nonce", ""), encrypted):
            raise CryptoError("bad msg_signature")
        return self.decrypt(encrypted)
