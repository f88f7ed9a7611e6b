"""Reading .npy files (format 1.0, little-endian f4 or i4) without numpy,
for the checks CI runs."""

import array
import struct
import sys


def read(path):
    """Returns (shape, descr, flat array) of the .npy file at `path`."""
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            sys.exit(f"{path}: not a .npy file")
        f.read(2)
        n = struct.unpack("<H", f.read(2))[0]
        header = eval(f.read(n).decode("latin1"))  # a Python dict literal
        if header["descr"] not in ("<f4", "<i4") or header["fortran_order"]:
            sys.exit(f"{path}: unsupported .npy layout {header}")
        data = array.array("f" if header["descr"] == "<f4" else "i")
        data.frombytes(f.read())
    return tuple(header["shape"]), header["descr"], data


def rows(path):
    """The file's values as a list of rows (one row for a vector)."""
    shape, _, data = read(path)
    width = shape[-1]
    return [data[r * width:(r + 1) * width] for r in range(len(data) // width)]
