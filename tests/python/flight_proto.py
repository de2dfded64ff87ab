"""Just enough protobuf to speak Flight SQL through raw pyarrow.flight.

pyarrow ships Flight but not the Flight SQL messages; these few are encoded and
decoded by hand (wire format: varint keys, length-delimited fields) so the raw
tests need no generated code.
"""

from __future__ import annotations

import pyarrow as pa

_PREFIX = "type.googleapis.com/arrow.flight.protocol.sql."


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _any(message: str, body: bytes) -> bytes:
    return _len_field(1, (_PREFIX + message).encode()) + _len_field(2, body)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def decode_fields(buf: bytes) -> dict[int, bytes]:
    """Length-delimited fields of a message (last one wins); varints skipped."""
    fields: dict[int, bytes] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 2:
            length, pos = _read_varint(buf, pos)
            fields[number] = buf[pos : pos + length]
            pos += length
        elif wire == 0:
            _, pos = _read_varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return fields


def unpack_any(buf: bytes) -> tuple[str, bytes]:
    fields = decode_fields(buf)
    return fields.get(1, b"").decode(), fields.get(2, b"")


def statement_query_command(sql: str) -> bytes:
    """Any{CommandStatementQuery{query}} for a FlightDescriptor."""
    return _any("CommandStatementQuery", _len_field(1, sql.encode()))


def foreign_keys_command(kind: str, table: str) -> bytes:
    """Any{CommandGetImportedKeys|CommandGetExportedKeys{table}}, or CommandGetCrossReference
    with `table` on both sides."""
    if kind == "CommandGetCrossReference":
        return _any(kind, _len_field(3, table.encode()) + _len_field(6, table.encode()))
    return _any(kind, _len_field(3, table.encode()))


def create_prepared_statement_request(sql: str) -> bytes:
    """Any{ActionCreatePreparedStatementRequest{query}}, the CreatePreparedStatement body."""
    return _any("ActionCreatePreparedStatementRequest", _len_field(1, sql.encode()))


def prepared_statement_query_command(handle: bytes) -> bytes:
    """Any{CommandPreparedStatementQuery{handle}} for a FlightDescriptor."""
    return _any("CommandPreparedStatementQuery", _len_field(1, handle))


def close_prepared_statement_request(handle: bytes) -> bytes:
    return _any("ActionClosePreparedStatementRequest", _len_field(1, handle))


def parse_create_prepared_statement_result(body: bytes) -> tuple[bytes, pa.Schema, pa.Schema]:
    """(handle, dataset_schema, parameter_schema) from the action's result body."""
    type_url, value = unpack_any(body)
    assert type_url.endswith("ActionCreatePreparedStatementResult"), type_url
    fields = decode_fields(value)

    def schema(raw: bytes) -> pa.Schema:
        return pa.ipc.read_schema(pa.py_buffer(raw)) if raw else pa.schema([])

    return fields.get(1, b""), schema(fields.get(2, b"")), schema(fields.get(3, b""))
