/// A tiny argument reader for the subcommands: flags with values and positional arguments.
struct Arguments {
    private(set) var positional: [String] = []
    private var options: [String: String] = [:]
    private var flags: Set<String> = []

    /// Splits `args`; `valued` lists options that take a value (`--root DIR`, `-o OUT`).
    init(_ args: [String], valued: Set<String>, flags known: Set<String>) throws(UsageError) {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("-") && a.count > 1 {
                var name = a
                var inline: String?
                if let eq = a.firstIndex(of: "="), a.hasPrefix("--") {
                    name = String(a[..<eq])
                    inline = String(a[a.index(after: eq)...])
                }
                if valued.contains(name) {
                    if let inline { options[name] = inline } else {
                        guard i + 1 < args.count else { throw UsageError("\(name) needs a value") }
                        options[name] = args[i + 1]
                        i += 1
                    }
                } else if known.contains(name) {
                    flags.insert(name)
                } else {
                    throw UsageError("unknown option \(a)")
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    func value(_ name: String) -> String? { options[name] }
    func has(_ flag: String) -> Bool { flags.contains(flag) }
}

/// A command-line mistake; printed with a pointer to `--help`.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
