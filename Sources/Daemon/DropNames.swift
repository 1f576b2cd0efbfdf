import SystemSupport
import Foundation

/// Naming rules for drop folders: which names are ignored, which map names are valid, and the
/// map id a folder name becomes.
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

    /// The map id of a drop folder: the name itself when it already is a valid id (so maps
    /// keep their ids), otherwise a stable slug: accents removed, lower case, runs of anything
    /// but `a-z0-9` turned into one `-`, at most 32 characters (`Wanderwege Bayern` →
    /// `wanderwege-bayern`, `café` → `cafe`). A name with no Latin letters or digits at all
    /// becomes `map-` plus the first 8 hex digits of its SHA-256, which is stable too.
    static func mapID(forFolder name: String) -> String {
        if isValidMapName(name) { return name }
        var slug = ""
        for scalar in name.decomposedStringWithCanonicalMapping.lowercased().unicodeScalars {
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            let folded = foldedLetters[scalar] ?? String(scalar)
            for ch in folded.unicodeScalars {
                if (ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9") {
                    slug.unicodeScalars.append(ch)
                } else if !slug.isEmpty && !slug.hasSuffix("-") {
                    slug += "-"
                }
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        if slug.count > 32 {
            slug = String(slug.prefix(32))
            while slug.hasSuffix("-") { slug.removeLast() }
        }
        if slug.isEmpty {
            var hasher = SHA256()
            hasher.update(Array(name.utf8))
            slug = "map-" + hasher.finalize().prefix(8)
        }
        return slug
    }

    /// Latin letters that have no decomposition into a base letter and a mark.
    private static let foldedLetters: [Unicode.Scalar: String] = [
        "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h",
    ]
}
