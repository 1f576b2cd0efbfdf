#!/usr/bin/env python3
"""Mapnik as the reference: the pixel check of the tests and the peer of `tiledrop-bench render`.

Reads a JSON job from argv[1]:
  {"palette": ["#rrggbb", ...], "defaults": {...}, "layers": [names in drawing order],
   "tiles": [{"z", "x", "y", "scale", "center": geojson path, "neighbours": [[path, z, x, y], ...],
              "ours": png path, "mapnik": png path}]}
Each tile's features (decoded from the tileset, in longitude/latitude) are styled with the
simplestyle rules tiledrop documents (feature properties over the per-layer palette), drawn by
Mapnik's own AGG renderer in EPSG:3857, and compared with tiledrop's PNG over white.
Prints one JSON line per tile: mean absolute error per channel (0-255) and the share of
pixels whose channels all lie within 24.
"""
import json
import math
import os
import shutil
import sys
import tempfile

import mapnik
from PIL import Image

R = 6378137.0


def merc_bounds(z, x, y):
    n = 2 ** z
    size = 2 * math.pi * R
    minx = x / n * size - size / 2
    maxx = (x + 1) / n * size - size / 2
    maxy = size / 2 - y / n * size
    miny = size / 2 - (y + 1) / n * size
    return minx, miny, maxx, maxy


def lonlat_in_tile(lon, lat, z, x, y):
    n = 2 ** z
    fx = (lon + 180) / 360 * n
    lat = max(-85.0511287798066, min(85.0511287798066, lat))
    s = math.sin(math.radians(lat))
    fy = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n
    return x <= fx < x + 1 and y <= fy < y + 1


def colour(v):
    if isinstance(v, str) and v.startswith("#") and len(v) in (4, 7) and all(c in "0123456789abcdefABCDEF" for c in v[1:]):
        return v if len(v) == 7 else "#" + "".join(c * 2 for c in v[1:])
    return None


