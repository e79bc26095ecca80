"""Deterministic mutations of seed inputs: input ``index`` of a surface is always the same bytes.

The operators are the ones that found this project's crash classes: bit flips, interesting
integers at aligned offsets (blob and EVTX headers), tokens of the surface's syntax, deletion,
duplication, truncation and splicing; gzip inputs are mutated inside or outside the compression.
"""

from __future__ import annotations

import gzip
import random
import struct
import zlib

MAX_SIZE = 1 << 20  # a mutated input stays small: the long inputs are the targeted tests' job

_TOKENS: dict[str, list[bytes]] = {
    "config": [b"<", b">", b"</", b"/>", b'"', b"&#10;", b"&amp;", b"<!--", b"-->", b"<![CDATA[", b"]]>",
               b'condition="is"', b'condition="contains any"', b'onmatch="include"', b'onmatch="exclude"',
               b"<Rule groupRelation=\"and\">", b"</Rule>", b"<RuleGroup>", b"</RuleGroup>", b";", b";;",
               b'schemaversion="4.30"', b'schemaversion="4.91"', b"<FileDeleteDetected onmatch=\"include\"/>",
               b"\xff\xfe", b"\x00", b"\xed\xa0\x80", b"%", b"%SystemRoot%", b"<!DOCTYPE x []>", b"\r\n"],
    "yaml": [b":", b"- ", b"[", b"]", b"{", b"}", b"&a ", b"*a", b"!!int ", b"!!binary ", b"\n  ", b"'", b'"',
             b"\\ud800", b"\x00", b"\xff", b"1: x\n", b"event: ProcesCreate\n", b"expect: maybe\n", b"rule_name: T1\n"],
    "jsonl": [b"{", b"}", b"[", b"]", b'"', b":", b",", b"null", b"true", b"1e999", b"NaN", b'"\\ud800"', b"\n",
              b'"winlog": "x"', b'"event": [1]', b'"EventData": 3', b'"EventID": "\xc2\xb2"', b"[" * 64],
    "xml": [b"<Event>", b"</Event>", b"<Event xmlns='x'>", b"<System>", b"</System>", b"<Data Name='Image'>",
            b"</Data>", b"<![CDATA[", b"&#0;", b"&lt;", b"\xff\xfe", b"\xd8\x00", b"\x00", b"\n"],
}
_TOKENS["blob"] = _TOKENS["evtx"] = [b"\x00" * 4, b"\xff" * 4, b"ElfChnk\x00", b"\x00\xd8", b"\xff\xfe"]
_TOKENS["reg"] = [b",", b"\\\r\n  ", b"00", b"ff", b"zz", b'"Rules"=hex:', b"\x00", b"\xff\xfe", b"="]
_TOKENS["gzip"] = _TOKENS["jsonl"] + _TOKENS["xml"]
_TOKENS["eventjson"] = _TOKENS["jsonl"] + [
    b'"Event": ', b'"System": {}', b'"EventData": null', b'"#attributes": ', b'"#text": ', b"Record 1\n", b"\n{\n",
    b"\n}\n", b"\n[\n", b"\n]\n", b'"_raw": "<Event>"', b'"result": ', b'"results": [', b'"_source": ',
    b'"EventRecordID": 99999999999999999999', b'"EventID": {"#text": 1}', b"  ", b"\t"]
_TOKENS["event"] = [b"true", b"false", b"null", b"-1", b"65536", b"4294967296", b"1.5", b'"x"', b"[]", b"{}",
                    b'{"uuid": "0"}', b'"Image": ', b'"Foo": ', b'"id": 255', b'"id": 9999', b'"\\ud800"', b","]
_TOKENS["dumptext"] = [b" - ", b"\t", b"    ", b"filter: ", b"value: '", b"'", b"onmatch: ", b"include", b"exclude",
                       b"Compound Rule ", b"combine using And", b"Rule configuration (version 4.90):\n", b"\n",
                       b"[0x0001] ", b"\xff\xfe", b"\\ud800"]
_TOKENS["capture"] = _TOKENS["dumptext"] + [
    b"Current configuration:\n", b" - Service name:                  Sysmon64\n", b"\r\n", b"\n\n", b"        ",
    b"System Monitor v15.15 - System activity monitor\n", b"Sysmon v1.3.3 - Monitors system events\n",
    b"\x00", b"Windows Registry Editor Version 5.00\r\n", b'"Rules"=hex:00,']
_TOKENS["cli"] = _TOKENS["config"] + _TOKENS["yaml"] + _TOKENS["eventjson"] + _TOKENS["reg"] + _TOKENS["capture"]
_TOKENS["zip"] = [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"\x00" * 4, b"\xff" * 4, b"\x1f\x8b"]
_INTERESTING = (0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x00120000, 0x0F)


def _flip(data: bytearray, rng: random.Random, _surface: str, _seeds: list[bytes]) -> None:
    for _ in range(rng.randint(1, 8)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)


def _integer(data: bytearray, rng: random.Random, _surface: str, _seeds: list[bytes]) -> None:
    if len(data) >= 4:
        offset = rng.randrange(0, len(data) - 3) & ~3
        data[offset:offset + 4] = struct.pack("<I", rng.choice(_INTERESTING))


def _token(data: bytearray, rng: random.Random, surface: str, _seeds: list[bytes]) -> None:
    at = rng.randint(0, len(data))
    data[at:at] = rng.choice(_TOKENS[surface]) * rng.choice((1, 1, 1, 2, 50))


def _delete(data: bytearray, rng: random.Random, _surface: str, _seeds: list[bytes]) -> None:
    if data:
        at = rng.randrange(len(data))
        del data[at:at + rng.randint(1, max(1, len(data) // 8))]


def _duplicate(data: bytearray, rng: random.Random, _surface: str, _seeds: list[bytes]) -> None:
    if data:
        at = rng.randrange(len(data))
        piece = data[at:at + rng.randint(1, 256)]
        data[at:at] = piece * rng.choice((1, 2, 10))


def _truncate(data: bytearray, rng: random.Random, _surface: str, _seeds: list[bytes]) -> None:
    del data[rng.randint(0, len(data)):]


def _splice(data: bytearray, rng: random.Random, _surface: str, seeds: list[bytes]) -> None:
    other = rng.choice(seeds)
    at, start = rng.randint(0, len(data)), rng.randint(0, len(other))
    data[at:] = other[start:start + rng.randint(0, 4096)]


_OPERATORS = (_flip, _flip, _integer, _token, _token, _delete, _duplicate, _truncate, _splice)


def _mutate_bytes(data: bytes, rng: random.Random, surface: str, seeds: list[bytes]) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        rng.choice(_OPERATORS)(buffer, rng, surface, seeds)
        if len(buffer) > MAX_SIZE:
            del buffer[MAX_SIZE:]
    return bytes(buffer)


def mutate(seeds: list[bytes], surface: str, index: int) -> bytes:
    """Input ``index`` of ``surface``: one seed, mutated by a generator seeded with both."""
    rng = random.Random(f"{surface}:{index}")
    seed = rng.choice(seeds)
    if index % 50 == 0:
        return seed  # the seeds themselves, now and then
    if surface == "gzip" and rng.random() < 0.5:
        inner = gzip.decompress(seed) if seed[:2] == b"\x1f\x8b" and _whole(seed) else seed
        return gzip.compress(_mutate_bytes(inner, rng, "jsonl", seeds), compresslevel=1)
    return _mutate_bytes(seed, rng, surface, seeds)


def _whole(data: bytes) -> bool:
    try:
        gzip.decompress(data)
    except (OSError, EOFError, ValueError, zlib.error):
        return False
    return True
