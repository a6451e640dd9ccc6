"""Read TensorFlow checkpoints with numpy alone (TensorFlow is not installable next to our stack).

Both on-disk formats are LevelDB-style tables ("SSTables") of protobuf values:

* V1 (`Saver(write_version=V1)`, what Magenta puts in `.mag` bundles): one table file. The key ""
  holds a `SavedTensorSlices` whose `meta` lists every tensor (name, shape, dtype, slices); every
  other key holds a `SavedTensorSlices` whose `data` is one slice as a `TensorProto`.
* V2 (the default since TF 1.x): `PREFIX.index` is a table of `BundleEntryProto` (dtype, shape,
  shard, offset, size, crc32c) keyed by tensor name, the key "" being a `BundleHeaderProto`; the raw
  little-endian tensor bytes live in `PREFIX.data-0000k-of-0000n`.

Only numeric tensors are returned; string tensors (rare in model checkpoints) are skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CheckpointError",
    "Message",
    "ProtobufError",
    "is_table",
    "masked_crc32c",
    "read_checkpoint",
    "read_checkpoint_v1",
    "read_checkpoint_v2",
    "read_table",
]


class CheckpointError(ValueError):
    """The bytes are not a (readable) TensorFlow checkpoint."""


class ProtobufError(CheckpointError):
    """Malformed or truncated protobuf wire data."""


# --------------------------------------------------------------------------------------------------
# Protobuf wire format

_VARINT, _FIXED64, _LENGTH_DELIMITED, _START_GROUP, _END_GROUP, _FIXED32 = range(6)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes")


def _signed64(value: int) -> int:
    # int32/int64 fields carry negative numbers as 64-bit two's complement varints.
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True)
class _Field:
    wire_type: int
    value: int | bytes  # int for varints, raw bytes for everything else


class Message:
    """A decoded protobuf message without its schema: field number → the values seen, in order."""

    def __init__(self, data: bytes) -> None:
        self.fields: dict[int, list[_Field]] = {}
        pos = 0
        while pos < len(data):
            key, pos = _read_varint(data, pos)
            number, wire_type = key >> 3, key & 7
            if number == 0:
                raise ProtobufError("field number 0")
            value: int | bytes
            if wire_type == _VARINT:
                value, pos = _read_varint(data, pos)
            elif wire_type in (_FIXED64, _FIXED32):
                width = 8 if wire_type == _FIXED64 else 4
                value, pos = data[pos : pos + width], pos + width
            elif wire_type == _LENGTH_DELIMITED:
                length, pos = _read_varint(data, pos)
                value, pos = data[pos : pos + length], pos + length
            else:  # groups are proto2-only and absent from every message read here
                raise ProtobufError(f"unsupported wire type {wire_type} (field {number})")
            if pos > len(data):
                raise ProtobufError(f"truncated field {number}")
            self.fields.setdefault(number, []).append(_Field(wire_type, value))

    def has(self, number: int) -> bool:
        return number in self.fields

    def varints(self, number: int) -> list[int]:
        """A repeated varint field, packed or not (unsigned; see `signed_varints`)."""
        values: list[int] = []
        for field in self.fields.get(number, ()):
            if isinstance(field.value, int):
                values.append(field.value)
            elif field.wire_type == _LENGTH_DELIMITED:
                pos = 0
                while pos < len(field.value):
                    value, pos = _read_varint(field.value, pos)
                    values.append(value)
            else:
                raise ProtobufError(f"field {number} is not a varint")
        return values

    def signed_varints(self, number: int) -> list[int]:
        return [_signed64(value) for value in self.varints(number)]

    def varint(self, number: int, default: int = 0) -> int:
        values = self.varints(number)
        return values[-1] if values else default  # proto semantics: the last occurrence wins

    def fixed(self, number: int, width: int) -> bytes:
        """A repeated fixed32/fixed64/float/double field, packed or not, as raw little-endian bytes."""
        chunks: list[bytes] = []
        wire_type = _FIXED32 if width == 4 else _FIXED64
        for field in self.fields.get(number, ()):
            if field.wire_type not in (wire_type, _LENGTH_DELIMITED) or isinstance(field.value, int):
                raise ProtobufError(f"field {number} is not fixed{8 * width}")
            if len(field.value) % width:
                raise ProtobufError(f"packed field {number} is not a multiple of {width} bytes")
            chunks.append(field.value)
        return b"".join(chunks)

    def blobs(self, number: int) -> list[bytes]:
        values: list[bytes] = []
        for field in self.fields.get(number, ()):
            if field.wire_type != _LENGTH_DELIMITED or isinstance(field.value, int):
                raise ProtobufError(f"field {number} is not length-delimited")
            values.append(field.value)
        return values

    def blob(self, number: int) -> bytes:
        values = self.blobs(number)
        return values[-1] if values else b""

    def string(self, number: int) -> str:
        try:
            return self.blob(number).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtobufError(f"field {number} is not UTF-8 text") from error

    def message(self, number: int) -> Message:
        # Embedded messages seen more than once merge; concatenating their bytes is exactly that.
        return Message(b"".join(self.blobs(number)))

    def messages(self, number: int) -> list[Message]:
        return [Message(blob) for blob in self.blobs(number)]


# --------------------------------------------------------------------------------------------------
# Checksums and compression


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def _crc32c(data: bytes) -> int:
    table = _CRC32C_TABLE
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """LevelDB/TF store CRCs rotated and offset, so a CRC of data that embeds CRCs stays well mixed."""
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _snappy_decompress(data: bytes) -> bytes:
    """Raw snappy: TF's table writer uses it only when built with snappy and it saves ≥ 12.5%."""
    length, pos = _read_varint(data, 0)
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            size = tag >> 2
            if size >= 60:
                extra = size - 59
                size = int.from_bytes(data[pos : pos + extra], "little")
                pos += extra
            size += 1
            if pos + size > len(data):
                raise CheckpointError("truncated snappy literal")
            out += data[pos : pos + size]
            pos += size
            continue
        if kind == 1:
            size = 4 + ((tag >> 2) & 7)
            offset = ((tag >> 5) << 8) | data[pos]
            pos += 1
        else:
            size = (tag >> 2) + 1
            width = 2 if kind == 2 else 4
            offset = int.from_bytes(data[pos : pos + width], "little")
            pos += width
        if not 0 < offset <= len(out):
            raise CheckpointError("corrupt snappy copy offset")
        for _ in range(size):  # byte by byte: copies may overlap their own output
            out.append(out[-offset])
    if len(out) != length:
        raise CheckpointError("snappy block has the wrong uncompressed length")
    return bytes(out)


