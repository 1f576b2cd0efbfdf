import GeoModel
import SystemSupport

/// The operator's `after_publish` command, run once per published file (upload to object
/// storage with the operator's own tool; tiledrop ships no cloud SDK).
///
/// The command line is split into words (no shell: no globbing, pipes or variables; single
/// or double quotes group words with spaces), `%f` in a word becomes the file's path (the
/// path is appended as the last word when no word has `%f`), and `%%` a literal `%`. It runs
/// with a deadline (`after_publish_timeout`), its output captured and cut to 4 KiB; its
/// result becomes one element of the job's `after_publish` field.
struct AfterPublishHook: Sendable, Equatable {
    let words: [String]
    let timeout: Double
    static let maxOutput = 4096

    /// Splits `commandLine`; nil with a message when it is empty or has an unclosed quote.
    static func parse(_ commandLine: String) -> Result<[String], DaemonConfig.ConfigValueError> {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        for c in commandLine {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                inWord = true
            } else if c == " " || c == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        if quote != nil { return .failure(.init(message: "after_publish has an unclosed \(quote!) quote")) }
        if inWord { words.append(current) }
        guard let first = words.first, !first.isEmpty else {
            return .failure(.init(message: "after_publish needs a command, e.g. /usr/local/bin/sync-to-bucket %f"))
        }
        return .success(words)
    }

    /// The argument vector for `file`.
    func arguments(file: String) -> [String] {
        var hasPlaceholder = false
        var argv = words.map { word -> String in
            var out = ""
            var chars = word.makeIterator()
            while let c = chars.next() {
                guard c == "%" else {
                    out.append(c)
                    continue
                }
                switch chars.next() {
                case "f":
                    out += file
                    hasPlaceholder = true
                case "%": out.append("%")
                case let other?: out += "%" + String(other)
                case nil: out.append("%")
                }
            }
            return out
        }
        if !hasPlaceholder { argv.append(file) }
        return argv
    }

    /// Runs the command for `file` and describes the outcome as a job report element:
    /// `file`, `command`, `exit_status` (null when killed), `signal`, `timed_out`, `seconds`,
    /// `output` (cut to 4 KiB, with a note of how much was dropped).
    func run(file: String) -> (record: JSONValue, succeeded: Bool, summary: String) {
        let argv = arguments(file: file)
        var o = JSONObject()
        o["file"] = .string(file)
        o["command"] = .array(argv.map(JSONValue.string))
        do {
            let r = try Subprocess.run(argv, timeout: timeout, maxOutput: AfterPublishHook.maxOutput)
            var output = String(decoding: r.output, as: UTF8.self)
            if r.droppedBytes > 0 { output += "\n… \(r.droppedBytes) more bytes of output dropped" }
            o["exit_status"] = r.exitStatus.map { .int(Int64($0)) } ?? .null
            o["signal"] = r.signal.map { .int(Int64($0)) } ?? .null
            o["timed_out"] = .bool(r.timedOut)
            o["seconds"] = .double((r.seconds * 1000).rounded() / 1000)
            o["output"] = .string(output)
            let summary = r.timedOut ? "timed out after \(Int(timeout)) s and was killed"
                : r.exitStatus.map { "exited with status \($0)" } ?? "was killed by signal \(r.signal ?? 0)"
            return (.object(o), r.succeeded, summary)
        } catch {
            o["exit_status"] = .null
            o["signal"] = .null
            o["timed_out"] = .bool(false)
            o["seconds"] = .double(0)
            o["output"] = .string("cannot start the command: \(error)")
            return (.object(o), false, "could not be started: \(error)")
        }
    }
}
