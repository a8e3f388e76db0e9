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
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if let folded = analyzer.fold(String(line)) { words.insert(folded) }
        }
        return words
    }
}
