import GeoModel
#if canImport(Glibc)
import Glibc
#endif

/// Deterministic benchmark inputs, written in a streaming way (no input is held in memory).
enum BenchInputs {
    /// A GeoJSON FeatureCollection of `megabytes` MB: mostly points with city-like properties,
    /// every 10th feature a 20-vertex LineString, every 50th a 30-vertex Polygon.
    static func writeGeoJSON(path: String, megabytes: Int) {
        let out = Output(path: path)
        out.append(#"{"type":"FeatureCollection","name":"bench","features":["# + "\n")
        var i = 0
        var rng = LCG()
        while out.written < megabytes * 1_000_000 {
            if i > 0 { out.append(",\n") }
            let lon = rng.next() * 360 - 180, lat = rng.next() * 170 - 85
            var s = #"{"type":"Feature","properties":{"name":"Place \#(i)","admin1":"Region \#(i % 97)","cc":"C\#(i % 26)","population":\#(i * 7 % 100_000),"score":\#(Double(i % 1000) / 8)},"geometry":"#
            if i % 50 == 49 {
                var ring: [String] = []
                for k in 0..<29 {
                    let a = Double(k) / 29 * 2 * Double.pi
                    ring.append("[\(lon + cos(a) * 0.01),\(lat + sin(a) * 0.01)]")
                }
                ring.append(ring[0])
                s += #"{"type":"Polygon","coordinates":[["# + ring.joined(separator: ",") + "]]}}"
            } else if i % 10 == 9 {
                let pts = (0..<20).map { k in "[\(lon + Double(k) * 0.001),\(lat + Double(k % 3) * 0.0007),\(Double(k * 3))]" }
                s += #"{"type":"LineString","coordinates":["# + pts.joined(separator: ",") + "]}}"
            } else {
                s += #"{"type":"Point","coordinates":[\#(lon),\#(lat)]}}"#
            }
            out.append(s)
            i += 1
        }
        out.append("\n]}\n")
        out.close()
    }

    /// A KML document of `megabytes` MB: shared styles, one Folder per 1000 Placemarks,
    /// Points with ExtendedData, every 10th Placemark a LineString.
    static func writeKML(path: String, megabytes: Int) {
        let out = Output(path: path)
        out.append(#"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" + #"<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>bench</name>"# + "\n")
        out.append(#"<Style id="pt"><IconStyle><color>ff00ffff</color><scale>1.1</scale><Icon><href>http://maps.google.com/mapfiles/kml/pushpin/ylw-pushpin.png</href></Icon></IconStyle></Style>"# + "\n")
        out.append(#"<Style id="ln"><LineStyle><color>7f0000ff</color><width>3</width></LineStyle></Style>"# + "\n")
        var i = 0
        var rng = LCG()
        while out.written < megabytes * 1_000_000 {
            if i % 1000 == 0 {
                if i > 0 { out.append("</Folder>\n") }
                out.append("<Folder><name>Folder \(i / 1000)</name>\n")
            }
            let lon = rng.next() * 360 - 180, lat = rng.next() * 170 - 85
            var s = "<Placemark><name>Place \(i) &amp; co</name><description><![CDATA[<b>Place</b> number \(i)]]></description>"
            if i % 10 == 9 {
                let pts = (0..<20).map { k in "\(lon + Double(k) * 0.001),\(lat + Double(k % 3) * 0.0007),\(k * 3)" }
                s += "<styleUrl>#ln</styleUrl><LineString><tessellate>1</tessellate><coordinates>\n" + pts.joined(separator: " ") + "\n</coordinates></LineString>"
            } else {
                s += "<styleUrl>#pt</styleUrl><ExtendedData><Data name=\"admin1\"><value>Region \(i % 97)</value></Data><Data name=\"cc\"><value>C\(i % 26)</value></Data><Data name=\"population\"><value>\(i * 7 % 100_000)</value></Data></ExtendedData>"
                s += "<Point><coordinates>\(lon),\(lat)</coordinates></Point>"
            }
            out.append(s + "</Placemark>\n")
            i += 1
        }
        out.append("</Folder>\n</Document></kml>\n")
        out.close()
    }

    /// A small deterministic generator so every run benchmarks the same bytes.
    struct LCG {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    /// Buffered file output.
    final class Output {
        private let file: UnsafeMutablePointer<FILE>
        private(set) var written = 0
        init(path: String) {
            guard let f = fopen(path, "w") else { fatalError("cannot create \(path): \(String(cString: strerror(errno)))") }
            file = f
        }
        func append(_ s: String) {
            var s = s
            s.withUTF8 { written += fwrite($0.baseAddress, 1, $0.count, file) }
        }
        func close() { fclose(file) }
    }
}

extension BenchInputs {
    /// The cities fixture `copies` times over, as one FeatureCollection with a feature per
    /// line (like the fixture, so tippecanoe `-P` can split it): copy `c` of each city is
    /// moved by `0.05·√c` degrees along a golden-angle spiral and carries `"copy": c`, so
    /// the copies make a denser, still city-shaped input instead of stacked duplicates.
    /// Holds the cities once (properties as JSON text); the output is streamed.
    static func writeCitiesCopies(from cities: String, copies: Int, path: String) throws {
        guard let input = fopen(cities, "r") else { throw BenchError("cannot read \(cities)") }
        defer { fclose(input) }
        var templates: [(properties: String, lon: Double, lat: Double)] = []
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, input) > 0 {
            var text = String(cString: line!)
            while text.last == "\n" || text.last == "," { text.removeLast() }
            guard text.hasPrefix("{\"type\":\"Feature\""), let value = try? JSONParser.parse(Array(text.utf8)),
                  let coordinates = value["geometry"]?["coordinates"]?.arrayValue, coordinates.count >= 2,
                  let lon = coordinates[0].doubleValue, let lat = coordinates[1].doubleValue,
                  case .object(let properties)? = value["properties"] else { continue }
            var body = JSONWriter.string(.object(properties))
            body.removeFirst()
            body.removeLast()
            templates.append((body, lon, lat))
        }
        let out = Output(path: path)
        out.append(#"{"type":"FeatureCollection","name":"cities_x\#(copies)","features":["# + "\n")
        var first = true
        for c in 0..<copies {
            let angle = Double(c) * 2.399963229728653, radius = 0.05 * Double(c).squareRoot()
            let dx = cos(angle) * radius, dy = sin(angle) * radius
            for t in templates {
                var lon = t.lon + dx
                if lon > 180 { lon -= 360 } else if lon < -180 { lon += 360 }
                let lat = max(-85, min(85, t.lat + dy))
                let comma = t.properties.isEmpty ? "" : ","
                out.append((first ? "" : ",\n") + #"{"type":"Feature","properties":{"copy":\#(c)\#(comma)\#(t.properties)},"geometry":{"type":"Point","coordinates":[\#(lon),\#(lat)]}}"#)
                first = false
            }
        }
        out.append("\n]}\n")
        out.close()
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }
}
