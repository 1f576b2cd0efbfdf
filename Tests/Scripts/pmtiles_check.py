"""Checks a tiledrop PMTiles archive with the `pmtiles` package from PyPI (protomaps).

usage: pmtiles_check.py ARCHIVE.pmtiles [MBTILES] [--sample N]

Reads the header and every directory with the package's own decoder and checks a valid,
clustered v3 archive: root directory within the first 16 KiB, entries ascending, leaf
directories inside the leaf section, each new blob right after the previous one (a repeated
blob earlier), the header's counts. With MBTILES, every tile read through
`pmtiles.reader.all_tiles` must equal the MBTiles tile byte for byte (and the sets of tiles
must match) and the metadata must carry the MBTiles json keys. With --sample N only N
evenly spaced tiles are fetched with `Reader.get` (for archives with millions of tiles).
Prints one summary line; exits 1 with the problems otherwise, 3 when pmtiles is missing.
"""
import json
import mmap
import sqlite3
import sys

try:
    from pmtiles.reader import Reader, MmapSource, all_tiles
    from pmtiles.tile import Compression, TileType, deserialize_directory, tileid_to_zxy
except ImportError:
    print("the pmtiles package is not installed (pip install pmtiles)")
    sys.exit(3)

args = [a for a in sys.argv[1:] if not a.startswith("--")]
sample = int(sys.argv[sys.argv.index("--sample") + 1]) if "--sample" in sys.argv else 0
if sample:
    args = [a for a in args if a != str(sample)]
problems = []

with open(args[0], "rb") as f:
    get = MmapSource(f)
    reader = Reader(get)
    h = reader.header()
    if h["version"] != 3:
        problems.append("version %r" % h["version"])
    if not h["clustered"]:
        problems.append("not marked clustered")
    if h["root_offset"] + h["root_length"] > 16384:
        problems.append("root directory ends past 16 KiB")
    if h["internal_compression"] != Compression.GZIP or h["tile_compression"] != Compression.GZIP:
        problems.append("compression %r/%r" % (h["internal_compression"], h["tile_compression"]))
    if h["tile_type"] != TileType.MVT:
        problems.append("tile type %r" % h["tile_type"])

    state = {"addressed": 0, "entries": 0, "next": 0, "seen": set(), "last": -1, "leaves": 0, "ids": []}

    def walk(offset, length, depth, lower, upper):
        entries = deserialize_directory(get(offset, length))
        if not entries:
            problems.append("empty directory at %d" % offset)
        for i, e in enumerate(entries):
            if e.tile_id < lower or e.tile_id >= upper:
                problems.append("entry %d outside its leaf's range" % e.tile_id)
            if e.run_length == 0:
                if depth > 0:
                    problems.append("leaf directory below a leaf")
                state["leaves"] += 1
                if e.offset + e.length > h["leaf_directory_length"]:
                    problems.append("leaf outside the leaf section")
                nxt = entries[i + 1].tile_id if i + 1 < len(entries) else upper
                walk(h["leaf_directory_offset"] + e.offset, e.length, depth + 1, e.tile_id, nxt)
                continue
            if e.tile_id <= state["last"]:
                problems.append("entries not ascending at %d" % e.tile_id)
            state["last"] = e.tile_id + e.run_length - 1
            state["addressed"] += e.run_length
            state["entries"] += 1
            if sample:
                state["ids"].append((e.tile_id, e.run_length))
            if e.offset == state["next"]:
                state["seen"].add(e.offset)
                state["next"] += e.length
            elif e.offset not in state["seen"]:
                problems.append("not clustered at tile %d (offset %d, next %d)" % (e.tile_id, e.offset, state["next"]))

    walk(h["root_offset"], h["root_length"], 0, 0, 1 << 64)
    for key, value in (("addressed_tiles_count", state["addressed"]), ("tile_entries_count", state["entries"]),
                       ("tile_contents_count", len(state["seen"])), ("tile_data_length", state["next"])):
        if h[key] != value:
            problems.append("header %s %d, directories %d" % (key, h[key], value))
    metadata = reader.metadata()
    if "vector_layers" not in metadata:
        problems.append("metadata has no vector_layers")

    tiles = {}
    if sample:
        flat = []
        for tid, run in state["ids"]:
            flat.append(tid)
            if run > 1:
                flat.append(tid + run - 1)
        step = max(1, len(flat) // sample)
        for tid in flat[::step]:
            z, x, y = tileid_to_zxy(tid)
            data = reader.get(z, x, y)
            if not data:
                problems.append("Reader.get misses %d/%d/%d" % (z, x, y))
            tiles[(z, x, y)] = data
    else:
        for (z, x, y), data in all_tiles(get):
            tiles[(z, x, y)] = data

    if len(args) > 1:
        db = sqlite3.connect(args[1])
        expected = {}
        for z, x, row, data in db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"):
            expected[(z, x, (1 << z) - 1 - row)] = bytes(data)
        if set(expected) != set(tiles):
            problems.append("tile sets differ: %d in MBTiles, %d in PMTiles" % (len(expected), len(tiles)))
        differing = [k for k in expected if k in tiles and tiles[k] != expected[k]]
        if differing:
            problems.append("%d tiles differ, e.g. %r" % (len(differing), differing[0]))
        rows = dict(db.execute("SELECT name, value FROM metadata"))
        for key, value in json.loads(rows.get("json", "{}")).items():
            if metadata.get(key) != value:
                problems.append("metadata %s differs from the MBTiles json" % key)
        for key in ("name", "attribution", "description"):
            if key in rows and metadata.get(key) != rows[key]:
                problems.append("metadata %s differs from the MBTiles" % key)

if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
print("valid clustered PMTiles v3: %d tiles addressed, %d entries, %d contents, %d leaf directories, %d tiles read"
      % (state["addressed"], state["entries"], len(state["seen"]), state["leaves"], len(tiles)))
