import Foundation

/// tiledrop-fuzz: fuzz targets for the decoders that read untrusted bytes.
///
///     tiledrop-fuzz TARGET CORPUS_DIR [libFuzzer flags]   (built by .ci/fuzz with -DLIBFUZZER)
///     tiledrop-fuzz TARGET SEED_DIR --seconds N           (plain driver: mutates the seeds)
///     tiledrop-fuzz TARGET --run FILE...                  (replays inputs, e.g. a crash)
///
/// Targets: json, kml, gpx, kmz, mvt, recipe, sql, cartocss. `.ci/fuzz` builds it with libFuzzer and runs
/// every target; a crash leaves its input under .build/fuzz/artifacts/.

#if LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func runLibFuzzer(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

/// The target libFuzzer's C callback dispatches to (set once before the driver starts).
nonisolated(unsafe) var selected = FuzzTarget.all[0]

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: tiledrop-fuzz \(FuzzTarget.all.map(\.name).joined(separator: "|")) (CORPUS_DIR [libFuzzer flags] | SEED_DIR --seconds N | --run FILE...)\n".utf8))
    exit(64)
}

var arguments = CommandLine.arguments
guard arguments.count >= 3, let target = FuzzTarget.all.first(where: { $0.name == arguments[1] }) else { usage() }
selected = target
defer { unlink(FuzzTarget.scratchPath + target.seedSuffixes[0]) }

if arguments[2] == "--run" {
    for file in arguments.dropFirst(3) {
        guard let data = FileManager.default.contents(atPath: file) else { print("cannot read \(file)"); exit(66) }
        target.run(Array(data))
        print("\(file): no crash")
    }
    exit(0)
}

if let i = arguments.firstIndex(of: "--seconds"), i + 1 < arguments.count, let seconds = Double(arguments[i + 1]) {
    exit(PlainDriver(target: target, seedDirectory: arguments[2], seconds: seconds).run())
}

#if LIBFUZZER
// libFuzzer sees argv without the target name.
var cArguments: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + arguments.dropFirst(2)).map { strdup($0) } + [nil]
var argc = CInt(cArguments.count - 1)
let status = cArguments.withUnsafeMutableBufferPointer { buffer -> CInt in
    var argv = buffer.baseAddress!
    return runLibFuzzer(&argc, &argv) { data, count in
        selected.run(count == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: count)))
        return 0
    }
}
exit(status)
#else
FileHandle.standardError.write(Data("tiledrop-fuzz was built without libFuzzer: run it with --seconds N (plain driver) or build it with .ci/fuzz\n".utf8))
exit(64)
#endif