def number(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def style_of(kind, layer_index, props, job):
    """The documented rules: palette default per layer, simplestyle properties over it."""
    d = job["defaults"]
    base = job["palette"][layer_index % len(job["palette"])]
    s = {"fill": None, "fill_opacity": 1.0, "stroke": None, "stroke_width": 1.0, "stroke_opacity": 1.0,
         "marker": None, "marker_size": "medium"}
    if kind == "polygon":
        s.update(fill=base, fill_opacity=d["fill_opacity"], stroke=base, stroke_width=d["polygon_stroke_width"])
    elif kind == "line":
        s.update(stroke=base, stroke_width=d["line_width"])
    else:
        s.update(marker=base)
    if colour(props.get("stroke")): s["stroke"] = colour(props["stroke"])
    w = number(props.get("stroke-width"))
    if w is not None and 0 <= w <= 100: s["stroke_width"] = w
    o = number(props.get("stroke-opacity"))
    if o is not None: s["stroke_opacity"] = min(1, max(0, o))
    if colour(props.get("fill")): s["fill"] = colour(props["fill"])
    o = number(props.get("fill-opacity"))
    if o is not None: s["fill_opacity"] = min(1, max(0, o))
    if colour(props.get("marker-color")): s["marker"] = colour(props["marker-color"])
    if props.get("marker-size") in ("small", "medium", "large"): s["marker_size"] = props["marker-size"]
    return s


def kind_of(geometry):
    t = geometry["type"]
    return {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line"}.get(t, "polygon")


def symbolizers(kind, s, scale, job):
    out = []
    if kind == "polygon" and s["fill"] and s["fill_opacity"] > 0:
        out.append('<PolygonSymbolizer fill="%s" fill-opacity="%g"/>' % (s["fill"], s["fill_opacity"]))
    if kind in ("polygon", "line") and s["stroke"] and s["stroke_width"] > 0 and s["stroke_opacity"] > 0:
        out.append('<LineSymbolizer stroke="%s" stroke-width="%g" stroke-opacity="%g" stroke-linejoin="round" stroke-linecap="round"/>'
                   % (s["stroke"], s["stroke_width"], s["stroke_opacity"]))
    if kind == "point" and s["marker"]:
        d = job["defaults"]["marker_diameters"][s["marker_size"]]
        out.append('<MarkersSymbolizer fill="%s" width="%g" height="%g" stroke="#ffffff" stroke-width="%g" '
                   'allow-overlap="true" ignore-placement="true" placement="point"/>' % (s["marker"], d, d, job["defaults"]["marker_outline"]))
    return out


def render_mapnik(tile, job, workdir):
    z, x, y, scale = tile["z"], tile["x"], tile["y"], tile["scale"]
    size = 256 * scale
    by_layer = {}
    with open(tile["center"]) as f:
        for feat in json.load(f)["features"]:
            by_layer.setdefault(feat.get("layer", ""), []).append(feat)
    # Markers of the neighbours, each drawn by the tile that holds its point.
    for path, nz, nx, ny in tile["neighbours"]:
        with open(path) as f:
            for feat in json.load(f)["features"]:
                g = feat["geometry"]
                pts = [g["coordinates"]] if g["type"] == "Point" else g["coordinates"] if g["type"] == "MultiPoint" else []
                pts = [p for p in pts if lonlat_in_tile(p[0], p[1], nz, nx, ny)]
                if pts:
                    f2 = dict(feat, geometry={"type": "MultiPoint", "coordinates": pts}, neighbour=True)
                    by_layer.setdefault(feat.get("layer", ""), []).append(f2)
    names = [n for n in job["layers"] if n in by_layer] + sorted(n for n in by_layer if n not in job["layers"])
    xml = ['<Map srs="epsg:3857" background-color="transparent">']
    layers_xml = []
    for name in names:
        index = job["layers"].index(name) if name in job["layers"] else 0
        rules, feats = [], []
        keys = {}
        for feat in by_layer[name]:
            g = feat["geometry"]
            if g is None:
                continue
            if g["type"] in ("Point", "MultiPoint") and not feat.get("neighbour"):
                # A point of the centre tile's buffer belongs to the neighbour that holds it.
                pts = [g["coordinates"]] if g["type"] == "Point" else g["coordinates"]
                pts = [p for p in pts if lonlat_in_tile(p[0], p[1], z, x, y)]
                if not pts:
                    continue
                g = {"type": "MultiPoint", "coordinates": pts}
            kind = kind_of(g)
            s = style_of(kind, index, feat["properties"], job)
            key = json.dumps([kind, s], sort_keys=True)
            if key not in keys:
                keys[key] = len(keys)
                syms = symbolizers(kind, s, scale, job)
                rules.append('<Rule><Filter>[_style] = %d</Filter>%s</Rule>' % (keys[key], "".join(syms)))
            feats.append({"type": "Feature", "properties": {"_style": keys[key]}, "geometry": g})
        path = os.path.join(workdir, "%s-%d-%d-%d-%d.geojson" % (name.replace("/", "_"), z, x, y, scale))
        with open(path, "w") as f:
            json.dump({"type": "FeatureCollection", "features": feats}, f)
        sname = "style-" + str(len(layers_xml))
        xml.append('<Style name="%s">%s</Style>' % (sname, "".join(rules)))
        layers_xml.append('<Layer name="%s" srs="epsg:4326"><StyleName>%s</StyleName><Datasource>'
                          '<Parameter name="type">geojson</Parameter><Parameter name="file">%s</Parameter>'
                          '<Parameter name="cache_features">false</Parameter></Datasource></Layer>' % (sname, sname, path))
    xml += layers_xml + ["</Map>"]
    m = mapnik.Map(size, size)
    mapnik.load_map_from_string(m, "".join(xml))
    m.zoom_to_box(mapnik.Box2d(*merc_bounds(z, x, y)))
    im = mapnik.Image(size, size)
    mapnik.render(m, im, scale)
    im.save(tile["mapnik"], "png32")


def over_white(path):
    im = Image.open(path).convert("RGBA")
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, im).convert("RGB")


def compare(a_path, b_path):
    a, b = over_white(a_path), over_white(b_path)
    assert a.size == b.size, (a.size, b.size)
    pa, pb = a.tobytes(), b.tobytes()
    n = a.size[0] * a.size[1]
    sums = [0, 0, 0]
    close = 0
    for i in range(n):
        ok = True
        for c in range(3):
            d = abs(pa[3 * i + c] - pb[3 * i + c])
            sums[c] += d
            if d > 24:
                ok = False
        close += ok
    return [s / n for s in sums], close / n


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    workdir = tempfile.mkdtemp(prefix="mapnik-ref-")
    try:
        for tile in job["tiles"]:
            render_mapnik(tile, job, workdir)
            mae, within = compare(tile["ours"], tile["mapnik"])
            print(json.dumps({"tile": "%d/%d/%d@%dx" % (tile["z"], tile["x"], tile["y"], tile["scale"]), "set": tile.get("set", ""),
                              "mae": mae, "within24": within}), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)




def bench(job):
    """`--bench JOB`: Mapnik renders and PNG-encodes the listed tiles from the source files
    (one GeoJSON datasource per layer, loaded once), at the job's `scale` (2: 512 px @2x),
    timed as a loop; prints seconds and bytes."""
    import time
    xml = ['<Map srs="epsg:3857" background-color="transparent">']
    layers_xml = []
    for index, layer in enumerate(job["layers"]):
        rules = []
        for kind, geometry in (("polygon", "polygon"), ("line", "linestring"), ("point", "point")):
            syms = symbolizers(kind, style_of(kind, index, {}, job), 1, job)
            rules.append('<Rule><Filter>[mapnik::geometry_type] = %s</Filter>%s</Rule>' % (geometry, "".join(syms)))
        xml.append('<Style name="s%d">%s</Style>' % (index, "".join(rules)))
        layers_xml.append('<Layer name="l%d" srs="epsg:4326"><StyleName>s%d</StyleName><Datasource>'
                          '<Parameter name="type">geojson</Parameter><Parameter name="file">%s</Parameter>'
                          '</Datasource></Layer>' % (index, index, layer["file"]))
    xml += layers_xml + ["</Map>"]
    scale = job.get("scale", 1)
    size = 256 * scale
    m = mapnik.Map(size, size)
    mapnik.load_map_from_string(m, "".join(xml))
    m.zoom_to_box(mapnik.Box2d(*merc_bounds(0, 0, 0)))
    mapnik.render(m, mapnik.Image(size, size), scale)  # loads and indexes the datasources once
    total = 0
    start = time.perf_counter()
    for z, x, y in job["tiles"]:
        m.zoom_to_box(mapnik.Box2d(*merc_bounds(z, x, y)))
        im = mapnik.Image(size, size)
        mapnik.render(m, im, scale)
        total += len(im.tostring("png32"))
    print(json.dumps({"seconds": time.perf_counter() - start, "bytes": total, "tiles": len(job["tiles"])}))


def jpeg_compare(pairs_path):
    """`--jpeg PAIRS`: for each [original PNG, our JPEG], Pillow's JPEG at q80 4:2:0 of the
    same picture over white; prints total sizes and mean PSNR of both against the original."""
    import io
    with open(pairs_path) as f:
        pairs = json.load(f)

    def psnr(a, b):
        pa, pb = a.tobytes(), b.tobytes()
        se = sum((p - q) ** 2 for p, q in zip(pa, pb)) / len(pa)
        return 99.0 if se == 0 else 10 * math.log10(255 * 255 / se)

    ours_bytes = pillow_bytes = 0
    ours_psnr = pillow_psnr = 0.0
    for original, ours in pairs:
        ref = over_white(original)
        buf = io.BytesIO()
        ref.save(buf, "JPEG", quality=80, subsampling=2)
        pillow_bytes += buf.tell()
        pillow_psnr += psnr(ref, Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        ours_bytes += os.path.getsize(ours)
        ours_psnr += psnr(ref, Image.open(ours).convert("RGB"))
    n = max(1, len(pairs))
    print(json.dumps({"ours_bytes": ours_bytes, "pillow_bytes": pillow_bytes, "ours_psnr": ours_psnr / n, "pillow_psnr": pillow_psnr / n, "tiles": len(pairs)}))


if __name__ == "__main__":
    if sys.argv[1] == "--bench":
        with open(sys.argv[2]) as f:
            bench(json.load(f))
    elif sys.argv[1] == "--jpeg":
        jpeg_compare(sys.argv[2])
    else:
        main()
