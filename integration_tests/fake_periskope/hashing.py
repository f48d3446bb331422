"""Deterministic hashing helpers.

Every generated record is a pure function of (seed, stream, owner, number). We
derive all "random" choices from 64-bit hashes instead of `random.Random`,
because seeding a Random per record is too slow for serving 1000-record pages
of lazily generated messages in a few milliseconds.
"""

import hashlib

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1


def mix64(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def salt(*parts) -> int:
    """A stable 64-bit value for a tuple of parts (strings/ints).

    Python's built-in hash() of str is randomised per process, so we use blake2b.
    Only called at set-up time, never per record.
    """
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def pick(options, h: int):
    """Choose one of `options` with the hash `h`."""
    return options[h % len(options)]


def percent(h: int, shift: int) -> int:
    """A value 0..99 taken from bits of `h` starting at `shift`."""
    return ((h >> shift) & 0x3FF) % 100


class IdCodec:
    """A keyed, invertible 64-bit scrambler (multiply / xor-shift rounds).

    Record ids embed the scrambled (stream, owner, number) triple as hex, so the
    server can find a lazily generated record from its id without an index,
    while consecutive records still get random-looking ids. Every step is
    invertible modulo 2**64; it only has to look random, not be secure, and
    it must be cheap because it runs for every generated record.
    """

    _ODD1 = 0x9E3779B97F4A7C15
    _ODD2 = 0xD6E8FEB86659FD93
    _INV1 = pow(_ODD1, -1, 1 << 64)
    _INV2 = pow(_ODD2, -1, 1 << 64)

    def __init__(self, seed: int):
        self.key = salt("id-codec", seed)

    def encode(self, value: int) -> int:
        x = ((value ^ self.key) * self._ODD1) & MASK64
        x ^= x >> 32
        x = (x * self._ODD2) & MASK64
        return x ^ (x >> 32)

    def decode(self, code: int) -> int:
        x = code ^ (code >> 32)  # x ^ (x >> 32) is its own inverse on 64 bits
        x = (x * self._INV2) & MASK64
        x ^= x >> 32
        x = (x * self._INV1) & MASK64
        return x ^ self.key

    def encode_hex(self, stream_tag: int, owner: int, number: int) -> str:
        """16 uppercase hex digits naming (stream, owner, number)."""
        x = ((((stream_tag << 56) | (owner << 40) | number) ^ self.key) * self._ODD1) & MASK64
        x ^= x >> 32  # same steps as encode(), inlined: this runs for every record
        x = (x * self._ODD2) & MASK64
        return format(x ^ (x >> 32), "016X")

    def decode_hex(self, text: str):
        """Inverse of encode_hex: (stream_tag, owner, number), or None if not hex."""
        try:
            value = self.decode(int(text, 16))
        except ValueError:
            return None
        return value >> 56, (value >> 40) & 0xFFFF, value & ((1 << 40) - 1)
