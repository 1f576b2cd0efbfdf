/// Process exit codes, sysexits(3) style, so scripts can tell failures apart.
enum ExitCode {
    static let ok: Int32 = 0
    /// Wrong arguments.
    static let usage: Int32 = 64
    /// The input data is invalid (malformed file, invalid recipe).
    static let dataError: Int32 = 65
    /// An input file does not exist or cannot be read.
    static let noInput: Int32 = 66
    /// The daemon is not reachable (status).
    static let unavailable: Int32 = 69
    /// An internal error.
    static let software: Int32 = 70
    /// Temporary failure: another daemon already runs on the root.
    static let tempFail: Int32 = 75
    /// An output file cannot be created.
    static let cantCreate: Int32 = 73
    /// A read or write failed.
    static let ioError: Int32 = 74
    /// The configuration is invalid.
    static let config: Int32 = 78
}
