/// Naming rules for drop folders: which names are ignored, which map names are valid.
enum DropNames {
    /// The reserved subfolder whose files replace their map's source instead of appending.
    static let replaceFolder = "_replace"
    /// The hidden per-map work folder where claimed files live while they are processed.
    static let workFolder = ".tiledrop"

    /// Temporary and junk names that partial uploads and desktop tools leave behind.
    static func isIgnored(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.hasPrefix("~$") || name.hasSuffix("~") { return true }
        let lower = name.lowercased()
        for suffix in [".part", ".crdownload", ".filepart", ".tmp", ".swp", ".partial", ".download"] where lower.hasSuffix(suffix) {
            return true
        }
        return lower == "thumbs.db" || lower == "desktop.ini"
    }

    /// MTS's rule for tileset source ids: at most 32 characters, letters, digits, `-` and `_`.
    static func isValidMapName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 32 && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
    }
}
