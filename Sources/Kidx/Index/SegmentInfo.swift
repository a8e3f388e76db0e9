import Foundation

/// A segment's description, stored as `segment.json` beside its binary files: the counts BM25
/// needs, the analyzer options the segment was built with, and each file's size and checksum.
struct SegmentInfo: Codable, Equatable {
    struct FieldStatistics: Codable, Equatable {
        /// Sum of the field's lengths (in word positions) over all documents.
        var totalLength: Int
    }

    struct FileInfo: Codable, Equatable {
        var name: String
        var bytes: Int
    }

    var formatVersion: Int
    var documentCount: Int
    var termCount: Int
    /// Words in the decompounding lexicon (part of `termCount`).
    var lexiconWords: Int
    /// Distinct words split as compounds.
    var compounds: Int
    /// Proper names kept from the stemmer (see `ProperNames`); absent in older indexes.
    var names: Int?
    /// The system word list the decompounder read, if any.
    var wordList: String?
    /// Corpus uses a word needs to count as a compound part.
    var partThresholds: GermanDecompounder.Thresholds
    var postingCount: Int
    var fields: [String: FieldStatistics]
    var analyzer: AnalyzerOptions
    var files: [FileInfo]
    var created: String

    func averageLength(_ field: Field) -> Double {
        guard documentCount > 0, let total = fields[field.name]?.totalLength else { return 1 }
        return max(1, Double(total) / Double(documentCount))
    }
}

/// The layout of an index directory and the atomic switch between its generations.
///
/// An index directory holds generation folders (`generation-000007/`) and a `CURRENT` file naming
/// the live one. A build writes a new generation under a temporary name, syncs it, renames it,
/// then replaces `CURRENT` by rename: a reader sees the old index or the new one, never a mix,
/// and an interrupted build leaves the old one in place.
struct IndexDirectory {
    let path: String
    static let currentFile = "CURRENT"
    static let segmentFile = "segment.json"
    private static let prefix = "generation-"

    var currentPath: String { path + "/" + Self.currentFile }

    /// The live generation's folder, or nil when the directory has no index.
    func currentGeneration() throws -> String? {
        guard let data = FileManager.default.contents(atPath: currentPath) else { return nil }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.hasPrefix(Self.prefix), !name.contains("/") else {
            throw KidxError.corruptIndex(file: Self.currentFile, reason: "does not name a generation")
        }
        return path + "/" + name
    }

    /// Generation folders present, finished or not.
    private func entries() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    /// A fresh temporary folder for a new generation and the name it will take when complete.
    func prepareNewGeneration() throws -> (temporary: String, name: String) {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let numbers = entries().compactMap { name -> Int? in
            guard name.hasPrefix(Self.prefix) else { return nil }
            return Int(name.dropFirst(Self.prefix.count).prefix(while: \.isNumber))
        }
        let name = Self.prefix + String(format: "%06d", (numbers.max() ?? 0) + 1)
        let temporary = path + "/" + name + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        return (temporary, name)
    }

    /// Publishes a completed generation and removes the ones it replaces.
    func publish(temporary: String, name: String) throws {
        let final = path + "/" + name
        try Self.syncDirectory(temporary)
        guard rename(temporary, final) == 0 else { throw KidxError.io(path: final, reason: String(cString: strerror(errno))) }
        try Self.syncDirectory(path)
        let staged = currentPath + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: staged, contents: Data((name + "\n").utf8)) else {
            throw KidxError.io(path: staged, reason: "cannot write")
        }
        let descriptor = open(staged, O_RDONLY)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
        guard rename(staged, currentPath) == 0 else { throw KidxError.io(path: currentPath, reason: String(cString: strerror(errno))) }
        try Self.syncDirectory(path)
        // Older generations and leftovers of interrupted builds. Readers that mapped them keep
        // their view: unlinked files live on until unmapped.
        for entry in entries() where entry.hasPrefix(Self.prefix) && entry != name {
            if entry.contains(".tmp-"), let pid = Int32(entry.split(separator: "-").last ?? ""), pid != getpid(), kill(pid, 0) == 0 {
                continue  // another live build's work in progress
            }
            try? FileManager.default.removeItem(atPath: path + "/" + entry)
        }
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        _ = fsync(descriptor)
    }
}
