#if canImport(Glibc)
import Glibc
#endif
import Formats
import GeoModel

/// `tiledrop-bench convert`: converter throughput and memory against GDAL's ogr2ogr.
///
/// Generates fixed, deterministic inputs (a ~200 MB GeoJSON FeatureCollection and a large
/// KML with folders, styles and ExtendedData), converts each to GeoJSONSeq with tiledrop
/// (in a child process, `convert-run`, so its peak RSS is measured alone) and with
/// `ogr2ogr -f GeoJSONSeq`, and prints MB/s, seconds, peak RSS and the speed ratio.
enum ConvertBenchmark {
    static func main(_ args: [String]) -> Int32 {
        var dir = "/tmp/tiledrop-bench-convert"
        var geojsonMB = 200
        var kmlMB = 100
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--dir" where i + 1 < args.count: dir = args[i + 1]; i += 1
            case "--geojson-mb" where i + 1 < args.count: geojsonMB = Int(args[i + 1]) ?? geojsonMB; i += 1
            case "--kml-mb" where i + 1 < args.count: kmlMB = Int(args[i + 1]) ?? kmlMB; i += 1
            default:
                print("usage: tiledrop-bench convert [--dir DIR] [--geojson-mb N] [--kml-mb N]")
                return 64
            }
            i += 1
        }
        mkdir(dir, 0o755)
        let geojson = dir + "/bench.geojson"
        let kml = dir + "/bench.kml"
        print("generating inputs in \(dir) …")
        BenchInputs.writeGeoJSON(path: geojson, megabytes: geojsonMB)
        BenchInputs.writeKML(path: kml, megabytes: kmlMB)
        let ogr = ChildProcess.which("ogr2ogr")
        if ogr == nil { print("ogr2ogr not found (apt-get install gdal-bin); peer comparison skipped") }
        print("")
        print("input                   size MB  tool        seconds    MB/s   peak RSS MB  features  ratio")
        for input in [geojson, kml] {
            let size = Double(fileSize(input)) / 1e6
            let ours = ChildProcess.run([CommandLine.arguments[0], "convert-run", input, dir + "/out-tiledrop.geojsonl"])
            var peer: ChildProcess.Result?
            if let ogr {
                unlink(dir + "/out-ogr.geojsonl")
                peer = ChildProcess.run([ogr, "-f", "GeoJSONSeq", dir + "/out-ogr.geojsonl", input])
            }
            let name = input.split(separator: "/").last.map(String.init) ?? input
            report(name, size, "tiledrop", ours, lines: countLines(dir + "/out-tiledrop.geojsonl"), ratio: peer.map { $0.seconds / ours.seconds })
            if let peer { report(name, size, "ogr2ogr", peer, lines: countLines(dir + "/out-ogr.geojsonl"), ratio: nil) }
        }
        return 0
    }

    /// Child mode: convert one file to GeoJSONSeq, print the feature count.
    static func run(_ args: [String]) -> Int32 {
        guard args.count == 2 else { print("usage: tiledrop-bench convert-run IN OUT"); return 64 }
        do throws(FormatError) {
            let reader = try FeatureReaders.open(path: args[0])
            let writer = try GeoJSONSeqWriter(path: args[1])
            while let f = try reader.next() { try writer.write(f) }
            try writer.finish(sync: false)
            print("\(writer.featureCount) features, \(reader.warnings.count) warnings")
            return 0
        } catch {
            print("error: \(error)")
            return 65
        }
    }

    private static func report(_ input: String, _ mb: Double, _ tool: String, _ r: ChildProcess.Result, lines: Int, ratio: Double?) {
        func f(_ v: Double, _ width: Int, _ digits: Int) -> String {
            var s = String(Int(v))
            if digits > 0 {
                let frac = Int((v - v.rounded(.towardZero)) * pow(10, Double(digits)))
                s += "." + String(repeating: "0", count: max(0, digits - String(frac).count)) + String(frac)
            }
            return String(repeating: " ", count: max(0, width - s.count)) + s
        }
        let status = r.exitCode == 0 ? "" : "  (exit \(r.exitCode))"
        let pad = { (s: String, n: Int) in s + String(repeating: " ", count: max(0, n - s.count)) }
        print(pad(input, 22) + f(mb, 9, 1) + "  " + pad(tool, 10) + f(r.seconds, 9, 2) + f(mb / r.seconds, 8, 1)
              + f(Double(r.maxRSSKiB) / 1024, 14, 1) + f(Double(lines), 10, 0) + (ratio.map { "  " + f($0, 5, 2) + "x faster" } ?? "") + status)
    }

    private static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    private static func countLines(_ path: String) -> Int {
        guard let f = fopen(path, "r") else { return 0 }
        defer { fclose(f) }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var n = 0
        while true {
            let got = fread(&buf, 1, buf.count, f)
            if got <= 0 { break }
            for i in 0..<got where buf[i] == 0x0A { n += 1 }
        }
        return n
    }
}
