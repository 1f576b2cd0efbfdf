import GeoModel

/// The self-contained HTML page of a map or tileset: our raster tiles in a pannable,
/// zoomable view (mouse, wheel, touch and pinch; no external script, style or font), beside
/// the map's groups and last ingests.
enum MapPage {
    struct Entry {
        var title: String
        var detail: String
    }

    static func html(title: String, tileset: String, bounds: BoundingBox, minzoom: Int, maxzoom: Int, groups: [String], ingests: [Entry]) -> String {
        let config: JSONValue = [
            "tileset": .string(tileset), "minzoom": .int(Int64(minzoom)), "maxzoom": .int(Int64(min(22, maxzoom + 4))),
            "bounds": [.double(bounds.west), .double(bounds.south), .double(bounds.east), .double(bounds.north)],
        ]
        let groupItems = groups.isEmpty ? "<li class=\"none\">no groups</li>" : groups.map { "<li>\(escape($0))</li>" }.joined()
        let ingestItems = ingests.isEmpty ? "<li class=\"none\">no ingests</li>" : ingests.map { "<li>\(escape($0.title)) <small>\(escape($0.detail))</small></li>" }.joined()
        // "</" cannot appear in the JSON inside <script>: tileset names and numbers only, but escape anyway.
        let json = JSONWriter.string(config).replacingOccurrences(of: "</", with: "<\\/")
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)) · tiledrop</title>
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <style>
        html,body{margin:0;height:100%;font:14px/1.4 system-ui,sans-serif;color:#222}
        body{display:flex}
        #map{flex:1;position:relative;overflow:hidden;background:#fff;touch-action:none;cursor:grab}
        #map.dragging{cursor:grabbing}
        #map img{position:absolute;width:256px;height:256px;user-select:none;-webkit-user-drag:none;pointer-events:none}
        #zoom{position:absolute;top:10px;left:10px;z-index:2}
        #zoom button{display:block;width:32px;height:32px;margin-bottom:4px;font-size:18px;background:#fff;border:1px solid #999;border-radius:4px}
        #info{position:absolute;bottom:4px;left:6px;z-index:2;font-size:12px;color:#555;background:rgba(255,255,255,.8);padding:0 4px}
        aside{width:280px;padding:12px 16px;overflow:auto;border-left:1px solid #ddd;background:#fafafa}
        h1{font-size:18px;margin:4px 0 12px}h2{font-size:14px;margin:16px 0 6px;color:#555}
        ul{margin:0;padding-left:18px}small{color:#777}.none{color:#999;list-style:none;margin-left:-18px}
        @media (max-width:640px){body{flex-direction:column}aside{width:auto;height:35%;border-left:0;border-top:1px solid #ddd}}
        </style></head><body>
        <div id="map"><div id="zoom"><button id="in" title="Zoom in">+</button><button id="out" title="Zoom out">−</button></div><div id="info"></div></div>
        <aside><h1>\(escape(title))</h1><div><small>tileset \(escape(tileset))</small></div>
        <h2>Groups</h2><ul>\(groupItems)</ul>
        <h2>Last ingests</h2><ul>\(ingestItems)</ul></aside>
        <script>
        "use strict";
        const cfg = \(json);
        const map = document.getElementById("map"), info = document.getElementById("info");
        const ratio = window.devicePixelRatio > 1 ? "@2x" : "";
        const tiles = new Map();
        let z = cfg.minzoom, cx = 0, cy = 0; // centre in world pixels at zoom z
        function project(lon, lat, zoom) {
          const s = Math.sin(Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI / 180);
          const size = 256 * Math.pow(2, zoom);
          return [(lon / 360 + 0.5) * size, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * size];
        }
        function fit() {
          const [w, s, e, n] = cfg.bounds, W = map.clientWidth, H = map.clientHeight;
          z = cfg.minzoom;
          while (z < cfg.maxzoom) {
            const a = project(w, n, z + 1), b = project(e, s, z + 1);
            if (b[0] - a[0] > W * 0.9 || b[1] - a[1] > H * 0.9) break;
            z++;
          }
          const a = project(w, n, z), b = project(e, s, z);
          cx = (a[0] + b[0]) / 2; cy = (a[1] + b[1]) / 2;
        }
        function draw() {
          const W = map.clientWidth, H = map.clientHeight, n = Math.pow(2, z);
          const left = cx - W / 2, top = cy - H / 2, wanted = new Set();
          for (let ty = Math.max(0, Math.floor(top / 256)); ty <= Math.min(n - 1, Math.floor((top + H) / 256)); ty++) {
            for (let tx = Math.floor(left / 256); tx <= Math.floor((left + W) / 256); tx++) {
              const x = ((tx % n) + n) % n, key = z + "/" + tx + "/" + ty;
              wanted.add(key);
              let img = tiles.get(key);
              if (!img) {
                img = document.createElement("img");
                img.alt = "";
                img.src = "/v4/" + cfg.tileset.split(",").map(encodeURIComponent).join(",") + "/" + z + "/" + x + "/" + ty + ratio + ".png";
                img.onerror = () => { img.style.visibility = "hidden"; };
                tiles.set(key, img);
                map.appendChild(img);
              }
              img.style.left = Math.round(tx * 256 - left) + "px";
              img.style.top = Math.round(ty * 256 - top) + "px";
            }
          }
          for (const [key, img] of tiles) if (!wanted.has(key)) { img.remove(); tiles.delete(key); }
          info.textContent = "z" + z + " · tiledrop raster tiles";
        }
        function zoomAt(delta, px, py) {
          const next = Math.max(cfg.minzoom, Math.min(cfg.maxzoom, z + delta));
          if (next === z) return;
          const f = Math.pow(2, next - z), W = map.clientWidth, H = map.clientHeight;
          const wx = cx - W / 2 + px, wy = cy - H / 2 + py;
          cx = wx * f - px + W / 2; cy = wy * f - py + H / 2; z = next;
          draw();
        }
        const pointers = new Map();
        let pinch = 0;
        map.addEventListener("pointerdown", (e) => {
          if (e.target.tagName === "BUTTON") return;
          map.setPointerCapture(e.pointerId); pointers.set(e.pointerId, [e.clientX, e.clientY]); map.classList.add("dragging");
        });
        map.addEventListener("pointermove", (e) => {
          const p = pointers.get(e.pointerId);
          if (!p) return;
          if (pointers.size === 1) { cx -= e.clientX - p[0]; cy -= e.clientY - p[1]; }
          pointers.set(e.pointerId, [e.clientX, e.clientY]);
          if (pointers.size === 2) {
            const [a, b] = [...pointers.values()], d = Math.hypot(a[0] - b[0], a[1] - b[1]);
            if (pinch && Math.abs(Math.log2(d / pinch)) >= 1) {
              const r = map.getBoundingClientRect();
              zoomAt(d > pinch ? 1 : -1, (a[0] + b[0]) / 2 - r.left, (a[1] + b[1]) / 2 - r.top); pinch = d;
            } else if (!pinch) pinch = d;
          }
          draw();
        });
        const release = (e) => { pointers.delete(e.pointerId); if (pointers.size < 2) pinch = 0; if (!pointers.size) map.classList.remove("dragging"); };
        map.addEventListener("pointerup", release);
        map.addEventListener("pointercancel", release);
        map.addEventListener("wheel", (e) => {
          e.preventDefault();
          const r = map.getBoundingClientRect();
          zoomAt(e.deltaY < 0 ? 1 : -1, e.clientX - r.left, e.clientY - r.top);
        }, { passive: false });
        document.getElementById("in").onclick = () => zoomAt(1, map.clientWidth / 2, map.clientHeight / 2);
        document.getElementById("out").onclick = () => zoomAt(-1, map.clientWidth / 2, map.clientHeight / 2);
        window.addEventListener("resize", draw);
        fit(); draw();
        </script></body></html>
        """
    }

    /// HTML text escaping (&, <, >, ", ').
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
