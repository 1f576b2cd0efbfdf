import Foundation

/// The mutation loop used where libFuzzer is unavailable: mutates seed files for a fixed time.
///
/// A trap cannot be caught in Swift, so before each run the input is kept in a buffer that a
/// signal handler writes to `crash-<target>` (with write(2) only) before the process dies.
struct PlainDriver {
    let target: FuzzTarget
    let seedDirectory: String
    let seconds: Double

    func run() -> Int32 {
        let seeds = loadSeeds()
        guard !seeds.isEmpty else {
            print("no seeds in \(seedDirectory)")
            return 66
        }
        installCrashHandler(name: "crash-\(target.name)")
        let seed = UInt64(UInt32(truncatingIfNeeded: time(nil))) ^ UInt64(getpid())
        var mutator = SeedMutator(seed: seed)
        let started = Date()
        var executions = 0
        while Date().timeIntervalSince(started) < seconds {
            let base = seeds[mutator.next(seeds.count)], other = seeds[mutator.next(seeds.count)]
            let input = executions < seeds.count ? seeds[executions] : mutator.mutate(base, other: other, maxSize: 1 << 20)
            remember(input)
            target.run(input)
            executions += 1
        }
        print("\(target.name): \(executions) executions in \(Int(seconds)) s from \(seeds.count) seeds (mutator seed \(seed)), no crash")
        return 0
    }

    private func loadSeeds() -> [[UInt8]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: seedDirectory)) ?? []
        return names.sorted().compactMap { FileManager.default.contents(atPath: seedDirectory + "/" + $0).map { Array($0) } }
    }
}

/// The input being run, for the crash handler (a plain buffer: handlers may not allocate).
nonisolated(unsafe) private var current = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 1)
nonisolated(unsafe) private var currentCount = 0
nonisolated(unsafe) private var crashFile: UnsafeMutablePointer<CChar>?

private func remember(_ input: [UInt8]) {
    currentCount = min(input.count, current.count)
    input.withUnsafeBytes { current.baseAddress!.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(current.baseAddress!), byteCount: currentCount) }
}

private func installCrashHandler(name: String) {
    crashFile = strdup(name)
    for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
        signal(sig) { number in
            guard let crashFile else { _exit(128 + number) }
            let fd = open(crashFile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644)
            if fd >= 0 {
                _ = write(fd, current.baseAddress, currentCount)
                close(fd)
            }
            _exit(128 + number)
        }
    }
}
