"""The two documented shapes of `labels` on tickets, contacts, phones and chats.

The contract's examples show `labels` as an array of label names; the product
brief documents it as "Comma-separated label names". The switch
`labels_shape` picks what rows carry:

  "array"   ["vip", "needs follow up"]      (an empty list for no labels)
  "string"  "vip, needs follow up"           (names joined by ", " like the SEEN
                                              chat_labels/ticket_labels; "" for none)
  "mixed"   either, chosen per row from a hash of (seed, stream, key)  (the default)

The organisation also has a few tricky label names besides vocab.LABEL_NAMES:
"1" and "null" (which a naive parser of the string shape turns into a number
or a null) and names with spaces. `label_ids` keeps its map shape in every case.
"""

import random

from .hashing import salt

SHAPES = ("array", "string", "mixed")
TRICKY_LABEL_NAMES = ("1", "null", "needs follow up", "VIP customer")
SEPARATOR = ", "


def check_shape(shape):
    """The shape, or ValueError if it is not one of SHAPES."""
    if shape not in SHAPES:
        raise ValueError(f"labels_shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    return shape


def tricky_labels(seed):
    """(name, label_id) pairs for the tricky names, from their own random stream."""
    rng = random.Random(salt(seed, "tricky-labels"))
    return [(name, "label-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(16)))
            for name in TRICKY_LABEL_NAMES]


def as_names(labels):
    """The label names of a `labels` value in either shape."""
    if isinstance(labels, str):
        return [name for name in labels.split(SEPARATOR) if name] if labels else []
    return list(labels or [])


def as_string(labels):
    """The comma-separated shape of a `labels` value in either shape."""
    return labels if isinstance(labels, str) else SEPARATOR.join(labels or [])


def shaped(names, shape, seed, stream, key):
    """`names` (a list) in the shape this row gets."""
    if shape == "mixed":
        shape = "string" if salt(seed, "labels-shape", stream, key) & 1 else "array"
    return SEPARATOR.join(names) if shape == "string" else list(names)


def apply(records, shape, seed, stream, key_field):
    """Re-shape the `labels` of materialised rows in place; returns them."""
    for record in records:
        if "labels" in record:
            record["labels"] = shaped(as_names(record["labels"]), shape, seed, stream, record[key_field])
    return records