# --------------------------------------------------------------------------------------------------
# SSTable (LevelDB table format, as TF's tensorflow/core/lib/io/table writes it)

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48  # two block handles padded to 40 bytes, then the 8-byte magic
_BLOCK_TRAILER_SIZE = 5  # compression type byte + masked crc32c
_NO_COMPRESSION, _SNAPPY_COMPRESSION = 0, 1


def is_table(data: bytes) -> bool:
    return len(data) >= _FOOTER_SIZE and struct.unpack_from("<Q", data, len(data) - 8)[0] == _TABLE_MAGIC


def _block_handle(data: bytes, pos: int) -> tuple[int, int, int]:
    offset, pos = _read_varint(data, pos)
    size, pos = _read_varint(data, pos)
    return offset, size, pos


def _read_block(data: bytes, offset: int, size: int, verify: bool) -> bytes:
    end = offset + size
    if end + _BLOCK_TRAILER_SIZE > len(data):
        raise CheckpointError(f"table block at {offset} runs past the end of the file (truncated?)")
    contents = data[offset:end]
    compression = data[end]
    if verify:
        (stored,) = struct.unpack_from("<I", data, end + 1)
        if masked_crc32c(data[offset : end + 1]) != stored:
            raise CheckpointError(f"checksum mismatch in table block at {offset} (corrupt file)")
    if compression == _NO_COMPRESSION:
        return contents
    if compression == _SNAPPY_COMPRESSION:
        return _snappy_decompress(contents)
    raise CheckpointError(f"unknown table block compression {compression}")


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise CheckpointError("table block too short")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    restarts_at = len(block) - 4 * (num_restarts + 1)
    if restarts_at < 0:
        raise CheckpointError("bad restart count in table block")
    restarts = set(struct.unpack_from(f"<{num_restarts}I", block, restarts_at))
    entries: list[tuple[bytes, bytes]] = []
    key = b""
    pos = 0
    while pos < restarts_at:
        at_restart = pos in restarts
        shared, pos = _read_varint(block, pos)
        unshared, pos = _read_varint(block, pos)
        value_size, pos = _read_varint(block, pos)
        # Keys are prefix-compressed against the previous key, except at restart points.
        if shared > len(key) or (at_restart and shared):
            raise CheckpointError("corrupt key prefix in table block")
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        value = block[pos : pos + value_size]
        pos += value_size
        if pos > restarts_at:
            raise CheckpointError("table block entry runs into the restart array")
        entries.append((key, value))
    return entries


