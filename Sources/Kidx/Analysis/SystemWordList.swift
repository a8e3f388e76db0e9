import Foundation

/// The system's German word list (Debian's `wngerman`, installed by `Tools/setup`), read at run
/// time for the decompounder: a part of a compound must be a word German has.
enum SystemWordList {
    /// Where Debian puts the lists, new spelling first.
    static let candidates = ["/usr/share/dict/ngerman", "/usr/share/dict/ogerman", "/usr/share/dict/swiss"]

    /// The first list found, or nil when none is installed.
    static var path: String? {
        if let override = ProcessInfo.processInfo.environment["KIDX_WORD_LIST"] {
            return override.isEmpty ? nil : override
        }
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// The list's words folded as the analyzer folds them (`Straße` → `strasse`), or nil.
    static func load(folding analyzer: GermanAnalyzer) -> Set<String>? {
        guard let path, let data = FileManager.default.contents(atPath: path) else { return nil }
        var words = Set<String>()
        words.reserveCapacity(400_000)
        // Line by line from the bytes: with the list as one string and an array of its lines,
        // loading it took 36 MiB beside a one-part FANG build's postings, 25 so.
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                if end > start, let folded = analyzer.fold(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)) {
                    words.insert(folded)
                }
                start = end + 1
            }
        }
        return words
    }
}
