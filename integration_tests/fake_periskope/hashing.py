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
    """A keyed, invertible 64-bit permutation (4-round Feistel network).

    Record ids embed the permuted (stream, owner, number) triple as hex, so the
    server can find a lazily generated record from its id without an index,
    while the ids still look random.
    """

    def __init__(self, seed: int):
        self.round_keys = [salt("feistel", seed, r) for r in range(4)]

    def encode(self, value: int) -> int:
        left, right = value >> 32, value & MASK32
        for key in self.round_keys:
            left, right = right, left ^ (mix64(right ^ key) & MASK32)
        return (left << 32) | right

    def decode(self, code: int) -> int:
        left, right = code >> 32, code & MASK32
        for key in reversed(self.round_keys):
            left, right = right ^ (mix64(left ^ key) & MASK32), left
        return (left << 32) | right

    def encode_hex(self, stream_tag: int, owner: int, number: int) -> str:
        """16 uppercase hex digits naming (stream, owner, number)."""
        value = (stream_tag << 56) | (owner << 40) | number
        return format(self.encode(value), "016X")

    def decode_hex(self, text: str):
        """Inverse of encode_hex: (stream_tag, owner, number), or None if not hex."""
        try:
            value = self.decode(int(text, 16))
        except ValueError:
            return None
        return value >> 56, (value >> 40) & 0xFFFF, value & ((1 << 40) - 1)