def read_table(data: bytes, verify_checksums: bool = True) -> list[tuple[bytes, bytes]]:
    """All (key, value) pairs of a table file, in key order."""
    if not is_table(data):
        raise CheckpointError("not a TensorFlow table file (bad footer magic; truncated?)")
    footer = len(data) - _FOOTER_SIZE
    _, _, pos = _block_handle(data, footer)  # metaindex: TF writes it empty
    index_offset, index_size, _ = _block_handle(data, pos)
    entries: list[tuple[bytes, bytes]] = []
    for _, handle in _block_entries(_read_block(data, index_offset, index_size, verify_checksums)):
        offset, size, _ = _block_handle(handle, 0)
        entries.extend(_block_entries(_read_block(data, offset, size, verify_checksums)))
    return entries


# --------------------------------------------------------------------------------------------------
# Tensors

# tensorflow/core/framework/types.proto DataType → numpy little-endian dtype.
_DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    17: np.dtype("<u2"),  # DT_UINT16
    19: np.dtype("<f2"),  # DT_HALF
    22: np.dtype("<u4"),  # DT_UINT32
    23: np.dtype("<u8"),  # DT_UINT64
}
_DT_STRING = 7

# TensorProto fields.
_TP_DTYPE, _TP_SHAPE, _TP_CONTENT = 1, 2, 4
_TP_FLOAT, _TP_DOUBLE, _TP_INT, _TP_INT64, _TP_BOOL, _TP_HALF, _TP_UINT32, _TP_UINT64 = 5, 6, 7, 10, 11, 13, 16, 17


def _shape(proto: Message) -> tuple[int, ...]:
    if proto.varint(3):
        raise CheckpointError("tensor of unknown rank")
    return tuple(_signed64(dim.varint(1)) for dim in proto.messages(2))


def _tensor_proto_values(proto: Message, dtype: np.dtype, count: int) -> np.ndarray:
    """The flat values of a TensorProto: `tensor_content` or the dtype's repeated field."""
    if proto.has(_TP_CONTENT):
        values = np.frombuffer(proto.blob(_TP_CONTENT), dtype=dtype)
    elif dtype == np.float32:
        values = np.frombuffer(proto.fixed(_TP_FLOAT, 4), dtype="<f4")
    elif dtype == np.float64:
        values = np.frombuffer(proto.fixed(_TP_DOUBLE, 8), dtype="<f8")
    elif dtype == np.float16:  # half_val holds the raw 16-bit patterns as ints
        values = np.array(proto.varints(_TP_HALF), dtype="<u2").view("<f2")
    elif dtype == np.int64:
        values = np.array(proto.signed_varints(_TP_INT64), dtype=np.int64)
    elif dtype == np.bool_:
        values = np.array(proto.varints(_TP_BOOL), dtype=bool)
    elif dtype == np.uint32:
        values = np.array(proto.varints(_TP_UINT32), dtype=np.uint32)
    elif dtype == np.uint64:
        values = np.array(proto.varints(_TP_UINT64), dtype=np.uint64)
    else:  # int32, int16, int8, uint8, uint16 all share int_val
        values = np.array(proto.signed_varints(_TP_INT), dtype=np.int64).astype(dtype)
    if len(values) == 1 and count != 1:  # a single value stands for "all elements equal"
        values = np.full(count, values[0], dtype=dtype)
    if len(values) != count:
        raise CheckpointError(f"tensor holds {len(values)} values, its shape needs {count}")
    return values


