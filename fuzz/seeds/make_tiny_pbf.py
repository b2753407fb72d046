#!/usr/bin/env python3
"""Writes tiny .osm.pbf seeds for the `pbf_import` fuzz target: a plus-shaped junction in
Moscow with named ways, a one-way, a gate and a turn restriction, in raw (uncompressed)
blobs so that mutations reach the protobuf and OSM logic, the same with zlib blobs, and the
regression input of the first crash the fuzzer found.

Usage: make_tiny_pbf.py OUT_DIR"""
import struct
import sys
import zlib


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def key(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, n):
    return key(field, 0) + varint(n)


def f_bytes(field, data):
    return key(field, 2) + varint(len(data)) + data


def packed(field, values, signed=False, delta=False):
    out, prev = bytearray(), 0
    for v in values:
        d = v - prev if delta else v
        prev = v
        out += varint(zigzag(d) if signed else d)
    return f_bytes(field, bytes(out))


def blob(kind, data, compress):
    if compress:
        body = f_bytes(3, zlib.compress(data)) + f_varint(2, len(data))
    else:
        body = f_bytes(1, data) + f_varint(2, len(data))
    header = f_bytes(1, kind.encode()) + f_varint(3, len(body))
    return struct.pack(">I", len(header)) + header + body


def tiny(compress, bad_string=False):
    strings = ["", "highway", "residential", "primary", "name", "Lenina", "Mira", "oneway",
               "yes", "barrier", "gate", "type", "restriction", "no_left_turn", "from",
               "via", "to", "tertiary", "maxspeed", "40"]
    sid = {s: i for i, s in enumerate(strings)}
    header_block = f_bytes(4, b"OsmSchema-V0.6") + f_bytes(4, b"DenseNodes") + f_bytes(
        16, b"make_tiny_pbf.py")
    # Nodes: 1 centre, 2 north, 3 east, 4 south, 5 west, 6 far east (a gate), 7 north-east.
    # In 1e-7 degrees (the default granularity, 100 nanodegrees): 0.001° is about 100 m.
    d = 10_000
    base_lat, base_lon = 557_500_000, 376_000_000
    coords = {1: (0, 0), 2: (d, 0), 3: (0, d), 4: (-d, 0), 5: (0, -d), 6: (0, 2 * d),
              7: (d, d)}
    ids = sorted(coords)
    kv = []
    for i in ids:
        if i == 6:
            kv += [sid["barrier"], sid["gate"]]
        kv.append(0)
    dense = (packed(1, ids, signed=True, delta=True)
             + packed(8, [base_lat + coords[i][0] for i in ids], signed=True, delta=True)
             + packed(9, [base_lon + coords[i][1] for i in ids], signed=True, delta=True)
             + packed(10, kv))

    def way(wid, refs, tags):
        keys = [sid[k] for k, _ in tags]
        if bad_string and wid == 13:
            keys[0] = 1040  # past the end of the string table
        return (f_varint(1, wid) + packed(2, keys)
                + packed(3, [sid[v] for _, v in tags]) + packed(8, refs, signed=True, delta=True))

    ways = b"".join(f_bytes(3, w) for w in [
        way(10, [2, 1, 4], [("highway", "residential"), ("name", "Lenina")]),
        way(11, [5, 1, 3, 6], [("highway", "primary"), ("name", "Mira"), ("maxspeed", "40")]),
        way(12, [4, 5], [("highway", "tertiary"), ("oneway", "yes")]),
        way(13, [2, 7, 3], [("highway", "residential")]),
    ])
    relation = (f_varint(1, 20) + packed(2, [sid["type"], sid["restriction"]])
                + packed(3, [sid["restriction"], sid["no_left_turn"]])
                + packed(8, [sid["from"], sid["via"], sid["to"]])
                + packed(9, [10, 1, 11], signed=True, delta=True) + packed(10, [1, 0, 1]))
    stringtable = b"".join(f_bytes(1, s.encode()) for s in strings)
    primitive = (f_bytes(1, stringtable) + f_bytes(2, f_bytes(2, dense)) + f_bytes(2, ways)
                 + f_bytes(2, f_bytes(4, relation)) + f_varint(17, 100))
    return blob("OSMHeader", header_block, compress) + blob("OSMData", primitive, compress)


out = sys.argv[1]
open(f"{out}/tiny-raw.osm.pbf", "wb").write(tiny(False))
open(f"{out}/tiny-zlib.osm.pbf", "wb").write(tiny(True))
# What the fuzzer found first: osmpbfreader 0.19.1 indexes the string table unchecked
# (groups.rs:212) and panics; the import must turn that into an error.
open(f"{out}/crash-string-index-past-table.osm.pbf", "wb").write(tiny(False, bad_string=True))