def _slice_region(proto: Message, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """A TensorSliceProto as numpy indices; an extent without a length spans the whole dimension."""
    extents = proto.messages(1)
    if len(extents) != len(shape):
        raise CheckpointError(f"slice of rank {len(extents)} for a tensor of rank {len(shape)}")
    region = []
    for extent, size in zip(extents, shape, strict=True):
        start = _signed64(extent.varint(1))
        length = _signed64(extent.varint(2)) if extent.has(2) else size - start
        if start < 0 or length < 0 or start + length > size:
            raise CheckpointError(f"slice [{start}, {start + length}) outside a dimension of {size}")
        region.append(slice(start, start + length))
    return tuple(region)


def read_checkpoint_v1(data: bytes, verify_checksums: bool = True) -> dict[str, np.ndarray]:
    """Tensors of a V1 checkpoint (the whole file's bytes)."""
    entries = read_table(data, verify_checksums)
    if not entries or entries[0][0] != b"":
        raise CheckpointError("V1 checkpoint without its metadata entry")
    meta = Message(entries[0][1]).message(1)  # SavedTensorSlices.meta
    layouts: dict[str, tuple[tuple[int, ...], int]] = {}
    for saved_meta in meta.messages(1):  # SavedSliceMeta: name, shape, type, slice
        layouts[saved_meta.string(1)] = (_shape(saved_meta.message(2)), saved_meta.varint(3))
    tensors: dict[str, np.ndarray] = {}
    covered: dict[str, int] = {}
    for _, value in entries[1:]:
        saved = Message(value).message(2)  # SavedTensorSlices.data: SavedSlice
        name = saved.string(1)
        if name not in layouts:
            raise CheckpointError(f"slice for {name!r}, which the metadata does not list")
        shape, dtype_code = layouts[name]
        if dtype_code == _DT_STRING:
            continue
        if dtype_code not in _DTYPES:
            raise CheckpointError(f"{name!r} has unsupported dtype code {dtype_code}")
        dtype = _DTYPES[dtype_code]
        region = _slice_region(saved.message(2), shape)
        region_shape = tuple(index.stop - index.start for index in region)
        count = int(np.prod(region_shape, dtype=np.int64))
        values = _tensor_proto_values(saved.message(3), dtype, count)
        if name not in tensors:
            tensors[name] = np.zeros(shape, dtype=dtype)
            covered[name] = 0
        # Partitioned variables are saved as several slices of one tensor.
        tensors[name][region] = values.reshape(region_shape)
        covered[name] += count
    for name, tensor in tensors.items():
        if covered[name] != tensor.size:
            raise CheckpointError(f"slices of {name!r} cover {covered[name]} of its {tensor.size} elements")
    missing = {name for name, (_, code) in layouts.items() if code != _DT_STRING} - tensors.keys()
    if missing:
        raise CheckpointError(f"V1 checkpoint lists tensors without data: {sorted(missing)}")
    return tensors


def read_checkpoint_v2(index: bytes, shards: list[bytes], verify_checksums: bool = True) -> dict[str, np.ndarray]:
    """Tensors of a V2 checkpoint: the `.index` file's bytes and every `.data-*` shard's, in order."""
    entries = read_table(index, verify_checksums)
    if not entries or entries[0][0] != b"":
        raise CheckpointError("V2 checkpoint index without its header entry")
    header = Message(entries[0][1])  # BundleHeaderProto: num_shards, endianness, version
    num_shards = header.varint(1)
    if num_shards != len(shards):
        raise CheckpointError(f"checkpoint has {num_shards} data shards, {len(shards)} given")
    if header.varint(2) != 0:
        raise CheckpointError("big-endian checkpoints are not supported")
    tensors: dict[str, np.ndarray] = {}
    for key, value in entries[1:]:
        entry = Message(value)  # BundleEntryProto
        name = key.decode("utf-8", errors="replace")
        if entry.has(7):  # the full-tensor entry of a partitioned variable; its parts have binary keys
            raise CheckpointError(f"{name!r} is a partitioned variable, which is not supported")
        dtype_code = entry.varint(1)
        if dtype_code == _DT_STRING:
            continue
        if dtype_code not in _DTYPES:
            raise CheckpointError(f"{name!r} has unsupported dtype code {dtype_code}")
        shape = _shape(entry.message(2))
        shard, offset, size = entry.varint(3), entry.varint(4), entry.varint(5)
        if shard >= len(shards) or offset + size > len(shards[shard]):
            raise CheckpointError(f"{name!r} points past the end of data shard {shard} (truncated?)")
        raw = shards[shard][offset : offset + size]
        if verify_checksums and entry.has(6):
            (stored,) = struct.unpack("<I", entry.fixed(6, 4)[-4:])
            if masked_crc32c(raw) != stored:
                raise CheckpointError(f"checksum mismatch for {name!r} (corrupt data file)")
        dtype = _DTYPES[dtype_code]
        count = int(np.prod(shape, dtype=np.int64))
        if size != count * dtype.itemsize:
            raise CheckpointError(f"{name!r} holds {size} bytes, shape {shape} needs {count * dtype.itemsize}")
        tensors[name] = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return tensors


def read_checkpoint(path: str | Path, verify_checksums: bool = True) -> dict[str, np.ndarray]:
    """Tensors of the checkpoint at `path`: a V2 prefix (`model.ckpt`, or its `.index` file) or a V1 file."""
    path = Path(path)
    prefix = path.with_suffix("") if path.suffix == ".index" else path
    index = Path(f"{prefix}.index")
    if index.is_file():
        index_bytes = index.read_bytes()
        entries = read_table(index_bytes, verify_checksums=False)  # checked in full below
        count = Message(entries[0][1]).varint(1) if entries else 0
        shards = [Path(f"{prefix}.data-{shard:05d}-of-{count:05d}").read_bytes() for shard in range(count)]
        return read_checkpoint_v2(index_bytes, shards, verify_checksums)
    if path.is_file():
        return read_checkpoint_v1(path.read_bytes(), verify_checksums)
    raise FileNotFoundError(f"no checkpoint at {path} (neither a V1 file nor a V2 {index.name})")
